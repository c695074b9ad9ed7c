/* Unit tests of the stream core: encoding, the reader's CSV and gzip rules, csv_split. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "child.h"
#include "csv_record.h"
#include "fixture.h"
#include "gzip_member.h"
#include "stream_reader.h"
#include "stream_writer.h"
#include "tap.h"

static void write_gzip_member(const char *name, const char *mode, const char *data)
{
	gzFile g = gzopen(path_of(name), mode);
	size_t len = strlen(data);
	if (!g || (len > 0 && gzwrite(g, data, (unsigned)len) != (int)len) || gzclose(g) != Z_OK)
		fixture_failed(name);
}

/* A file of one gzip member per part; parts ends with NULL. */
static void write_members(const char *name, const char *const *parts)
{
	for (size_t i = 0; parts[i]; i++)
		write_gzip_member(name, i ? "ab1" : "wb1", parts[i]);
}

static struct csv_field F(const char *s)
{
	return (struct csv_field){ s, strlen(s), false };
}

static const struct csv_field NUL_FIELD = { NULL, 0, true };

static const char *encode(const struct csv_field *f, size_t n)
{
	static struct bytebuf b;
	b.len = 0;
	csv_record_encode(&b, f, n);
	return bytebuf_cstr(&b);
}

static void test_encode(void)
{
	struct csv_field a[] = { F("plain"), NUL_FIELD, F(""), F("a,b"), F("say \"hi\""), F("l1\nl2"), F("cr\r"), F(" sp ") };
	ok(strcmp(encode(a, 8), "plain,,\"\",\"a,b\",\"say \"\"hi\"\"\",\"l1\nl2\",\"cr\r\", sp \n") == 0,
	   "encoding quotes only where PostgreSQL does");
	struct csv_field dot[] = { F("\\.") };
	ok(strcmp(encode(dot, 1), "\"\\.\"\n") == 0, "a lone \\. in a one-column record is quoted");
	struct csv_field dot2[] = { F("\\."), F("x") };
	ok(strcmp(encode(dot2, 2), "\\.,x\n") == 0, "\\. beside other fields is not");
	struct csv_field null1[] = { NUL_FIELD };
	ok(strcmp(encode(null1, 1), "\n") == 0, "a one-column NULL is an empty line");
	struct csv_field lit[] = { F("\\N"), F("NULL") };
	ok(strcmp(encode(lit, 2), "\\N,NULL\n") == 0, "\\N and NULL are plain text");
}

static void test_encode_copy_text(void)
{
	static struct bytebuf b;
	struct csv_field a[] = { F("plain"), NUL_FIELD, F(""), F("a\\b"), F("l1\nl2\r\n"), F("t\tt"), F("\\N"), F("\\.") };
	b.len = 0;
	csv_record_encode_copy_text(&b, a, 8);
	ok(strcmp(bytebuf_cstr(&b), "plain\t\\N\t\ta\\\\b\tl1\\nl2\\r\\n\tt\\tt\t\\\\N\t\\\\.\n") == 0,
	   "COPY text: one line a record, NULL as \\N, backslashes and line breaks escaped");
	/* And back: every field as it was, NULL apart from "\\N" and from the empty string. */
	struct csv_field d[8];
	char *row = strdup(b.data);
	int n = csv_record_decode_copy_text(row, strlen(row), d, 8);
	bool same = n == 8;
	for (int i = 0; same && i < 8; i++)
		same = d[i].null == a[i].null && (a[i].null || (d[i].len == a[i].len && memcmp(d[i].data, a[i].data, a[i].len) == 0 &&
								d[i].data[d[i].len] == '\0'));
	ok(same, "COPY text decodes to the same fields, each NUL-terminated");
	strcpy(row, "a\tb\n");
	ok(csv_record_decode_copy_text(row, strlen(row), d, 1) == -1, "COPY text: more fields than expected is refused");
	strcpy(row, "a\\qb\n");
	ok(csv_record_decode_copy_text(row, strlen(row), d, 8) == -1, "COPY text: an unknown escape is refused");
	strcpy(row, "ab");
	ok(csv_record_decode_copy_text(row, strlen(row), d, 8) == -1, "COPY text: a row without its LF is refused");
	strcpy(row, "\\b\\f\\v\n");
	ok(csv_record_decode_copy_text(row, strlen(row), d, 8) == 1 && strcmp(d[0].data, "\b\f\v") == 0,
	   "COPY text: \\b \\f \\v");
	free(row);
}

