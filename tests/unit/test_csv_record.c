/* Unit tests of csv_record: PostgreSQL's CSV quoting, COPY's text format both ways, csv_split's edges. */
#include <stdlib.h>
#include <string.h>

#include "csv_record.h"
#include "tap.h"

static struct csv_field F(const char *s)
{
	return (struct csv_field){ s, strlen(s), false };
}

static const struct csv_field NUL_FIELD = { NULL, 0, true };

static struct bytebuf out;

static bool encodes(const struct csv_field *f, size_t n, const char *want)
{
	out.len = 0;
	csv_record_encode(&out, f, n);
	return out.len == strlen(want) && memcmp(out.data, want, out.len) == 0;
}

static bool encodes_text(const struct csv_field *f, size_t n, const char *want)
{
	out.len = 0;
	csv_record_encode_copy_text(&out, f, n);
	return out.len == strlen(want) && memcmp(out.data, want, out.len) == 0;
}

static void test_encode(void)
{
	ok(encodes(NULL, 0, "\n"), "no fields: just the LF");
	struct csv_field e[] = { F("") };
	ok(encodes(e, 1, "\"\"\n"), "a one-column empty string is \"\"");
	struct csv_field n2[] = { NUL_FIELD, NUL_FIELD };
	ok(encodes(n2, 2, ",\n"), "two NULLs are a lone comma");
	struct csv_field ne[] = { NUL_FIELD, F(""), NUL_FIELD };
	ok(encodes(ne, 3, ",\"\",\n"), "NULL, empty string, NULL stay apart");
	struct csv_field q[] = { F("\"") };
	ok(encodes(q, 1, "\"\"\"\"\n"), "a lone quote is doubled inside quotes");
	struct csv_field qq[] = { F("\"\"") };
	ok(encodes(qq, 1, "\"\"\"\"\"\"\n"), "two quotes are four inside quotes");
	struct csv_field crlf[] = { F("a\r\nb") };
	ok(encodes(crlf, 1, "\"a\r\nb\"\n"), "CRLF inside a value is kept, quoted");
	struct csv_field cr[] = { F("\r") };
	ok(encodes(cr, 1, "\"\r\"\n"), "a lone CR is quoted");
	struct csv_field comma[] = { F(",") };
	ok(encodes(comma, 1, "\",\"\n"), "a lone comma is quoted");
	struct csv_field plain[] = { F("tab\there"), F("back\\slash"), F("'single'"), F(" lead"), F("trail ") };
	ok(encodes(plain, 5, "tab\there,back\\slash,'single', lead,trail \n"),
	   "tab, backslash, apostrophe and spaces are not quoted");
	struct csv_field dot[] = { F("\\.") };
	ok(encodes(dot, 1, "\"\\.\"\n"), "a lone \\. as the only field is quoted");
	struct csv_field dotn[] = { F("\\."), NUL_FIELD };
	ok(encodes(dotn, 2, "\\.,\n"), "\\. beside a NULL field is not quoted");
	struct csv_field dotx[] = { F("\\.x"), F("x\\.") };
	ok(encodes(dotx, 1, "\\.x\n") && encodes(dotx + 1, 1, "x\\.\n"), "\\. with more around it is not quoted");
	struct csv_field bs[] = { F("\\") };
	ok(encodes(bs, 1, "\\\n"), "a lone backslash is plain");
	/* A NUL byte inside len travels as it is: len, not strlen, decides. */
	struct csv_field nul[] = { { "a\0b", 3, false } };
	out.len = 0;
	csv_record_encode(&out, nul, 1);
	ok(out.len == 4 && memcmp(out.data, "a\0b\n", 4) == 0,
	   "the field's length, not its NUL, bounds it");
	/* A NULL flagged field is written as nothing whatever its data says. */
	struct csv_field flagged[] = { { "x", 1, true }, F("y") };
	ok(encodes(flagged, 2, ",y\n"), "null wins over data");
	/* Appends: what was in the buffer stays. */
	out.len = 0;
	struct csv_field one[] = { F("1") };
	csv_record_encode(&out, one, 1);
	csv_record_encode(&out, one, 1);
	ok(out.len == 4 && memcmp(out.data, "1\n1\n", 4) == 0, "encode appends to the buffer");
	/* Long values that all need doubling: the reserve holds. */
	static char quotes[5001];
	memset(quotes, '"', 5000);
	struct csv_field big[] = { F(quotes) };
	out.len = 0;
	csv_record_encode(&out, big, 1);
	bool all = out.len == 10003 && out.data[0] == '"' && out.data[10001] == '"' && out.data[10002] == '\n';
	for (size_t i = 1; all && i < 10001; i++)
		all = out.data[i] == '"';
	ok(all, "5000 quotes become 10000 inside quotes");
}

