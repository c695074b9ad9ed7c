#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "keymap.h"
#include "pm_error.h"
#include "stream_reader.h"
#include "value_check.h"

struct pair {
	long long old_key;
	long long new_key;
};

/*
 * Old keys are nearly always ids from one sequence: dense.  Then the map is an array
 * of new keys indexed by old_key - min beside a bitmap of the keys present (one cache
 * miss a lookup, at most 16.1 bytes a key).  Otherwise the pairs stay in an array
 * under an index of 32-bit slots at most half full (at most 32 bytes a key).
 */
struct keymap {
	char *name;
	size_t n;

	/* dense */
	long long *values;
	uint64_t *present;
	unsigned long long min, span; /* old keys min .. min + span */

	/* sparse, and the pairs as added until keymap_build */
	struct pair *pairs;
	size_t cap;
	uint32_t *slots; /* 0 empty, else index into pairs + 1 */
	size_t mask;
};

static size_t hash(long long key)
{
	uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15u;
	return (size_t)(h ^ (h >> 32));
}

static _Noreturn void die_twice(const struct keymap *m, const char *path, long long key)
{
	pm_die(PM_EXIT_DATA, "%s: key map %s: old key %lld appears twice", path, m->name, key);
}

/* A key map is the one thing that grows with its input: say which, and how far it got. */
static _Noreturn void die_memory(const struct keymap *m, const char *path)
{
	pm_die(PM_EXIT_IO, "%s: key map %s: out of memory after %zu keys", path, m->name, m->n);
}

static void build_sparse(struct keymap *m, const char *path)
{
	size_t cap = 16;

	while (cap < 2 * m->n)
		cap *= 2;
	m->mask = cap - 1;
	m->slots = calloc(cap, sizeof *m->slots);
	if (!m->slots)
		die_memory(m, path);
	for (size_t i = 0; i < m->n; i++) {
		size_t s = hash(m->pairs[i].old_key) & m->mask;
		while (m->slots[s]) {
			if (m->pairs[m->slots[s] - 1].old_key == m->pairs[i].old_key)
				die_twice(m, path, m->pairs[i].old_key);
			s = (s + 1) & m->mask;
		}
		m->slots[s] = (uint32_t)(i + 1);
	}
}

/*
 * Lookups land at random in a table of megabytes: on 4 KiB pages nearly each one
 * misses the TLB as well as the cache.  Transparent huge pages, where the kernel
 * offers them, take the TLB misses away.
 */
static void *alloc_table(size_t bytes)
{
	const size_t huge = 2 * 1024 * 1024;
	void *p;

	if (bytes < huge)
		return malloc(bytes);
	if (posix_memalign(&p, huge, (bytes + huge - 1) / huge * huge) != 0)
		return NULL;
	madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failing it costs speed, not correctness */
	return p;
}

/* Build the dense form when the old keys span at most twice their number; false otherwise. */
static bool build_dense(struct keymap *m, const char *path)
{
	long long lo = m->pairs[0].old_key, hi = lo;

	for (size_t i = 1; i < m->n; i++) {
		if (m->pairs[i].old_key < lo)
			lo = m->pairs[i].old_key;
		if (m->pairs[i].old_key > hi)
			hi = m->pairs[i].old_key;
	}
	/* Unsigned: hi - lo overflows long long when the keys straddle zero widely. */
	unsigned long long span = (unsigned long long)hi - (unsigned long long)lo;
	if (span >= 2 * (unsigned long long)m->n)
		return false;
	m->min = (unsigned long long)lo;
	m->span = span;
	m->values = alloc_table((span + 1) * sizeof *m->values);
	m->present = calloc(span / 64 + 1, sizeof *m->present);
	if (!m->values || !m->present)
		die_memory(m, path);
	for (size_t i = 0; i < m->n; i++) {
		unsigned long long at = (unsigned long long)m->pairs[i].old_key - m->min;
		uint64_t bit = (uint64_t)1 << (at % 64);
		if (m->present[at / 64] & bit)
			die_twice(m, path, m->pairs[i].old_key);
		m->present[at / 64] |= bit;
		m->values[at] = m->pairs[i].new_key;
	}
	free(m->pairs);
	m->pairs = NULL;
	return true;
}

