/* Unit tests of record_key: NULL first, then whole numbers in numeric order, then bytes; a total order. */
#include <string.h>

#include "record_key.h"
#include "tap.h"

static struct csv_field F(const char *s)
{
	return (struct csv_field){ s, strlen(s), false };
}

static const struct csv_field NUL_FIELD = { NULL, 0, true };

static size_t first[1] = { 0 };
static const struct record_key ONE = { 1, first };

static int sign(int c)
{
	return (c > 0) - (c < 0);
}

static int cmp1(struct csv_field a, struct csv_field b)
{
	return sign(record_key_compare(&ONE, &a, &ONE, &b));
}

int main(void)
{
	/* In the order the header states, each strictly before the next. */
	static const char *const order[] = {
		NULL, /* NULL */
		"-9223372036854775808", "-10", "-2", "0", "2", "10", "9223372036854775807",
		"", /* the empty string: text, not a number, not NULL */
		"+", "-", "-9223372036854775809", "1.5", "10a", "1e3", "9223372036854775808", "A", "a", "ab", "abc", "b",
		"\xc3\xa9", /* bytes compare unsigned: past every ASCII letter */
	};
	size_t n = sizeof order / sizeof order[0];
	struct csv_field f[sizeof order / sizeof order[0]];
	for (size_t i = 0; i < n; i++)
		f[i] = order[i] ? F(order[i]) : NUL_FIELD;

	bool adjacent = true;
	for (size_t i = 0; i + 1 < n; i++)
		if (cmp1(f[i], f[i + 1]) != -1) {
			adjacent = false;
			printf("# \"%s\" is not before \"%s\"\n", order[i] ? order[i] : "NULL", order[i + 1] ? order[i + 1] : "NULL");
		}
	ok(adjacent, "each of %zu values sorts before the next", n);

	bool all = true;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int want = (i > j) - (i < j);
			all = all && cmp1(f[i], f[j]) == want;
		}
	ok(all, "every pair compares as its places (antisymmetric, reflexive, transitive)");

	ok(cmp1(NUL_FIELD, NUL_FIELD) == 0, "NULL equals NULL");
	ok(cmp1(NUL_FIELD, F("")) == -1 && cmp1(F(""), NUL_FIELD) == 1, "NULL before the empty string");
	ok(cmp1(NUL_FIELD, F("-9223372036854775808")) == -1, "NULL before the smallest number");
	ok(cmp1(F("9"), F("10")) == -1, "9 before 10: numbers, not bytes");
	ok(cmp1(F("9"), F("10x")) == -1, "9 before 10x: numbers before text");
	ok(cmp1(F("-1"), F("0")) == -1, "-1 before 0");
	/* Whole numbers are compared as PostgreSQL's int8 input reads them. */
	ok(cmp1(F("007"), F("7")) == 0 && cmp1(F(" 7 "), F("7")) == 0 && cmp1(F("+7"), F("7")) == 0,
	   "007, \" 7 \" and +7 are the number 7");
	ok(cmp1(F("-0"), F("0")) == 0, "-0 is 0");
	/* len, not the NUL, bounds a value. */
	struct csv_field ab = { "abc", 2, false };
	ok(cmp1(ab, F("ab")) == 0 && cmp1(ab, F("abc")) == -1, "a value's len bounds it");
	struct csv_field twelve = { "123", 2, false };
	ok(cmp1(twelve, F("12")) == 0 && cmp1(twelve, F("13")) == -1, "a number's len bounds it");

	/* Several key columns: the first that differs decides; records may hold the key in different places. */
	size_t pa[2] = { 2, 0 }, pb[2] = { 0, 1 };
	struct record_key ka = { 2, pa }, kb = { 2, pb };
	struct csv_field ra[3] = { F("x"), F("ignored"), F("5") };
	struct csv_field rb[2] = { F("5"), F("x") };
	ok(record_key_compare(&ka, ra, &kb, rb) == 0, "keys in different places compare equal");
	rb[1] = F("y");
	ok(sign(record_key_compare(&ka, ra, &kb, rb)) == -1 && sign(record_key_compare(&kb, rb, &ka, ra)) == 1,
	   "the second key column decides when the first ties");
	rb[0] = F("4");
	ok(sign(record_key_compare(&ka, ra, &kb, rb)) == 1, "the first key column decides before the second");
	rb[0] = NUL_FIELD;
	ok(sign(record_key_compare(&ka, ra, &kb, rb)) == 1, "a NULL first column sorts first whatever follows");
	ra[1] = F("different");
	rb[0] = F("5");
	rb[1] = F("x");
	ok(record_key_compare(&ka, ra, &kb, rb) == 0, "columns outside the key do not count");
	struct record_key none = { 0, NULL };
	ok(record_key_compare(&none, ra, &none, rb) == 0, "no key columns: every record ties");
	return tap_done();
}
