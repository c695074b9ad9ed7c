#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gzip_member.h"
#include "name_index.h"
#include "pm_error.h"
#include "pm_limits.h"
#include "stream_input.h"
#include "stream_reader.h"

/* The arena starts large enough for the records of one piece of input (a member of pm's own). */
#define CHUNK GZIP_MEMBER_MAX_SIZE

struct slot {
	size_t off;
	size_t len;
	bool null;
};

struct stream_reader {
	char *name;
	struct stream_input *input; /* the CSV bytes, inflated when gzip */
	struct csv_parser parser;
	bool at_eof;
	uint64_t bytes;
	bool started; /* CSV bytes have been parsed: a byte-order mark is looked for only before */

	/* A gzip member that begins between two records may be a whole stream appended, header first. */
	bool between_records; /* the last member ended between two records */
	bool member_start;    /* the next record is the first of a member that starts a stream */

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
	struct name_index header_index;
};

static _Noreturn void die_at(struct stream_reader *r, int status, const char *what);

/* Where the record being parsed begins in the arena. */
static size_t partial_start(const struct stream_reader *r)
{
	size_t first = r->rec_first[r->nrecs];

	return first < r->nslots ? r->slots[first].off : r->arena.len;
}

/*
 * Refused as soon as it grows past the limit: a 2 GB field must never be held whole.
 * in_parser: the bytes of the field libcsv holds still (its entry_pos is current only
 * between calls of csv_parse, so 0 from inside a callback).
 */
static void check_record_size(struct stream_reader *r, size_t in_parser)
{
	size_t nul_ends = r->nslots - r->rec_first[r->nrecs]; /* one a field in the arena, not data */

	if (r->arena.len - partial_start(r) - nul_ends + in_parser > PM_MAX_RECORD_BYTES)
		die_at(r, PM_EXIT_DATA,
		       "larger than " PM_STRINGIFY(PM_MAX_RECORD_MIB) " MiB: the limit of a record in a stream");
}

static void add_slot(struct stream_reader *r, size_t off, size_t len, bool null)
{
	/* Refused while it is read: a header of millions of names must not be held, nor
	 * checked, first.  No record of a wider stream could go into a table anyway. */
	if (r->nslots - r->rec_first[r->nrecs] == PM_MAX_COLUMNS) {
		char what[128];
		snprintf(what, sizeof what, "more than %d %s: the limit of a stream (PostgreSQL's own for a table)",
			 PM_MAX_COLUMNS, r->number + r->nrecs == 0 ? "columns" : "fields");
		die_at(r, PM_EXIT_DATA, what);
	}
	if (r->nslots == r->slots_cap) {
		r->slots_cap = r->slots_cap ? 2 * r->slots_cap : 64;
		r->slots = pm_realloc(r->slots, r->slots_cap * sizeof *r->slots);
	}
	r->slots[r->nslots++] = (struct slot){ off, len, null };
}

