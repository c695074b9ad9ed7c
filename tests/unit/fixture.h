/* fixture: the C unit tests' files, in a temporary directory of their own, and a stream read back as text. */
#ifndef PM_FIXTURE_H
#define PM_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream_reader.h"

static char fixture_dir[] = "/tmp/pm-unit-XXXXXX";

/* name's path in the directory; the last four paths stay valid. */
static inline const char *path_of(const char *name)
{
	static char p[4][512];
	static unsigned next;
	char *s = p[next++ % 4];
	snprintf(s, sizeof p[0], "%s/%s", fixture_dir, name);
	return s;
}

/* A fixture that cannot be written leaves nothing to test: stop, and the run fails. */
static inline void fixture_failed(const char *name)
{
	fprintf(stderr, "unit test: cannot write fixture %s\n", name);
	exit(2);
}

/* Make the directory; false when it cannot be. */
static inline bool fixture_dir_make(void)
{
	return mkdtemp(fixture_dir) != NULL;
}

/* Remove the directory and the files in it. */
static inline void fixture_dir_remove(void)
{
	DIR *d = opendir(fixture_dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlink(path_of(e->d_name));
	if (d)
		closedir(d);
	rmdir(fixture_dir);
}

/* Write data[0..len) as the file name; its path. */
static inline const char *write_file(const char *name, const char *data, size_t len)
{
	const char *p = path_of(name);
	FILE *f = fopen(p, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		fixture_failed(name);
	return p;
}

static inline const char *write_text(const char *name, const char *text)
{
	return write_file(name, text, strlen(text));
}

static struct bytebuf slurp_buf; /* bytebuf_free it at the end */

/* A whole stream back as one string: fields joined by | with NULL as <null>, records (the header first) by ;. */
static inline const char *slurp(const char *name)
{
	struct bytebuf *b = &slurp_buf;
	struct stream_reader *r = stream_reader_open(path_of(name));
	const struct csv_record *rec = stream_reader_header(r);

	b->len = 0;
	do {
		for (size_t i = 0; i < rec->nfields; i++) {
			if (i)
				bytebuf_putc(b, '|');
			if (rec->fields[i].null)
				bytebuf_puts(b, "<null>");
			else
				bytebuf_append(b, rec->fields[i].data, rec->fields[i].len);
		}
		bytebuf_putc(b, ';');
	} while ((rec = stream_reader_next(r)) != NULL);
	stream_reader_close(r);
	return bytebuf_cstr(b);
}

#endif
