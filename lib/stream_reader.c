#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "pm_error.h"
#include "stream_reader.h"

#define CHUNK (128 * 1024)

struct slot {
	size_t off;
	size_t len;
	bool null;
};

struct stream_reader {
	char *name;
	gzFile gz;
	struct csv_parser parser;
	unsigned char *chunk;
	bool at_eof;
	uint64_t bytes;

	/* Records parsed from the current chunk: field bytes, slots, record boundaries. */
	struct bytebuf arena;
	struct slot *slots;
	size_t nslots, slots_cap;
	size_t *rec_first; /* record i holds slots [rec_first[i], rec_first[i + 1]) */
	size_t nrecs, recs_cap;
	size_t next_rec;
	int last_term;

	uint64_t number; /* of the last record handed out; the header is 0 */
	struct csv_field *out;
	size_t out_cap;
	struct csv_record record;

	struct bytebuf header_store;
	struct csv_field *header_fields;
	struct csv_record header;
};

static void on_field(void *s, size_t len, void *data)
{
	struct stream_reader *r = data;

	if (r->nslots == r->slots_cap) {
		r->slots_cap = r->slots_cap ? 2 * r->slots_cap : 64;
		r->slots = pm_realloc(r->slots, r->slots_cap * sizeof *r->slots);
	}
	r->slots[r->nslots++] = (struct slot){ r->arena.len, len, s == NULL };
	if (s)
		bytebuf_append(&r->arena, s, len);
	bytebuf_putc(&r->arena, '\0');
}

static void push_boundary(struct stream_reader *r)
{
	if (r->nrecs + 1 == r->recs_cap) {
		r->recs_cap *= 2;
		r->rec_first = pm_realloc(r->rec_first, r->recs_cap * sizeof *r->rec_first);
	}
	r->rec_first[++r->nrecs] = r->nslots;
}

static void on_record(int term, void *data)
{
	struct stream_reader *r = data;
	bool empty = r->nslots == r->rec_first[r->nrecs];
	int last = r->last_term;

	r->last_term = term;
	/* With CSV_REPALL_NL the LF of a CRLF arrives as a record of its own: not data. */
	if (empty && term == '\n' && last == '\r')
		return;
	/* PostgreSQL writes a one-column NULL row as an empty line. */
	if (empty)
		on_field(NULL, 0, r);
	push_boundary(r);
}

static int keep_spaces(unsigned char c)
{
	(void)c;
	return 0;
}

static _Noreturn void die_at(struct stream_reader *r, int status, const char *what)
{
	/* The first record not yet whole: those queued before it were parsed intact. */
	uint64_t at = r->number + r->nrecs;

	if (at == 0)
		pm_die(status, "%s: header: %s", r->name, what);
	pm_die(status, "%s: record %llu: %s", r->name, (unsigned long long)at, what);
}

/* Keep only the partial record at the end of the arena, moved to the front. */
static void compact(struct stream_reader *r)
{
	size_t first = r->rec_first[r->nrecs];
	size_t off = first < r->nslots ? r->slots[first].off : r->arena.len;

	memmove(r->slots, r->slots + first, (r->nslots - first) * sizeof *r->slots);
	r->nslots -= first;
	for (size_t i = 0; i < r->nslots; i++)
		r->slots[i].off -= off;
	memmove(r->arena.data, r->arena.data + off, r->arena.len - off);
	r->arena.len -= off;
	r->nrecs = r->next_rec = 0;
	r->rec_first[0] = 0;
}

/* Parse input until at least one whole record is queued; false at the end. */
static bool fill(struct stream_reader *r)
{
	compact(r);
	while (r->nrecs == 0) {
		if (r->at_eof)
			return false;
		int n = gzread(r->gz, r->chunk, CHUNK);
		if (n < 0) {
			int zerr;
			const char *msg = gzerror(r->gz, &zerr);
			if (zerr == Z_ERRNO)
				pm_die(PM_EXIT_IO, "%s: read error: %s", r->name, strerror(errno));
			die_at(r, PM_EXIT_DATA, zerr == Z_DATA_ERROR ? "corrupt gzip data" : msg);
		}
		if (n == 0) {
			int zerr;
			gzerror(r->gz, &zerr);
			if (zerr == Z_BUF_ERROR)
				die_at(r, PM_EXIT_DATA, "truncated stream (unexpected end of gzip data)");
			if (zerr != Z_OK)
				die_at(r, PM_EXIT_DATA, "corrupt gzip data");
			r->at_eof = true;
			if (csv_error(&r->parser) == CSV_SUCCESS &&
			    csv_fini(&r->parser, on_field, on_record, r) != 0)
				die_at(r, PM_EXIT_DATA, "malformed CSV: unterminated quoted field");
			continue;
		}
		r->bytes += (uint64_t)n;
		size_t done = csv_parse(&r->parser, r->chunk, (size_t)n, on_field, on_record, r);
		if (done != (size_t)n) {
			int e = csv_error(&r->parser);
			die_at(r, PM_EXIT_DATA,
			       e == CSV_EPARSE ? "malformed CSV: a quote inside an unquoted field or after a closing quote"
					       : csv_strerror(e));
		}
	}
	return true;
}

