#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "pm_error.h"

#ifndef PM_FUZZ_ROOT
#define PM_FUZZ_ROOT "."
#endif

/* The sanitizers' own interface (gcc ships no sanitizer/allocator_interface.h). */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
					      void (*free_hook)(const volatile void *));
void __sanitizer_report_error_summary(const char *summary);

/* Blocks allocated by the call under way and not yet freed: open addressing, linear probing. */
#define SET_BITS 16
#define SET_SIZE ((size_t)1 << SET_BITS)
static void *live[SET_SIZE];
static size_t nlive;
static __thread bool tracking; /* this thread is inside fuzz_call: only the fuzzing thread ever is */

#define MAX_FILES 16
#define MAX_THREADS 16
#define MAX_FDS 64 /* the calls open a handful; libFuzzer holds few */
static FILE *files[MAX_FILES];
static size_t nfiles;
static pthread_t threads[MAX_THREADS];
static size_t nthreads;
static bool fd_was_open[MAX_FDS];

static jmp_buf on_die;
static int die_status;
static char scratch[256];

static size_t slot_of(const void *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15u;
	return (size_t)(h >> (64 - SET_BITS));
}

static void set_add(void *p)
{
	if (nlive >= SET_SIZE / 2) {
		static const char msg[] = "fuzz harness: too many live allocations\n";
		(void)!write(STDERR_FILENO, msg, sizeof msg - 1);
		abort();
	}
	size_t s = slot_of(p);
	while (live[s] && live[s] != p)
		s = (s + 1) & (SET_SIZE - 1);
	if (!live[s])
		nlive++;
	live[s] = p;
}

static void set_del(void *p)
{
	size_t s = slot_of(p);

	while (live[s] != p) {
		if (!live[s])
			return; /* allocated before the call */
		s = (s + 1) & (SET_SIZE - 1);
	}
	/* Backward-shift deletion: no tombstones, lookups stay short. */
	size_t hole = s;
	for (size_t next = (s + 1) & (SET_SIZE - 1); live[next]; next = (next + 1) & (SET_SIZE - 1)) {
		size_t home = slot_of(live[next]);
		/* live[next] may fill the hole unless its home lies cyclically in (hole, next]. */
		bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
		if (!stays) {
			live[hole] = live[next];
			hole = next;
		}
	}
	live[hole] = NULL;
	nlive--;
}

static void on_malloc(const volatile void *p, size_t n)
{
	(void)n;
	if (tracking && p)
		set_add((void *)(uintptr_t)p);
}

static void on_free(const volatile void *p)
{
	if (tracking && p)
		set_del((void *)(uintptr_t)p);
}

/* The library's fopen and fclose (linked with --wrap): a FILE left open is closed, not freed. */
FILE *__real_fopen(const char *path, const char *mode);
int __real_fclose(FILE *f);
FILE *__wrap_fopen(const char *path, const char *mode);
int __wrap_fclose(FILE *f);

FILE *__wrap_fopen(const char *path, const char *mode)
{
	FILE *f = __real_fopen(path, mode);

	if (f && tracking) {
		if (nfiles == MAX_FILES)
			fuzz_fail("fuzz harness: more than %d files open at once", MAX_FILES);
		files[nfiles++] = f;
	}
	return f;
}

int __wrap_fclose(FILE *f)
{
	for (size_t i = 0; i < nfiles; i++) {
		if (files[i] == f) {
			files[i] = files[--nfiles];
			break;
		}
	}
	return __real_fclose(f);
}

/*
 * The stream writer's compression thread: one left running is cancelled and joined.
 * glibc keeps a thread's own blocks (its TLS vector) for the next thread on the same
 * stack, so what pthread_create allocates is not the call's to free.
 */
int __real_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
int __real_pthread_join(pthread_t t, void **ret);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
int __wrap_pthread_join(pthread_t t, void **ret);

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	bool was = tracking;

	tracking = false;
	int rc = __real_pthread_create(t, attr, fn, arg);
	tracking = was;
	if (rc == 0 && was) {
		if (nthreads == MAX_THREADS)
			fuzz_fail("fuzz harness: more than %d threads at once", MAX_THREADS);
		threads[nthreads++] = *t;
	}
	return rc;
}

