#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "value_check.h"

static const struct {
	const char *name;
	enum value_type type;
} type_names[] = { { "smallint", TYPE_SMALLINT }, { "integer", TYPE_INTEGER }, { "bigint", TYPE_BIGINT },
		   { "boolean", TYPE_BOOLEAN }, { "text", TYPE_TEXT } };

bool value_type_parse(const char *word, struct value_type_spec *spec)
{
	const struct value_type_spec none = { 0 };
	char *end;

	*spec = none;
	for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
		if (strcmp(word, type_names[i].name) == 0) {
			spec->type = type_names[i].type;
			return true;
		}
	}
	if (strncmp(word, "varchar(", 8) != 0 || !isdigit((unsigned char)word[8]))
		return false;
	spec->type = TYPE_VARCHAR;
	spec->max_chars = strtoll(word + 8, &end, 10);
	return strcmp(end, ")") == 0 && spec->max_chars >= 1 && spec->max_chars <= 10485760;
}

const char *value_type_format(const struct value_type_spec *spec, char *buf, size_t size)
{
	if (spec->type == TYPE_VARCHAR) {
		snprintf(buf, size, "varchar(%lld)", spec->max_chars);
		return buf;
	}
	for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (type_names[i].type == spec->type)
			return type_names[i].name;
	return "?";
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool value_parse_int64(const char *data, size_t len, long long *v)
{
	size_t i = 0, end = len;
	bool negative = false;
	unsigned long long acc = 0, limit;

	while (i < end && is_space(data[i]))
		i++;
	while (end > i && is_space(data[end - 1]))
		end--;
	if (i < end && (data[i] == '+' || data[i] == '-'))
		negative = data[i++] == '-';
	if (i == end)
		return false;
	limit = negative ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (; i < end; i++) {
		if (data[i] < '0' || data[i] > '9')
			return false;
		unsigned d = (unsigned)(data[i] - '0');
		if (acc > (limit - d) / 10)
			return false;
		acc = acc * 10 + d;
	}
	*v = negative ? (long long)(0 - acc) : (long long)acc;
	return true;
}

size_t value_format_int64(char *buf, long long v)
{
	char tmp[20];
	size_t n = 0, len = 0;
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;

	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		buf[len++] = '-';
	while (n > 0)
		buf[len++] = tmp[--n];
	return len;
}

const char *value_integer_in_range(const struct value_type_spec *spec, long long v)
{
	static const long long max[] = { [TYPE_SMALLINT] = 32767, [TYPE_INTEGER] = 2147483647,
					 [TYPE_BIGINT] = LLONG_MAX };

	if (v > max[spec->type] || v < -max[spec->type] - 1)
		return spec->type == TYPE_SMALLINT ? "out of range for smallint"
		       : spec->type == TYPE_INTEGER ? "out of range for integer" : "out of range for bigint";
	return NULL;
}

const char *value_check_integer(const struct value_type_spec *spec, const char *data, size_t len, long long *v)
{
	if (!value_parse_int64(data, len, v)) {
		/* Digits that do not fit are a range error, as PostgreSQL says it. */
		size_t i = 0, end = len;
		while (i < end && is_space(data[i]))
			i++;
		while (end > i && is_space(data[end - 1]))
			end--;
		if (i < end && (data[i] == '+' || data[i] == '-'))
			i++;
		size_t first = i;
		while (i < end && data[i] >= '0' && data[i] <= '9')
			i++;
		if (i == end && i > first)
			return spec->type == TYPE_BIGINT ? "out of range for bigint"
			       : spec->type == TYPE_SMALLINT ? "out of range for smallint" : "out of range for integer";
		return "not a whole number";
	}
	return value_integer_in_range(spec, *v);
}

static const char *check_integer(const struct value_type_spec *spec, const char *data, size_t len,
				 struct bytebuf *out)
{
	long long v;
	char buf[24];
	const char *reason = value_check_integer(spec, data, len, &v);

	if (!reason)
		bytebuf_append(out, buf, value_format_int64(buf, v));
	return reason;
}

/* PostgreSQL's spellings, any case, spaces around allowed; the issue's list and on/off among them. */
static const char *check_boolean(const char *data, size_t len, struct bytebuf *out)
{
	static const struct {
		const char *word;
		char value;
	} words[] = { { "t", 't' },     { "true", 't' }, { "y", 't' },   { "yes", 't' }, { "on", 't' },
		      { "1", 't' },     { "f", 'f' },    { "false", 'f' }, { "n", 'f' }, { "no", 'f' },
		      { "off", 'f' },   { "0", 'f' } };
	size_t i = 0, end = len;

	/* PostgreSQL's own output, by far the most common input. */
	if (len == 1 && (data[0] == 't' || data[0] == 'f')) {
		bytebuf_putc(out, data[0]);
		return NULL;
	}
	while (i < end && is_space(data[i]))
		i++;
	while (end > i && is_space(data[end - 1]))
		end--;
	for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
		if (strlen(words[w].word) == end - i && strncasecmp(data + i, words[w].word, end - i) == 0) {
			bytebuf_putc(out, words[w].value);
			return NULL;
		}
	}
	return "not a boolean";
}