static void test_reader(void)
{
	const char *csv = "a,b\n1,\n\"\",x\n\" q \"\"x\"\" \",\"l1\r\nl2\"\n sp , \n";
	write_file("plain.csv", csv, strlen(csv));
	ok(strcmp(slurp("plain.csv"), "a|b;1|<null>;|x; q \"x\" |l1\r\nl2; sp | ;") == 0,
	   "plain CSV: NULL, empty string, quotes, CRLF inside a value, spaces kept");

	const char *crlf = "a,b\r\n1,2\r\n3,\r\n";
	write_file("crlf.csv", crlf, strlen(crlf));
	ok(strcmp(slurp("crlf.csv"), "a|b;1|2;3|<null>;") == 0, "CRLF between records");

	const char *one = "v\n\n\"\"\nx\n";
	write_file("one.csv", one, strlen(one));
	ok(strcmp(slurp("one.csv"), "v;<null>;;x;") == 0, "one column: an empty line is NULL, \"\" is empty");

	const char *noeol = "a,b\n1,2";
	write_file("noeol.csv", noeol, strlen(noeol));
	ok(strcmp(slurp("noeol.csv"), "a|b;1|2;") == 0, "last record without a newline");

	write_gzip_member("multi.gz", "wb1", "a,b\n1,x\n");
	write_gzip_member("multi.gz", "ab9", "2,y\n");
	ok(strcmp(slurp("multi.gz"), "a|b;1|x;2|y;") == 0, "two gzip members read as one stream");

	write_gzip_member("cat.gz", "wb1", "a,b\n1,x\n");
	write_gzip_member("cat.gz", "ab1", "a,b\n2,y\n");
	write_gzip_member("cat.gz", "ab1", "a,b\n");
	ok(strcmp(slurp("cat.gz"), "a|b;1|x;2|y;") == 0, "whole streams appended: their headers are dropped");

	write_gzip_member("mid.gz", "wb1", "a,b\n1,x\n2,");
	write_gzip_member("mid.gz", "ab1", "y\na,b\n");
	ok(strcmp(slurp("mid.gz"), "a|b;1|x;2|y;a|b;") == 0,
	   "a member that starts inside a record is data: only a member's first record can repeat the header");
}

static void slurp_call(void *name)
{
	slurp(name);
}

/* Read name to the end in a child; its exit status, and what it printed in msg. */
static int slurp_dies(const char *name, char *msg, size_t cap)
{
	return child_run(slurp_call, (void *)name, msg, cap);
}

/* Is csv, read as the file name, refused with exit 3 and "name: want" in the message? */
static bool refused(const char *name, const char *csv, const char *want)
{
	char msg[512], line[256];

	write_file(name, csv, strlen(csv));
	snprintf(line, sizeof line, "%s: %s", name, want);
	return slurp_dies(name, msg, sizeof msg) == 3 && strstr(msg, line) != NULL;
}

/* One record of style i % 7 with its slurp form: lines the reader splits itself and lines libcsv takes. */
static void mixed_record(size_t i, struct bytebuf *csv, struct bytebuf *want)
{
	static const char *const styles[][2] = {
		{ "%zu,plain,x\n", "%zu|plain|x;" },
		{ "%zu,\"l1\nl2\",y\n", "%zu|l1\nl2|y;" },
		{ "%zu,\"c\r\nr\",\"q\"\"q\"\r\n", "%zu|c\r\nr|q\"q;" },
		{ "%zu,,\n", "%zu|<null>|<null>;" },
		{ "%zu,\"\",\"\"\n", "%zu||;" },
		{ "%zu, s ,\t\r\n", "%zu| s |\t;" },
		{ "\"%zu\",a b,\"\"\"\"\n", "%zu|a b|\";" },
	};
	char line[64];
	int n = snprintf(line, sizeof line, styles[i % 7][0], i);
	bytebuf_append(csv, line, (size_t)n);
	n = snprintf(line, sizeof line, styles[i % 7][1], i);
	bytebuf_append(want, line, (size_t)n);
}

