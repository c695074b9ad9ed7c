/* Unit tests of keymap: the dense and the sparse form give the same answers, edges included. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "keymap.h"
#include "tap.h"

static char path[] = "/tmp/pm-keymap-XXXXXX";

/* Write old_key,new_key pairs (old, old * mul + add) for old in [from, to) stepping by step. */
static void write_map(long long from, long long to, long long step, long long mul, long long add)
{
	FILE *f = fopen(path, "w");
	fprintf(f, "old_key,new_key\n");
	for (long long k = from; k < to; k += step)
		fprintf(f, "%lld,%lld\n", k, k * mul + add);
	fclose(f);
}

static bool gives(const struct keymap *m, long long old_key, long long want)
{
	long long got = 0;
	return keymap_lookup(m, old_key, &got) && got == want;
}

static bool misses(const struct keymap *m, long long old_key)
{
	long long got = 12345;
	return !keymap_lookup(m, old_key, &got) && got == 12345;
}

int main(void)
{
	int fd = mkstemp(path);
	close(fd);

	/* Dense: ids 1..1000 with gaps every 7th, in reverse order. */
	FILE *f = fopen(path, "w");
	fprintf(f, "old_key,new_key\n");
	for (long long k = 1000; k >= 1; k--)
		if (k % 7 != 0)
			fprintf(f, "%lld,%lld\n", k, k + 5000);
	fclose(f);
	struct keymap *m = keymap_load("d", path);
	ok(keymap_size(m) == 858, "dense: 858 keys loaded");
	ok(gives(m, 1, 5001) && gives(m, 1000, 6000) && gives(m, 500, 5500), "dense: first, last and middle keys");
	ok(misses(m, 7) && misses(m, 994), "dense: the gaps are missing");
	ok(misses(m, 0) && misses(m, 1001) && misses(m, -1) && misses(m, LLONG_MIN) && misses(m, LLONG_MAX),
	   "dense: keys outside the range are missing");
	keymap_free(m);

	/* Sparse: keys a million apart, negative ones included. */
	write_map(-5000000, 5000000, 1000000, -3, 1);
	m = keymap_load("s", path);
	ok(keymap_size(m) == 10, "sparse: 10 keys loaded");
	ok(gives(m, -5000000, 15000001) && gives(m, 4000000, -11999999) && gives(m, 0, 1), "sparse: keys found");
	ok(misses(m, 1) && misses(m, -4999999) && misses(m, 5000000) && misses(m, LLONG_MIN),
	   "sparse: other keys missing");
	keymap_free(m);

	/* The extremes of bigint, as old and as new keys: dense, then sparse. */
	f = fopen(path, "w");
	fprintf(f, "old_key,new_key\n%lld,%lld\n%lld,%lld\n", LLONG_MAX, LLONG_MIN, LLONG_MAX - 1, LLONG_MAX);
	fclose(f);
	m = keymap_load("x", path);
	ok(gives(m, LLONG_MAX, LLONG_MIN) && gives(m, LLONG_MAX - 1, LLONG_MAX) && misses(m, LLONG_MAX - 2) &&
		   misses(m, LLONG_MIN),
	   "dense at the top of bigint");
	keymap_free(m);
	f = fopen(path, "w");
	fprintf(f, "old_key,new_key\n%lld,1\n%lld,2\n0,3\n", LLONG_MIN, LLONG_MAX);
	fclose(f);
	m = keymap_load("y", path);
	ok(gives(m, LLONG_MIN, 1) && gives(m, LLONG_MAX, 2) && gives(m, 0, 3) && misses(m, 1) &&
		   misses(m, LLONG_MIN + 1),
	   "sparse across the whole of bigint");
	keymap_free(m);

	/* An empty map: every key is missing. */
	write_map(0, 0, 1, 1, 0);
	m = keymap_load("e", path);
	ok(keymap_size(m) == 0 && misses(m, 0) && misses(m, 1), "empty map: nothing found");
	keymap_free(m);

	/* Built pair by pair (pm-verify's inverse maps): the same two forms, the same answers. */
	m = keymap_new("built");
	for (long long k = 3000; k > 0; k--)
		keymap_add(m, k + 100, k * 2, "test");
	keymap_build(m, "test");
	ok(keymap_size(m) == 3000 && gives(m, 101, 2) && gives(m, 3100, 6000) && misses(m, 100) && misses(m, 3101),
	   "built dense: found and missing");
	keymap_free(m);
	m = keymap_new("built");
	for (long long k = -3; k <= 3; k++)
		keymap_add(m, k * 1000000007LL, k, "test");
	keymap_build(m, "test");
	ok(gives(m, -3000000021LL, -3) && gives(m, 0, 0) && gives(m, 3000000021LL, 3) && misses(m, 1),
	   "built sparse: found and missing");
	keymap_free(m);
	m = keymap_new("none");
	keymap_build(m, "test");
	ok(keymap_size(m) == 0 && misses(m, 0), "built empty: nothing found");
	keymap_free(m);

	unlink(path);
	return tap_done();
}
