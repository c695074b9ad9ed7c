/* Unit tests of printable: controls and invalid UTF-8 escaped, valid UTF-8 kept. */
#include <string.h>

#include "printable.h"
#include "tap.h"

int main(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ "plain name", 10, "plain name" },
		{ "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x96\xa8", 14, "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x96\xa8" },
		{ "\x1b[2J\r\n\t\x7f", 8, "\\x1b[2J\\x0d\\x0a\\x09\\x7f" },
		{ "\xff\xfe", 2, "\\xff\\xfe" },
		{ "\xc3", 1, "\\xc3" },               /* cut short */
		{ "\xc0\xaf", 2, "\\xc0\\xaf" },      /* overlong */
		{ "\xed\xa0\x80", 3, "\\xed\\xa0\\x80" }, /* a surrogate */
		{ "\xc2\x9b", 2, "\\xc2\\x9b" },      /* C1 CSI */
		{ "\xef\xbb\xbfid", 5, "\\xef\\xbb\\xbfid" },
		{ "a\0b", 3, "a\\x00b" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[PRINTABLE_SIZE(16)];
		size_t n = printable_escape(out, cases[i].in, cases[i].len);
		ok(n == strlen(cases[i].out) && strcmp(out, cases[i].out) == 0, "case %zu -> %s", i + 1, out);
	}
	return tap_done();
}
