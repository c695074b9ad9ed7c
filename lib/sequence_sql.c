#include "sequence_sql.h"
#include "sql_format.h"

const char *sequence_behind_sql(struct bytebuf *sql, PGconn *conn, const char *table, const char *column,
				const char *sequence)
{
	return sql_printf(sql, conn,
			  "SELECT x.m, y.n, y.increment FROM (SELECT max(%I) AS m FROM %s) x,"
			  " (SELECT CASE WHEN s.is_called THEN s.last_value + p.seqincrement ELSE s.last_value END AS n,"
			  " p.seqincrement AS increment FROM pg_catalog.pg_sequence p, %s s WHERE p.seqrelid = $1::regclass) y"
			  " WHERE x.m >= y.n",
			  column, table, sequence);
}
