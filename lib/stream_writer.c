#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gzip_member.h"
#include "pm_error.h"
#include "stream_writer.h"

#define FLUSH_AT (256 * 1024)

/*
 * Compression runs in a thread of its own, so that encoding records and deflating
 * them share the machine's two cores: the tool fills buf while the thread
 * compresses pending, and flush swaps the two.  The thread cuts pending into gzip
 * members (gzip_member.h) and deflates each with libdeflate, twice as fast as zlib
 * at level 1.
 */
struct stream_writer {
	char *name;
	char *tmp_path; /* NULL when writing to stdout or a device */
	int fd;
	bool device;    /* fd is a device or fifo the writer opened, closed at the end */
	bool open;
	struct bytebuf buf;
	uint64_t bytes;

	/* The thread's own. */
	struct libdeflate_compressor *compressor;
	unsigned char *member;
	size_t member_cap;
	uint64_t members;

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct bytebuf pending; /* the thread's, while has_pending */
	bool has_pending, closing;
	char error[256];        /* the thread's first failure, "" while none */
	int error_errno;        /* and its errno: EPIPE is a reader gone, not an error */
};

static bool write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Deflate len bytes of CSV (at most GZIP_MEMBER_MAX_CSV) into one member and write it. */
static bool write_member(struct stream_writer *w, const char *csv, size_t len, bool more)
{
	unsigned char *body = w->member + GZIP_MEMBER_HEADER;
	size_t n = libdeflate_deflate_compress(w->compressor, csv, len, body,
					       w->member_cap - GZIP_MEMBER_HEADER - GZIP_MEMBER_TRAILER);

	if (n == 0) { /* cannot happen within the bound; never write a member that lies */
		errno = ENOBUFS;
		return false;
	}
	uint32_t size = (uint32_t)(GZIP_MEMBER_HEADER + n + GZIP_MEMBER_TRAILER);
	gzip_member_header(w->member, size, w->members > 0, more);
	gzip_put32(body + n, libdeflate_crc32(0, csv, len));
	gzip_put32(body + n + 4, (uint32_t)len);
	w->members++;
	return write_all(w->fd, w->member, size);
}

static void *compress_thread(void *arg)
{
	struct stream_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->has_pending && !w->closing)
			pthread_cond_wait(&w->changed, &w->lock);
		if (!w->has_pending)
			break;
		pthread_mutex_unlock(&w->lock);
		bool ok = true;
		for (size_t at = 0; ok && at < w->pending.len; at += GZIP_MEMBER_MAX_CSV) {
			size_t n = w->pending.len - at;
			ok = write_member(w, w->pending.data + at, n < GZIP_MEMBER_MAX_CSV ? n : GZIP_MEMBER_MAX_CSV, true);
		}
		int saved = errno;
		pthread_mutex_lock(&w->lock);
		if (!ok && !w->error[0]) {
			snprintf(w->error, sizeof w->error, "%s", strerror(saved));
			w->error_errno = saved;
		}
		w->pending.len = 0;
		w->has_pending = false;
		pthread_cond_broadcast(&w->changed);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void remove_partial(void *arg)
{
	struct stream_writer *w = arg;

	if (w->tmp_path)
		unlink(w->tmp_path);
}