static void on_field(void *s, size_t len, void *data)
{
	struct stream_reader *r = data;

	add_slot(r, r->arena.len, len, s == NULL);
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

/* Does the record being completed equal the header?  Then a whole stream was appended to this one. */
static bool repeats_header(const struct stream_reader *r)
{
	size_t first = r->rec_first[r->nrecs];

	if (r->header.nfields == 0 || r->nslots - first != r->header.nfields)
		return false;
	for (size_t i = 0; i < r->header.nfields; i++) {
		const struct slot *sl = &r->slots[first + i];
		if (sl->null || sl->len != r->header.fields[i].len ||
		    memcmp(r->arena.data + sl->off, r->header.fields[i].data, sl->len) != 0)
			return false;
	}
	return true;
}

static void drop_partial(struct stream_reader *r)
{
	size_t first = r->rec_first[r->nrecs];

	if (first < r->nslots)
		r->arena.len = r->slots[first].off;
	r->nslots = first;
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
	check_record_size(r, 0);
	if (r->member_start) {
		r->member_start = false;
		if (repeats_header(r)) {
			drop_partial(r);
			return;
		}
	}
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
	size_t off = partial_start(r);

	memmove(r->slots, r->slots + first, (r->nslots - first) * sizeof *r->slots);
	r->nslots -= first;
	for (size_t i = 0; i < r->nslots; i++)
		r->slots[i].off -= off;
	memmove(r->arena.data, r->arena.data + off, r->arena.len - off);
	r->arena.len -= off;
	r->nrecs = r->next_rec = 0;
	r->rec_first[0] = 0;
}

/* libcsv has begun no record (pstate 0 is its ROW_NOT_BEGUN), and no part of one is queued here. */
static bool at_boundary(const struct stream_reader *r)
{
	return r->parser.pstate == 0 && r->nslots == r->rec_first[r->nrecs];
}

/*
 * A whole line with no quote and no CR, at a record boundary: split here as libcsv would.  The
 * line is copied into the arena once, each comma made the NUL ending its field, so the arena and
 * slots are those on_field makes; an empty unquoted field is NULL, as with CSV_EMPTY_IS_NULL.
 */
static void split_line(struct stream_reader *r, const unsigned char *line, size_t len)
{
	if (len > 0) {
		size_t at = r->arena.len, end = at + len;
		bytebuf_append(&r->arena, line, len);
		bytebuf_putc(&r->arena, '\0');
		for (;;) {
			char *comma = memchr(r->arena.data + at, ',', end - at);
			size_t to = comma ? (size_t)(comma - r->arena.data) : end;
			add_slot(r, at, to - at, to == at);
			if (!comma)
				break;
			*comma = '\0';
			at = to + 1;
		}
	}
	on_record('\n', r); /* as libcsv ends it: an empty line is a NULL, or the LF of a CRLF cut by a chunk */
}

static void parse_slow(struct stream_reader *r, const unsigned char *p, size_t n)
{
	if (csv_parse(&r->parser, p, n, on_field, on_record, r) != n) {
		int e = csv_error(&r->parser);
		die_at(r, PM_EXIT_DATA,
		       e == CSV_EPARSE ? "malformed CSV: a quote inside an unquoted field or after a closing quote"
				       : csv_strerror(e));
	}
	check_record_size(r, r->parser.entry_pos);
	/* libcsv grows a field's buffer by blk_size at a time: doubled here, so that a field of
	 * megabytes costs a few reallocations, not thousands, each a copy of all before. */
	if (r->parser.entry_size > r->parser.blk_size)
		csv_set_blk_size(&r->parser, r->parser.entry_size);
}

/*
 * Nearly every line is a whole record with no quote and no CR: those are split here, faster than
 * libcsv's byte at a time through callbacks.  libcsv takes the rest line by line (a quoted field
 * may span lines, a chunk may end inside a record) until it is at a record boundary again.
 */
static void parse(struct stream_reader *r, const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n;

	while (p < end) {
		const unsigned char *lf = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *next = lf ? lf + 1 : end;
		if (lf && at_boundary(r) && !memchr(p, '"', (size_t)(lf - p)) && !memchr(p, '\r', (size_t)(lf - p)))
			split_line(r, p, (size_t)(lf - p));
		else
			parse_slow(r, p, (size_t)(next - p));
		p = next;
	}
}

/* Parse input until at least one whole record is queued; false at the end. */
static bool fill(struct stream_reader *r)
{
	compact(r);
	while (r->nrecs == 0) {
		if (r->at_eof)
			return false;
		struct stream_piece piece;
		enum stream_input_result got = stream_input_next(r->input, &piece);
		if (got == STREAM_INPUT_BAD)
			die_at(r, PM_EXIT_DATA, stream_input_error(r->input));
		if (got == STREAM_INPUT_END) {
			r->at_eof = true;
			if (csv_fini(&r->parser, on_field, on_record, r) != 0)
				die_at(r, PM_EXIT_DATA, "malformed CSV: unterminated quoted field");
			continue;
		}
		if (piece.begins_member)
			r->member_start = piece.may_start_stream && r->between_records;
		const unsigned char *p = piece.data;
		size_t n = piece.len;
		r->bytes += n;
		/* Many CSV writers (spreadsheets, .NET, PowerShell) begin with a UTF-8 byte-order
		 * mark, which would otherwise become part of the first column's name. */
		if (!r->started && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
			p += 3;
			n -= 3;
		}
		r->started = r->started || n > 0;
		parse(r, p, n);
		/* A member that ends between records may be followed by a whole stream, header first. */
		if (piece.member_ended)
			r->between_records = at_boundary(r);
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
		/* A C string would end at the NUL: the name in every message and SQL would be cut short. */
		if (memchr(h->fields[i].data, '\0', h->fields[i].len))
			pm_die(PM_EXIT_DATA, "%s: header: column %zu has a NUL byte in its name", r->name, i + 1);
		bytes += h->fields[i].len + 1;
	}
	/* Reserved whole, so that the names the index points to never move. */
	bytebuf_reserve(&r->header_store, bytes);
	r->header_fields = pm_malloc(h->nfields * sizeof *r->header_fields);
	for (size_t i = 0; i < h->nfields; i++) {
		char *p = r->header_store.data + r->header_store.len;
		bytebuf_append(&r->header_store, h->fields[i].data, h->fields[i].len + 1);
		r->header_fields[i] = (struct csv_field){ p, h->fields[i].len, false };
		if (name_index_add(&r->header_index, p, h->fields[i].len, (int)i) >= 0)
			pm_die(PM_EXIT_DATA, "%s: header: column \"%s\" appears twice", r->name, p);
	}
	r->header = (struct csv_record){ 0, h->nfields, r->header_fields };
}

struct stream_reader *stream_reader_open(const char *path)
{
	struct stream_reader *r = pm_malloc(sizeof *r);
	bool use_stdin = path == NULL || strcmp(path, "-") == 0;

	memset(r, 0, sizeof *r);
	r->name = pm_strdup(use_stdin ? "stdin" : path);
	int fd = use_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		pm_die(PM_EXIT_IO, "%s: %s", r->name, strerror(errno));
	r->input = stream_input_open(fd, r->name);
	if (csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL | CSV_REPALL_NL) != 0)
		pm_die(PM_EXIT_IO, "out of memory (csv parser)");
	csv_set_space_func(&r->parser, keep_spaces);
	csv_set_blk_size(&r->parser, 4096);
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

bool stream_reader_peek_field(const struct stream_reader *r, size_t ahead, size_t f, const char **data, size_t *len)
{
	size_t i = r->next_rec + ahead;

	if (i >= r->nrecs || f >= r->rec_first[i + 1] - r->rec_first[i])
		return false;
	const struct slot *s = &r->slots[r->rec_first[i] + f];
	if (s->null)
		return false;
	*data = r->arena.data + s->off;
	*len = s->len;
	return true;
}

int stream_reader_column(const struct stream_reader *r, const char *name)
{
	return name_index_find(&r->header_index, name, strlen(name));
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
	stream_input_close(r->input);
	csv_free(&r->parser);
	free(r->slots);
	free(r->rec_first);
	free(r->out);
	free(r->header_fields);
	bytebuf_free(&r->arena);
	bytebuf_free(&r->header_store);
	name_index_free(&r->header_index);
	free(r->name);
	free(r);
}
