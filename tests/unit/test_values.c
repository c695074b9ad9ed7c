/* Unit tests of value_check: PostgreSQL's input rules, UTF-8, and the site's IP-or-URL rule. */
#include <string.h>

#include "tap.h"
#include "value_check.h"

static const char *check(const char *type, const char *value, char *out, size_t size)
{
	static struct bytebuf b;
	struct value_type_spec spec;

	if (!value_type_parse(type, &spec))
		return "bad type";
	b.len = 0;
	const char *why = value_check(&spec, value, strlen(value), &b);
	snprintf(out, size, "%s", why ? "" : bytebuf_cstr(&b));
	return why;
}

int main(void)
{
	static const struct {
		const char *type, *in, *out; /* out NULL: rejected */
	} cases[] = {
		{ "integer", "2147483647", "2147483647" }, { "integer", "-2147483648", "-2147483648" },
		{ "integer", "2147483648", NULL },          { "integer", " 0042\t", "42" },
		{ "integer", "4 2", NULL },                 { "integer", "", NULL },
		{ "integer", "-", NULL },                   { "integer", "1e3", NULL },
		{ "smallint", "-32768", "-32768" },         { "smallint", "32768", NULL },
		{ "bigint", "-9223372036854775808", "-9223372036854775808" },
		{ "bigint", "9223372036854775808", NULL },  { "boolean", "TRUE", "t" },
		{ "boolean", " off ", "f" },                { "boolean", "2", NULL },
		{ "varchar(2)", "\xc3\xa9\xc3\xa9", "\xc3\xa9\xc3\xa9" }, { "varchar(2)", "abc", NULL },
		{ "text", "\xc0\xaf", NULL },               /* overlong */
		{ "text", "\xed\xa0\x80", NULL },           /* a surrogate */
		{ "text", "\xf4\x90\x80\x80", NULL },       /* past U+10FFFF */
		{ "text", "\xe2\x82", NULL },               /* cut short */
		{ "text", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
	};
	char out[64];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *why = check(cases[i].type, cases[i].in, out, sizeof out);
		if (cases[i].out)
			ok(!why && strcmp(out, cases[i].out) == 0, "%s accepts case %zu as \"%s\"", cases[i].type, i, cases[i].out);
		else
			ok(why != NULL, "%s rejects case %zu", cases[i].type, i);
	}

	static const struct {
		const char *value;
		bool ok;
	} ips[] = {
		{ "10.0.0.1", true },          { "::1", true },          { "::ffff:10.0.0.1", true },
		{ "fe80::1%eth0", true },      { "http://farm.local:5000", true },
		{ "https://user:pw@h/x?y", true }, { "http://[2001:db8::1]:80/", true },
		{ "10.0.0.256", false },       { "localhost", false },   { "", false },
		{ " 10.0.0.1", false },        { "http://", false },     { "ftp:/x", false },
		{ "http://h:123456", false },  { "http://[zz]/", false },
	};
	for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++)
		ok(value_is_ip_or_url(ips[i].value, strlen(ips[i].value)) == ips[i].ok, "ip-or-url: \"%s\" is %s",
		   ips[i].value, ips[i].ok ? "accepted" : "refused");
	static const long long ints[] = { 0, 7, -7, 9223372036854775807LL, -9223372036854775807LL - 1 };
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		char a[24], b[24];
		size_t n = value_format_int64(a, ints[i]);
		a[n] = '\0';
		snprintf(b, sizeof b, "%lld", ints[i]);
		ok(strcmp(a, b) == 0, "value_format_int64 writes %s", b);
	}
	return tap_done();
}
