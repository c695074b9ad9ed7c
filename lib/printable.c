#include <stdbool.h>

#include "printable.h"

/* The length of the valid UTF-8 sequence at s (of n bytes left) that may be shown; 0 to escape its first byte. */
static size_t shown_sequence(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned min;
	unsigned cp;

	if (c >= 0x20 && c < 0x7f)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, min = 0x80, cp = c & 0x1fu;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, min = 0x800, cp = c & 0x0fu;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, min = 0x10000, cp = c & 0x07u;
	} else {
		return 0; /* a control, DEL, a continuation byte or a byte UTF-8 never uses */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	bool surrogate = cp >= 0xd800 && cp <= 0xdfff;
	bool c1_control = cp >= 0x80 && cp <= 0x9f;
	if (cp < min || cp > 0x10ffff || surrogate || c1_control || cp == 0xfeff)
		return 0;
	return len;
}

size_t printable_escape(char *out, const char *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		size_t n = shown_sequence(s + i, len - i);
		if (n == 0) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[s[i] >> 4];
			out[o++] = hex[s[i] & 0xf];
			i++;
			continue;
		}
		for (size_t k = 0; k < n; k++)
			out[o++] = (char)s[i++];
	}
	out[o] = '\0';
	return o;
}
