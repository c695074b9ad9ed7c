/* child: run a call that may pm_die in a child process, for the C unit tests. */
#ifndef PM_CHILD_H
#define PM_CHILD_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Run fn(arg) in a child with its stderr into msg (at most cap - 1 bytes, NUL-terminated).
 * Returns the child's exit status (0 when fn returns), or -1 when it could not run or
 * died of a signal.  pm_die ends the child with _exit: what the call held is no leak.
 */
static inline int child_run(void (*fn)(void *), void *arg, char *msg, size_t cap)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	size_t n = 0;
	ssize_t got;
	while (n + 1 < cap && (got = read(fds[0], msg + n, cap - 1 - n)) > 0)
		n += (size_t)got;
	msg[n] = '\0';
	close(fds[0]);
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
