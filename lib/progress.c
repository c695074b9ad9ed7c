#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "pm_error.h"
#include "progress.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void show(struct progress *p, uint64_t rows, uint64_t bytes, const char *end)
{
	double secs = now() - p->start;

	fprintf(stderr, "%s%s: %s: %llu rows, %.0f rows/s, %.1f MB%s", p->tty ? "\r" : "", pm_progname(),
		p->label, (unsigned long long)rows, secs > 0 ? (double)rows / secs : 0.0, (double)bytes / 1e6, end);
}

void progress_start(struct progress *p, bool forced, const char *label)
{
	p->tty = isatty(STDERR_FILENO);
	p->on = forced || p->tty;
	p->label = label;
	p->start = p->last = now();
}

void progress_update_slow(struct progress *p, uint64_t rows, uint64_t bytes)
{
	double t = now();

	if (t - p->last < 1.0)
		return;
	p->last = t;
	show(p, rows, bytes, p->tty ? "" : "\n");
}

void progress_finish(struct progress *p, uint64_t rows, uint64_t bytes)
{
	if (p->on)
		show(p, rows, bytes, "\n");
}