int __wrap_pthread_join(pthread_t t, void **ret)
{
	for (size_t i = 0; i < nthreads; i++) {
		if (pthread_equal(threads[i], t)) {
			threads[i] = threads[--nthreads];
			break;
		}
	}
	return __real_pthread_join(t, ret);
}

static _Noreturn void die_hook(int status)
{
	die_status = status;
	longjmp(on_die, 1);
}

/* Give back what the abandoned call held, in the order that keeps each step safe. */
static void release(void)
{
	/* FILEs first, still tracking: fclose frees their blocks, which leave the set. */
	while (nfiles > 0)
		__wrap_fclose(files[nfiles - 1]);
	tracking = false;
	/* Then the threads (they may still be writing to a descriptor), then the descriptors. */
	while (nthreads > 0) {
		pthread_t t = threads[--nthreads];
		pthread_cancel(t);
		__real_pthread_join(t, NULL);
	}
	for (int fd = 0; fd < MAX_FDS; fd++)
		if (!fd_was_open[fd] && fcntl(fd, F_GETFD) >= 0)
			close(fd);
	/* Last the blocks: copy them out first, since free runs the hooks. */
	for (size_t s = 0; s < SET_SIZE && nlive > 0; s++) {
		if (live[s]) {
			void *p = live[s];
			live[s] = NULL;
			nlive--;
			free(p);
		}
	}
}

int fuzz_call(void (*fn)(void *), void *arg)
{
	for (int fd = 0; fd < MAX_FDS; fd++)
		fd_was_open[fd] = fcntl(fd, F_GETFD) >= 0;
	/* Blocks a call kept (a leak, or the transform target's fixtures) left the set non-empty. */
	if (nlive > 0) {
		memset(live, 0, sizeof live);
		nlive = 0;
	}
	nfiles = nthreads = 0;
	tracking = true;
	if (setjmp(on_die) == 0) {
		fn(arg);
		tracking = false;
		/* A normal return gave back all it should have; what it kept is the leak checker's to see. */
		if (nfiles || nthreads)
			fuzz_fail("a call that returned left %zu files and %zu threads open", nfiles, nthreads);
		return -1;
	}
	release();
	return die_status;
}

static void remove_scratch(void)
{
	static const char *const names[] = { "input", "plain.csv", "out.gz", "rejects.gz", "keys.csv", "roundtrip.gz", NULL };
	char path[512];

	for (size_t i = 0; names[i]; i++) {
		snprintf(path, sizeof path, "%s/%s", scratch, names[i]);
		unlink(path);
	}
	rmdir(scratch);
}

void fuzz_init(const char *name)
{
	/* PM_FUZZ_TMPDIR (tests/fuzz/run sets it), else a tmpfs: the writers fsync, which costs nothing there. */
	const char *tmp = getenv("PM_FUZZ_TMPDIR");

	if (!tmp || !*tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	pm_set_progname(name);
	pm_set_die_hook(die_hook);
	if (!__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free))
		fuzz_fail("fuzz harness: cannot install the malloc hooks");
	snprintf(scratch, sizeof scratch, "%s/pm-fuzz.XXXXXX", tmp);
	if (!mkdtemp(scratch))
		fuzz_fail("fuzz harness: %s: %s", scratch, strerror(errno));
	atexit(remove_scratch);
}

const char *fuzz_path(const char *name)
{
	static char path[2][512];
	static int which;

	which ^= 1;
	snprintf(path[which], sizeof path[which], "%s/%s", scratch, name);
	return path[which];
}

const char *fuzz_write(const char *name, const uint8_t *data, size_t size)
{
	const char *path = fuzz_path(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		fuzz_fail("fuzz harness: %s: %s", path, strerror(errno));
	while (size > 0) {
		ssize_t n = write(fd, data, size);
		if (n <= 0)
			fuzz_fail("fuzz harness: %s: write failed", path);
		data += n;
		size -= (size_t)n;
	}
	close(fd);
	return path;
}

void fuzz_fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	tracking = false;
	int n = snprintf(msg, sizeof msg, "%s: FUZZ FAILURE: ", pm_progname());
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	/* Where the sanitizers report: libFuzzer's -close_fd_mask=2 leaves stderr closed. */
	__sanitizer_report_error_summary(msg);
	abort();
}

const char *fuzz_source_file(const char *path)
{
	static char full[1024];

	snprintf(full, sizeof full, "%s/%s", PM_FUZZ_ROOT, path);
	return full;
}
