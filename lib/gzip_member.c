#include <string.h>

#include "gzip_member.h"

#define FLAG_CONTINUES 1u
#define FLAG_MORE 2u

void gzip_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

uint32_t gzip_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * ID1 ID2 CM=deflate FLG=FEXTRA, MTIME 0 (the same input gives the same bytes),
 * XFL 0, OS 3 (Unix), XLEN 12; subfield 'P' 'M', LEN 8: size, flags.
 */
static const unsigned char fixed[14] = { 0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 12, 0, 'P', 'M' };

void gzip_member_header(unsigned char *out, uint32_t size, bool continues, bool more)
{
	memcpy(out, fixed, sizeof fixed);
	out[14] = 8;
	out[15] = 0;
	gzip_put32(out + 16, size);
	gzip_put32(out + 20, (continues ? FLAG_CONTINUES : 0) | (more ? FLAG_MORE : 0));
}

bool gzip_member_peek(const unsigned char *p, size_t n, struct gzip_member_info *info)
{
	/* MTIME, XFL and OS vary between writers and say nothing about the layout. */
	if (n < GZIP_MEMBER_HEADER || memcmp(p, fixed, 4) != 0 || memcmp(p + 10, fixed + 10, 4) != 0 || p[14] != 8 ||
	    p[15] != 0)
		return false;
	info->size = gzip_get32(p + 16);
	info->continues = (gzip_get32(p + 20) & FLAG_CONTINUES) != 0;
	info->more = (gzip_get32(p + 20) & FLAG_MORE) != 0;
	return true;
}
