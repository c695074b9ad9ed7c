#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm_error.h"
#include "plan.h"
#include "pm_limits.h"
#include "text_line.h"

/*
 * Names of tables, columns, key maps and moves reach shell scripts, file names and SQL
 * text: the plan takes only what needs no quoting anywhere (lower case, digits, _).
 */
static bool plain_word(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* PostgreSQL 15's reserved key words (pg_get_keywords(), catcode R and T): no plain name. */
static const char *const reserved_words[] = {
	"all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
	"authorization", "binary", "both", "case", "cast", "check", "collate", "collation",
	"column", "concurrently", "constraint", "create", "cross", "current_catalog",
	"current_date", "current_role", "current_schema", "current_time", "current_timestamp",
	"current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except",
	"false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having",
	"ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull", "join",
	"lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural",
	"not", "notnull", "null", "offset", "on", "only", "or", "order", "outer", "overlaps",
	"placing", "primary", "references", "returning", "right", "select", "session_user",
	"similar", "some", "symmetric", "table", "tablesample", "then", "to", "trailing", "true",
	"union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window",
	"with"
};

static int word_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An identifier SQL takes unquoted: a plain word that does not begin with a digit, no key word. */
static bool plain_name(const char *s)
{
	return plain_word(s) && !(s[0] >= '0' && s[0] <= '9') &&
	       !bsearch(&s, reserved_words, sizeof reserved_words / sizeof reserved_words[0], sizeof reserved_words[0],
			word_cmp);
}

/* A mapping path relative to the plan's directory, unless absolute. */
static char *beside(const char *plan_path, const char *file)
{
	const char *slash = strrchr(plan_path, '/');

	if (file[0] == '/' || !slash)
		return pm_strdup(file);
	size_t dir = (size_t)(slash - plan_path) + 1, n = strlen(file);
	char *path = pm_malloc(dir + n + 1);
	memcpy(path, plan_path, dir);
	memcpy(path + dir, file, n + 1);
	return path;
}

static const struct map_column *mapping_column(const struct mapping *m, const char *name)
{
	for (size_t i = 0; i < m->ncolumns; i++)
		if (strcmp(m->columns[i].name, name) == 0)
			return &m->columns[i];
	return NULL;
}

/* The key map that move number upto records under name, among the earlier moves; or NULL. */
static const struct plan_move *recorder(const struct plan *p, size_t upto, const char *keymap)
{
	for (size_t i = 0; i < upto; i++)
		if (p->moves[i].keymap && strcmp(p->moves[i].keymap, keymap) == 0)
			return &p->moves[i];
	return NULL;
}

/* What the move's mapping file must agree with: names, the key, the key maps read. */
static void check_mapping(const struct text_line *l, const struct plan *p, const struct plan_move *mv)
{
	const struct mapping *m = mv->mapping;
	const struct map_column *key = mapping_column(m, mv->key);

	if (!key)
		text_line_bad(l, "the key is no column of the mapping file:", mv->key);
	if (!key->not_null || (key->type.type != TYPE_SMALLINT && key->type.type != TYPE_INTEGER &&
			       key->type.type != TYPE_BIGINT))
		text_line_bad(l, "the key must be a not-null integer column:", mv->key);
	if (!key->from || strcmp(key->from, key->name) != 0)
		text_line_bad(l, "the key must keep its name in the mapping file (no from, no const):", mv->key);
	if (key->keymap)
		text_line_bad(l, "the key cannot be re-pointed through a key map:", mv->key);
	for (size_t i = 0; i < m->ncolumns; i++) {
		const struct map_column *c = &m->columns[i];
		if (!plain_name(c->name))
			text_line_bad(l, "a column name of its mapping file is not a plain name:", c->name);
		if (c->from && !plain_name(c->from))
			text_line_bad(l, "a source column name of its mapping file is not a plain name:", c->from);
		if (!c->keymap)
			continue;
		if (!plain_name(c->keymap))
			text_line_bad(l, "a key map name of its mapping file is not a plain name:", c->keymap);
		if (!recorder(p, p->nmoves, c->keymap))
			text_line_bad(l, "no earlier move records the key map its mapping file reads:", c->keymap);
	}
}

static char *word_dup(const struct text_line *l, int i, const char *what)
{
	return pm_strdup(text_line_word(l, i, what));
}

/* Names of the pipelines' own stages and files in a WORKDIR (pipelines/migrate, staged). */
static bool reserved_name(const char *name)
{
	static const char *const reserved[] = { "backup", "structure", "verify", "staged", "summary", "chunks", "django" };

	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (strcmp(name, reserved[i]) == 0)
			return true;
	return false;
}

/* A path the plan's tab-separated output can carry. */
static bool printable_path(const char *s)
{
	return *s && !strpbrk(s, "\t\n\r");
}

/* move NAME SOURCE MAPPING key COLUMN new-ids keymap NAME | kept-ids [replaces APP.MIGRATION]... */
static void parse_move(const struct text_line *l, struct plan *p)
{
	struct plan_move mv = { .line = l->number };
	int i = 1;

	mv.name = word_dup(l, i++, "move needs a name");
	if (!plain_name(mv.name) || strlen(mv.name) > PLAN_NAME_MAX)
		text_line_bad(l, "a move's name must be a plain name (a-z, 0-9, _) of at most " PM_STRINGIFY(PLAN_NAME_MAX)
			      " bytes:", mv.name);
	if (reserved_name(mv.name))
		text_line_bad(l, "a move cannot take the name of a pipeline's own stage:", mv.name);
	if (plan_find(p, mv.name))
		text_line_bad(l, "a second move named", mv.name);
	mv.source = word_dup(l, i++, "move needs a source table");
	if (!plain_name(mv.source))
		text_line_bad(l, "the source must be a plain table name (a-z, 0-9, _):", mv.source);
	const char *map = text_line_word(l, i++, "move needs a mapping file");
	if (!printable_path(map))
		text_line_bad(l, "a mapping file's name cannot be empty or hold a tab or a line break:", map);
	if (strcmp(text_line_word(l, i++, "move needs key COLUMN after its mapping file"), "key") != 0)
		text_line_bad(l, "expected key COLUMN after the mapping file, not", l->words[i - 1]);
	mv.key = word_dup(l, i++, "key needs a column");
	const char *ids = text_line_word(l, i++, "move needs new-ids or kept-ids after its key");
	if (strcmp(ids, "new-ids") == 0) {
		mv.new_ids = true;
		if (strcmp(text_line_word(l, i++, "new-ids needs keymap NAME"), "keymap") != 0)
			text_line_bad(l, "expected keymap NAME after new-ids, not", l->words[i - 1]);
		mv.keymap = word_dup(l, i++, "keymap needs a name");
		if (!plain_name(mv.keymap) || strlen(mv.keymap) > PLAN_NAME_MAX)
			text_line_bad(l, "a key map's name must be a plain name (a-z, 0-9, _) of at most "
				      PM_STRINGIFY(PLAN_NAME_MAX) " bytes:", mv.keymap);
		if (recorder(p, p->nmoves, mv.keymap))
			text_line_bad(l, "a second move records the key map", mv.keymap);
	} else if (strcmp(ids, "kept-ids") != 0) {
		text_line_bad(l, "expected new-ids or kept-ids, not", ids);
	}
	while (i < l->n) {
		const char *word = l->words[i++];
		if (strcmp(word, "replaces") != 0)
			text_line_bad(l, "unknown word", word);
		const char *migration = text_line_word(l, i++, "replaces needs APP.MIGRATION");
		const char *dot = strchr(migration, '.');
		char *app = dot ? pm_strndup(migration, (size_t)(dot - migration)) : NULL;
		bool ok = dot && plain_name(app) && plain_word(dot + 1);
		free(app);
		if (!ok)
			text_line_bad(l, "not a Django migration APP.NAME:", migration);
		mv.replaces = pm_realloc(mv.replaces, (mv.nreplaces + 1) * sizeof *mv.replaces);
		mv.replaces[mv.nreplaces++] = pm_strdup(migration);
	}
	mv.mapping_path = beside(p->path, map);
	mv.mapping = mapping_load(mv.mapping_path);
	mv.target = pm_strdup(mv.mapping->target);
	if (!plain_name(mv.target))
		text_line_bad(l, "the mapping file's target must be a plain table name (a-z, 0-9, _):", mv.target);
	for (size_t k = 0; k < p->nmoves; k++) {
		if (strcmp(p->moves[k].target, mv.target) == 0)
			text_line_bad(l, "a second move into", mv.target);
		if (strcmp(p->moves[k].source, mv.source) == 0)
			text_line_bad(l, "a second move from", mv.source);
	}
	check_mapping(l, p, &mv);
	{
		char file[80];
		snprintf(file, sizeof file, "%s.sql", mv.target);
		mv.ddl_path = beside(p->path, file);
	}
	p->moves = pm_realloc(p->moves, (p->nmoves + 1) * sizeof *p->moves);
	p->moves[p->nmoves++] = mv;
}

static void plan_line(const struct text_line *l, void *arg)
{
	if (strcmp(l->words[0], "move") != 0)
		text_line_bad(l, "unknown directive", l->words[0]);
	parse_move(l, arg);
}

struct plan *plan_load(const char *path)
{
	struct plan *p = pm_malloc(sizeof *p);

	memset(p, 0, sizeof *p);
	p->path = pm_strdup(path);
	if (!printable_path(path))
		pm_die(PM_EXIT_USAGE, "a plan's path cannot be empty or hold a tab or a line break");
	text_file_read(path, plan_line, p);
	if (p->nmoves == 0)
		pm_die(PM_EXIT_USAGE, "%s: no move lines", path);
	return p;
}

const struct plan_move *plan_find(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->nmoves; i++)
		if (strcmp(p->moves[i].name, name) == 0)
			return &p->moves[i];
	return NULL;
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->nmoves; i++) {
		struct plan_move *mv = &p->moves[i];
		free(mv->name);
		free(mv->source);
		free(mv->target);
		free(mv->mapping_path);
		free(mv->ddl_path);
		mapping_free(mv->mapping);
		free(mv->key);
		free(mv->keymap);
		for (size_t k = 0; k < mv->nreplaces; k++)
			free(mv->replaces[k]);
		free(mv->replaces);
	}
	free(p->moves);
	free(p->path);
	free(p);
}
