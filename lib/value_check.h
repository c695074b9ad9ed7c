/*
 * value_check: a value checked and normalised the way PostgreSQL's own input
 * functions would take it, before the database sees it.  Each check returns NULL
 * when the value passes (with the normalised form in out) or a reason.
 */
#ifndef PM_VALUE_CHECK_H
#define PM_VALUE_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "bytebuf.h"

enum value_type { TYPE_SMALLINT, TYPE_INTEGER, TYPE_BIGINT, TYPE_BOOLEAN, TYPE_TEXT, TYPE_VARCHAR };

struct value_type_spec {
	enum value_type type;
	long long max_chars; /* varchar(n): n */
};

/* Parse "integer", "varchar(255)" ...; false when it is no type pm knows. */
bool value_type_parse(const char *word, struct value_type_spec *spec);

/* The type as a mapping file spells it ("varchar(255)"): a static name, or written into buf. */
const char *value_type_format(const struct value_type_spec *spec, char *buf, size_t size);

/*
 * Check data[0..len) as spec; on success the normalised value (integers without
 * spaces, sign or leading zeros; booleans as t or f; text as it is) is in out.
 */
const char *value_check(const struct value_type_spec *spec, const char *data, size_t len, struct bytebuf *out);

/* An integer type's check that gives the value itself in *v rather than its text. */
const char *value_check_integer(const struct value_type_spec *spec, const char *data, size_t len, long long *v);

/* NULL when v fits the integer type spec, else the reason. */
const char *value_integer_in_range(const struct value_type_spec *spec, long long v);

/* Parse a whole signed 64-bit integer as PostgreSQL's int8 input does; false otherwise. */
bool value_parse_int64(const char *data, size_t len, long long *v);

/* Write v in plain decimal into buf (at least 21 bytes, no NUL); returns the length. */
size_t value_format_int64(char *buf, long long v);

/* The site's rule for ip_address: an IPv4 or IPv6 address, or a URL with a scheme and a host. */
bool value_is_ip_or_url(const char *data, size_t len);

#endif