static void test_encode_copy_text(void)
{
	ok(encodes_text(NULL, 0, "\n"), "COPY text: no fields, just the LF");
	struct csv_field e[] = { F("") };
	ok(encodes_text(e, 1, "\n"), "COPY text: a one-column empty string is an empty line");
	struct csv_field n[] = { NUL_FIELD };
	ok(encodes_text(n, 1, "\\N\n"), "COPY text: a one-column NULL is \\N");
	struct csv_field q[] = { F("a,\"b\""), F("\\.") };
	ok(encodes_text(q, 2, "a,\"b\"\t\\\\.\n"), "COPY text: commas and quotes are plain, backslash doubled");
	struct csv_field esc[] = { F("\b\f\v") };
	ok(encodes_text(esc, 1, "\b\f\v\n"), "COPY text: \\b \\f \\v written raw (COPY reads them so)");
	static char bs[3001];
	memset(bs, '\\', 3000);
	struct csv_field big[] = { F(bs) };
	out.len = 0;
	csv_record_encode_copy_text(&out, big, 1);
	ok(out.len == 6001, "COPY text: 3000 backslashes become 6000");
}

static int decode(const char *text, struct csv_field *f, size_t n, char *row, size_t size)
{
	size_t len = strlen(text);
	if (len >= size)
		return -2;
	memcpy(row, text, len + 1);
	return csv_record_decode_copy_text(row, len, f, n);
}

static void test_decode(void)
{
	struct csv_field f[4];
	char row[64];

	ok(decode("", f, 4, row, sizeof row) == -1, "decode: an empty row is refused");
	ok(decode("\n", f, 4, row, sizeof row) == 1 && !f[0].null && f[0].len == 0 && f[0].data[0] == '\0',
	   "decode: a lone LF is one empty string");
	ok(decode("\\N\n", f, 4, row, sizeof row) == 1 && f[0].null && f[0].data == NULL, "decode: \\N alone is NULL");
	ok(decode("\\N\t\\N\n", f, 4, row, sizeof row) == 2 && f[0].null && f[1].null, "decode: two NULLs");
	ok(decode("\\Nx\n", f, 4, row, sizeof row) == -1, "decode: \\N with more after it is refused (\\N is no escape)");
	ok(decode("\\\\N\n", f, 4, row, sizeof row) == 1 && !f[0].null && strcmp(f[0].data, "\\N") == 0,
	   "decode: \\\\N is the text \\N");
	ok(decode("\t\n", f, 4, row, sizeof row) == 2 && f[0].len == 0 && f[1].len == 0 && !f[0].null && !f[1].null,
	   "decode: a lone tab is two empty strings");
	ok(decode("a\t\n", f, 4, row, sizeof row) == 2 && strcmp(f[0].data, "a") == 0 && f[1].len == 0,
	   "decode: a trailing tab ends in an empty field");
	ok(decode("a\tb\tc\td\n", f, 4, row, sizeof row) == 4, "decode: exactly nfields is fine");
	ok(decode("a\tb\tc\td\te\n", f, 4, row, sizeof row) == -1, "decode: one field too many is refused");
	ok(decode("\\N\t\\N\n", f, 1, row, sizeof row) == -1, "decode: one NULL too many is refused");
	ok(decode("a\n", f, 0, row, sizeof row) == -1, "decode: no room for a field is refused");
	ok(decode("a\nb\n", f, 4, row, sizeof row) == -1, "decode: two lines are refused");
	ok(decode("a\\\n", f, 4, row, sizeof row) == -1, "decode: an escaped LF (no such escape) is refused");
	ok(decode("a\\", f, 4, row, sizeof row) == -1, "decode: a trailing backslash without the LF is refused");
	ok(decode("\\x41\n", f, 4, row, sizeof row) == -1, "decode: a hex escape is refused");
	ok(decode("\\101\n", f, 4, row, sizeof row) == -1, "decode: an octal escape is refused");
	ok(decode("\\.\n", f, 4, row, sizeof row) == -1, "decode: \\. is refused");
	ok(decode("\\n\\r\\t\\\\\n", f, 4, row, sizeof row) == 1 && strcmp(f[0].data, "\n\r\t\\") == 0 && f[0].len == 4,
	   "decode: \\n \\r \\t \\\\ unescape");
	ok(decode("x\t\\N\ty\n", f, 4, row, sizeof row) == 3 && strcmp(f[0].data, "x") == 0 && f[1].null &&
		   strcmp(f[2].data, "y") == 0,
	   "decode: NULL between values");
	ok(decode("a,\"b\"\n", f, 4, row, sizeof row) == 1 && strcmp(f[0].data, "a,\"b\"") == 0,
	   "decode: commas and quotes are plain");

	/* Round trip: every field as it was. */
	struct csv_field a[] = { F(""), NUL_FIELD, F("\\N"), F("\t\n\r\\") };
	out.len = 0;
	csv_record_encode_copy_text(&out, a, 4);
	char *copy = malloc(out.len + 1);
	memcpy(copy, out.data, out.len);
	copy[out.len] = '\0';
	int n = csv_record_decode_copy_text(copy, out.len, f, 4);
	bool same = n == 4;
	for (int i = 0; same && i < 4; i++)
		same = f[i].null == a[i].null && (a[i].null || (f[i].len == a[i].len && memcmp(f[i].data, a[i].data, a[i].len) == 0));
	ok(same, "decode: the encoder's row of edge values comes back the same");
	free(copy);
}

