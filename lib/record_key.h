/*
 * record_key: the key columns of a record, and the one order pm-verify sorts and
 * merges in.  Per key column: NULL first, then values that are whole numbers in
 * numeric order, then every other value in byte order.  Any two texts compare, so
 * streams sorted here merge exactly; texts that read as the same int8 (007, +7 and 7)
 * compare equal, which for integer columns is what they are.  For integer columns it
 * is PostgreSQL's own "ORDER BY col NULLS FIRST", so the server can sort for us.
 */
#ifndef PM_RECORD_KEY_H
#define PM_RECORD_KEY_H

#include <stddef.h>

#include "csv_record.h"

struct record_key {
	size_t n;
	size_t *fields; /* the key columns' places in the record */
};

/* <0, 0, >0: record a (keyed by ka) against record b (keyed by kb). */
int record_key_compare(const struct record_key *ka, const struct csv_field *a, const struct record_key *kb,
		       const struct csv_field *b);

#endif
