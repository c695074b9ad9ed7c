/*
 * sequence_sql: the one statement that says whether a column's sequence is behind
 * its data, for pm-load (which moves it) and pm-verify (which reports it).  The
 * next value is last_value + increment once called, else last_value itself (as
 * after RESTART); behind means max(column) >= that next value.
 */
#ifndef PM_SEQUENCE_SQL_H
#define PM_SEQUENCE_SQL_H

#include <libpq-fe.h>

#include "bytebuf.h"

/*
 * Into sql (emptied first): a query with $1 the sequence (regclass text, as table_desc has
 * it), giving one row (m, n, increment) when max(column) of table (escaped) is m and the
 * sequence's next value n is not above it, no row otherwise.
 */
const char *sequence_behind_sql(struct bytebuf *sql, PGconn *conn, const char *table, const char *column,
				const char *sequence);

#endif
