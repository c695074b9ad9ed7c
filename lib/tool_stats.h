/*
 * tool_stats: a tool's figures for programs (--stats FILE), so that pipelines read
 * counts without parsing messages.  One "key value" a line: the key lowercase words
 * joined by _, the value a decimal integer or 16 hex digits (a checksum).
 *
 * tool_stats_open removes any older FILE and creates FILE.partial.XXXXXX beside it
 * (mode 0600); tool_stats_close writes, syncs and renames it into place.  So FILE
 * exists only after a run that got to its end: any failure in between (pm_die, a
 * signal) removes the temporary file through the cleanups.  A failure of the stats
 * file itself is exit 5.  Every call takes NULL (no --stats) and then does nothing.
 */
#ifndef PM_TOOL_STATS_H
#define PM_TOOL_STATS_H

#include <stdint.h>

struct tool_stats;

/* NULL path: NULL.  Refuses (exit 5) a path that exists and is not a regular file. */
struct tool_stats *tool_stats_open(const char *path);

void tool_stats_put(struct tool_stats *s, const char *key, uint64_t value);
void tool_stats_put_checksum(struct tool_stats *s, const char *key, uint64_t value);

/* Write the figures put so far, move the file into place, and free s. */
void tool_stats_close(struct tool_stats *s);

#endif
