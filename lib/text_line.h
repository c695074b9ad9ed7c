/*
 * text_line: one line of a pm text file (pm-map(5), pm-plan(5)) split into words.
 * Words are separated by spaces and tabs; "a ""b""" is one quoted word; # where a
 * word would begin starts a comment.  A malformed line is a usage error (exit 2)
 * naming the file and line.
 */
#ifndef PM_TEXT_LINE_H
#define PM_TEXT_LINE_H

#define TEXT_LINE_MAX_WORDS 32

struct text_line {
	const char *path;
	int number;
	char *words[TEXT_LINE_MAX_WORDS];
	int n;
};

/* Split s (modified in place; the words point into it) into l's words. */
void text_line_split(struct text_line *l, char *s);

/* Word i, or a usage error "what" when the line has fewer words. */
const char *text_line_word(const struct text_line *l, int i, const char *what);

/*
 * Each line of the file at path that holds a word, split, to fn in file order.  A file that
 * cannot be opened is a usage error (exit 2), one that cannot be read an I/O error (exit 5).
 */
typedef void (*text_line_fn)(const struct text_line *l, void *arg);
void text_file_read(const char *path, text_line_fn fn, void *arg);

/* "path:line: what "word"" (word may be NULL), exit 2. */
_Noreturn void text_line_bad(const struct text_line *l, const char *what, const char *word);

#endif
