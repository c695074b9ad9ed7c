/* tool: what every pm tool does at start and with its common options. */
#ifndef PM_TOOL_H
#define PM_TOOL_H

#include <stdbool.h>

#ifndef PM_VERSION
#define PM_VERSION "0.1.0"
#endif

/* Name the tool for messages; SIGPIPE and SIGXFSZ become failed writes (EPIPE, EFBIG) that the
 * tool sees, so that it removes its partial files first (pm_die_if_pipe_closed for EPIPE). */
void tool_init(const char *argv0);

/* Print the usage text, on standard output for status 0 (--help) else on standard error, and exit. */
_Noreturn void tool_usage(int status, const char *text);

/* Print "tool (pm) VERSION" and exit 0. */
_Noreturn void tool_version(void);

/* A whole number from min to max for option; exit 2 otherwise. */
long long tool_parse_number(const char *arg, const char *option, long long min, long long max);

/* NAME=VALUE, split at the first '=': true with name (malloc'd) and value (in arg) when both are
 * non-empty; false otherwise, the caller's message saying which shape the option wants. */
bool tool_split_name_value(const char *arg, char **name, const char **value);

#endif
