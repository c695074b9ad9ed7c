/*
 * null_marker: a pm stream copied with each NULL written as a marker text, for readers that read
 * an unquoted empty field and "" alike (Python's csv before 3.12, csvkit, spreadsheets).  A value
 * that is the marker itself would read as NULL there: it stops the copy (exit 3), naming its record
 * and column, and the output is removed, never left shorter.
 */
#ifndef PM_NULL_MARKER_H
#define PM_NULL_MARKER_H

#include <stdint.h>

/* Copy input to output (NULL or "-": standard input, output) at gzip level; the records copied. */
uint64_t null_marker_copy(const char *input, const char *output, int level, const char *marker);

#endif
