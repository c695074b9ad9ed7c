/*
 * progress: rows, rows/s and bytes on stderr for long runs, at most once a
 * second, when stderr is a terminal or --progress asked for it.
 */
#ifndef PM_PROGRESS_H
#define PM_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	bool on;
	bool tty;
	const char *label;
	double start;
	double last;
};

void progress_start(struct progress *p, bool forced, const char *label);
void progress_update_slow(struct progress *p, uint64_t rows, uint64_t bytes);
void progress_finish(struct progress *p, uint64_t rows, uint64_t bytes);

/* Cheap enough for every row: looks at the clock once every 8192 rows. */
static inline void progress_update(struct progress *p, uint64_t rows, uint64_t bytes)
{
	if (p->on && (rows & 8191) == 0)
		progress_update_slow(p, rows, bytes);
}

#endif
