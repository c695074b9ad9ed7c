#include <csv.h>
#include <stdlib.h>
#include <string.h>

#include "csv_record.h"
#include "pm_error.h"

static bool needs_quotes(const struct csv_field *f, size_t nfields)
{
	if (f->len == 0)
		return true; /* "" is the empty string; bare nothing is NULL */
	/* A lone \. on a line would end COPY's input: PostgreSQL quotes it, so do we. */
	if (nfields == 1 && f->len == 2 && f->data[0] == '\\' && f->data[1] == '.')
		return true;
	for (size_t i = 0; i < f->len; i++) {
		char c = f->data[i];
		if (c == ',' || c == '"' || c == '\n' || c == '\r')
			return true;
	}
	return false;
}

void csv_record_encode(struct bytebuf *out, const struct csv_field *fields, size_t nfields)
{
	for (size_t i = 0; i < nfields; i++) {
		const struct csv_field *f = &fields[i];

		if (i > 0)
			bytebuf_putc(out, ',');
		if (f->null)
			continue;
		if (!needs_quotes(f, nfields)) {
			bytebuf_append(out, f->data, f->len);
			continue;
		}
		bytebuf_reserve(out, 2 * f->len + 2);
		char *p = out->data + out->len;
		*p++ = '"';
		for (size_t j = 0; j < f->len; j++) {
			if (f->data[j] == '"')
				*p++ = '"';
			*p++ = f->data[j];
		}
		*p++ = '"';
		out->len = (size_t)(p - out->data);
	}
	bytebuf_putc(out, '\n');
}

void csv_record_encode_copy_text(struct bytebuf *out, const struct csv_field *fields, size_t nfields)
{
	for (size_t i = 0; i < nfields; i++) {
		const struct csv_field *f = &fields[i];

		if (i > 0)
			bytebuf_putc(out, '\t');
		if (f->null) {
			bytebuf_append(out, "\\N", 2);
			continue;
		}
		bytebuf_reserve(out, 2 * f->len);
		char *p = out->data + out->len;
		for (size_t j = 0; j < f->len; j++) {
			char c = f->data[j];
			switch (c) {
			case '\\': *p++ = '\\'; *p++ = '\\'; break;
			case '\n': *p++ = '\\'; *p++ = 'n'; break;
			case '\r': *p++ = '\\'; *p++ = 'r'; break;
			case '\t': *p++ = '\\'; *p++ = 't'; break;
			default: *p++ = c;
			}
		}
		out->len = (size_t)(p - out->data);
	}
	bytebuf_putc(out, '\n');
}

/* csv_split collects fields as offsets, since the store may move while it grows. */
struct split_state {
	struct bytebuf *store;
	struct bytebuf offsets; /* size_t offset, size_t len, int null per field */
	int records;
};

struct split_slot {
	size_t off;
	size_t len;
	bool null;
};

static void split_field(void *s, size_t len, void *data)
{
	struct split_state *st = data;
	struct split_slot slot = { st->store->len, len, s == NULL };

	if (s)
		bytebuf_append(st->store, s, len);
	bytebuf_putc(st->store, '\0');
	bytebuf_append(&st->offsets, &slot, sizeof slot);
}

static void split_record(int c, void *data)
{
	(void)c;
	((struct split_state *)data)->records++;
}

static int keep_spaces(unsigned char c)
{
	(void)c;
	return 0;
}

int csv_split(const char *text, struct bytebuf *store, struct csv_field **fields, const char **why)
{
	struct csv_parser p;
	struct split_state st = { store, { 0 }, 0 };
	size_t len = strlen(text);
	int n = -1;

	store->len = 0;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0)
		pm_die(PM_EXIT_IO, "out of memory (csv parser)");
	csv_set_space_func(&p, keep_spaces);
	if (csv_parse(&p, text, len, split_field, split_record, &st) != len ||
	    csv_fini(&p, split_field, split_record, &st) != 0) {
		*why = csv_strerror(csv_error(&p));
		goto out;
	}
	if (st.records != 1) {
		*why = st.records == 0 ? "empty list" : "more than one line";
		goto out;
	}
	n = (int)(st.offsets.len / sizeof(struct split_slot));
	/* Fields go after the bytes, aligned, so one buffer holds both. */
	size_t base = (store->len + _Alignof(struct csv_field) - 1) & ~(_Alignof(struct csv_field) - 1);
	bytebuf_reserve(store, base - store->len + (size_t)n * sizeof(struct csv_field));
	struct csv_field *out = (struct csv_field *)(void *)(store->data + base);
	struct split_slot *slots = (struct split_slot *)(void *)st.offsets.data;
	for (int i = 0; i < n; i++) {
		out[i].null = slots[i].null;
		out[i].len = slots[i].len;
		out[i].data = slots[i].null ? NULL : store->data + slots[i].off;
	}
	store->len = base + (size_t)n * sizeof(struct csv_field);
	*fields = out;
out:
	csv_free(&p);
	bytebuf_free(&st.offsets);
	return n;
}

/* COPY TO writes these escapes (and never octal or hex ones); \N alone is NULL. */
static int unescape(char c)
{
	switch (c) {
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'v': return '\v';
	case '\\': return '\\';
	default: return -1;
	}
}

int csv_record_decode_copy_text(char *row, size_t len, struct csv_field *fields, size_t nfields)
{
	char *p = row, *end = row + len;
	size_t n = 0;

	if (len == 0 || end[-1] != '\n')
		return -1;
	for (;;) {
		char *start = p, *out = p;
		if (n == nfields)
			return -1;
		if (p[0] == '\\' && p[1] == 'N' && (p[2] == '\t' || p[2] == '\n')) {
			fields[n++] = (struct csv_field){ NULL, 0, true };
			p += 2;
		} else {
			while (*p != '\t' && *p != '\n') {
				if (*p == '\\') {
					int c = unescape(p[1]);
					if (c < 0)
						return -1;
					*out++ = (char)c;
					p += 2;
				} else {
					*out++ = *p++;
				}
			}
			char sep = *p;
			*out = '\0'; /* out <= p: the separator's place at the latest */
			fields[n++] = (struct csv_field){ start, (size_t)(out - start), false };
			if (sep == '\n')
				break;
			p++;
			continue;
		}
		if (*p == '\n')
			break;
		p++;
	}
	return p + 1 == end ? (int)n : -1;
}