/* Characters of valid UTF-8 (no NUL, no surrogates, no overlong forms), or -1. */
static long long utf8_chars(const unsigned char *s, size_t len)
{
	long long n = 0;

	for (size_t i = 0; i < len; n++) {
		unsigned char c = s[i];
		size_t k;
		unsigned cp;
		if (c == 0)
			return -1;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return -1;
		if (len - i <= k) /* the sequence runs past the end */
			return -1;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return -1;
		i += k + 1;
	}
	return n;
}

const char *value_check(const struct value_type_spec *spec, const char *data, size_t len, struct bytebuf *out)
{
	switch (spec->type) {
	case TYPE_SMALLINT:
	case TYPE_INTEGER:
	case TYPE_BIGINT:
		return check_integer(spec, data, len, out);
	case TYPE_BOOLEAN:
		return check_boolean(data, len, out);
	case TYPE_TEXT:
	case TYPE_VARCHAR: {
		long long n = utf8_chars((const unsigned char *)data, len);
		if (n < 0)
			return "invalid UTF-8";
		if (spec->type == TYPE_VARCHAR && n > spec->max_chars)
			return "too long";
		bytebuf_append(out, data, len);
		return NULL;
	}
	}
	return "unknown type";
}

static bool is_host_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' || (unsigned char)c >= 0x80;
}

bool value_is_ip_or_url(const char *data, size_t len)
{
	char buf[512];
	unsigned char addr[16];

	if (len == 0 || len >= sizeof buf || memchr(data, '\0', len))
		return false;
	memcpy(buf, data, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1)
		return true;
	/* An IPv6 address with a zone (fe80::1%eth0), as Python's ipaddress takes it. */
	char *zone = strchr(buf, '%');
	if (zone && zone[1] && strspn(zone + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
				  strlen(zone + 1)) {
		*zone = '\0';
		bool ok = inet_pton(AF_INET6, buf, addr) == 1;
		*zone = '%';
		if (ok)
			return true;
	}
	/* scheme "://" [userinfo "@"] host [":" port] [path]; host a name or [IPv6] */
	const char *p = buf;
	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (strncmp(p, "://", 3) != 0)
		return false;
	p += 3;
	const char *at = strpbrk(p, "@/?#");
	if (at && *at == '@')
		p = at + 1;
	if (*p == '[') {
		const char *close = strchr(p, ']');
		char v6[64];
		if (!close || (size_t)(close - p - 1) >= sizeof v6)
			return false;
		memcpy(v6, p + 1, (size_t)(close - p - 1));
		v6[close - p - 1] = '\0';
		if (inet_pton(AF_INET6, v6, addr) != 1)
			return false;
		p = close + 1;
	} else {
		const char *host = p;
		while (is_host_char(*p))
			p++;
		if (p == host)
			return false;
	}
	if (*p == ':') {
		const char *port = ++p;
		while (isdigit((unsigned char)*p))
			p++;
		if (p == port || p - port > 5 || atoi(port) > 65535)
			return false;
	}
	return *p == '\0' || *p == '/' || *p == '?' || *p == '#';
}
