/*
 * load_locate: which stream record a failed merge stumbled on.  A merge is one
 * statement over the staging table, so the server names no record; after a unique
 * key or a repeated conflict key fails it, the load rolls back to before the merge
 * and asks the staging table for the first record that repeats another's key or
 * meets an existing row on it.
 */
#include <stdlib.h>
#include <string.h>

#include "first_repeat.h"
#include "keymap_table.h"
#include "load.h"
#include "pm_error.h"
#include "sql_format.h"

/* The unique index named by a violation, as column names; false for an expression index or another table. */
static bool index_columns(struct load *l, const PGresult *res, struct namelist *cols)
{
	const char *index = db_error_field(res, PG_DIAG_CONSTRAINT_NAME);
	const char *table = db_error_field(res, PG_DIAG_TABLE_NAME);
	const char *schema = db_error_field(res, PG_DIAG_SCHEMA_NAME);
	const char *params[3] = { index, schema, table };
	static const char sql[] =
		"SELECT a.attname FROM pg_catalog.pg_index i"
		" JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
		" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		" CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
		" LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
		" WHERE c.relname = $1 AND n.nspname = $2 AND i.indrelid = (SELECT oid FROM pg_catalog.pg_class"
		"  WHERE relname = $3 AND relnamespace = n.oid) ORDER BY k.ord";

	if (!index || !table || !schema || strcmp(table, l->t->name) != 0 || strcmp(schema, l->t->schema) != 0)
		return false;
	PGresult *r;
	bool ok = db_try_query(l->conn, sql, 3, params, &r) && db_rows(r) > 0;
	int n = ok ? db_rows(r) : 0;
	for (int i = 0; ok && i < n; i++)
		ok = db_value(r, i, 0) && namelist_find(&l->cols, db_value(r, i, 0)) >= 0;
	cols->items = pm_malloc((size_t)n * sizeof *cols->items + 1);
	for (int i = 0; ok && i < n; i++)
		cols->items[cols->n++] = pm_strdup(db_value(r, i, 0));
	db_clear(r);
	return ok;
}

uint64_t load_first_staged_repeat(struct load *l, const struct namelist *cols, const char *meets)
{
	return first_repeat(l->conn, "pm_staging", "s." LOAD_RECORD_COLUMN, "s." LOAD_RECORD_COLUMN, cols, meets);
}

uint64_t load_locate_record(struct load *l, const PGresult *res)
{
	const char *state = db_sqlstate(res);
	const char *schema = db_error_field(res, PG_DIAG_SCHEMA_NAME);
	struct namelist cols = { 0 };
	struct bytebuf meets = { 0 };
	uint64_t found;

	l->merging = false;
	if (!db_try_exec(l->conn, "ROLLBACK TO SAVEPOINT pm_merge"))
		return 0;
	if (strcmp(state, SQLSTATE_CARDINALITY_VIOLATION) == 0 && l->key.n) {
		cols = l->key; /* the same conflict key twice in the stream */
		l->key = (struct namelist){ 0 };
	} else if (strcmp(state, SQLSTATE_UNIQUE_VIOLATION) == 0 && l->keymap && schema && strcmp(schema, KEYMAP_SCHEMA) == 0) {
		/* An old id twice, or mapped already. */
		cols.items = pm_malloc(sizeof *cols.items);
		cols.items[cols.n++] = pm_strdup(l->o->new_ids);
		sql_printf(&meets, l->conn, "EXISTS (SELECT FROM %s k WHERE k.old_key = s.%I)", l->keymap, l->o->new_ids);
	} else if (strcmp(state, SQLSTATE_UNIQUE_VIOLATION) == 0 && index_columns(l, res, &cols)) {
		/* A row of the table with the same unique key: for upsert and skip, a row other than its own. */
		sql_printf(&meets, l->conn, "EXISTS (SELECT FROM %s t WHERE ROW(%N) = ROW(%N)", l->t->qualified, "t.", &cols,
			   "s.", &cols);
		if (l->key.n)
			sql_appendf(&meets, l->conn, " AND ROW(%N) IS DISTINCT FROM ROW(%N)", "t.", &l->key, "s.", &l->key);
		sql_appendf(&meets, l->conn, ")");
	} else {
		namelist_free(&cols);
		return 0;
	}
	found = load_first_staged_repeat(l, &cols, meets.len ? bytebuf_cstr(&meets) : NULL);
	namelist_free(&cols);
	bytebuf_free(&meets);
	return found;
}
