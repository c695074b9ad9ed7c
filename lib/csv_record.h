/*
 * csv_record: one record of a stream as fields, and its encoding in the CSV that
 * PostgreSQL's COPY (FORMAT csv) reads and writes.  An unquoted empty field is SQL
 * NULL; the empty string is written "".  Quoting follows PostgreSQL's own rule, so
 * a record encoded here is byte-identical to the same row written by COPY TO.
 */
#ifndef PM_CSV_RECORD_H
#define PM_CSV_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"

struct csv_field {
	const char *data; /* NUL-terminated after len bytes; NULL when null */
	size_t len;
	bool null;
};

struct csv_record {
	uint64_t number; /* 1 for the first record after the header */
	size_t nfields;
	const struct csv_field *fields;
};

/* Append the fields and a LF to out. */
void csv_record_encode(struct bytebuf *out, const struct csv_field *fields, size_t nfields);

/*
 * Append the fields in COPY's text format (tab-separated, \N for NULL, backslash
 * escapes).  A record is exactly one line there, so the line numbers in the
 * server's errors are record numbers; in CSV, quoted line breaks skew them.
 */
void csv_record_encode_copy_text(struct bytebuf *out, const struct csv_field *fields, size_t nfields);

/*
 * Decode one row of COPY's text format in place (row[len - 1] is its LF): fields
 * point into row, NUL-terminated there.  Returns the number of fields, or -1 when
 * the row is malformed or holds more than nfields.
 */
int csv_record_decode_copy_text(char *row, size_t len, struct csv_field *fields, size_t nfields);

/*
 * Split one line of CSV (a command-line list such as "id,\"a,b\"") into fields.
 * Returns the number of fields, or -1 with a reason in *why.  The result lives in
 * store until its next use or bytebuf_free.
 */
int csv_split(const char *text, struct bytebuf *store, struct csv_field **fields, const char **why);

#endif