/* The reader splits plain lines itself and hands libcsv the rest: both must read as libcsv alone did. */
static void test_fast_path(void)
{
	const char *mix = "a,b,c\n1,plain,x\n2,\"l1\nl2\",y\n3,\"cr\r\nlf\",\"q\"\"q\"\n4,,\n5,\"\",\n6, sp ,\t\n"
			  "7,crlf,z\r\n8,next,w\n,,\n\"9\",x,y";
	write_file("mix.csv", mix, strlen(mix));
	ok(strcmp(slurp("mix.csv"), "a|b|c;1|plain|x;2|l1\nl2|y;3|cr\r\nlf|q\"q;4|<null>|<null>;5||<null>;6| sp |\t;"
				    "7|crlf|z;8|next|w;<null>|<null>|<null>;9|x|y;") == 0,
	   "plain lines between quoted ones (LF, CRLF, quotes inside), trailing comma NULL, \"\" empty, spaces kept");

	const char *one = "v\n\nx\n\n\n\"\"\ny\r\n\nz\r\r\n";
	write_file("one2.csv", one, strlen(one));
	ok(strcmp(slurp("one2.csv"), "v;<null>;x;<null>;<null>;;y;<null>;z;<null>;") == 0,
	   "one column: empty lines are NULL, after LF and after CRLF; the LF of a CRLF is not a record");

	const char nul[] = "a,b\n1,x\0y\n";
	write_file("nul.csv", nul, sizeof nul - 1);
	struct stream_reader *r = stream_reader_open(path_of("nul.csv"));
	const struct csv_record *rec = stream_reader_next(r);
	ok(rec && rec->fields[1].len == 3 && memcmp(rec->fields[1].data, "x\0y", 4) == 0 && !stream_reader_next(r),
	   "a NUL byte is kept inside its field");
	stream_reader_close(r);

	/* Records cut between gzip members: inside a plain line, inside a quoted one, between CR and LF. */
	write_members("cut.gz", (const char *const[]){ "a,b\n1,x\n2,y", "z\n\"p\nq", "r\",s\n4,t\r", "\n5,u\n", NULL });
	ok(strcmp(slurp("cut.gz"), "a|b;1|x;2|yz;p\nqr|s;4|t;5|u;") == 0, "records cut across gzip members");

	/* Appended streams: a header after a quoted record, a quoted header, and a header not first in its member. */
	write_members("app.gz", (const char *const[]){ "a,b\n\"1\",\"x\"\n", "a,b\n2,y\n", "\"a\",b\n3,z\n", "4,w\na,b\n", NULL });
	ok(strcmp(slurp("app.gz"), "a|b;1|x;2|y;3|z;4|w;a|b;") == 0,
	   "an appended stream's header is dropped, plain or quoted; later in a member it is data");
	write_members("app1.gz", (const char *const[]){ "v\n1\n", "v\n\n2\n", "\nv\n", NULL });
	ok(strcmp(slurp("app1.gz"), "v;1;<null>;2;<null>;v;") == 0,
	   "one column appended: an empty line first in a member is a NULL, not a header");

	/* Many records of every style, across the reader's chunks: plain, one gzip member, pm's own members. */
	struct bytebuf csv = { 0 }, want = { 0 };
	bytebuf_puts(&csv, "id,t,u\n");
	bytebuf_puts(&want, "id|t|u;");
	for (size_t i = 1; csv.len < 3 * GZIP_MEMBER_MAX_SIZE; i++)
		mixed_record(i, &csv, &want);
	bytebuf_cstr(&want);
	write_file("many.csv", csv.data, csv.len);
	ok(strcmp(slurp("many.csv"), want.data) == 0, "plain CSV of %zu bytes: every record across read chunks", csv.len);
	write_gzip_member("many.gz", "wb1", bytebuf_cstr(&csv));
	ok(strcmp(slurp("many.gz"), want.data) == 0, "one gzip member: every record across inflated chunks");
	struct stream_writer *w = stream_writer_open(path_of("many.pm.gz"), 1);
	stream_writer_raw(w, csv.data, csv.len);
	stream_writer_close(w);
	ok(strcmp(slurp("many.pm.gz"), want.data) == 0, "pm's own members: every record across member boundaries");
	bytebuf_free(&csv);
	bytebuf_free(&want);

	/* A quote inside an unquoted field is still libcsv's error, with the record it is in. */
	ok(refused("bad.csv", "a,b\n1,x\n2,\"y\nz\"\n3,a\"b\n4,w\n",
		   "record 3: malformed CSV: a quote inside an unquoted field or after a closing quote\n"),
	   "a quote inside an unquoted field after a quoted line break: exit 3, record 3 named");
	ok(refused("badh.csv", "a,b\"\n1,x\n", "header: malformed CSV: a quote inside"),
	   "a quote inside an unquoted header field: the header named");
	ok(refused("badq.csv", "a,b\n1,x\n2,\"y\"z\n", "record 2: malformed CSV: a quote inside"),
	   "text after a closing quote: record 2 named");
	ok(refused("open.csv", "a,b\n1,x\n2,\"y\n3,z\n", "record 2: malformed CSV: unterminated quoted field"),
	   "a quoted field open at the end: record 2 named");
	ok(refused("count.csv", "a,b\n1,x\n2,y,\n", "record 2: 3 fields, the header has 2"),
	   "a trailing comma too many: record 2 has 3 fields");
}