/* Does path name something that exists and is not a regular file (nor a directory)? */
static bool is_special(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

struct stream_writer *stream_writer_open(const char *path, int level)
{
	struct stream_writer *w = pm_malloc(sizeof *w);
	bool use_stdout = path == NULL || strcmp(path, "-") == 0;

	memset(w, 0, sizeof *w);
	w->name = pm_strdup(use_stdout ? "stdout" : path);
	if (use_stdout) {
		if (isatty(STDOUT_FILENO))
			pm_die(PM_EXIT_USAGE, "refusing to write a compressed stream to a terminal");
		w->fd = STDOUT_FILENO;
	} else if (is_special(path)) {
		/* A device or fifo (-o /dev/null) is written in place: renaming a file onto
		 * it would replace the device node itself, for every user of the machine. */
		w->fd = open(path, O_WRONLY | O_CLOEXEC);
		if (w->fd < 0)
			pm_die(PM_EXIT_IO, "%s: %s", path, strerror(errno));
		w->device = true;
		if (isatty(w->fd))
			pm_die(PM_EXIT_USAGE, "%s: refusing to write a compressed stream to a terminal", path);
	} else {
		size_t n = strlen(path) + sizeof ".partial.XXXXXX";
		w->tmp_path = pm_malloc(n);
		snprintf(w->tmp_path, n, "%s.partial.XXXXXX", path);
		w->fd = mkstemp(w->tmp_path); /* mode 0600 */
		if (w->fd < 0)
			pm_die(PM_EXIT_IO, "%s: %s", w->tmp_path, strerror(errno));
		pm_cleanup_push(remove_partial, w);
	}
	w->compressor = libdeflate_alloc_compressor(level);
	if (!w->compressor)
		pm_die(PM_EXIT_IO, "%s: cannot start the compressor (level %d)", w->name, level);
	w->member_cap = GZIP_MEMBER_HEADER + libdeflate_deflate_compress_bound(w->compressor, GZIP_MEMBER_MAX_CSV) +
			GZIP_MEMBER_TRAILER;
	w->member = pm_malloc(w->member_cap);
	w->open = true;
	bytebuf_reserve(&w->buf, FLUSH_AT + 4096);
	bytebuf_reserve(&w->pending, FLUSH_AT + 4096);
	if (pthread_mutex_init(&w->lock, NULL) != 0 || pthread_cond_init(&w->changed, NULL) != 0 ||
	    pthread_create(&w->thread, NULL, compress_thread, w) != 0)
		pm_die(PM_EXIT_IO, "%s: cannot start the compression thread", w->name);
	return w;
}

/* Wait until the thread has taken what it was given; a failure it met is fatal here. */
static void wait_idle(struct stream_writer *w)
{
	while (w->has_pending && !w->error[0])
		pthread_cond_wait(&w->changed, &w->lock);
	if (w->error[0]) {
		pthread_mutex_unlock(&w->lock);
		pm_die_if_pipe_closed(w->error_errno);
		pm_die(PM_EXIT_IO, "%s: write failed: %s", w->name, w->error);
	}
}

static void flush(struct stream_writer *w)
{
	if (w->buf.len == 0)
		return;
	pthread_mutex_lock(&w->lock);
	wait_idle(w);
	struct bytebuf full = w->buf;
	w->buf = w->pending;
	w->pending = full;
	w->has_pending = true;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
	w->bytes += full.len;
}

void stream_writer_record(struct stream_writer *w, const struct csv_field *fields, size_t nfields)
{
	csv_record_encode(&w->buf, fields, nfields);
	if (w->buf.len >= FLUSH_AT)
		flush(w);
}

void stream_writer_raw(struct stream_writer *w, const char *data, size_t len)
{
	bytebuf_append(&w->buf, data, len);
	if (w->buf.len >= FLUSH_AT)
		flush(w);
}

uint64_t stream_writer_bytes(const struct stream_writer *w)
{
	return w->bytes + w->buf.len;
}

void stream_writer_finish(struct stream_writer *w)
{
	if (!w->open)
		return;
	flush(w);
	pthread_mutex_lock(&w->lock);
	wait_idle(w);
	w->closing = true;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
	if (pthread_join(w->thread, NULL) != 0)
		pm_die(PM_EXIT_IO, "%s: cannot stop the compression thread", w->name);
	w->open = false;
	/* The last member, empty, says that the stream is whole. */
	if (!write_member(w, "", 0, false)) {
		pm_die_if_pipe_closed(errno);
		pm_die(PM_EXIT_IO, "%s: write failed: %s", w->name, strerror(errno));
	}
	if (w->tmp_path && (fsync(w->fd) != 0 || close(w->fd) != 0))
		pm_die(PM_EXIT_IO, "%s: %s", w->name, strerror(errno));
	if (w->device && close(w->fd) != 0)
		pm_die(PM_EXIT_IO, "%s: %s", w->name, strerror(errno));
}

void stream_writer_close(struct stream_writer *w)
{
	stream_writer_finish(w);
	if (w->tmp_path) {
		if (rename(w->tmp_path, w->name) != 0)
			pm_die(PM_EXIT_IO, "%s: cannot rename from %s: %s", w->name, w->tmp_path, strerror(errno));
		pm_cleanup_remove(remove_partial, w);
		free(w->tmp_path);
	}
	bytebuf_free(&w->buf);
	bytebuf_free(&w->pending);
	libdeflate_free_compressor(w->compressor);
	free(w->member);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->changed);
	free(w->name);
	free(w);
}

int stream_level_parse(const char *arg)
{
	if (arg[0] < '0' || arg[0] > '9' || arg[1] != '\0')
		pm_die(PM_EXIT_USAGE, "compression level must be 0 to 9, not \"%s\"", arg);
	return arg[0] - '0';
}
