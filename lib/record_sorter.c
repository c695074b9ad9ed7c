#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pm_error.h"
#include "record_sorter.h"
#include "stream_reader.h"
#include "stream_writer.h"
#include "value_check.h"

#define BLOCK (1024 * 1024)
/* Runs merged at once; more are first merged into one, so open files stay few. */
#define MAX_RUNS 32

struct held {
	size_t first; /* its fields: fields[first .. first + nfields) */
	uint64_t number;
};

struct run {
	char *path;
	struct stream_reader *in;
	const struct csv_record *rec; /* its current record; fields[0] is the input record number */
	uint64_t number;
};

struct record_sorter {
	size_t nfields;
	struct csv_field *header; /* "pm_record" then the columns: the runs' header */
	struct bytebuf header_names;
	struct record_key key;
	size_t budget, used;

	/* Records in memory: their bytes in blocks that never move, their fields, their order. */
	char **blocks;
	size_t nblocks, block_used, block_cap;
	struct csv_field *fields;
	size_t nheld_fields, fields_cap;
	struct held *held;
	size_t nheld, held_cap;

	/* Reading back. */
	bool finished;
	size_t next_held;
	char *dir;
	struct run *runs;
	size_t nruns, runs_made;
	struct csv_field *scratch; /* a run's record: its number, then the fields */
	size_t *heap, nheap; /* indexes of runs, least first */
	bool advance_top;    /* the record at the top was handed out: read on before choosing */
	struct csv_record out;
};

static char *copy_bytes(struct record_sorter *s, const char *data, size_t len)
{
	if (s->nblocks == 0 || s->block_cap - s->block_used < len + 1) {
		size_t cap = len + 1 > BLOCK ? len + 1 : BLOCK;
		s->blocks = pm_realloc(s->blocks, (s->nblocks + 1) * sizeof *s->blocks);
		s->blocks[s->nblocks++] = pm_malloc(cap);
		s->block_cap = cap;
		s->block_used = 0;
	}
	char *p = s->blocks[s->nblocks - 1] + s->block_used;
	memcpy(p, data, len);
	p[len] = '\0';
	s->block_used += len + 1;
	s->used += len + 1;
	return p;
}

static void remove_runs(void *arg)
{
	struct record_sorter *s = arg;

	for (size_t i = 0; i < s->nruns; i++)
		unlink(s->runs[i].path);
	if (s->dir)
		rmdir(s->dir);
}

struct record_sorter *record_sorter_open(const struct csv_record *header, const struct record_key *key,
					 size_t budget)
{
	struct record_sorter *s = pm_malloc(sizeof *s);

	memset(s, 0, sizeof *s);
	s->nfields = header->nfields;
	s->budget = budget;
	s->key.n = key->n;
	s->key.fields = pm_malloc(key->n * sizeof *s->key.fields);
	memcpy(s->key.fields, key->fields, key->n * sizeof *s->key.fields);
	/* The names are copied into one buffer, then pointed at once it stops growing. */
	size_t *offsets = pm_malloc((header->nfields + 1) * sizeof *offsets);
	offsets[0] = 0;
	bytebuf_append(&s->header_names, "pm_record", 10);
	for (size_t i = 0; i < header->nfields; i++) {
		offsets[i + 1] = s->header_names.len;
		bytebuf_append(&s->header_names, header->fields[i].data, header->fields[i].len + 1);
	}
	s->header = pm_malloc((header->nfields + 1) * sizeof *s->header);
	for (size_t i = 0; i <= header->nfields; i++)
		s->header[i] = (struct csv_field){ s->header_names.data + offsets[i],
						   strlen(s->header_names.data + offsets[i]), false };
	free(offsets);
	s->scratch = pm_malloc((header->nfields + 1) * sizeof *s->scratch);
	return s;
}

static int compare_held(const void *x, const void *y, void *arg)
{
	const struct record_sorter *s = arg;
	const struct held *a = x, *b = y;
	int c = record_key_compare(&s->key, s->fields + a->first, &s->key, s->fields + b->first);

	return c ? c : (a->number > b->number) - (a->number < b->number);
}