struct keymap *keymap_new(const char *name)
{
	struct keymap *m = pm_malloc(sizeof *m);

	memset(m, 0, sizeof *m);
	m->name = pm_strdup(name);
	return m;
}

void keymap_add(struct keymap *m, long long old_key, long long new_key, const char *where)
{
	if (m->n == UINT32_MAX - 1)
		pm_die(PM_EXIT_DATA, "%s: key map %s: more than %u keys", where, m->name, UINT32_MAX - 1);
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 1024;
		struct pair *more = realloc(m->pairs, cap * sizeof *m->pairs);
		if (!more)
			die_memory(m, where);
		m->pairs = more;
		m->cap = cap;
	}
	m->pairs[m->n++] = (struct pair){ old_key, new_key };
}

void keymap_build(struct keymap *m, const char *where)
{
	if (m->n)
		m->pairs = pm_realloc(m->pairs, m->n * sizeof *m->pairs);
	if (m->n == 0 || !build_dense(m, where))
		build_sparse(m, where);
}

struct keymap *keymap_load(const char *name, const char *path)
{
	struct keymap *m = keymap_new(name);
	struct stream_reader *in = stream_reader_open(path);
	const struct csv_record *h = stream_reader_header(in), *rec;

	if (h->nfields != 2 || strcmp(h->fields[0].data, "old_key") != 0 || strcmp(h->fields[1].data, "new_key") != 0)
		pm_die(PM_EXIT_DATA, "%s: key map %s: the header must be old_key,new_key", stream_reader_name(in), name);
	while ((rec = stream_reader_next(in)) != NULL) {
		long long old_key, new_key;
		if (rec->fields[0].null || rec->fields[1].null ||
		    !value_parse_int64(rec->fields[0].data, rec->fields[0].len, &old_key) ||
		    !value_parse_int64(rec->fields[1].data, rec->fields[1].len, &new_key))
			pm_die(PM_EXIT_DATA, "%s: key map %s: record %llu: keys must be whole numbers", stream_reader_name(in),
			       name, (unsigned long long)rec->number);
		keymap_add(m, old_key, new_key, stream_reader_name(in));
	}
	keymap_build(m, stream_reader_name(in));
	stream_reader_close(in);
	return m;
}

bool keymap_lookup(const struct keymap *m, long long old_key, long long *new_key)
{
	if (m->values) {
		unsigned long long at = (unsigned long long)old_key - m->min;
		if (at > m->span || !(m->present[at / 64] >> (at % 64) & 1))
			return false;
		*new_key = m->values[at];
		return true;
	}
	for (size_t s = hash(old_key) & m->mask; m->slots[s]; s = (s + 1) & m->mask) {
		const struct pair *p = &m->pairs[m->slots[s] - 1];
		if (p->old_key == old_key) {
			*new_key = p->new_key;
			return true;
		}
	}
	return false;
}

void keymap_prefetch(const struct keymap *m, long long old_key)
{
	if (m->values) {
		unsigned long long at = (unsigned long long)old_key - m->min;
		if (at <= m->span)
			__builtin_prefetch(&m->values[at]);
	} else {
		__builtin_prefetch(&m->slots[hash(old_key) & m->mask]);
	}
}

const char *keymap_name(const struct keymap *m)
{
	return m->name;
}

size_t keymap_size(const struct keymap *m)
{
	return m->n;
}

void keymap_free(struct keymap *m)
{
	free(m->name);
	free(m->pairs);
	free(m->slots);
	free(m->values);
	free(m->present);
	free(m);
}