static void test_split(void)
{
	struct bytebuf store = { 0 };
	struct csv_field *f;
	const char *why;
	int n;

	why = NULL;
	ok(csv_split("", &store, &f, &why) == -1 && why && strcmp(why, "empty list") == 0, "split: the empty string is no list");
	ok(csv_split("a", &store, &f, &why) == 1 && strcmp(f[0].data, "a") == 0 && f[0].len == 1 && !f[0].null,
	   "split: one item");
	ok(csv_split("\"\"", &store, &f, &why) == 1 && !f[0].null && f[0].len == 0 && strcmp(f[0].data, "") == 0,
	   "split: \"\" is the empty string, not NULL");
	n = csv_split(",", &store, &f, &why);
	ok(n == 2 && f[0].null && f[1].null && f[0].data == NULL, "split: a lone comma is two NULLs");
	n = csv_split("a,", &store, &f, &why);
	ok(n == 2 && !f[0].null && f[1].null, "split: a trailing comma ends in NULL");
	n = csv_split("\"a\"\"b\",\"c\nd\"", &store, &f, &why);
	ok(n == 2 && strcmp(f[0].data, "a\"b") == 0 && strcmp(f[1].data, "c\nd") == 0,
	   "split: doubled quote and quoted LF");
	why = NULL;
	ok(csv_split("a\nb", &store, &f, &why) == -1 && why && strcmp(why, "more than one line") == 0,
	   "split: two lines are refused");
	ok(csv_split("a\n", &store, &f, &why) == 1 && strcmp(f[0].data, "a") == 0, "split: one trailing LF is one line");
	why = NULL;
	ok(csv_split("a\"b", &store, &f, &why) == -1 && why != NULL, "split: a quote inside an unquoted item is refused (strict)");
	why = NULL;
	ok(csv_split("\"a\"b", &store, &f, &why) == -1 && why != NULL, "split: text after a closing quote is refused");
	/* Many items: the store grows, the fields stay valid and aligned. */
	static char many[4000];
	size_t len = 0;
	for (int i = 0; i < 500; i++)
		len += (size_t)snprintf(many + len, sizeof many - len, "%s%d", i ? "," : "", i);
	n = csv_split(many, &store, &f, &why);
	bool all = n == 500 && ((uintptr_t)f % _Alignof(struct csv_field)) == 0;
	for (int i = 0; all && i < 500; i++) {
		char want[12];
		snprintf(want, sizeof want, "%d", i);
		all = strcmp(f[i].data, want) == 0;
	}
	ok(all, "split: 500 items, each in place");
	/* The store is reused: the last call's fields replace the first's. */
	n = csv_split("z", &store, &f, &why);
	ok(n == 1 && strcmp(f[0].data, "z") == 0, "split: the store is reused");
	bytebuf_free(&store);
}

int main(void)
{
	test_encode();
	test_encode_copy_text();
	test_decode();
	test_split();
	bytebuf_free(&out);
	return tap_done();
}
