#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm_error.h"
#include "tool.h"

/* Interrupted: remove partial output files, then die of the same signal. */
static void on_fatal_signal(int sig)
{
	pm_run_cleanups();
	signal(sig, SIG_DFL);
	raise(sig);
}

void tool_init(const char *argv0)
{
	pm_set_progname(argv0);
	/* A closed output pipe: write fails with EPIPE, so the partial files go before the tool
	 * dies of SIGPIPE after all (pm_die_if_pipe_closed). */
	signal(SIGPIPE, SIG_IGN);
	/* Past a file size limit (ulimit -f), write fails with EFBIG and the tool says so and
	 * removes its partial files; the default SIGXFSZ would end it silently and leave them. */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGINT, on_fatal_signal);
	signal(SIGTERM, on_fatal_signal);
	signal(SIGHUP, on_fatal_signal);
}

/* What went to standard output, flushed and checked, then exit 0. */
static _Noreturn void exit_after_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		pm_die_if_pipe_closed(errno);
		pm_die(PM_EXIT_IO, "stdout: write failed");
	}
	exit(PM_EXIT_OK);
}

void tool_usage(int status, const char *text)
{
	if (status != PM_EXIT_OK) {
		fputs(text, stderr);
		exit(status);
	}
	fputs(text, stdout);
	exit_after_stdout();
}

void tool_version(void)
{
	printf("%s (pm) %s\n", pm_progname(), PM_VERSION);
	exit_after_stdout();
}

long long tool_parse_number(const char *arg, const char *option, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		pm_die(PM_EXIT_USAGE, "%s: \"%s\" is not a whole number from %lld to %lld", option, arg, min, max);
	return v;
}

bool tool_split_name_value(const char *arg, char **name, const char **value)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg || !eq[1])
		return false;
	*name = pm_strndup(arg, (size_t)(eq - arg));
	*value = eq + 1;
	return true;
}
