/*
 * stream_reader: reads a pm stream (gzip, one or more members, or plain CSV) one
 * record at a time, parsing the CSV bytes stream_input.h gives it.  The first
 * record is the header; every record must have as many fields as the header.
 * A truncated or corrupt stream, malformed CSV or a wrong field count is fatal
 * (exit 3) and names the record reached: a stream is never silently shorter
 * than what was written.
 *
 * Memory stays at one input chunk plus the records parsed from it.
 */
#ifndef PM_STREAM_READER_H
#define PM_STREAM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csv_record.h"

struct stream_reader;

/* Open path, or standard input when path is NULL or "-". */
struct stream_reader *stream_reader_open(const char *path);

/* The header: column names, never null, at most PM_MAX_COLUMNS (pm_limits.h), none twice. */
const struct csv_record *stream_reader_header(const struct stream_reader *r);
/* The header's column of that name, or -1. */
int stream_reader_column(const struct stream_reader *r, const char *name);

/* The next record, valid until the next call; NULL at the end, after the gzip trailer is checked. */
const struct csv_record *stream_reader_next(struct stream_reader *r);

/*
 * Field f of the record ahead places after the next one, when it is parsed already and not
 * NULL: a look ahead, so that a caller can prefetch what that record will need.  False otherwise.
 */
bool stream_reader_peek_field(const struct stream_reader *r, size_t ahead, size_t f, const char **data, size_t *len);

/* Name for messages ("stdin" or the path), and bytes of CSV read so far. */
const char *stream_reader_name(const struct stream_reader *r);
uint64_t stream_reader_bytes(const struct stream_reader *r);

void stream_reader_close(struct stream_reader *r);

#endif
