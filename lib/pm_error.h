/*
 * pm_error: the exit-status table every pm tool shares, and one-line fatal errors
 * in the form "tool: message".  A fatal error first runs the registered cleanups
 * (so a partial output file never survives), then exits.
 */
#ifndef PM_ERROR_H
#define PM_ERROR_H

#include <stdarg.h>
#include <stddef.h>

enum pm_exit {
	PM_EXIT_OK = 0,
	PM_EXIT_DIFFERENCES = 1, /* differences found, or too many rejects */
	PM_EXIT_USAGE = 2,
	PM_EXIT_DATA = 3,        /* bad input data: a malformed, truncated or corrupt stream */
	PM_EXIT_DATABASE = 4,
	PM_EXIT_IO = 5,
};

void pm_set_progname(const char *name);
const char *pm_progname(void);

/* Print "tool: message" to stderr and exit with status after running the cleanups. */
_Noreturn void pm_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Call with the errno of a failed write, before its pm_die: EPIPE means the reader of
 * the output (a pipe) is gone.  Then the tool ends as a Unix filter does: cleanups run,
 * nothing is printed, and the process dies of SIGPIPE (status 141 in the shell), which
 * a pipeline tells from a failure of the tool's own.  Any other errno: returns.
 */
void pm_die_if_pipe_closed(int err);

void pm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * For the fuzz targets (tests/fuzz) only; no tool sets it.  pm_die ends the
 * process, which libFuzzer would count as a crash, yet dying is the right answer
 * to bad input.  With a hook set, pm_die prints and runs the cleanups as always,
 * then calls the hook instead of _exit; the hook must not return (it longjmps
 * back to the fuzz entry point).  Should it return, pm_die exits as usual.
 */
typedef void (*pm_die_hook_fn)(int status);
void pm_set_die_hook(pm_die_hook_fn hook);

/*
 * A cleanup runs once, newest first, when pm_die exits or a signal ends the tool;
 * remove it once its work is done.  It may run in a signal handler: only
 * async-signal-safe calls (unlink, close).
 */
typedef void (*pm_cleanup_fn)(void *arg);
void pm_cleanup_push(pm_cleanup_fn fn, void *arg);
void pm_cleanup_remove(pm_cleanup_fn fn, void *arg);
void pm_run_cleanups(void);

/* Allocation that cannot fail: out of memory is fatal (exit 5). */
void *pm_malloc(size_t n);
void *pm_realloc(void *p, size_t n);
char *pm_strdup(const char *s);
char *pm_strndup(const char *s, size_t n); /* the first n bytes of s, NUL-terminated */

#endif
