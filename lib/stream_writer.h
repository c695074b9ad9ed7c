/*
 * stream_writer: writes a pm stream, gzip at a chosen level, to standard output or
 * to a file.  A file is written under a temporary name (mode 0600: streams hold
 * api keys) and renamed into place only by stream_writer_close, so a failed run
 * never leaves a file that looks complete.  A device or fifo (/dev/null) is
 * written in place: a rename would replace the device node.  Every write is checked; a failure is
 * fatal (exit 5), but a closed pipe ends the tool by SIGPIPE (pm_die_if_pipe_closed).
 */
#ifndef PM_STREAM_WRITER_H
#define PM_STREAM_WRITER_H

#include <stdint.h>

#include "csv_record.h"

#define STREAM_DEFAULT_LEVEL 1

struct stream_writer;

/* Write to path, or standard output when path is NULL or "-". */
struct stream_writer *stream_writer_open(const char *path, int level);

void stream_writer_record(struct stream_writer *w, const struct csv_field *fields, size_t nfields);

/* Append CSV that is already encoded as whole records (as COPY TO writes it). */
void stream_writer_raw(struct stream_writer *w, const char *data, size_t len);

uint64_t stream_writer_bytes(const struct stream_writer *w);

/* Flush and close the gzip stream, and sync a file to disk: all that can fail but the rename. */
void stream_writer_finish(struct stream_writer *w);

/* Finish if not yet done, move a file into place, and free the writer. */
void stream_writer_close(struct stream_writer *w);

/* Parse a compression level argument (0-9); exits 2 when it is not one. */
int stream_level_parse(const char *arg);

#endif