static void test_writer(void)
{
	struct stream_writer *w = stream_writer_open(path_of("out.gz"), 1);
	struct csv_field h[] = { F("id"), F("v") };
	struct csv_field r1[] = { F("1"), NUL_FIELD };
	struct csv_field r2[] = { F("2"), F("") };
	stream_writer_record(w, h, 2);
	stream_writer_record(w, r1, 2);
	stream_writer_record(w, r2, 2);
	ok(access(path_of("out.gz"), F_OK) != 0, "no file under the final name before close");
	stream_writer_close(w);
	ok(strcmp(slurp("out.gz"), "id|v;1|<null>;2|;") == 0, "writer and reader agree");

	struct stat st;
	ok(stat(path_of("out.gz"), &st) == 0 && (st.st_mode & 0777) == 0600, "stream file mode is 0600");

	gzFile g = gzopen(path_of("out.gz"), "rb");
	char buf[64] = { 0 };
	gzread(g, buf, sizeof buf - 1);
	gzclose(g);
	ok(strcmp(buf, "id,v\n1,\n2,\"\"\n") == 0, "writer bytes: NULL bare, empty string quoted");
}

/* Members of pm's own: sizes that add up, the continuation flag, and a record equal to the header kept. */
static void test_members(void)
{
	struct stream_writer *w = stream_writer_open(path_of("members.gz"), 1);
	static char filler[GZIP_MEMBER_MAX_CSV];
	size_t records = 1;

	/* The header, then records up to exactly one member's worth of CSV, then a record equal to the header. */
	stream_writer_raw(w, "a,b\n", 4);
	memset(filler, 'x', sizeof filler);
	for (size_t at = 4; at + 8 <= sizeof filler; at += 8) { /* "xxxxx,x\n" */
		filler[at + 5] = ',';
		filler[at + 7] = '\n';
	}
	memcpy(filler + sizeof filler - 4, "x,x\n", 4); /* the 4 bytes left over: one short record */
	stream_writer_raw(w, filler + 4, sizeof filler - 4);
	records += (sizeof filler - 4) / 8 + 1;
	stream_writer_raw(w, "a,b\n", 4);
	for (int i = 0; i < 100000; i++)
		stream_writer_raw(w, "12345678,abcdefgh\n", 18);
	stream_writer_close(w);
	records += 1 + 100000;

	FILE *f = fopen(path_of("members.gz"), "rb");
	static unsigned char file[2 * 1024 * 1024];
	size_t size = fread(file, 1, sizeof file, f);
	fclose(f);
	size_t at = 0, members = 0, continuing = 0;
	struct gzip_member_info info;
	bool within = true;
	while (at < size && gzip_member_peek(file + at, size - at, &info) && info.size <= size - at) {
		members++;
		continuing += info.continues;
		within = within && gzip_get32(file + at + info.size - 4) <= GZIP_MEMBER_MAX_CSV;
		at += info.size;
	}
	ok(at == size && members >= 3 && continuing == members - 1,
	   "%zu members, each of pm's own, sizes adding up to the file; all but the first continue", members);
	ok(within, "no member holds more than %d bytes of CSV", GZIP_MEMBER_MAX_CSV);

	struct stream_reader *r = stream_reader_open(path_of("members.gz"));
	size_t n = 0, headers = 0;
	const struct csv_record *rec;
	while ((rec = stream_reader_next(r)) != NULL) {
		n++;
		headers += rec->nfields == 2 && strcmp(rec->fields[0].data, "a") == 0 && strcmp(rec->fields[1].data, "b") == 0;
	}
	stream_reader_close(r);
	ok(n == records - 1 && headers == 1,
	   "a record equal to the header at the start of a continuing member is data (%zu of %zu records)", n,
	   records - 1);

	/* zlib, as zcat would, reads the same bytes. */
	gzFile g = gzopen(path_of("members.gz"), "rb");
	static char csv[4 * 1024 * 1024];
	int got = gzread(g, csv, sizeof csv);
	gzclose(g);
	ok(got == (int)(4 + sizeof filler - 4 + 4 + 100000 * 18) && memcmp(csv + sizeof filler, "a,b\n1234", 8) == 0,
	   "zlib reads the members as one gzip stream");
}

