/*
 * first_repeat: the one rule that names the record breaking a unique key: the first
 * row, in load order, whose key columns repeat an earlier row's (a NULL among them
 * repeats nothing, as in a unique index), or that meets a condition of the caller's
 * (it collides with a row of another relation).  Used where a statement over many
 * rows failed and the server named no row: the staging table after a merge, a table
 * after its indexes were built again.
 */
#ifndef PM_FIRST_REPEAT_H
#define PM_FIRST_REPEAT_H

#include <libpq-fe.h>
#include <stdint.h>

#include "namelist.h"

/*
 * Rows of relation, aliased s, in the order of order (an expression over s), numbered by
 * number (s's record number, or row_number() OVER (ORDER BY order)); meets is a condition on
 * s or NULL.  The first such row's number; 0 when there is none, or when the query fails (the
 * caller then says it cannot tell).  cols is never empty.
 */
uint64_t first_repeat(PGconn *conn, const char *relation, const char *number, const char *order,
		      const struct namelist *cols, const char *meets);

#endif
