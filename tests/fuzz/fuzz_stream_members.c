/*
 * fuzz_stream_members: the stream reader's gzip member logic, which fuzz_stream_reader
 * rarely reaches (a mutated member fails its CRC).  The input is CSV and a recipe for
 * cutting it into gzip members; the harness builds the stream file from them:
 *
 *   byte 0      cuts = bits 0-2; style = bits 3-4:
 *                 0  pm's own members (gzip_member.h), flags as pm's writer sets them, and
 *                    the empty last member: the records must be those of the plain CSV
 *                 1  plain gzip members, as `cat a.gz b.gz` makes: the same records, but
 *                    for a record equal to the header, which may start an appended stream
 *                 2  pm's own members with the flags of the recipe (bit 5: no last member)
 *                 3  each member pm's own or plain by the recipe, flags of the recipe
 *   3 bytes a cut: offset (16 bits, little-endian, modulo the CSV's length + 1), and
 *               flags: bit 0 continues, bit 1 more, bit 2 plain gzip (style 3)
 *   the rest    the CSV
 *
 * Every style may be refused (exit 3) but must not crash; styles 0 and 1 must agree with
 * the plain CSV read alone, refusing what it refuses.
 */
#include <libdeflate.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gzip_member.h"
#include "harness.h"
#include "pm_error.h"
#include "stream_reader.h"

static struct libdeflate_compressor *compressor;

struct read {
	const char *path;
	struct bytebuf records; /* header and records, encoded */
	size_t n;
	bool header_repeats; /* a record equals the header */
};

static void read_all(void *arg)
{
	struct read *rd = arg;
	struct stream_reader *r = stream_reader_open(rd->path);
	const struct csv_record *h = stream_reader_header(r), *rec;

	csv_record_encode(&rd->records, h->fields, h->nfields);
	while ((rec = stream_reader_next(r)) != NULL) {
		bool same = true;
		for (size_t i = 0; i < rec->nfields && same; i++)
			same = !rec->fields[i].null && rec->fields[i].len == h->fields[i].len &&
			       memcmp(rec->fields[i].data, h->fields[i].data, h->fields[i].len) == 0;
		rd->header_repeats |= same;
		csv_record_encode(&rd->records, rec->fields, rec->nfields);
		rd->n++;
	}
	stream_reader_close(r);
}

/* Read path; the status (-1: read whole), the records kept in rd. */
static int read_file(struct read *rd, const char *path)
{
	*rd = (struct read){ .path = path };
	int status = fuzz_call(read_all, rd);

	if (status != -1) {
		if (status != PM_EXIT_DATA)
			fuzz_fail("exit %d for a bad stream, not %d", status, PM_EXIT_DATA);
		rd->records = (struct bytebuf){ 0 }; /* given back with the rest of the abandoned call */
	}
	return status;
}

static void pm_member(struct bytebuf *out, const uint8_t *csv, size_t len, bool continues, bool more)
{
	size_t bound = libdeflate_deflate_compress_bound(compressor, len);

	bytebuf_reserve(out, GZIP_MEMBER_HEADER + bound + GZIP_MEMBER_TRAILER);
	unsigned char *m = (unsigned char *)out->data + out->len;
	size_t n = libdeflate_deflate_compress(compressor, csv, len, m + GZIP_MEMBER_HEADER, bound);
	if (n == 0)
		fuzz_fail("fuzz harness: deflate failed");
	uint32_t size = (uint32_t)(GZIP_MEMBER_HEADER + n + GZIP_MEMBER_TRAILER);
	gzip_member_header(m, size, continues, more);
	gzip_put32(m + GZIP_MEMBER_HEADER + n, libdeflate_crc32(0, csv, len));
	gzip_put32(m + GZIP_MEMBER_HEADER + n + 4, (uint32_t)len);
	out->len += size;
}

static void plain_member(struct bytebuf *out, const uint8_t *csv, size_t len)
{
	size_t bound = libdeflate_gzip_compress_bound(compressor, len);

	bytebuf_reserve(out, bound);
	size_t n = libdeflate_gzip_compress(compressor, csv, len, out->data + out->len, bound);
	if (n == 0)
		fuzz_fail("fuzz harness: gzip failed");
	out->len += n;
}

static int by_offset(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b; /* the offset is each cut's first member */

	return x < y ? -1 : x > y;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz_stream_members");
	compressor = libdeflate_alloc_compressor(1);
	if (!compressor)
		fuzz_fail("fuzz harness: no compressor");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t ncuts = data[0] & 7, style = (data[0] >> 3) & 3;
	bool last_member = !(style == 2 && (data[0] & 32));
	if (size < 1 + 3 * ncuts)
		return 0;
	const uint8_t *csv = data + 1 + 3 * ncuts;
	size_t len = size - 1 - 3 * ncuts;
	size_t cut[9];
	uint8_t flags[9];

	/* Cuts in order of offset; a cut's flags are those of the member it starts. */
	struct {
		size_t at;
		uint8_t flags;
	} cuts[8];
	for (size_t i = 0; i < ncuts; i++) {
		const uint8_t *c = data + 1 + 3 * i;
		cuts[i].at = ((size_t)c[0] | (size_t)c[1] << 8) % (len + 1);
		cuts[i].flags = c[2];
	}
	qsort(cuts, ncuts, sizeof cuts[0], by_offset);
	flags[0] = 2; /* the first member: more follow, continues nothing */
	for (size_t i = 0; i < ncuts; i++) {
		cut[i] = cuts[i].at;
		flags[i + 1] = cuts[i].flags;
	}
	cut[ncuts] = len;

	/* Member i holds csv[start, cut[i]). */
	struct bytebuf stream = { 0 };
	size_t start = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		const uint8_t *piece = csv + start;
		size_t n = cut[i] - start;
		switch (style) {
		case 0: pm_member(&stream, piece, n, i > 0, true); break;
		case 1: plain_member(&stream, piece, n); break;
		case 2: pm_member(&stream, piece, n, flags[i] & 1, flags[i] & 2); break;
		default:
			if (flags[i] & 4)
				plain_member(&stream, piece, n);
			else
				pm_member(&stream, piece, n, flags[i] & 1, flags[i] & 2);
		}
		start = cut[i];
	}
	if (style == 0 || (style == 2 && last_member))
		pm_member(&stream, (const uint8_t *)"", 0, true, false);

	struct read gz, plain;
	int status = read_file(&gz, fuzz_write("input", (const uint8_t *)stream.data, stream.len));
	bytebuf_free(&stream);
	/* The plain CSV alone, unless it starts as gzip would and is read as gzip. */
	if (style <= 1 && !(len >= 2 && csv[0] == 0x1f && csv[1] == 0x8b)) {
		int plain_status = read_file(&plain, fuzz_write("plain.csv", csv, len));
		bool comparable = style == 0 || (!plain.header_repeats && !gz.header_repeats);
		if (comparable && (status == -1) != (plain_status == -1))
			fuzz_fail("style %zu: the members are %s, the plain CSV %s", style, status == -1 ? "read" : "refused",
				  plain_status == -1 ? "read" : "refused");
		if (comparable && status == -1 &&
		    (gz.n != plain.n || gz.records.len != plain.records.len ||
		     memcmp(gz.records.data, plain.records.data, gz.records.len) != 0))
			fuzz_fail("style %zu: %zu records from the members, %zu from the plain CSV, or they differ", style,
				  gz.n, plain.n);
		bytebuf_free(&plain.records);
	}
	bytebuf_free(&gz.records);
	return 0;
}
