#include <string.h>

#include "record_key.h"
#include "value_check.h"

static int compare_value(const struct csv_field *a, const struct csv_field *b)
{
	long long x, y;

	if (a->null || b->null)
		return (int)b->null - (int)a->null;
	bool ai = value_parse_int64(a->data, a->len, &x), bi = value_parse_int64(b->data, b->len, &y);
	if (ai && bi)
		return (x > y) - (x < y);
	if (ai != bi)
		return ai ? -1 : 1;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->data, b->data, n);
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

int record_key_compare(const struct record_key *ka, const struct csv_field *a, const struct record_key *kb,
		       const struct csv_field *b)
{
	for (size_t i = 0; i < ka->n; i++) {
		int c = compare_value(&a[ka->fields[i]], &b[kb->fields[i]]);
		if (c)
			return c;
	}
	return 0;
}
