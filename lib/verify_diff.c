#include <stdlib.h>
#include <string.h>

#include "name_index.h"
#include "pm_error.h"
#include "verify_diff.h"

/* One side as the merge sees it: its current record and the key of the one before. */
struct side {
	struct verify_side *src;
	const char *name;
	const struct record_key *key;
	const struct csv_record *rec;
	size_t *compare; /* the compared columns' places, in the left side's order */
	uint64_t count, sum;
	struct bytebuf prev_store;
	struct csv_field *prev;     /* the key of the record before, its columns in key order */
	struct record_key prev_key; /* so the places in prev are 0, 1, ... */
	bool has_prev;
};

struct diff {
	struct side left, right;
	size_t ncompare;
	char **names; /* compared columns, in the left side's order */
	struct stream_writer *report;
	struct csv_field *out;
	size_t nkey;
	struct verify_counts *counts;
};

static void index_header(struct name_index *ix, const struct csv_record *h)
{
	for (size_t i = 0; i < h->nfields; i++)
		name_index_add(ix, h->fields[i].data, h->fields[i].len, (int)i);
}

static int find(const struct name_index *ix, const char *name)
{
	return name_index_find(ix, name, strlen(name));
}

/* The columns to compare: all but the ignored, each on both sides. */
static void match_columns(struct diff *d, const struct namelist *ignore)
{
	const struct csv_record *lh = verify_side_header(d->left.src), *rh = verify_side_header(d->right.src);
	struct name_index left = { 0 }, right = { 0 };

	index_header(&left, lh);
	index_header(&right, rh);

	for (size_t i = 0; i < ignore->n; i++)
		if (find(&left, ignore->items[i]) < 0 && find(&right, ignore->items[i]) < 0)
			pm_die(PM_EXIT_USAGE, "--ignore: no column \"%s\" on either side", ignore->items[i]);
	d->names = pm_malloc(lh->nfields * sizeof *d->names);
	d->left.compare = pm_malloc(lh->nfields * sizeof *d->left.compare);
	d->right.compare = pm_malloc(lh->nfields * sizeof *d->right.compare);
	for (size_t i = 0; i < lh->nfields; i++) {
		const char *name = lh->fields[i].data;
		if (namelist_find(ignore, name) >= 0)
			continue;
		int r = find(&right, name);
		if (r < 0)
			pm_die(PM_EXIT_DATA, "column \"%s\" is in %s but not in %s (leave it out with --ignore)", name,
			       d->left.name, d->right.name);
		d->names[d->ncompare] = (char *)name;
		d->left.compare[d->ncompare] = i;
		d->right.compare[d->ncompare++] = (size_t)r;
	}
	for (size_t i = 0; i < rh->nfields; i++)
		if (namelist_find(ignore, rh->fields[i].data) < 0 && find(&left, rh->fields[i].data) < 0)
			pm_die(PM_EXIT_DATA, "column \"%s\" is in %s but not in %s (leave it out with --ignore)",
			       rh->fields[i].data, d->right.name, d->left.name);
	name_index_free(&left);
	name_index_free(&right);
}

static bool same_value(const struct csv_field *a, const struct csv_field *b)
{
	return a->null == b->null && a->len == b->len && (a->null || memcmp(a->data, b->data, a->len) == 0);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15u;
	return h ^ (h >> 32);
}

/*
 * A record's own hash: its compared values, each as its length (all ones for NULL)
 * then its bytes in little-endian 8-byte words (the last zero-padded), mixed a word
 * at a time; then murmur3's finaliser.  The checksum of a side is their sum.
 */
