#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "first_repeat.h"
#include "namelist.h"
#include "pm_error.h"
#include "server_message.h"
#include "sql_format.h"
#include "table_bulk.h"

/* One thing to build again: its statement, and for a unique index its columns (to name a record). */
struct rebuild {
	char *sql;
	char *name;
	struct namelist unique; /* empty: not unique, or not plain columns */
};

struct table_bulk {
	const struct table_desc *t;
	struct rebuild *items;
	size_t n;
};

/* The table's indexes: constraint-backed first (primary key first), then the others. */
static const char indexes_sql[] =
	"SELECT coalesce(c.conname, x.relname), c.oid IS NOT NULL,"
	" CASE WHEN c.oid IS NOT NULL THEN pg_catalog.pg_get_constraintdef(c.oid) ELSE pg_catalog.pg_get_indexdef(i.indexrelid) END,"
	" i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL AND c.contype IS DISTINCT FROM 'x', i.indexrelid"
	" FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class x ON x.oid = i.indexrelid"
	" LEFT JOIN pg_catalog.pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid"
	"  AND c.contype IN ('p', 'u', 'x')"
	" WHERE i.indrelid = $1::regclass ORDER BY c.contype = 'p' DESC NULLS LAST, c.oid IS NULL, 1";

static const char index_columns_sql[] =
	"SELECT a.attname FROM pg_catalog.pg_index i"
	" CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
	" JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
	" WHERE i.indexrelid = $1 ORDER BY k.ord";

/* Foreign keys the table holds and those that reference it. */
static const char fks_sql[] =
	"SELECT c.conrelid::regclass::text, c.conname, pg_catalog.pg_get_constraintdef(c.oid)"
	" FROM pg_catalog.pg_constraint c WHERE c.contype = 'f'"
	" AND (c.conrelid = $1::regclass OR c.confrelid = $1::regclass) ORDER BY 1, 2";

static void add(struct table_bulk *b, char *sql, const char *name)
{
	b->items = pm_realloc(b->items, (b->n + 1) * sizeof *b->items);
	b->items[b->n++] = (struct rebuild){ sql, pm_strdup(name), { 0 } };
}

/* "ALTER TABLE table ADD CONSTRAINT name def" or "... DROP CONSTRAINT name" (def NULL), malloc'd. */
static char *alter_sql(PGconn *conn, const char *table, const char *name, const char *def)
{
	struct bytebuf sql = { 0 };

	if (def)
		sql_printf(&sql, conn, "ALTER TABLE %s ADD CONSTRAINT %I %s", table, name, def);
	else
		sql_printf(&sql, conn, "ALTER TABLE %s DROP CONSTRAINT %I", table, name);
	return sql.data; /* NUL-terminated by sql_printf: the bytebuf's memory is the string now */
}

static void exec_free(PGconn *conn, const char *what, char *sql)
{
	db_exec(conn, what, sql);
	free(sql);
}

struct table_bulk *table_bulk_begin(PGconn *conn, const struct table_desc *t)
{
	struct bytebuf sql = { 0 };
	const char *params[1] = { t->qualified };
	char what[300];

	snprintf(what, sizeof what, "%s: setting indexes aside", t->label);
	db_exec(conn, what, sql_printf(&sql, conn, "LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", t->qualified));
	char *any = db_query_value(conn, what, sql_printf(&sql, conn, "SELECT EXISTS (SELECT FROM %s)", t->qualified), 0, NULL);
	bool empty = strcmp(any, "f") == 0;
	free(any);
	if (!empty) {
		bytebuf_free(&sql);
		return NULL;
	}

