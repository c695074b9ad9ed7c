#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping.h"
#include "pm_error.h"
#include "pm_limits.h"
#include "text_line.h"

static void parse_check(const struct text_line *l, struct map_column *c, enum map_check_action action, const char *name)
{
	if (c->nchecks == sizeof c->checks / sizeof c->checks[0])
		text_line_bad(l, "too many checks", NULL);
	if (strcmp(name, "ip-or-url") != 0)
		text_line_bad(l, "unknown check", name);
	c->checks[c->nchecks++] = (struct map_check){ CHECK_IP_OR_URL, action };
}

/* column NAME TYPE null|not-null [from SRC | const VALUE | const-null] [keymap NAME] [warn|reject CHECK]... */
static void parse_column(const struct text_line *l, struct mapping *m)
{
	struct map_column c = { .line = l->number };
	int i = 1;

	c.name = pm_strdup(text_line_word(l, i++, "column needs a name"));
	if (!*c.name)
		text_line_bad(l, "a column name cannot be empty", NULL);
	const char *type = text_line_word(l, i++, "column needs a type");
	if (!value_type_parse(type, &c.type))
		text_line_bad(l, "unknown type", type);
	const char *nul = text_line_word(l, i++, "column needs null or not-null");
	if (strcmp(nul, "null") == 0)
		c.not_null = false;
	else if (strcmp(nul, "not-null") == 0)
		c.not_null = true;
	else
		text_line_bad(l, "expected null or not-null, not", nul);
	bool sourced = false;
	while (i < l->n) {
		const char *word = l->words[i++];
		if (strcmp(word, "from") == 0 || strcmp(word, "const") == 0 || strcmp(word, "const-null") == 0) {
			if (sourced)
				text_line_bad(l, "a second source:", word);
			sourced = true;
			if (strcmp(word, "from") == 0)
				c.from = pm_strdup(text_line_word(l, i++, "from needs a source column"));
			else if (strcmp(word, "const") == 0)
				c.constant = pm_strdup(text_line_word(l, i++, "const needs a value"));
		} else if (strcmp(word, "keymap") == 0) {
			if (c.keymap)
				text_line_bad(l, "a second key map", NULL);
			c.keymap = pm_strdup(text_line_word(l, i++, "keymap needs a name"));
		} else if (strcmp(word, "warn") == 0 || strcmp(word, "reject") == 0) {
			parse_check(l, &c, word[0] == 'w' ? CHECK_WARN : CHECK_REJECT, text_line_word(l, i++, "a check needs a name"));
		} else {
			text_line_bad(l, "unknown word", word);
		}
	}
	if (!sourced)
		c.from = pm_strdup(c.name); /* the source column of the same name */
	if (c.from && !*c.from)
		text_line_bad(l, "a source column name cannot be empty", NULL);
	/* A constant is checked once, here, rather than rejecting every record. */
	if (!c.from && !c.constant && c.not_null)
		text_line_bad(l, "const-null in a not-null column:", c.name);
	if (c.constant) {
		struct bytebuf scratch = { 0 };
		const char *why = value_check(&c.type, c.constant, strlen(c.constant), &scratch);
		bytebuf_free(&scratch);
		if (why)
			text_line_bad(l, why, c.constant);
	}
	if (c.keymap && c.type.type != TYPE_SMALLINT && c.type.type != TYPE_INTEGER && c.type.type != TYPE_BIGINT)
		text_line_bad(l, "a key map needs an integer column:", c.name);
	if (name_index_add(&m->names, c.name, strlen(c.name), (int)m->ncolumns) >= 0)
		text_line_bad(l, "column named twice:", c.name);
	if (m->ncolumns == m->columns_cap) {
		m->columns_cap = m->columns_cap ? 2 * m->columns_cap : 16;
		m->columns = pm_realloc(m->columns, m->columns_cap * sizeof *m->columns);
	}
	m->columns[m->ncolumns++] = c;
}

static void mapping_line(const struct text_line *l, void *arg)
{
	struct mapping *m = arg;

	if (strcmp(l->words[0], "target") == 0) {
		if (m->target)
			text_line_bad(l, "a second target", NULL);
		if (l->n != 2)
			text_line_bad(l, "target takes one table name", NULL);
		if (!*l->words[1])
			text_line_bad(l, "the target name cannot be empty", NULL);
		m->target = pm_strdup(l->words[1]);
	} else if (strcmp(l->words[0], "column") == 0) {
		/* PostgreSQL's own limit: no table takes more, and no file of 40,000 lines is read to the end. */
		if (m->ncolumns == PM_MAX_COLUMNS)
			text_line_bad(l, "more than " PM_STRINGIFY(PM_MAX_COLUMNS) " columns: the limit of a mapping file (PostgreSQL's own for a table)", NULL);
		parse_column(l, m);
	} else {
		text_line_bad(l, "unknown directive", l->words[0]);
	}
}

struct mapping *mapping_load(const char *path)
{
	struct mapping *m = pm_malloc(sizeof *m);

	memset(m, 0, sizeof *m);
	m->path = pm_strdup(path);
	text_file_read(path, mapping_line, m);
	if (!m->target)
		pm_die(PM_EXIT_USAGE, "%s: no target line", path);
	if (m->ncolumns == 0)
		pm_die(PM_EXIT_USAGE, "%s: no column lines", path);
	return m;
}

void mapping_free(struct mapping *m)
{
	for (size_t i = 0; i < m->ncolumns; i++) {
		free(m->columns[i].name);
		free(m->columns[i].from);
		free(m->columns[i].constant);
		free(m->columns[i].keymap);
	}
	free(m->columns);
	name_index_free(&m->names);
	free(m->target);
	free(m->path);
	free(m);
}
