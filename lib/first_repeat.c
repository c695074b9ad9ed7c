#include "db.h"
#include "first_repeat.h"
#include "sql_format.h"

uint64_t first_repeat(PGconn *conn, const char *relation, const char *number, const char *order,
		      const struct namelist *cols, const char *meets)
{
	struct bytebuf sql = { 0 }, has_null = { 0 };
	uint64_t found = 0;

	for (size_t i = 0; i < cols->n; i++)
		sql_appendf(&has_null, conn, "%ss.%I IS NULL", i ? " OR " : "", cols->items[i]);
	sql_printf(&sql, conn,
		   "SELECT min(pm__n) FROM (SELECT s.*, %s AS pm__n, row_number() OVER (PARTITION BY %N ORDER BY %s) AS pm__k,"
		   " %s AS pm__has_null FROM %s s) s WHERE (pm__k > 1 AND NOT pm__has_null)%s%s",
		   number, "s.", cols, order, bytebuf_cstr(&has_null), relation, meets ? " OR " : "", meets ? meets : "");
	if (!db_try_uint64(conn, bytebuf_cstr(&sql), 0, NULL, &found))
		found = 0;
	bytebuf_free(&sql);
	bytebuf_free(&has_null);
	return found;
}
