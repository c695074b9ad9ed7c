#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "first_repeat.h"
#include "namelist.h"
#include "pm_error.h"
#include "server_message.h"
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

static char *alter_sql(PGconn *conn, const char *table, const char *action, const char *name, const char *def)
{
	struct bytebuf sql = { 0 };

	bytebuf_puts(&sql, "ALTER TABLE ");
	bytebuf_puts(&sql, table);
	bytebuf_puts(&sql, action);
	db_append_ident(conn, &sql, name);
	if (def) {
		bytebuf_putc(&sql, ' ');
		bytebuf_puts(&sql, def);
	}
	return (char *)bytebuf_cstr(&sql); /* the bytebuf's memory is the string now */
}

struct table_bulk *table_bulk_begin(PGconn *conn, const struct table_desc *t)
{
	struct bytebuf sql = { 0 };
	const char *params[1] = { t->qualified };
	char what[300];

	snprintf(what, sizeof what, "%s: setting indexes aside", t->label);
	bytebuf_puts(&sql, "LOCK TABLE ");
	bytebuf_puts(&sql, t->qualified);
	bytebuf_puts(&sql, " IN ACCESS EXCLUSIVE MODE");
	db_exec(conn, what, bytebuf_cstr(&sql));
	sql.len = 0;
	bytebuf_puts(&sql, "SELECT EXISTS (SELECT FROM ");
	bytebuf_puts(&sql, t->qualified);
	bytebuf_puts(&sql, ")");
	PGresult *res = db_query(conn, what, bytebuf_cstr(&sql), 0, NULL);
	bool empty = strcmp(PQgetvalue(res, 0, 0), "f") == 0;
	PQclear(res);
	if (!empty) {
		bytebuf_free(&sql);
		return NULL;
	}

	struct table_bulk *b = pm_malloc(sizeof *b);
	*b = (struct table_bulk){ .t = t };
	PGresult *fks = db_query(conn, what, fks_sql, 1, params);
	PGresult *idx = db_query(conn, what, indexes_sql, 1, params);
	/* Built again in this order: keys and indexes, then the foreign keys that need them. */
	for (int i = 0; i < PQntuples(idx); i++) {
		const char *name = PQgetvalue(idx, i, 0), *def = PQgetvalue(idx, i, 2);
		bool constraint = strcmp(PQgetvalue(idx, i, 1), "t") == 0;
		add(b, constraint ? alter_sql(conn, t->qualified, " ADD CONSTRAINT ", name, def) : pm_strdup(def), name);
		if (strcmp(PQgetvalue(idx, i, 3), "t") == 0) {
			const char *oid[1] = { PQgetvalue(idx, i, 4) };
			PGresult *cols = db_query(conn, what, index_columns_sql, 1, oid);
			struct namelist *u = &b->items[b->n - 1].unique;
			u->items = pm_malloc((size_t)PQntuples(cols) * sizeof *u->items + 1);
			for (int c = 0; c < PQntuples(cols); c++)
				u->items[u->n++] = pm_strdup(PQgetvalue(cols, c, 0));
			PQclear(cols);
		}
	}
	for (int i = 0; i < PQntuples(fks); i++)
		add(b, alter_sql(conn, PQgetvalue(fks, i, 0), " ADD CONSTRAINT ", PQgetvalue(fks, i, 1), PQgetvalue(fks, i, 2)),
		    PQgetvalue(fks, i, 1));

	/* Dropped in the reverse order: foreign keys first, then what they rest on. */
	for (int i = 0; i < PQntuples(fks); i++) {
		char *drop = alter_sql(conn, PQgetvalue(fks, i, 0), " DROP CONSTRAINT ", PQgetvalue(fks, i, 1), NULL);
		db_exec(conn, what, drop);
		free(drop);
	}
	for (int i = PQntuples(idx) - 1; i >= 0; i--) {
		const char *name = PQgetvalue(idx, i, 0);
		char *drop;
		if (strcmp(PQgetvalue(idx, i, 1), "t") == 0) {
			drop = alter_sql(conn, t->qualified, " DROP CONSTRAINT ", name, NULL);
		} else {
			/* An index named by its oid, quoted and qualified by regclass's own output. */
			const char *oid[1] = { PQgetvalue(idx, i, 4) };
			PGresult *r = db_query(conn, what, "SELECT pg_catalog.format('DROP INDEX %s', $1::oid::regclass)", 1, oid);
			drop = pm_strdup(PQgetvalue(r, 0, 0));
			PQclear(r);
		}
		db_exec(conn, what, drop);
		free(drop);
	}
	PQclear(fks);
	PQclear(idx);
	/* Truncated in this transaction, the table may take COPY ... FREEZE. */
	sql.len = 0;
	bytebuf_puts(&sql, "TRUNCATE ");
	bytebuf_puts(&sql, t->qualified);
	db_exec(conn, what, bytebuf_cstr(&sql));
	bytebuf_free(&sql);
	return b;
}

unsigned long long table_bulk_finish(PGconn *conn, struct table_bulk *b, char *constraint, size_t size)
{
	char what[300];

	snprintf(what, sizeof what, "%s: building indexes and keys again", b->t->label);
	db_exec(conn, what, "SAVEPOINT pm_rebuild");
	for (size_t i = 0; i < b->n; i++) {
		PGresult *res = PQexec(conn, b->items[i].sql);
		if (PQresultStatus(res) == PGRES_COMMAND_OK) {
			PQclear(res);
			continue;
		}
		const char *state = db_sqlstate(res);
		if (strcmp(state, SQLSTATE_UNIQUE_VIOLATION) == 0 && b->items[i].unique.n && PQstatus(conn) == CONNECTION_OK) {
			PGresult *back = PQexec(conn, "ROLLBACK TO SAVEPOINT pm_rebuild");
			bool ok = PQresultStatus(back) == PGRES_COMMAND_OK;
			PQclear(back);
			/* A table filled by one COPY after TRUNCATE holds its rows in load order: ctid order. */
			unsigned long long n = ok ? first_repeat(conn, b->t->qualified, "row_number() OVER (ORDER BY s.ctid)",
								 "s.ctid", &b->items[i].unique, NULL)
						  : 0;
			if (n) {
				PQclear(res);
				snprintf(constraint, size, "%s", b->items[i].name);
				return n;
			}
		}
		/* Bad data (a foreign key the rows break) is exit 3, as in the plain load; else exit 4. */
		if (db_sqlstate_in_class(state, SQLSTATE_CLASS_INTEGRITY_CONSTRAINT_VIOLATION) && PQstatus(conn) == CONNECTION_OK) {
			struct bytebuf text = { 0 };
			char state_copy[8];
			server_message_append(&text, res, NULL, 0); /* a key it quotes is a value */
			snprintf(state_copy, sizeof state_copy, "%s", state);
			PQclear(res);
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
