#include <string.h>

#include "plan_print.h"

/* list of words joined by sep, or "-" when empty */
static void print_list(FILE *out, char *const *words, size_t n)
{
	if (n == 0)
		fputs("-", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? "," : "", words[i]);
}

void plan_print_moves(const struct plan *p, FILE *out)
{
	for (size_t i = 0; i < p->nmoves; i++) {
		const struct plan_move *mv = &p->moves[i];
		const struct mapping *m = mv->mapping;
		fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t", mv->name, mv->source, mv->target, mv->mapping_path,
			mv->key, mv->new_ids ? "new" : "kept", mv->keymap ? mv->keymap : "-");
		/* reads: column:keymap for each column re-pointed through a key map */
		size_t nreads = 0;
		for (size_t c = 0; c < m->ncolumns; c++) {
			if (!m->columns[c].keymap)
				continue;
			fprintf(out, "%s%s:%s", nreads++ ? "," : "", m->columns[c].name, m->columns[c].keymap);
		}
		if (nreads == 0)
			fputs("-", out);
		fputc('\t', out);
		print_list(out, mv->replaces, mv->nreplaces);
		fprintf(out, "\t%s\n", mv->ddl_path);
	}
}

void plan_print_columns(const struct plan_move *mv, FILE *out)
{
	const struct mapping *m = mv->mapping;

	for (size_t c = 0; c < m->ncolumns; c++) {
		const struct map_column *col = &m->columns[c];
		char type[32];
		fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\n", col->name, value_type_format(&col->type, type, sizeof type),
			col->not_null ? "not-null" : "null", col->from ? col->from : "-",
			col->from ? "-" : col->constant ? "const" : "const-null", col->keymap ? col->keymap : "-");
	}
}