	struct table_bulk *b = pm_malloc(sizeof *b);
	*b = (struct table_bulk){ .t = t };
	PGresult *fks = db_query(conn, what, fks_sql, 1, params);
	PGresult *idx = db_query(conn, what, indexes_sql, 1, params);
	/* Built again in this order: keys and indexes, then the foreign keys that need them. */
	for (int i = 0; i < db_rows(idx); i++) {
		const char *name = db_value(idx, i, 0), *def = db_value(idx, i, 2);
		bool constraint = strcmp(db_value(idx, i, 1), "t") == 0;
		add(b, constraint ? alter_sql(conn, t->qualified, name, def) : pm_strdup(def), name);
		if (strcmp(db_value(idx, i, 3), "t") == 0) {
			const char *oid[1] = { db_value(idx, i, 4) };
			PGresult *cols = db_query(conn, what, index_columns_sql, 1, oid);
			struct namelist *u = &b->items[b->n - 1].unique;
			u->items = pm_malloc((size_t)db_rows(cols) * sizeof *u->items + 1);
			for (int c = 0; c < db_rows(cols); c++)
				u->items[u->n++] = pm_strdup(db_value(cols, c, 0));
			db_clear(cols);
		}
	}
	for (int i = 0; i < db_rows(fks); i++)
		add(b, alter_sql(conn, db_value(fks, i, 0), db_value(fks, i, 1), db_value(fks, i, 2)), db_value(fks, i, 1));

	/* Dropped in the reverse order: foreign keys first, then what they rest on. */
	for (int i = 0; i < db_rows(fks); i++)
		exec_free(conn, what, alter_sql(conn, db_value(fks, i, 0), db_value(fks, i, 1), NULL));
	for (int i = db_rows(idx) - 1; i >= 0; i--) {
		const char *oid[1] = { db_value(idx, i, 4) };
		if (strcmp(db_value(idx, i, 1), "t") == 0)
			exec_free(conn, what, alter_sql(conn, t->qualified, db_value(idx, i, 0), NULL));
		else /* an index named by its oid, quoted and qualified by regclass's own output */
			exec_free(conn, what,
				  db_query_value(conn, what, "SELECT pg_catalog.format('DROP INDEX %s', $1::oid::regclass)", 1, oid));
	}
	db_clear(fks);
	db_clear(idx);
	/* Truncated in this transaction, the table may take COPY ... FREEZE. */
	db_exec(conn, what, sql_printf(&sql, conn, "TRUNCATE %s", t->qualified));
	bytebuf_free(&sql);
	return b;
}

unsigned long long table_bulk_finish(PGconn *conn, struct table_bulk *b, char *constraint, size_t size)
{
	char what[300];

	snprintf(what, sizeof what, "%s: building indexes and keys again", b->t->label);
	db_exec(conn, what, "SAVEPOINT pm_rebuild");
	for (size_t i = 0; i < b->n; i++) {
		PGresult *res;
		if (db_try_query(conn, b->items[i].sql, 0, NULL, &res)) {
			db_clear(res);
			continue;
		}
		const char *state = db_sqlstate(res);
		if (strcmp(state, SQLSTATE_UNIQUE_VIOLATION) == 0 && b->items[i].unique.n && !db_connection_lost(conn) &&
		    db_try_exec(conn, "ROLLBACK TO SAVEPOINT pm_rebuild")) {
			/* A table filled by one COPY after TRUNCATE holds its rows in load order: ctid order. */
			unsigned long long n = first_repeat(conn, b->t->qualified, "row_number() OVER (ORDER BY s.ctid)",
							    "s.ctid", &b->items[i].unique, NULL);
			if (n) {
				db_clear(res);
				snprintf(constraint, size, "%s", b->items[i].name);
				return n;
			}
		}
		/* Bad data (a foreign key the rows break) is exit 3, as in the plain load; else exit 4. */
		if (db_sqlstate_in_class(state, SQLSTATE_CLASS_INTEGRITY_CONSTRAINT_VIOLATION) && !db_connection_lost(conn)) {
			struct bytebuf text = { 0 };
			char state_copy[8];
			server_message_append(&text, res, NULL, 0); /* a key it quotes is a value */
			snprintf(state_copy, sizeof state_copy, "%s", state);
			db_clear(res);
			pm_die(PM_EXIT_DATA, "%s: building keys: %s (SQLSTATE %s); nothing loaded", b->t->label,
			       bytebuf_cstr(&text), state_copy);
		}
		db_die(conn, res, what);
	}
	db_exec(conn, what, "RELEASE SAVEPOINT pm_rebuild");
	return 0;
}

void table_bulk_free(struct table_bulk *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->items[i].sql);
		free(b->items[i].name);
		namelist_free(&b->items[i].unique);
	}
	free(b->items);
	free(b);
}
