#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm_error.h"
#include "progress.h"
#include "stream_reader.h"
#include "stream_writer.h"
#include "transform.h"

/* One target column, bound to the stream: where its value comes from and its key map. */
struct bound_column {
	const struct map_column *map;
	int src; /* stream field, or -1 for a constant */
	const struct keymap *keymap;
};

struct run {
	const struct mapping *m;
	const struct transform_options *o;
	struct stream_reader *in;
	struct stream_writer *out, *rejects;
	struct bound_column *cols;
	struct bytebuf values;
	size_t *offsets;
	struct csv_field *fields;
	struct csv_field *reject_fields;
	uint64_t written, rejected, warned;
};

static void bind(struct run *r)
{
	r->cols = pm_malloc(r->m->ncolumns * sizeof *r->cols);
	for (size_t i = 0; i < r->m->ncolumns; i++) {
		const struct map_column *c = &r->m->columns[i];
		struct bound_column *b = &r->cols[i];
		b->map = c;
		b->src = -1;
		b->keymap = NULL;
		if (c->from) {
			b->src = stream_reader_column(r->in, c->from);
			if (b->src < 0)
				pm_die(PM_EXIT_DATA, "%s: header: no column \"%s\" (%s:%d, column %s)", stream_reader_name(r->in),
				       c->from, r->m->path, c->line, c->name);
		}
		if (c->keymap) {
			for (size_t k = 0; k < r->o->nkeymaps && !b->keymap; k++)
				if (strcmp(keymap_name(r->o->keymaps[k]), c->keymap) == 0)
					b->keymap = r->o->keymaps[k];
			if (!b->keymap)
				pm_die(PM_EXIT_USAGE, "%s:%d: column %s needs --keymap %s=FILE", r->m->path, c->line, c->name,
				       c->keymap);
		}
	}
}

static void put_stats(const struct run *r)
{
	tool_stats_put(r->o->stats, "records", r->written + r->rejected);
	tool_stats_put(r->o->stats, "written", r->written);
	tool_stats_put(r->o->stats, "rejected", r->rejected);
	tool_stats_put(r->o->stats, "warnings", r->warned);
}

static void reject(struct run *r, const struct csv_record *rec, const char *column, const char *reason)
{
	char number[24];
	size_t n = rec->nfields;

	r->rejected++;
	bool stop = r->rejected > (uint64_t)r->o->max_rejects;
	if (r->rejects) {
		memcpy(r->reject_fields, rec->fields, n * sizeof *rec->fields);
		int len = snprintf(number, sizeof number, "%llu", (unsigned long long)rec->number);
		r->reject_fields[n] = (struct csv_field){ number, (size_t)len, false };
		r->reject_fields[n + 1] = (struct csv_field){ column, strlen(column), false };
		r->reject_fields[n + 2] = (struct csv_field){ reason, strlen(reason), false };
		stream_writer_record(r->rejects, r->reject_fields, n + 3);
	} else if (!stop) {
		pm_warn("%s: record %llu: column \"%s\": %s: rejected", stream_reader_name(r->in),
			(unsigned long long)rec->number, column, reason);
	}
	if (stop) {
		/* The rejects so far stay for the operator; the output goes. */
		if (r->rejects)
			stream_writer_close(r->rejects);
		put_stats(r);
		tool_stats_close(r->o->stats);
		pm_die(PM_EXIT_DIFFERENCES, "%s: record %llu: column \"%s\": %s; more than %lld rejects, stopping",
		       stream_reader_name(r->in), (unsigned long long)rec->number, column, reason, r->o->max_rejects);
	}
}

/* Check and convert one value into r->values; NULL on success, else the reason. */
static const char *convert(struct run *r, uint64_t number, const struct bound_column *b, const struct csv_field *in,
			   bool *null, char *why, size_t why_size)
{
	const struct map_column *c = b->map;

	*null = in->null;
	if (in->null)
		return c->not_null ? "NULL in a NOT NULL column" : NULL;
	size_t start = r->values.len;
	if (b->keymap) {
		long long old_key, new_key;
		char buf[24];
		const char *reason = value_check_integer(&c->type, in->data, in->len, &old_key);
		if (reason)
			return reason;
		if (!keymap_lookup(b->keymap, old_key, &new_key)) {
			snprintf(why, why_size, "%lld is not in key map %s", old_key, c->keymap);
			return why;
		}
		if (value_integer_in_range(&c->type, new_key)) {
			snprintf(why, why_size, "key map %s gives %lld, out of range for the column", c->keymap, new_key);
			return why;
		}
		bytebuf_append(&r->values, buf, value_format_int64(buf, new_key));
	} else {
		const char *reason = value_check(&c->type, in->data, in->len, &r->values);
		if (reason)
			return reason;
	}
	for (size_t k = 0; k < c->nchecks; k++) {
		if (value_is_ip_or_url(r->values.data + start, r->values.len - start))
			continue;
		if (c->checks[k].action == CHECK_REJECT)
			return "not an IP address or a URL with a scheme and a host";
		r->warned++;
		pm_warn("%s: record %llu: column \"%s\": warning: not an IP address or a URL with a scheme and a host",
			stream_reader_name(r->in), (unsigned long long)number, c->name);
	}
	return NULL;
}

