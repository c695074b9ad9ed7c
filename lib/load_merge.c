/*
 * load_merge: staged rows into the table by the conflict key, in one statement:
 * new keys inserted, known ones updated (--mode upsert) or left (--mode skip), rows
 * already equal left alone so that a repeated upsert writes nothing.  The stream's
 * values go in as they are, GENERATED ALWAYS identity columns too, as COPY does.
 */
#include <stdlib.h>

#include "load.h"
#include "sql_format.h"

const char *load_set_list(struct load *l, struct bytebuf *out, const char *from)
{
	out->len = 0;
	for (size_t i = 0; i < l->other.n; i++)
		sql_appendf(out, l->conn, "%s%I = %s%I", i ? ", " : "", l->other.items[i], from, l->other.items[i]);
	return bytebuf_cstr(out);
}

const char *load_changed(struct load *l, struct bytebuf *out, const char *from)
{
	return sql_printf(out, l->conn, "ROW(%N) IS DISTINCT FROM ROW(%N)", "t.", &l->other, from, &l->other);
}

void load_merge_by_key(struct load *l)
{
	struct bytebuf set = { 0 }, changed = { 0 };

	if (l->o->mode == LOAD_SKIP || l->other.n == 0)
		sql_printf(&l->sql, l->conn,
			   "WITH merged AS (INSERT INTO %s AS t (%N) OVERRIDING SYSTEM VALUE SELECT %N FROM pm_staging"
			   " ON CONFLICT (%N) DO NOTHING RETURNING true AS inserted)",
			   l->t->qualified, NULL, &l->cols, NULL, &l->cols, NULL, &l->key);
	else
		sql_printf(&l->sql, l->conn,
			   "WITH merged AS (INSERT INTO %s AS t (%N) OVERRIDING SYSTEM VALUE SELECT %N FROM pm_staging"
			   " ON CONFLICT (%N) DO UPDATE SET %s WHERE %s RETURNING t.xmax::text = '0' AS inserted)",
			   l->t->qualified, NULL, &l->cols, NULL, &l->cols, NULL, &l->key,
			   load_set_list(l, &set, "EXCLUDED."), load_changed(l, &changed, "EXCLUDED."));
	sql_appendf(&l->sql, l->conn,
		    " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged");
	bytebuf_free(&set);
	bytebuf_free(&changed);

	PGresult *res = load_query(l, "merge", bytebuf_cstr(&l->sql), 0, NULL);
	l->inserted = strtoull(db_value(res, 0, 0), NULL, 10);
	l->updated = strtoull(db_value(res, 0, 1), NULL, 10);
	db_clear(res);
}
