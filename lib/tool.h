/* tool: what every pm tool does at start and with its common options. */
#ifndef PM_TOOL_H
#define PM_TOOL_H

#ifndef PM_VERSION
#define PM_VERSION "0.1.0"
#endif

/* Name the tool for messages, and turn SIGPIPE and SIGXFSZ into write errors with a message. */
void tool_init(const char *argv0);

/* Print "tool (pm) VERSION" and exit 0. */
_Noreturn void tool_version(void);

/* A whole number from min to max for option; exit 2 otherwise. */
long long tool_parse_number(const char *arg, const char *option, long long min, long long max);

#endif
