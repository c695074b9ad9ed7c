#include <errno.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "gzip_member.h"
#include "pm_error.h"
#include "stream_input.h"

/* Both hold a whole member of pm's own (gzip_member.h): raw its deflate data, out its CSV. */
#define RAW_CAP GZIP_MEMBER_MAX_SIZE
#define OUT_CAP GZIP_MEMBER_MAX_SIZE

/* The raw bytes read and not yet used, gzip or plain CSV, at the front of buf or after some used. */
struct raw_cursor {
	unsigned char *next;
	size_t avail;
};

struct stream_input {
	const char *name;
	int fd;
	unsigned char *raw; /* bytes as read */
	struct raw_cursor cur;
	bool raw_eof;
	char error[160];

	bool gzip;
	unsigned char *out; /* inflated CSV */
	bool in_member;     /* zlib is inflating a member */
	z_stream z;         /* zlib's state; its next_in and avail_in are lent cur for each call */
	struct libdeflate_decompressor *fast;
	unsigned long long members; /* ended so far */
	bool more_due;              /* the last member was pm's own and said that more follow */
};

/* Read more raw input after the keep bytes at the front of raw; false at the end of input. */
static bool read_raw(struct stream_input *in, size_t keep)
{
	ssize_t n;

	do
		n = read(in->fd, in->raw + keep, RAW_CAP - keep);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		pm_die(PM_EXIT_IO, "%s: read error: %s", in->name, strerror(errno));
	in->cur.next = in->raw;
	in->cur.avail = keep + (size_t)n;
	if (n == 0)
		in->raw_eof = true;
	return n > 0;
}

/* Have at least want raw bytes (want <= RAW_CAP) unread, unless the input ends first; returns how many. */
static size_t ensure_raw(struct stream_input *in, size_t want)
{
	if (in->cur.avail < want) {
		memmove(in->raw, in->cur.next, in->cur.avail);
		in->cur.next = in->raw;
		while (in->cur.avail < want && !in->raw_eof)
			read_raw(in, in->cur.avail);
	}
	return in->cur.avail;
}

static enum stream_input_result bad(struct stream_input *in, const char *what)
{
	snprintf(in->error, sizeof in->error, "%s", what);
	return STREAM_INPUT_BAD;
}

static enum stream_input_result corrupt(struct stream_input *in, const char *why)
{
	snprintf(in->error, sizeof in->error, "corrupt gzip data (%s)", why);
	return STREAM_INPUT_BAD;
}

/* Inflate into out, stopping at the end of a member. */
static enum stream_input_result inflate_some(struct stream_input *in, struct stream_piece *piece)
{
	in->z.next_out = in->out;
	in->z.avail_out = OUT_CAP;
	while (in->z.avail_out > 0) {
		if (in->cur.avail == 0 && !in->raw_eof)
			read_raw(in, 0);
		if (in->cur.avail == 0)
			return bad(in, "truncated stream (unexpected end of gzip data)");
		in->z.next_in = in->cur.next;
		in->z.avail_in = (uInt)in->cur.avail;
		int rc = inflate(&in->z, Z_NO_FLUSH);
		in->cur.next = in->z.next_in;
		in->cur.avail = in->z.avail_in;
		if (rc == Z_STREAM_END) {
			in->in_member = false;
			in->members++;
			piece->member_ended = true;
			break;
		}
		if (rc == Z_DATA_ERROR)
			return corrupt(in, in->z.msg ? in->z.msg : "bad data");
		if (rc == Z_MEM_ERROR)
			pm_die(PM_EXIT_IO, "out of memory (gzip)");
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return bad(in, "corrupt gzip data");
	}
	piece->data = in->out;
	piece->len = OUT_CAP - in->z.avail_out;
	return STREAM_INPUT_BYTES;
}

/* Inflate a whole member of pm's own, size bytes, all unread in raw, into out. */
static enum stream_input_result inflate_member(struct stream_input *in, uint32_t size, struct stream_piece *piece)
{
	const unsigned char *m = in->cur.next;
	uint32_t crc = gzip_get32(m + size - 8), isize = gzip_get32(m + size - 4);
	size_t deflated = size - GZIP_MEMBER_HEADER - GZIP_MEMBER_TRAILER, used;