static const struct csv_record *take(struct stream_reader *r)
{
	if (r->next_rec == r->nrecs && !fill(r))
		return NULL;
	size_t first = r->rec_first[r->next_rec];
	size_t n = r->rec_first[r->next_rec + 1] - first;

	if (n > r->out_cap) {
		r->out_cap = n;
		r->out = pm_realloc(r->out, n * sizeof *r->out);
	}
	for (size_t i = 0; i < n; i++) {
		const struct slot *s = &r->slots[first + i];
		r->out[i] = (struct csv_field){ s->null ? NULL : r->arena.data + s->off, s->len, s->null };
	}
	r->next_rec++;
	r->record.number = r->number++;
	r->record.nfields = n;
	r->record.fields = r->out;
	return &r->record;
}

static void read_header(struct stream_reader *r)
{
	const struct csv_record *h = take(r);

	if (!h)
		pm_die(PM_EXIT_DATA, "%s: empty stream: no header", r->name);
	size_t bytes = 0;
	for (size_t i = 0; i < h->nfields; i++) {
		if (h->fields[i].null || h->fields[i].len == 0)
			pm_die(PM_EXIT_DATA, "%s: header: column %zu has no name", r->name, i + 1);
		bytes += h->fields[i].len + 1;
	}
	bytebuf_reserve(&r->header_store, bytes);
	r->header_fields = pm_malloc(h->nfields * sizeof *r->header_fields);
	for (size_t i = 0; i < h->nfields; i++) {
		char *p = r->header_store.data + r->header_store.len;
		bytebuf_append(&r->header_store, h->fields[i].data, h->fields[i].len + 1);
		r->header_fields[i] = (struct csv_field){ p, h->fields[i].len, false };
	}
	r->header = (struct csv_record){ 0, h->nfields, r->header_fields };
}

struct stream_reader *stream_reader_open(const char *path)
{
	struct stream_reader *r = pm_malloc(sizeof *r);
	bool use_stdin = path == NULL || strcmp(path, "-") == 0;
	int fd;

	memset(r, 0, sizeof *r);
	r->name = pm_strdup(use_stdin ? "stdin" : path);
	fd = use_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		pm_die(PM_EXIT_IO, "%s: %s", r->name, strerror(errno));
	r->gz = gzdopen(fd, "rb");
	if (!r->gz) {
		close(fd);
		pm_die(PM_EXIT_IO, "%s: cannot open gzip reader", r->name);
	}
	if (gzbuffer(r->gz, CHUNK) != 0)
		pm_die(PM_EXIT_IO, "%s: cannot size gzip buffer", r->name);
	if (csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL | CSV_REPALL_NL) != 0)
		pm_die(PM_EXIT_IO, "out of memory (csv parser)");
	csv_set_space_func(&r->parser, keep_spaces);
	csv_set_blk_size(&r->parser, 4096);
	r->chunk = pm_malloc(CHUNK);
	r->slots_cap = 64;
	r->slots = pm_malloc(r->slots_cap * sizeof *r->slots);
	bytebuf_reserve(&r->arena, CHUNK);
	r->recs_cap = 64;
	r->rec_first = pm_malloc(r->recs_cap * sizeof *r->rec_first);
	r->rec_first[0] = 0;
	read_header(r);
	return r;
}

const struct csv_record *stream_reader_header(const struct stream_reader *r)
{
	return &r->header;
}

const struct csv_record *stream_reader_next(struct stream_reader *r)
{
	const struct csv_record *rec = take(r);

	if (rec && rec->nfields != r->header.nfields) {
		char what[96];
		snprintf(what, sizeof what, "%zu fields, the header has %zu", rec->nfields, r->header.nfields);
		pm_die(PM_EXIT_DATA, "%s: record %llu: %s", r->name, (unsigned long long)rec->number, what);
	}
	return rec;
}

const char *stream_reader_name(const struct stream_reader *r)
{
	return r->name;
}

uint64_t stream_reader_bytes(const struct stream_reader *r)
{
	return r->bytes;
}

void stream_reader_close(struct stream_reader *r)
{
	int rc = gzclose_r(r->gz);

	if (rc != Z_OK && rc != Z_BUF_ERROR)
		pm_die(PM_EXIT_IO, "%s: close failed", r->name);
	csv_free(&r->parser);
	free(r->chunk);
	free(r->slots);
	free(r->rec_first);
	free(r->out);
	free(r->header_fields);
	bytebuf_free(&r->arena);
	bytebuf_free(&r->header_store);
	free(r->name);
	free(r);
}