static void sort_held(struct record_sorter *s)
{
	qsort_r(s->held, s->nheld, sizeof *s->held, compare_held, s);
}

static void forget_held(struct record_sorter *s)
{
	for (size_t i = 0; i < s->nblocks; i++)
		free(s->blocks[i]);
	s->nblocks = s->block_used = s->block_cap = 0;
	s->nheld = s->nheld_fields = 0;
	s->used = 0;
	s->next_held = 0;
}

static void merge_start(struct record_sorter *s);
static const struct csv_record *merge_next(struct record_sorter *s);
static void merge_end(struct record_sorter *s);

/* A new run's writer, its header written; the run is added to the list. */
static struct stream_writer *run_create(struct record_sorter *s)
{
	if (!s->dir) {
		const char *tmp = getenv("TMPDIR");
		size_t n = strlen(tmp && *tmp ? tmp : "/tmp") + sizeof "/pm-sort.XXXXXX";
		s->dir = pm_malloc(n);
		snprintf(s->dir, n, "%s/pm-sort.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(s->dir))
			pm_die(PM_EXIT_IO, "%s: %s", s->dir, strerror(errno));
		pm_cleanup_push(remove_runs, s);
	}
	s->runs = pm_realloc(s->runs, (s->nruns + 1) * sizeof *s->runs);
	struct run *run = &s->runs[s->nruns++];
	memset(run, 0, sizeof *run);
	size_t n = strlen(s->dir) + 32;
	run->path = pm_malloc(n);
	snprintf(run->path, n, "%s/run%zu.csv.gz", s->dir, ++s->runs_made);
	struct stream_writer *w = stream_writer_open(run->path, 1);
	stream_writer_record(w, s->header, s->nfields + 1);
	return w;
}

static void run_write(struct record_sorter *s, struct stream_writer *w, const struct csv_record *rec)
{
	char number[24];

	s->scratch[0] = (struct csv_field){ number, value_format_int64(number, (long long)rec->number), false };
	memcpy(s->scratch + 1, rec->fields, s->nfields * sizeof *s->scratch);
	stream_writer_record(w, s->scratch, s->nfields + 1);
}

/* Merge every run so far into one. */
static void compact_runs(struct record_sorter *s)
{
	size_t old = s->nruns;
	const struct csv_record *rec;

	merge_start(s);
	struct stream_writer *w = run_create(s);
	while ((rec = merge_next(s)) != NULL)
		run_write(s, w, rec);
	stream_writer_close(w);
	merge_end(s);
	for (size_t i = 0; i < old; i++) {
		unlink(s->runs[i].path);
		free(s->runs[i].path);
	}
	memmove(s->runs, s->runs + old, sizeof *s->runs);
	s->nruns = 1;
}

/* Sort what is held and write it out as one more run. */
static void spill(struct record_sorter *s)
{
	if (s->nruns == MAX_RUNS)
		compact_runs(s);
	sort_held(s);
	struct stream_writer *w = run_create(s);
	for (size_t i = 0; i < s->nheld; i++) {
		const struct held *h = &s->held[i];
		run_write(s, w, &(struct csv_record){ h->number, s->nfields, s->fields + h->first });
	}
	stream_writer_close(w);
	forget_held(s);
}

void record_sorter_add(struct record_sorter *s, const struct csv_record *rec)
{
	if (s->used >= s->budget && s->nheld > 0)
		spill(s);
	if (s->nheld == s->held_cap) {
		s->held_cap = s->held_cap ? 2 * s->held_cap : 1024;
		s->held = pm_realloc(s->held, s->held_cap * sizeof *s->held);
	}
	if (s->fields_cap - s->nheld_fields < s->nfields) {
		s->fields_cap = s->fields_cap ? 2 * s->fields_cap : 1024 * s->nfields;
		s->fields = pm_realloc(s->fields, s->fields_cap * sizeof *s->fields);
	}
	s->held[s->nheld++] = (struct held){ s->nheld_fields, rec->number };
	for (size_t i = 0; i < s->nfields; i++) {
		const struct csv_field *in = &rec->fields[i];
		s->fields[s->nheld_fields++] =
			in->null ? *in : (struct csv_field){ copy_bytes(s, in->data, in->len), in->len, false };
	}
	s->used += sizeof(struct held) + s->nfields * sizeof(struct csv_field);
}

/* Read a run's next record; false at its end. */
static bool run_read(struct run *run)
{
	long long number;

	run->rec = stream_reader_next(run->in);
	if (!run->rec)
		return false;
	if (!value_parse_int64(run->rec->fields[0].data, run->rec->fields[0].len, &number))
		pm_die(PM_EXIT_IO, "%s: record %llu: not a run of pm's own", run->path,
		       (unsigned long long)run->rec->number);
	run->number = (uint64_t)number;
	return true;
}

static bool run_less(const struct record_sorter *s, size_t i, size_t j)
{
	const struct run *a = &s->runs[i], *b = &s->runs[j];
	int c = record_key_compare(&s->key, a->rec->fields + 1, &s->key, b->rec->fields + 1);

	return c ? c < 0 : a->number < b->number;
}

static void sift_down(struct record_sorter *s, size_t at)
{
	for (;;) {
		size_t least = at, l = 2 * at + 1, r = l + 1;
		if (l < s->nheap && run_less(s, s->heap[l], s->heap[least]))
			least = l;
		if (r < s->nheap && run_less(s, s->heap[r], s->heap[least]))
			least = r;
		if (least == at)
			return;
		size_t t = s->heap[at];
		s->heap[at] = s->heap[least];
		s->heap[least] = t;
		at = least;
	}
}

static void merge_start(struct record_sorter *s)
{
	s->heap = pm_realloc(s->heap, s->nruns * sizeof *s->heap);
	s->nheap = 0;
	s->advance_top = false;
	for (size_t i = 0; i < s->nruns; i++) {
		s->runs[i].in = stream_reader_open(s->runs[i].path);
		if (run_read(&s->runs[i]))
			s->heap[s->nheap++] = i;
	}
	for (size_t i = s->nheap; i-- > 0;)
		sift_down(s, i);
}

static const struct csv_record *merge_next(struct record_sorter *s)
{
	if (s->advance_top) {
		s->advance_top = false;
		if (!run_read(&s->runs[s->heap[0]]))
			s->heap[0] = s->heap[--s->nheap];
		sift_down(s, 0);
	}
	if (s->nheap == 0)
		return NULL;
	const struct run *top = &s->runs[s->heap[0]];
	s->advance_top = true;
	s->out = (struct csv_record){ top->number, s->nfields, top->rec->fields + 1 };
	return &s->out;
}

static void merge_end(struct record_sorter *s)
{
	for (size_t i = 0; i < s->nruns; i++) {
		if (s->runs[i].in)
			stream_reader_close(s->runs[i].in);
		s->runs[i].in = NULL;
	}
}

static void finish(struct record_sorter *s)
{
	s->finished = true;
	if (s->nruns == 0) {
		sort_held(s);
		return;
	}
	if (s->nheld > 0)
		spill(s);
	merge_start(s);
}

const struct csv_record *record_sorter_next(struct record_sorter *s)
{
	if (!s->finished)
		finish(s);
	if (s->nruns == 0) {
		if (s->next_held == s->nheld)
			return NULL;
		const struct held *h = &s->held[s->next_held++];
		s->out = (struct csv_record){ h->number, s->nfields, s->fields + h->first };
		return &s->out;
	}
	return merge_next(s);
}

size_t record_sorter_runs(const struct record_sorter *s)
{
	return s->runs_made;
}

void record_sorter_close(struct record_sorter *s)
{
	merge_end(s);
	remove_runs(s);
	if (s->dir)
		pm_cleanup_remove(remove_runs, s);
	for (size_t i = 0; i < s->nruns; i++)
		free(s->runs[i].path);
	forget_held(s);
	free(s->blocks);
	free(s->fields);
	free(s->held);
	free(s->runs);
	free(s->heap);
	free(s->dir);
	free(s->header);
	free(s->scratch);
	free(s->key.fields);
	bytebuf_free(&s->header_names);
	free(s);
}
