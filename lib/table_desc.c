#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pm_error.h"
#include "table_desc.h"

static const char find_sql[] =
	"SELECT c.oid, n.nspname, c.relkind, pg_catalog.pg_table_is_visible(c.oid)"
	" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
	" WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
	" AND CASE WHEN $2::text IS NULL THEN pg_catalog.pg_table_is_visible(c.oid) ELSE n.nspname = $2 END";

/* A column's sequence is the one its new values come from: its default's (the compatibility layer
 * may point that at another table's, schemas/compat.sql), else the one it owns (an identity). */
static const char columns_sql[] =
	"SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,"
	" coalesce((SELECT pg_catalog.quote_ident(sn.nspname) || '.' || pg_catalog.quote_ident(s.relname)"
	"   FROM pg_catalog.pg_attrdef ad"
	"   JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass"
	"    AND d.objid = ad.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
	"   JOIN pg_catalog.pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'"
	"   JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace"
	"   WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum LIMIT 1),"
	" pg_catalog.pg_get_serial_sequence($1::oid::regclass::text, a.attname))"
	" FROM pg_catalog.pg_attribute a"
	" WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

static const char pk_sql[] =
	"SELECT a.attname FROM pg_catalog.pg_index i"
	" CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
	" JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
	" WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord";

struct table_desc *table_desc_load(PGconn *conn, const char *schema, const char *table)
{
	struct table_desc *t = pm_malloc(sizeof *t);
	const char *params[2] = { table, schema };
	char what[128];
	PGresult *res;

	memset(t, 0, sizeof *t);
	snprintf(what, sizeof what, "looking up table %s", table);
	res = db_query(conn, what, find_sql, 2, params);
	if (db_rows(res) == 0)
		pm_die(PM_EXIT_DATABASE, "table %s%s%s does not exist%s", schema ? schema : "", schema ? "." : "",
		       table, schema ? "" : " (or is not on the search_path)");
	char *oid = pm_strdup(db_value(res, 0, 0));
	t->schema = pm_strdup(db_value(res, 0, 1));
	t->kind = db_value(res, 0, 2)[0];
	t->name = pm_strdup(table);
	bool visible = db_value(res, 0, 3)[0] == 't';
	db_clear(res);

	struct bytebuf b = { 0 };
	if (!visible || schema) {
		bytebuf_puts(&b, t->schema);
		bytebuf_putc(&b, '.');
	}
	bytebuf_puts(&b, table);
	t->label = pm_strdup(bytebuf_cstr(&b));
	b.len = 0;
	db_append_ident(conn, &b, t->schema);
	bytebuf_putc(&b, '.');
	db_append_ident(conn, &b, table);
	t->qualified = pm_strdup(bytebuf_cstr(&b));
	bytebuf_free(&b);

	const char *oid_param[1] = { oid };
	res = db_query(conn, what, columns_sql, 1, oid_param);
	t->ncolumns = (size_t)db_rows(res);
	t->columns = pm_malloc(t->ncolumns * sizeof *t->columns);
	for (size_t i = 0; i < t->ncolumns; i++) {
		const char *sequence = db_value(res, (int)i, 3);
		t->columns[i].name = pm_strdup(db_value(res, (int)i, 0));
		t->columns[i].type = pm_strdup(db_value(res, (int)i, 1));
		t->columns[i].not_null = db_value(res, (int)i, 2)[0] == 't';
		t->columns[i].sequence = sequence ? pm_strdup(sequence) : NULL;
		name_index_add(&t->index, t->columns[i].name, strlen(t->columns[i].name), (int)i);
	}
	db_clear(res);

	res = db_query(conn, what, pk_sql, 1, oid_param);
	t->npk = (size_t)db_rows(res);
	t->pk = pm_malloc(t->npk * sizeof *t->pk);
	for (size_t i = 0; i < t->npk; i++)
		t->pk[i] = pm_strdup(db_value(res, (int)i, 0));
	db_clear(res);
	free(oid);
	return t;
}

int table_desc_find(const struct table_desc *t, const char *name)
{
	return name_index_find(&t->index, name, strlen(name));
}

void table_desc_free(struct table_desc *t)
{
	name_index_free(&t->index);
	for (size_t i = 0; i < t->ncolumns; i++) {
		free(t->columns[i].name);
		free(t->columns[i].type);
		free(t->columns[i].sequence);
	}
	for (size_t i = 0; i < t->npk; i++)
		free(t->pk[i]);
	free(t->columns);
	free(t->pk);
	free(t->schema);
	free(t->name);
	free(t->label);
	free(t->qualified);
	free(t);
}
