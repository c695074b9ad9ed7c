#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pm_error.h"
#include "tool_stats.h"

struct tool_stats {
	char *path;
	char *tmp_path;
	FILE *f;
};

static void remove_partial(void *arg)
{
	struct tool_stats *s = arg;

	unlink(s->tmp_path);
}

struct tool_stats *tool_stats_open(const char *path)
{
	struct stat st;

	if (!path)
		return NULL;
	/* A rename onto a device or fifo would replace the node itself: only a file is taken. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		pm_die(PM_EXIT_IO, "--stats: %s: not a regular file", path);
	/* The old figures go now, so that they are never read as this run's. */
	if (unlink(path) != 0 && errno != ENOENT)
		pm_die(PM_EXIT_IO, "--stats: %s: %s", path, strerror(errno));

	struct tool_stats *s = pm_malloc(sizeof *s);
	size_t n = strlen(path) + sizeof ".partial.XXXXXX";
	s->path = pm_strdup(path);
	s->tmp_path = pm_malloc(n);
	snprintf(s->tmp_path, n, "%s.partial.XXXXXX", path);
	int fd = mkstemp(s->tmp_path); /* mode 0600 */
	if (fd < 0)
		pm_die(PM_EXIT_IO, "--stats: %s: %s", s->tmp_path, strerror(errno));
	pm_cleanup_push(remove_partial, s);
	s->f = fdopen(fd, "w");
	if (!s->f)
		pm_die(PM_EXIT_IO, "--stats: %s: %s", s->tmp_path, strerror(errno));
	return s;
}

void tool_stats_put(struct tool_stats *s, const char *key, uint64_t value)
{
	if (s)
		fprintf(s->f, "%s %llu\n", key, (unsigned long long)value);
}

void tool_stats_put_checksum(struct tool_stats *s, const char *key, uint64_t value)
{
	if (s)
		fprintf(s->f, "%s %016llx\n", key, (unsigned long long)value);
}

void tool_stats_close(struct tool_stats *s)
{
	if (!s)
		return;
	/* fprintf's failures stay in the stream's error flag, seen here. */
	if (fflush(s->f) != 0 || ferror(s->f) || fsync(fileno(s->f)) != 0)
		pm_die(PM_EXIT_IO, "--stats: %s: write failed: %s", s->path, strerror(errno));
	if (fclose(s->f) != 0)
		pm_die(PM_EXIT_IO, "--stats: %s: %s", s->path, strerror(errno));
	if (rename(s->tmp_path, s->path) != 0)
		pm_die(PM_EXIT_IO, "--stats: %s: cannot rename from %s: %s", s->path, s->tmp_path, strerror(errno));
	pm_cleanup_remove(remove_partial, s);
	free(s->path);
	free(s->tmp_path);
	free(s);
}
