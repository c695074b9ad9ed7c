#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm_error.h"
#include "text_line.h"

void text_line_bad(const struct text_line *l, const char *what, const char *word)
{
	pm_die(PM_EXIT_USAGE, "%s:%d: %s%s%s%s", l->path, l->number, what, word ? " \"" : "", word ? word : "",
	       word ? "\"" : "");
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void text_line_split(struct text_line *l, char *s)
{
	l->n = 0;
	for (;;) {
		while (is_space(*s))
			s++;
		if (*s == '\0' || *s == '#')
			return;
		if (l->n == TEXT_LINE_MAX_WORDS)
			text_line_bad(l, "too many words", NULL);
		if (*s == '"') {
			char *out = ++s;
			l->words[l->n++] = out;
			for (;;) {
				if (*s == '\0')
					text_line_bad(l, "unterminated quote", NULL);
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
			if (*s != '\0' && !is_space(*s))
				text_line_bad(l, "text right after a closing quote", NULL);
			*out = '\0';
			if (*s)
				s++;
			continue;
		}
		l->words[l->n++] = s;
		while (*s && !is_space(*s))
			s++;
		if (*s)
			*s++ = '\0';
	}
}

const char *text_line_word(const struct text_line *l, int i, const char *what)
{
	if (i >= l->n)
		text_line_bad(l, what, NULL);
	return l->words[i];
}

void text_file_read(const char *path, text_line_fn fn, void *arg)
{
	struct text_line l = { .path = path };
	char *buf = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		pm_die(PM_EXIT_USAGE, "%s: %s", path, strerror(errno));
	while (getline(&buf, &cap, f) >= 0) {
		l.number++;
		text_line_split(&l, buf);
		if (l.n > 0)
			fn(&l, arg);
	}
	if (ferror(f) || fclose(f) != 0)
		pm_die(PM_EXIT_IO, "%s: read error: %s", path, strerror(errno));
	free(buf);
}