static void test_split(void)
{
	struct bytebuf store = { 0 };
	struct csv_field *f;
	const char *why;
	int n = csv_split("id,\"a,b\", c ", &store, &f, &why);
	ok(n == 3 && strcmp(f[0].data, "id") == 0 && strcmp(f[1].data, "a,b") == 0 && strcmp(f[2].data, " c ") == 0,
	   "csv_split: quoted comma, spaces kept");
	n = csv_split("a,\"b", &store, &f, &why);
	ok(n == -1, "csv_split: unterminated quote is an error");
	n = csv_split("a,,b", &store, &f, &why);
	ok(n == 3 && f[1].null, "csv_split: an empty item is NULL");
	bytebuf_free(&store);
}

/* The look ahead sees the records queued after the next one, as they will come, and nothing past them. */
static void test_peek(void)
{
	const char *csv = "k,v\n10,a\n,b\n30,c\n";
	write_file("peek.csv", csv, strlen(csv));
	struct stream_reader *r = stream_reader_open(path_of("peek.csv"));
	const char *d = NULL;
	size_t len = 0;
	ok(stream_reader_peek_field(r, 0, 0, &d, &len) && len == 2 && memcmp(d, "10", 2) == 0,
	   "peek 0 ahead is the next record");
	ok(stream_reader_peek_field(r, 2, 1, &d, &len) && len == 1 && d[0] == 'c', "peek 2 ahead is the third record");
	ok(!stream_reader_peek_field(r, 1, 0, &d, &len), "a NULL field is not peeked");
	ok(!stream_reader_peek_field(r, 0, 2, &d, &len), "no field past the record's last");
	ok(!stream_reader_peek_field(r, 3, 0, &d, &len), "nothing past the records queued");
	const struct csv_record *rec = stream_reader_next(r);
	ok(rec && strcmp(rec->fields[0].data, "10") == 0 && stream_reader_peek_field(r, 1, 0, &d, &len) && len == 2 &&
		   memcmp(d, "30", 2) == 0,
	   "after a record is taken, peek 1 ahead is the one after the next");
	stream_reader_close(r);
}

int main(void)
{
	if (!fixture_dir_make())
		return 2;
	test_encode();
	test_encode_copy_text();
	test_reader();
	test_fast_path();
	test_peek();
	test_writer();
	test_members();
	test_split();
	fixture_dir_remove();
	bytebuf_free(&slurp_buf);
	return tap_done();
}
