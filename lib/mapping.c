#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping.h"
#include "pm_error.h"

#define MAX_TOKENS 32

struct line {
	const char *path;
	int number;
	char *tokens[MAX_TOKENS];
	int n;
};

static _Noreturn void bad(const struct line *l, const char *what, const char *token)
{
	pm_die(PM_EXIT_USAGE, "%s:%d: %s%s%s%s", l->path, l->number, what, token ? " \"" : "", token ? token : "",
	       token ? "\"" : "");
}

/* Split a line into words; "a ""b""" is one word; # starts a comment. */
static void tokenize(struct line *l, char *s)
{
	l->n = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (*s == '\0' || *s == '#')
			return;
		if (l->n == MAX_TOKENS)
			bad(l, "too many words", NULL);
		if (*s == '"') {
			char *out = ++s;
			l->tokens[l->n++] = out;
			for (;;) {
				if (*s == '\0')
					bad(l, "unterminated quote", NULL);
				if (*s == '"' && s[1] == '"') {
					*out++ = '"';
					s += 2;
				} else if (*s == '"') {
					s++;
					break;
				} else {
					*out++ = *s++;
				}
			}
			if (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
				bad(l, "text right after a closing quote", NULL);
			*out = '\0';
			if (*s)
				s++;
			continue;
		}
		l->tokens[l->n++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

static const char *need(const struct line *l, int i, const char *what)
{
	if (i >= l->n)
		bad(l, what, NULL);
	return l->tokens[i];
}

static void parse_check(const struct line *l, struct map_column *c, enum map_check_action action, const char *name)
{
	if (c->nchecks == sizeof c->checks / sizeof c->checks[0])
		bad(l, "too many checks", NULL);
	if (strcmp(name, "ip-or-url") != 0)
		bad(l, "unknown check", name);
	c->checks[c->nchecks++] = (struct map_check){ CHECK_IP_OR_URL, action };
}

/* column NAME TYPE null|not-null [from SRC | const VALUE | const-null] [keymap NAME] [warn|reject CHECK]... */
static void parse_column(const struct line *l, struct mapping *m)
{
	struct map_column c = { .line = l->number };
	int i = 1;

	c.name = pm_strdup(need(l, i++, "column needs a name"));
	if (!*c.name)
		bad(l, "a column name cannot be empty", NULL);
	const char *type = need(l, i++, "column needs a type");
	if (!value_type_parse(type, &c.type))
		bad(l, "unknown type", type);
	const char *nul = need(l, i++, "column needs null or not-null");
	if (strcmp(nul, "null") == 0)
		c.not_null = false;
	else if (strcmp(nul, "not-null") == 0)
		c.not_null = true;
	else
		bad(l, "expected null or not-null, not", nul);
	bool sourced = false;
	while (i < l->n) {
		const char *word = l->tokens[i++];
		if (strcmp(word, "from") == 0 || strcmp(word, "const") == 0 || strcmp(word, "const-null") == 0) {
			if (sourced)
				bad(l, "a second source:", word);
			sourced = true;
			if (strcmp(word, "from") == 0)
				c.from = pm_strdup(need(l, i++, "from needs a source column"));
			else if (strcmp(word, "const") == 0)
				c.constant = pm_strdup(need(l, i++, "const needs a value"));
		} else if (strcmp(word, "keymap") == 0) {
			if (c.keymap)
				bad(l, "a second key map", NULL);
			c.keymap = pm_strdup(need(l, i++, "keymap needs a name"));
		} else if (strcmp(word, "warn") == 0 || strcmp(word, "reject") == 0) {
			parse_check(l, &c, word[0] == 'w' ? CHECK_WARN : CHECK_REJECT, need(l, i++, "a check needs a name"));
		} else {
			bad(l, "unknown word", word);
		}
	}
	if (!sourced)
		c.from = pm_strdup(c.name); /* the source column of the same name */
	if (c.from && !*c.from)
		bad(l, "a source column name cannot be empty", NULL);
	/* A constant is checked once, here, rather than rejecting every record. */
	if (!c.from && !c.constant && c.not_null)
		bad(l, "const-null in a not-null column:", c.name);
	if (c.constant) {
		struct bytebuf scratch = { 0 };
		const char *why = value_check(&c.type, c.constant, strlen(c.constant), &scratch);
		bytebuf_free(&scratch);
		if (why)
			bad(l, why, c.constant);
	}
	if (c.keymap && c.type.type != TYPE_SMALLINT && c.type.type != TYPE_INTEGER && c.type.type != TYPE_BIGINT)
		bad(l, "a key map needs an integer column:", c.name);
	for (size_t k = 0; k < m->ncolumns; k++)
		if (strcmp(m->columns[k].name, c.name) == 0)
			bad(l, "column named twice:", c.name);
	m->columns = pm_realloc(m->columns, (m->ncolumns + 1) * sizeof *m->columns);
	m->columns[m->ncolumns++] = c;
}

struct mapping *mapping_load(const char *path)
{
	struct mapping *m = pm_malloc(sizeof *m);
	struct line l = { .path = path };
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;

	if (!f)
		pm_die(PM_EXIT_USAGE, "%s: %s", path, strerror(errno));
	memset(m, 0, sizeof *m);
	m->path = pm_strdup(path);
	while (getline(&buf, &cap, f) >= 0) {
		l.number++;
		tokenize(&l, buf);
		if (l.n == 0)
			continue;
		if (strcmp(l.tokens[0], "target") == 0) {
			if (m->target)
				bad(&l, "a second target", NULL);
			if (l.n != 2)
				bad(&l, "target takes one table name", NULL);
			if (!*l.tokens[1])
				bad(&l, "the target name cannot be empty", NULL);
			m->target = pm_strdup(l.tokens[1]);
		} else if (strcmp(l.tokens[0], "column") == 0) {
			parse_column(&l, m);
		} else {
			bad(&l, "unknown directive", l.tokens[0]);
		}
	}
	if (ferror(f) || fclose(f) != 0)
		pm_die(PM_EXIT_IO, "%s: read error: %s", path, strerror(errno));
	free(buf);
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
	free(m->target);
	free(m->path);
	free(m);
}