/*
 * Key map lookups land at random in a table of megabytes, a cache miss each: start fetching the
 * entries a record this far ahead will need, so that they have arrived by the time it is reached.
 */
#define PREFETCH_AHEAD 16

static void prefetch_keys(const struct run *r)
{
	for (size_t i = 0; i < r->m->ncolumns; i++) {
		const struct bound_column *b = &r->cols[i];
		const char *data;
		size_t len;
		long long key;
		if (b->keymap && b->src >= 0 && stream_reader_peek_field(r->in, PREFETCH_AHEAD, (size_t)b->src, &data, &len) &&
		    value_parse_int64(data, len, &key))
			keymap_prefetch(b->keymap, key);
	}
}

static void transform_record(struct run *r, const struct csv_record *rec)
{
	char why[128];

	r->values.len = 0;
	for (size_t i = 0; i < r->m->ncolumns; i++) {
		const struct bound_column *b = &r->cols[i];
		struct csv_field constant = { b->map->constant, b->map->constant ? strlen(b->map->constant) : 0,
					      !b->map->constant };
		const struct csv_field *in = b->src >= 0 ? &rec->fields[b->src] : &constant;
		bool null;
		r->offsets[i] = r->values.len;
		const char *reason = convert(r, rec->number, b, in, &null, why, sizeof why);
		if (reason) {
			reject(r, rec, b->map->name, reason);
			return;
		}
		r->fields[i].null = null;
		r->fields[i].len = r->values.len - r->offsets[i];
		bytebuf_putc(&r->values, '\0');
	}
	/* The values are all in place now: point the fields at them. */
	for (size_t i = 0; i < r->m->ncolumns; i++)
		r->fields[i].data = r->fields[i].null ? NULL : r->values.data + r->offsets[i];
	stream_writer_record(r->out, r->fields, r->m->ncolumns);
	r->written++;
}

void transform_run(const struct mapping *m, const struct transform_options *o)
{
	struct run r = { .m = m, .o = o };
	const struct csv_record *rec;
	struct progress progress;

	r.out = stream_writer_open(o->output, o->level);
	if (o->rejects)
		r.rejects = stream_writer_open(o->rejects, o->level);
	r.in = stream_reader_open(o->input);
	bind(&r);

	const struct csv_record *h = stream_reader_header(r.in);
	r.fields = pm_malloc(m->ncolumns * sizeof *r.fields);
	r.offsets = pm_malloc(m->ncolumns * sizeof *r.offsets);
	r.reject_fields = pm_malloc((h->nfields + 3) * sizeof *r.reject_fields);
	for (size_t i = 0; i < m->ncolumns; i++)
		r.fields[i] = (struct csv_field){ m->columns[i].name, strlen(m->columns[i].name), false };
	stream_writer_record(r.out, r.fields, m->ncolumns);
	if (r.rejects) {
		static const char *const extra[3] = { "pm_record", "pm_column", "pm_reason" };
		memcpy(r.reject_fields, h->fields, h->nfields * sizeof *h->fields);
		for (size_t i = 0; i < 3; i++)
			r.reject_fields[h->nfields + i] = (struct csv_field){ extra[i], strlen(extra[i]), false };
		stream_writer_record(r.rejects, r.reject_fields, h->nfields + 3);
	}

	progress_start(&progress, o->progress, m->target);
	while ((rec = stream_reader_next(r.in)) != NULL) {
		prefetch_keys(&r);
		transform_record(&r, rec);
		progress_update(&progress, rec->number, stream_reader_bytes(r.in));
	}
	progress_finish(&progress, r.written + r.rejected, stream_reader_bytes(r.in));
	stream_reader_close(r.in);
	if (r.rejects)
		stream_writer_close(r.rejects);
	stream_writer_close(r.out);
	put_stats(&r);
	if (o->verbose || r.rejected || r.warned)
		pm_warn("%s: %llu records: %llu written, %llu rejected, %llu warnings", m->target,
			(unsigned long long)(r.written + r.rejected), (unsigned long long)r.written,
			(unsigned long long)r.rejected, (unsigned long long)r.warned);
	free(r.cols);
	free(r.fields);
	free(r.offsets);
	free(r.reject_fields);
	bytebuf_free(&r.values);
}