	/* Given the exact size, libdeflate fails on data that inflates to more or to less. */
	enum libdeflate_result rc =
		libdeflate_deflate_decompress_ex(in->fast, m + GZIP_MEMBER_HEADER, deflated, in->out, isize, &used, NULL);
	if (rc != LIBDEFLATE_SUCCESS)
		return corrupt(in, rc == LIBDEFLATE_BAD_DATA ? "invalid deflate data" : "wrong length");
	if (used != deflated)
		return corrupt(in, "member size does not match its data");
	if (libdeflate_crc32(0, in->out, isize) != crc)
		return corrupt(in, "incorrect data check");
	in->cur.next += size;
	in->cur.avail -= size;
	in->members++;
	piece->data = in->out;
	piece->len = isize;
	piece->member_ended = true;
	return STREAM_INPUT_BYTES;
}

/* The next CSV bytes of a gzip stream: from the member being inflated, or a new member begun. */
static enum stream_input_result gzip_next(struct stream_input *in, struct stream_piece *piece)
{
	struct gzip_member_info info;

	if (in->in_member)
		return inflate_some(in, piece);
	size_t n = ensure_raw(in, GZIP_MEMBER_HEADER);
	if (n == 0 && in->more_due)
		return bad(in, "truncated stream (it ends before its last gzip member)");
	if (n == 0)
		return STREAM_INPUT_END;
	if (n < 2 || in->cur.next[0] != 0x1f || in->cur.next[1] != 0x8b)
		return bad(in, "junk after the end of the gzip data");
	bool ours = gzip_member_peek(in->cur.next, n, &info);
	if (in->more_due && !(ours && info.continues))
		return bad(in, "truncated stream (another stream follows before its last gzip member)");
	in->more_due = ours && info.more;
	piece->begins_member = true;
	piece->may_start_stream = in->members > 0 && !(ours && info.continues);
	if (ours && info.size >= GZIP_MEMBER_HEADER + GZIP_MEMBER_TRAILER && info.size <= RAW_CAP) {
		if (ensure_raw(in, info.size) < info.size)
			return bad(in, "truncated stream (unexpected end of gzip data)");
		/* Larger members than pm writes take zlib's path, as members of other writers do. */
		if (gzip_get32(in->cur.next + info.size - 4) <= OUT_CAP)
			return inflate_member(in, info.size, piece);
	}
	if (inflateReset(&in->z) != Z_OK)
		pm_die(PM_EXIT_IO, "%s: cannot reset the gzip reader", in->name);
	in->in_member = true;
	return inflate_some(in, piece);
}

enum stream_input_result stream_input_next(struct stream_input *in, struct stream_piece *piece)
{
	*piece = (struct stream_piece){ 0 };
	if (in->gzip)
		return gzip_next(in, piece);
	if (in->cur.avail == 0 && !in->raw_eof)
		read_raw(in, 0);
	if (in->cur.avail == 0)
		return STREAM_INPUT_END;
	/* Plain CSV: the raw bytes themselves, all of them at once. */
	piece->data = in->cur.next;
	piece->len = in->cur.avail;
	in->cur.avail = 0;
	return STREAM_INPUT_BYTES;
}

const char *stream_input_error(const struct stream_input *in)
{
	return in->error;
}

struct stream_input *stream_input_open(int fd, const char *name)
{
	struct stream_input *in = pm_malloc(sizeof *in);

	memset(in, 0, sizeof *in);
	in->name = name;
	in->fd = fd;
	in->raw = pm_malloc(RAW_CAP);
	in->cur.next = in->raw;
	/* gzip if it starts with gzip's magic bytes; anything else is read as plain CSV. */
	while (in->cur.avail < 2 && !in->raw_eof)
		read_raw(in, in->cur.avail);
	in->gzip = in->cur.avail >= 2 && in->raw[0] == 0x1f && in->raw[1] == 0x8b;
	if (in->gzip && (inflateInit2(&in->z, 15 + 16) != Z_OK || !(in->fast = libdeflate_alloc_decompressor())))
		pm_die(PM_EXIT_IO, "%s: cannot start the gzip reader", name);
	if (in->gzip)
		in->out = pm_malloc(OUT_CAP);
	return in;
}

void stream_input_close(struct stream_input *in)
{
	if (close(in->fd) != 0)
		pm_die(PM_EXIT_IO, "%s: close failed: %s", in->name, strerror(errno));
	if (in->gzip) {
		inflateEnd(&in->z);
		libdeflate_free_decompressor(in->fast);
	}
	free(in->raw);
	free(in->out);
	free(in);
}
