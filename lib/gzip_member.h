/*
 * gzip_member: the gzip members pm writes.  A stream is a series of gzip members
 * (RFC 1952), each holding at most GZIP_MEMBER_MAX_CSV bytes of CSV, cut anywhere.
 * Each carries an extra field, subfield "PM", with the member's whole size and two
 * flags.  The size lets a reader take a member whole and inflate it in one call
 * (libdeflate, far faster than zlib's streaming inflate).  "continues" tells a
 * member that starts an appended stream from one that merely goes on with the CSV;
 * "more" says that the stream goes on after this member, so a stream cut between
 * two members (a writer killed mid-way) is still seen as truncated: every stream
 * ends with a member, empty after the first, that says no more.  Any gzip reader
 * reads these streams as it reads `gzip` output; pm reads any gzip stream, with
 * the fast path and the end check for its own.
 */
#ifndef PM_GZIP_MEMBER_H
#define PM_GZIP_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GZIP_MEMBER_HEADER 24 /* 10 bytes, XLEN, and the 12-byte "PM" subfield */
#define GZIP_MEMBER_TRAILER 8 /* CRC-32 and ISIZE */
#define GZIP_MEMBER_MAX_CSV (256 * 1024)
/* A reader takes the fast path only for members within these sizes. */
#define GZIP_MEMBER_MAX_SIZE (512 * 1024)

struct gzip_member_info {
	uint32_t size;  /* header, deflate data and trailer */
	bool continues; /* the CSV goes on from the member before, mid-record or not */
	bool more;      /* the stream goes on in the member after this one */
};

/* Write the header of a member of size bytes in all into out (GZIP_MEMBER_HEADER bytes). */
void gzip_member_header(unsigned char *out, uint32_t size, bool continues, bool more);

/* Is p (n bytes) the start of a pm member?  Then its info. */
bool gzip_member_peek(const unsigned char *p, size_t n, struct gzip_member_info *info);

/* Little-endian 32-bit fields, as gzip stores them. */
void gzip_put32(unsigned char *p, uint32_t v);
uint32_t gzip_get32(const unsigned char *p);

#endif