static uint64_t record_hash(const struct side *s, size_t ncompare)
{
	uint64_t h = 0;

	for (size_t i = 0; i < ncompare; i++) {
		const struct csv_field *f = &s->rec->fields[s->compare[i]];
		h = mix(h, f->null ? UINT64_MAX : f->len);
		if (f->null)
			continue;
		size_t j = 0;
		for (; j + 8 <= f->len; j += 8) {
			uint64_t w = 0;
			for (int b = 0; b < 8; b++)
				w |= (uint64_t)(unsigned char)f->data[j + (size_t)b] << (8 * b);
			h = mix(h, w);
		}
		if (j < f->len) {
			uint64_t w = 0;
			for (int b = 0; j + (size_t)b < f->len; b++)
				w |= (uint64_t)(unsigned char)f->data[j + (size_t)b] << (8 * b);
			h = mix(h, w);
		}
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	return h ^ (h >> 33);
}

static void write_difference(struct diff *d, const struct side *s, const char *what, const char *column,
			     const struct csv_field *l, const struct csv_field *r)
{
	static const struct csv_field null = { NULL, 0, true };

	for (size_t i = 0; i < d->nkey; i++)
		d->out[i] = s->rec->fields[s->key->fields[i]];
	d->out[d->nkey] = (struct csv_field){ what, strlen(what), false };
	d->out[d->nkey + 1] = column ? (struct csv_field){ column, strlen(column), false } : null;
	d->out[d->nkey + 2] = l ? *l : null;
	d->out[d->nkey + 3] = r ? *r : null;
	stream_writer_record(d->report, d->out, d->nkey + 4);
}

static void remember_key(struct side *s)
{
	s->prev_store.len = 0;
	for (size_t i = 0; i < s->key->n; i++) {
		const struct csv_field *f = &s->rec->fields[s->key->fields[i]];
		bytebuf_append(&s->prev_store, f->null ? "" : f->data, f->null ? 0 : f->len);
		bytebuf_putc(&s->prev_store, '\0');
	}
	size_t off = 0;
	for (size_t i = 0; i < s->key->n; i++) {
		const struct csv_field *f = &s->rec->fields[s->key->fields[i]];
		s->prev[i] = (struct csv_field){ f->null ? NULL : s->prev_store.data + off, f->len, f->null };
		off += f->len + 1;
	}
	s->has_prev = true;
}

/* The side's next record that is not a repeat of the key before it; repeats are reported. */
static void advance(struct diff *d, struct side *s, const char *duplicate)
{
	if (s->rec)
		remember_key(s);
	while ((s->rec = verify_side_next(s->src)) != NULL) {
		s->count++;
		s->sum += record_hash(s, d->ncompare);
		if (!s->has_prev)
			return;
		int c = record_key_compare(&s->prev_key, s->prev, s->key, s->rec->fields);
		if (c > 0)
			pm_die(PM_EXIT_DATA, "%s: record %llu: not in key order", s->name,
			       (unsigned long long)s->rec->number);
		if (c < 0)
			return;
		d->counts->duplicates++;
		write_difference(d, s, duplicate, NULL, NULL, NULL);
	}
}

void verify_diff(struct verify_side *left, struct verify_side *right, const struct namelist *ignore,
		 struct stream_writer *report, struct verify_counts *counts)
{
	struct diff d = { .report = report, .counts = counts };
	struct side *l = &d.left, *r = &d.right;

	memset(counts, 0, sizeof *counts);
	l->src = left;
	r->src = right;
	l->name = verify_side_name(left);
	r->name = verify_side_name(right);
	l->key = verify_side_key(left);
	r->key = verify_side_key(right);
	d.nkey = l->key->n;
	match_columns(&d, ignore);

	/* The report's header: the key's names, then the difference's own columns. */
	const struct csv_record *lh = verify_side_header(left);
	static const char *const extra[4] = { "pm_difference", "pm_column", "pm_left", "pm_right" };
	d.out = pm_malloc((d.nkey + 4) * sizeof *d.out);
	for (size_t i = 0; i < d.nkey; i++)
		d.out[i] = lh->fields[l->key->fields[i]];
	for (size_t i = 0; i < 4; i++)
		d.out[d.nkey + i] = (struct csv_field){ extra[i], strlen(extra[i]), false };
	stream_writer_record(report, d.out, d.nkey + 4);

	for (struct side *s = l; s; s = s == l ? r : NULL) {
		s->prev = pm_malloc(d.nkey * sizeof *s->prev);
		s->prev_key.n = d.nkey;
		s->prev_key.fields = pm_malloc(d.nkey * sizeof *s->prev_key.fields);
		for (size_t i = 0; i < d.nkey; i++)
			s->prev_key.fields[i] = i;
	}
	advance(&d, l, "duplicate-left");
	advance(&d, r, "duplicate-right");
	while (l->rec || r->rec) {
		int c = !l->rec ? 1 : !r->rec ? -1 : record_key_compare(l->key, l->rec->fields, r->key, r->rec->fields);
		if (c < 0) {
			counts->missing++;
			write_difference(&d, l, "missing", NULL, NULL, NULL);
			advance(&d, l, "duplicate-left");
		} else if (c > 0) {
			counts->extra++;
			write_difference(&d, r, "extra", NULL, NULL, NULL);
			advance(&d, r, "duplicate-right");
		} else {
			bool changed = false;
			for (size_t i = 0; i < d.ncompare; i++) {
				const struct csv_field *a = &l->rec->fields[l->compare[i]], *b = &r->rec->fields[r->compare[i]];
				if (same_value(a, b))
					continue;
				changed = true;
				counts->changed_values++;
				write_difference(&d, l, "changed", d.names[i], a, b);
			}
			counts->changed += changed;
			advance(&d, l, "duplicate-left");
			advance(&d, r, "duplicate-right");
		}
	}
	counts->left = l->count;
	counts->right = r->count;
	counts->left_sum = l->sum;
	counts->right_sum = r->sum;
	free(d.names);
	free(d.out);
	free(l->compare);
	free(r->compare);
	free(l->prev);
	free(r->prev);
	free(l->prev_key.fields);
	free(r->prev_key.fields);
	bytebuf_free(&l->prev_store);
	bytebuf_free(&r->prev_store);
}

uint64_t verify_counts_differences(const struct verify_counts *c)
{
	return c->missing + c->extra + c->changed + c->duplicates + c->orphans + c->sequences;
}

struct target_report {
	struct stream_writer *report;
	size_t nkey;
	struct csv_field *out;
	struct verify_counts *counts;
};

static void write_finding(void *ctx, const struct csv_field *key, const char *what, const char *column,
			  const struct csv_field *left, const struct csv_field *right)
{
	static const struct csv_field null = { NULL, 0, true };
	struct target_report *t = ctx;

	for (size_t i = 0; i < t->nkey; i++)
		t->out[i] = key ? key[i] : null;
	t->out[t->nkey] = (struct csv_field){ what, strlen(what), false };
	t->out[t->nkey + 1] = (struct csv_field){ column, strlen(column), false };
	t->out[t->nkey + 2] = left ? *left : null;
	t->out[t->nkey + 3] = right ? *right : null;
	stream_writer_record(t->report, t->out, t->nkey + 4);
	if (strcmp(what, "orphan") == 0)
		t->counts->orphans++;
	else
		t->counts->sequences++;
}

void verify_report_checks(struct verify_side *right, struct stream_writer *report, struct verify_counts *counts)
{
	struct target_report t = { report, verify_side_key(right)->n, NULL, counts };

	t.out = pm_malloc((t.nkey + 4) * sizeof *t.out);
	verify_side_checks(right, write_finding, &t);
	free(t.out);
}

void verify_summary(const char *left, const char *right, const struct verify_counts *c)
{
	pm_warn("%s: %llu records, checksum %016llx", left, (unsigned long long)c->left,
		(unsigned long long)c->left_sum);
	pm_warn("%s: %llu records, checksum %016llx", right, (unsigned long long)c->right,
		(unsigned long long)c->right_sum);
	if (verify_counts_differences(c) == 0)
		pm_warn("no differences");
	else
		pm_warn("%llu differences: %llu missing, %llu extra, %llu changed (%llu values), %llu duplicate keys, "
			"%llu orphans, %llu sequences behind",
			(unsigned long long)verify_counts_differences(c), (unsigned long long)c->missing,
			(unsigned long long)c->extra, (unsigned long long)c->changed,
			(unsigned long long)c->changed_values, (unsigned long long)c->duplicates,
			(unsigned long long)c->orphans, (unsigned long long)c->sequences);
}

void verify_stats(struct tool_stats *s, const struct verify_counts *c)
{
	tool_stats_put(s, "left_records", c->left);
	tool_stats_put_checksum(s, "left_checksum", c->left_sum);
	tool_stats_put(s, "right_records", c->right);
	tool_stats_put_checksum(s, "right_checksum", c->right_sum);
	tool_stats_put(s, "differences", verify_counts_differences(c));
	tool_stats_put(s, "missing", c->missing);
	tool_stats_put(s, "extra", c->extra);
	tool_stats_put(s, "changed", c->changed);
	tool_stats_put(s, "changed_values", c->changed_values);
	tool_stats_put(s, "duplicate_keys", c->duplicates);
	tool_stats_put(s, "orphans", c->orphans);
	tool_stats_put(s, "sequences_behind", c->sequences);
}
