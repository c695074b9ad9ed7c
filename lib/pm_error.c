#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pm_error.h"
#include "printable.h"

#define MAX_CLEANUPS 8

static const char *progname = "pm";
static struct {
	pm_cleanup_fn fn;
	void *arg;
} cleanups[MAX_CLEANUPS];
static int ncleanups;
static pm_die_hook_fn die_hook; /* tests/fuzz only: see pm_set_die_hook */

void pm_set_progname(const char *name)
{
	const char *slash = strrchr(name, '/');
	progname = slash ? slash + 1 : name;
}

const char *pm_progname(void)
{
	return progname;
}

/*
 * One write a message: stderr is unbuffered, and a run may warn of a million records.
 * Escaped whole (printable.h): a name from a hostile stream must not reach the terminal raw.
 */
static void vreport(const char *fmt, va_list ap)
{
	char line[1024];
	char shown[PRINTABLE_SIZE(sizeof line)];
	va_list copy;

	va_copy(copy, ap);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	if (n < 0) {
		fprintf(stderr, "%s: (a message that cannot be formatted)\n", progname);
	} else if ((size_t)n < sizeof line) {
		size_t len = printable_escape(shown, line, (size_t)n);
		fprintf(stderr, "%s: %.*s\n", progname, (int)len, shown);
	} else {
		/* Longer than the stack's room: formatted again into the heap, if there is any. */
		char *long_line = malloc((size_t)n + 1);
		char *long_shown = malloc(PRINTABLE_SIZE((size_t)n));
		if (long_line && long_shown && vsnprintf(long_line, (size_t)n + 1, fmt, copy) == n) {
			size_t len = printable_escape(long_shown, long_line, (size_t)n);
			fprintf(stderr, "%s: %.*s\n", progname, (int)len, long_shown);
		} else {
			size_t len = printable_escape(shown, line, sizeof line - 1);
			fprintf(stderr, "%s: %.*s...\n", progname, (int)len, shown);
		}
		free(long_line);
		free(long_shown);
	}
	va_end(copy);
}

void pm_run_cleanups(void)
{
	while (ncleanups > 0) {
		ncleanups--;
		cleanups[ncleanups].fn(cleanups[ncleanups].arg);
	}
}

void pm_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	pm_run_cleanups();
	/*
	 * _exit, not exit: nothing half-written is flushed, and the server sees the
	 * connection close, which rolls back any open transaction.
	 */
	fflush(stderr);
	if (die_hook)
		die_hook(status);
	_exit(status);
}

void pm_die_if_pipe_closed(int err)
{
	sigset_t pipe_only;

	if (err != EPIPE)
		return;
	pm_run_cleanups();
	if (die_hook)
		die_hook(PM_EXIT_IO);
	/* tool_init ignores SIGPIPE so that the cleanups above get to run: undo that, and die of it. */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_UNBLOCK, &pipe_only, NULL);
	raise(SIGPIPE);
	_exit(PM_EXIT_IO); /* not reached: SIGPIPE's default action ends the process */
}

void pm_set_die_hook(pm_die_hook_fn hook)
{
	die_hook = hook;
}

void pm_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
}

void pm_cleanup_push(pm_cleanup_fn fn, void *arg)
{
	if (ncleanups == MAX_CLEANUPS)
		pm_die(PM_EXIT_IO, "internal error: too many cleanups");
	cleanups[ncleanups].fn = fn;
	cleanups[ncleanups].arg = arg;
	ncleanups++;
}

void pm_cleanup_remove(pm_cleanup_fn fn, void *arg)
{
	for (int i = ncleanups - 1; i >= 0; i--) {
		if (cleanups[i].fn == fn && cleanups[i].arg == arg) {
			memmove(&cleanups[i], &cleanups[i + 1], (size_t)(ncleanups - i - 1) * sizeof cleanups[0]);
			ncleanups--;
			return;
		}
	}
}

void *pm_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		pm_die(PM_EXIT_IO, "out of memory (%zu bytes)", n);
	return p;
}

void *pm_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		pm_die(PM_EXIT_IO, "out of memory (%zu bytes)", n);
	return q;
}

char *pm_strdup(const char *s)
{
	return pm_strndup(s, strlen(s));
}

char *pm_strndup(const char *s, size_t n)
{
	char *copy = memcpy(pm_malloc(n + 1), s, n);

	copy[n] = '\0';
	return copy;
}
