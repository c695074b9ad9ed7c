#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pm_error.h"
#include "progress.h"
#include "server_message.h"
#include "stream_reader.h"
#include "stream_writer.h"
#include "table_bulk.h"
#include "table_desc.h"
#include "table_load.h"

#define SEND_AT (64 * 1024)
#define KEYMAP_SCHEMA "pm"
#define RECORD_COLUMN "pm__record" /* the stream's record number of each staged row */

struct load {
	PGconn *conn;
	const struct load_options *o;
	struct table_desc *t;
	struct stream_reader *in;
	struct namelist cols;  /* loaded columns, in stream order */
	size_t *src;           /* stream field of each loaded column */
	struct namelist key;   /* conflict key */
	struct namelist other; /* loaded columns outside the key */
	char *keymap;          /* escaped pm."keymap_NAME", with --new-ids */
	char *keymap_name;     /* keymap_NAME, unescaped */
	struct table_desc *keymap_t;   /* the key map, when its indexes are set aside too */
	struct table_bulk *keymap_bulk;
	const char *into;      /* relation COPY fills: the table, or the staging table */
	bool staged;           /* records went to pm_staging, each with its record number */
	bool merging;          /* inside SAVEPOINT pm_merge: a failure can be traced to a record */
	struct table_bulk *bulk; /* an empty table's indexes and keys, set aside until the rows are in */
	struct bytebuf sql;
	struct bytebuf list; /* scratch for column_list */
	uint64_t records, inserted, updated;
	uint64_t keymap_entries; /* pairs added to the key map */
};

/* Escaped, comma-separated names, each after prefix; valid until the next call. */
static const char *column_list(struct load *l, const struct namelist *names, const char *prefix)
{
	l->list.len = 0;
	db_append_ident_list(l->conn, &l->list, names->items, names->n, prefix);
	return bytebuf_cstr(&l->list);
}

static void sql_reset(struct load *l)
{
	l->sql.len = 0;
}

static void sql_add(struct load *l, const char *s)
{
	bytebuf_puts(&l->sql, s);
}

static void sql_ident(struct load *l, const char *name)
{
	db_append_ident(l->conn, &l->sql, name);
}

/* Values the database refuses are bad input (exit 3); anything else is a database error (exit 4). */
static bool is_data_error(const char *state)
{
	return db_sqlstate_in_class(state, SQLSTATE_CLASS_DATA_EXCEPTION) ||
	       db_sqlstate_in_class(state, SQLSTATE_CLASS_INTEGRITY_CONSTRAINT_VIOLATION) ||
	       strcmp(state, SQLSTATE_CARDINALITY_VIOLATION) == 0;
}

static uint64_t locate_record(struct load *l, const PGresult *res);

static _Noreturn void load_failed(struct load *l, PGresult *res, const char *step, uint64_t line, const char *column)
{
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *state = db_sqlstate(res);
	char what[256];

	snprintf(what, sizeof what, "%s: %s", l->t->label, step);
	if (PQstatus(l->conn) == CONNECTION_BAD || !primary)
		db_die(l->conn, res, what);
	bool data = is_data_error(state);
	if (data && !line && l->merging)
		line = locate_record(l, res);
	/* The server may quote the value it refused, a secret perhaps: only the names stay. */
	struct bytebuf text = { 0 };
	server_message_append(&text, res, l->cols.items, l->cols.n);
	/* The staging table is ours, not the operator's: name the table being loaded. */
	struct bytebuf msg = { 0 };
	const char *staged = strstr(bytebuf_cstr(&text), "relation \"pm_staging\"");
	if (staged) {
		bytebuf_append(&msg, text.data, (size_t)(staged - text.data));
		bytebuf_puts(&msg, "relation \"");
		bytebuf_puts(&msg, l->t->name);
		bytebuf_puts(&msg, staged + strlen("relation \"pm_staging"));
	} else {
		bytebuf_puts(&msg, bytebuf_cstr(&text));
	}
	bytebuf_free(&text);
	bytebuf_puts(&msg, " (SQLSTATE ");
	bytebuf_puts(&msg, state);
	bytebuf_puts(&msg, data ? "); nothing loaded" : ")");
	PQclear(res); /* before the exit, so that valgrind counts no leak */
	if (!data)
		pm_die(PM_EXIT_DATABASE, "%s: %s", what, bytebuf_cstr(&msg));
	if (line && column[0])
		pm_die(PM_EXIT_DATA, "%s: record %llu: column \"%s\": %s", l->t->label, (unsigned long long)line, column,
		       bytebuf_cstr(&msg));
	if (line)
		pm_die(PM_EXIT_DATA, "%s: record %llu: %s", l->t->label, (unsigned long long)line, bytebuf_cstr(&msg));
	pm_die(PM_EXIT_DATA, "%s: %s: %s", l->t->label, step, bytebuf_cstr(&msg));
}

static PGresult *run_result(struct load *l, const char *step, int nparams, const char *const *params)
{
	PGresult *res = PQexecParams(l->conn, bytebuf_cstr(&l->sql), nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		load_failed(l, res, step, 0, "");
	return res;
}

static uint64_t run(struct load *l, const char *step, int nparams, const char *const *params)
{
	PGresult *res = run_result(l, step, nparams, params);
	uint64_t n = strtoull(PQcmdTuples(res), NULL, 10);

	PQclear(res);
	return n;
}

/* "pm.keymap_X k WHERE k.old_key = s.ID": the key map row of staged row s. */
static void add_keymap_of_staged(struct load *l)
{
	sql_add(l, l->keymap);
	sql_add(l, " k WHERE k.old_key = s.");
	sql_ident(l, l->o->new_ids);
}

/* The unique index named by a violation, as column names; false for an expression index or another table. */
static bool index_columns(struct load *l, const PGresult *res, struct namelist *cols)
{
	const char *index = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	const char *table = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
	const char *schema = PQresultErrorField(res, PG_DIAG_SCHEMA_NAME);
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
	PGresult *r = PQexecParams(l->conn, sql, 3, NULL, params, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
	for (int i = 0; ok && i < PQntuples(r); i++)
		ok = !PQgetisnull(r, i, 0) && namelist_find(&l->cols, PQgetvalue(r, i, 0)) >= 0;
	cols->items = pm_malloc((size_t)PQntuples(r) * sizeof *cols->items + 1);
	for (int i = 0; ok && i < PQntuples(r); i++)
		cols->items[cols->n++] = pm_strdup(PQgetvalue(r, i, 0));
	PQclear(r);
	return ok;
}

static void add_row_equal(struct load *l, const struct namelist *cols, const char *a, const char *b)
{
	sql_add(l, "ROW(");
	sql_add(l, column_list(l, cols, a));
	sql_add(l, ") = ROW(");
	sql_add(l, column_list(l, cols, b));
	sql_add(l, ")");
}

/*
 * A merge failed on a unique key: roll back to before the merge and find the
 * first stream record that repeats another's key or meets an existing row on
 * it (for upsert and skip, a row other than its own).  0 when it cannot tell.
 */
static uint64_t locate_record(struct load *l, const PGresult *res)
{
	const char *state = db_sqlstate(res);
	const char *schema = PQresultErrorField(res, PG_DIAG_SCHEMA_NAME);
	struct namelist cols = { 0 };
	const char *against = NULL; /* a relation whose rows collide, with columns cols too */
	uint64_t found = 0;

	l->merging = false;
	PGresult *back = PQexec(l->conn, "ROLLBACK TO SAVEPOINT pm_merge");
	bool rolled_back = PQresultStatus(back) == PGRES_COMMAND_OK;
	PQclear(back);
	if (!rolled_back)
		return 0;
	if (strcmp(state, SQLSTATE_CARDINALITY_VIOLATION) == 0 && l->key.n) {
		cols = l->key; /* the same conflict key twice in the stream */
		l->key = (struct namelist){ 0 };
	} else if (strcmp(state, SQLSTATE_UNIQUE_VIOLATION) == 0 && l->keymap && schema && strcmp(schema, KEYMAP_SCHEMA) == 0) {
		cols.items = pm_malloc(sizeof *cols.items);
		cols.items[cols.n++] = pm_strdup(l->o->new_ids); /* an old id twice, or mapped already */
		against = l->keymap;
	} else if (strcmp(state, SQLSTATE_UNIQUE_VIOLATION) == 0 && index_columns(l, res, &cols)) {
		against = l->t->qualified;
	} else {
		namelist_free(&cols);
		return 0;
	}

	sql_reset(l);
	sql_add(l, "SELECT min(s." RECORD_COLUMN ") FROM pm_staging s WHERE EXISTS (SELECT FROM pm_staging s2 WHERE ");
	add_row_equal(l, &cols, "s2.", "s.");
	sql_add(l, " AND s2." RECORD_COLUMN " < s." RECORD_COLUMN ")");
	if (against && against == l->keymap) {
		sql_add(l, " OR EXISTS (SELECT FROM ");
		add_keymap_of_staged(l);
		sql_add(l, ")");
	} else if (against) {
		sql_add(l, " OR EXISTS (SELECT FROM ");
		sql_add(l, against);
		sql_add(l, " t WHERE ");
		add_row_equal(l, &cols, "t.", "s.");
		if (l->key.n) {
			sql_add(l, " AND ROW(");
			sql_add(l, column_list(l, &l->key, "t."));
			sql_add(l, ") IS DISTINCT FROM ROW(");
			sql_add(l, column_list(l, &l->key, "s."));
			sql_add(l, ")");
		}
		sql_add(l, ")");
	}
	PGresult *r = PQexecParams(l->conn, bytebuf_cstr(&l->sql), 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && !PQgetisnull(r, 0, 0))
		found = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	namelist_free(&cols);
	return found;
}

/* Match the stream's header to the table: every column is loaded, declared source-only, or an error. */
static void plan_columns(struct load *l)
{
	const struct csv_record *h = stream_reader_header(l->in);
	const struct load_options *o = l->o;

	l->src = pm_malloc(h->nfields * sizeof *l->src);
	l->cols.items = pm_malloc(h->nfields * sizeof *l->cols.items);
	for (size_t i = 0; i < h->nfields; i++) {
		const char *name = h->fields[i].data;
		if (namelist_find(&o->source_only, name) >= 0)
			continue;
		if (table_desc_find(l->t, name) < 0)
			pm_die(PM_EXIT_DATA,
			       "%s: header: column \"%s\" is not in table %s (declare it with --source-only to skip it)",
			       stream_reader_name(l->in), name, l->t->label);
		l->src[l->cols.n] = i;
		l->cols.items[l->cols.n++] = pm_strdup(name);
	}
	for (size_t i = 0; i < o->source_only.n; i++) {
		if (stream_reader_column(l->in, o->source_only.items[i]) < 0)
			pm_die(PM_EXIT_USAGE, "--source-only: the stream has no column \"%s\"", o->source_only.items[i]);
	}
	if (o->new_ids && namelist_find(&l->cols, o->new_ids) < 0)
		pm_die(PM_EXIT_USAGE, "--new-ids: the stream has no loaded column \"%s\"", o->new_ids);
}

static void plan_key(struct load *l)
{
	const struct namelist *key = &l->o->key;

	if (l->o->new_ids) {
		if (key->n)
			pm_die(PM_EXIT_USAGE, "--key does not go with --new-ids: the key map is the key");
		return;
	}
	if (l->o->mode == LOAD_INSERT) {
		if (key->n)
			pm_die(PM_EXIT_USAGE, "--key goes with --mode upsert or skip");
		return;
	}
	if (key->n == 0 && l->t->npk == 0)
		pm_die(PM_EXIT_USAGE, "%s has no primary key: name the conflict key with --key", l->t->label);
	char **names = key->n ? key->items : l->t->pk;
	size_t n = key->n ? key->n : l->t->npk;
	l->key.items = pm_malloc(n * sizeof *l->key.items);
	for (size_t i = 0; i < n; i++) {
		if (namelist_find(&l->cols, names[i]) < 0)
			pm_die(PM_EXIT_USAGE, "key column \"%s\" is not loaded from the stream", names[i]);
		l->key.items[l->key.n++] = pm_strdup(names[i]);
	}
	l->other.items = pm_malloc(l->cols.n * sizeof *l->other.items);
	for (size_t i = 0; i < l->cols.n; i++)
		if (namelist_find(&l->key, l->cols.items[i]) < 0)
			l->other.items[l->other.n++] = pm_strdup(l->cols.items[i]);
}

/* A temporary table of the loaded columns with the target's own types and NOT NULLs. */
static void create_staging(struct load *l)
{
	sql_reset(l);
	sql_add(l, "CREATE TEMPORARY TABLE pm_staging ON COMMIT DROP AS SELECT ");
	sql_add(l, column_list(l, &l->cols, NULL));
	sql_add(l, ", NULL::bigint AS " RECORD_COLUMN " FROM ");
	sql_add(l, l->t->qualified);
	sql_add(l, " WITH NO DATA");
	run(l, "creating the staging table", 0, NULL);

	sql_reset(l);
	sql_add(l, "ALTER TABLE pm_staging");
	size_t n = 0;
	for (size_t i = 0; i < l->cols.n; i++) {
		if (!l->t->columns[table_desc_find(l->t, l->cols.items[i])].not_null)
			continue;
		sql_add(l, n++ ? ", ALTER COLUMN " : " ALTER COLUMN ");
		sql_ident(l, l->cols.items[i]);
		sql_add(l, " SET NOT NULL");
	}
	if (n)
		run(l, "creating the staging table", 0, NULL);
	l->into = "pm_staging";
	l->staged = true;
}

/* Send every record's loaded fields through COPY in text format, where the server's line N is our record N. */
static void copy_records(struct load *l)
{
	const struct csv_record *rec;
	struct csv_field *sel = pm_malloc((l->cols.n + 1) * sizeof *sel);
	size_t nsel = l->cols.n + (l->staged ? 1 : 0);
	char number[24];
	struct bytebuf buf = { 0 };
	struct progress progress;
	char what[256];
	char column[256];
	uint64_t line;

	snprintf(what, sizeof what, "%s: load", l->t->label);
	sql_reset(l);
	sql_add(l, "COPY ");
	sql_add(l, l->into);
	sql_add(l, " (");
	sql_add(l, column_list(l, &l->cols, NULL));
	sql_add(l, l->staged ? ", " RECORD_COLUMN ") FROM STDIN" : l->bulk ? ") FROM STDIN WITH (FREEZE)" : ") FROM STDIN");
	db_copy_in_begin(l->conn, what, bytebuf_cstr(&l->sql));

	progress_start(&progress, l->o->progress, l->t->label);
	bytebuf_reserve(&buf, SEND_AT + 4096);
	while ((rec = stream_reader_next(l->in)) != NULL) {
		for (size_t i = 0; i < l->cols.n; i++)
			sel[i] = rec->fields[l->src[i]];
		if (l->staged) {
			int n = snprintf(number, sizeof number, "%llu", (unsigned long long)rec->number);
			sel[l->cols.n] = (struct csv_field){ number, (size_t)n, false };
		}
		csv_record_encode_copy_text(&buf, sel, nsel);
		if (buf.len >= SEND_AT) {
			db_copy_in_send(l->conn, what, buf.data, buf.len);
			buf.len = 0;
		}
		l->records++;
		progress_update(&progress, l->records, stream_reader_bytes(l->in));
	}
	db_copy_in_send(l->conn, what, buf.data, buf.len);
	PGresult *failed = db_copy_in_end(l->conn, what, &line, column, sizeof column, l->cols.items, l->cols.n);
	if (failed)
		load_failed(l, failed, "load", line, column);
	progress_finish(&progress, l->records, stream_reader_bytes(l->in));
	bytebuf_free(&buf);
	free(sel);
}

/* "a = FROMa, b = FROMb" for the columns outside the key. */
static void add_set_list(struct load *l, const char *from)
{
	for (size_t i = 0; i < l->other.n; i++) {
		sql_add(l, i ? ", " : "");
		sql_ident(l, l->other.items[i]);
		sql_add(l, " = ");
		sql_add(l, from);
		sql_ident(l, l->other.items[i]);
	}
}

/* Rows already equal are left alone: a repeated upsert writes nothing. */
static void add_changed(struct load *l, const char *from)
{
	sql_add(l, "ROW(");
	sql_add(l, column_list(l, &l->other, "t."));
	sql_add(l, ") IS DISTINCT FROM ROW(");
	sql_add(l, column_list(l, &l->other, from));
	sql_add(l, ")");
}

static void merge_by_key(struct load *l)
{
	sql_reset(l);
	sql_add(l, "WITH merged AS (INSERT INTO ");
	sql_add(l, l->t->qualified);
	sql_add(l, " AS t (");
	sql_add(l, column_list(l, &l->cols, NULL));
	/* The stream's values go in as they are, GENERATED ALWAYS identity columns too, as COPY does. */
	sql_add(l, ") OVERRIDING SYSTEM VALUE SELECT ");
	sql_add(l, column_list(l, &l->cols, NULL));
	sql_add(l, " FROM pm_staging ON CONFLICT (");
	sql_add(l, column_list(l, &l->key, NULL));
	if (l->o->mode == LOAD_SKIP || l->other.n == 0) {
		sql_add(l, ") DO NOTHING RETURNING true AS inserted)");
	} else {
		sql_add(l, ") DO UPDATE SET ");
		add_set_list(l, "EXCLUDED.");
		sql_add(l, " WHERE ");
		add_changed(l, "EXCLUDED.");
		sql_add(l, " RETURNING t.xmax::text = '0' AS inserted)");
	}
	sql_add(l, " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged");

	PGresult *res = run_result(l, "merge", 0, NULL);
	l->inserted = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	l->updated = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
}

/* With --new-ids: name the key map and check the id column, before any record is sent. */
static void plan_keymap(struct load *l)
{
	char name[64]; /* PostgreSQL's NAMEDATALEN: a longer name would be cut and could collide */
	struct bytebuf b = { 0 };
	const char *base = l->o->keymap ? l->o->keymap : l->t->name;
	const struct table_column *id = &l->t->columns[table_desc_find(l->t, l->o->new_ids)];

	if (!id->sequence)
		pm_die(PM_EXIT_USAGE, "--new-ids: column \"%s\" of %s has no sequence to take new ids from", id->name,
		       l->t->label);
	if (strlen(base) > sizeof name - sizeof "keymap_")
		pm_die(PM_EXIT_USAGE, "key map name \"%s\" is longer than %zu bytes: choose one with --keymap", base,
		       sizeof name - sizeof "keymap_");
	snprintf(name, sizeof name, "keymap_%s", base);
	db_append_ident(l->conn, &b, KEYMAP_SCHEMA);
	bytebuf_putc(&b, '.');
	db_append_ident(l->conn, &b, name);
	l->keymap = pm_strdup(bytebuf_cstr(&b));
	l->keymap_name = pm_strdup(name);
	bytebuf_free(&b);
}

static void create_keymap(struct load *l, const char *type)
{
	sql_reset(l);
	sql_add(l, "CREATE SCHEMA IF NOT EXISTS " KEYMAP_SCHEMA);
	run(l, "creating the key map", 0, NULL);
	sql_reset(l);
	sql_add(l, "CREATE TABLE IF NOT EXISTS ");
	sql_add(l, l->keymap);
	sql_add(l, " (old_key ");
	sql_add(l, type);
	sql_add(l, " PRIMARY KEY, new_key ");
	sql_add(l, type);
	sql_add(l, " NOT NULL UNIQUE)");
	run(l, "creating the key map", 0, NULL);
}

/*
 * The empty key map's keys built again.  Its rows are in old-key order, not the stream's: a
 * repeated old id is located in the staging table, as locate_record does.
 */
static void finish_keymap_bulk(struct load *l)
{
	char name[256];
	uint64_t found = 0;

	if (!table_bulk_finish(l->conn, l->keymap_bulk, name, sizeof name))
		return;
	sql_reset(l);
	sql_add(l, "SELECT min(s." RECORD_COLUMN ") FROM pm_staging s WHERE EXISTS (SELECT FROM pm_staging s2 WHERE s2.");
	sql_ident(l, l->o->new_ids);
	sql_add(l, " = s.");
	sql_ident(l, l->o->new_ids);
	sql_add(l, " AND s2." RECORD_COLUMN " < s." RECORD_COLUMN ")");
	PGresult *r = PQexecParams(l->conn, bytebuf_cstr(&l->sql), 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && !PQgetisnull(r, 0, 0))
		found = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	db_die_duplicate(l->t->label, found, name, "recording the key map");
}

/*
 * New ids: each staged row not yet in the key map gets the next value of the id
 * column's sequence, in order of its old id (so the same stream gives the same
 * ids), and the pair goes into the key map in the same transaction as the row.
 */
static void merge_new_ids(struct load *l)
{
	const struct table_column *id = &l->t->columns[table_desc_find(l->t, l->o->new_ids)];
	const char *seq[1] = { id->sequence };
	bool mapped_only = l->o->mode != LOAD_INSERT;

	sql_reset(l);
	sql_add(l, "CREATE TEMPORARY TABLE pm_pairs (old_key ");
	sql_add(l, id->type);
	sql_add(l, ", new_key ");
	sql_add(l, id->type);
	sql_add(l, ") ON COMMIT DROP");
	run(l, "creating the key pairs", 0, NULL);

	if (l->o->mode == LOAD_UPSERT) {
		l->other.items = pm_malloc(l->cols.n * sizeof *l->other.items);
		for (size_t i = 0; i < l->cols.n; i++)
			if (strcmp(l->cols.items[i], l->o->new_ids) != 0)
				l->other.items[l->other.n++] = pm_strdup(l->cols.items[i]);
		if (l->other.n) {
			sql_reset(l);
			sql_add(l, "UPDATE ");
			sql_add(l, l->t->qualified);
			sql_add(l, " AS t SET ");
			add_set_list(l, "s.");
			sql_add(l, " FROM pm_staging s, ");
			add_keymap_of_staged(l);
			sql_add(l, " AND t.");
			sql_ident(l, id->name);
			sql_add(l, " = k.new_key AND ");
			add_changed(l, "s.");
			l->updated = run(l, "updating mapped rows", 0, NULL);
		}
	}

	sql_reset(l);
	sql_add(l, "INSERT INTO pm_pairs SELECT old_key, pg_catalog.nextval($1::regclass) FROM (SELECT ");
	sql_ident(l, id->name);
	sql_add(l, " AS old_key FROM pm_staging s");
	if (mapped_only) {
		sql_add(l, " WHERE NOT EXISTS (SELECT FROM ");
		add_keymap_of_staged(l);
		sql_add(l, ")");
	}
	sql_add(l, " ORDER BY 1) o");
	l->inserted = run(l, "assigning new ids", 1, seq);

	sql_reset(l);
	sql_add(l, "INSERT INTO ");
	sql_add(l, l->keymap);
	sql_add(l, " SELECT old_key, new_key FROM pm_pairs");
	l->keymap_entries = run(l, "recording the key map", 0, NULL);
	if (l->keymap_bulk)
		finish_keymap_bulk(l);

	sql_reset(l);
	sql_add(l, "INSERT INTO ");
	sql_add(l, l->t->qualified);
	sql_add(l, " (");
	sql_add(l, column_list(l, &l->cols, NULL));
	sql_add(l, ") OVERRIDING SYSTEM VALUE SELECT ");
	for (size_t i = 0; i < l->cols.n; i++) {
		sql_add(l, i ? ", " : "");
		if (strcmp(l->cols.items[i], id->name) == 0) {
			sql_add(l, "p.new_key");
		} else {
			sql_add(l, "s.");
			sql_ident(l, l->cols.items[i]);
		}
	}
	sql_add(l, " FROM pm_staging s JOIN pm_pairs p ON p.old_key = s.");
	sql_ident(l, id->name);
	/* Into a table emptied by table_bulk_begin, rows land in ctid order as inserted: in record
	 * order, table_bulk_finish names the record that repeats a unique key, as COPY's would. */
	if (l->bulk)
		sql_add(l, " ORDER BY s." RECORD_COLUMN);
	run(l, "inserting rows with new ids", 0, NULL);
}

/* Explicit ids leave a sequence behind the data; move each past max(column), never back. */
static void move_sequences(struct load *l)
{
	for (size_t i = 0; i < l->cols.n; i++) {
		const struct table_column *c = &l->t->columns[table_desc_find(l->t, l->cols.items[i])];
		if (!c->sequence || (l->o->new_ids && strcmp(c->name, l->o->new_ids) == 0))
			continue;
		const char *seq[1] = { c->sequence };
		sql_reset(l);
		/* The next value is last_value + increment once called, else last_value itself (as after
		 * RESTART); the name comes quoted from pg_get_serial_sequence. */
		sql_add(l, "SELECT pg_catalog.setval($1::regclass, m) FROM (SELECT max(");
		sql_ident(l, c->name);
		sql_add(l, ") AS m FROM ");
		sql_add(l, l->t->qualified);
		sql_add(l, ") x, pg_catalog.pg_sequence p, ");
		sql_add(l, c->sequence);
		sql_add(l, " s WHERE p.seqrelid = $1::regclass AND p.seqincrement > 0"
			   " AND m >= CASE WHEN s.is_called THEN s.last_value + p.seqincrement ELSE s.last_value END");
		run(l, "moving the sequence", 1, seq);
	}
}

static void write_pair(void *ctx, const char *row, size_t len)
{
	stream_writer_raw(ctx, row, len);
}

/* This load's pairs, in old-key order, then everything but the rename: that waits for COMMIT. */
static void write_keymap(struct load *l, struct stream_writer *out)
{
	static const struct csv_field header[2] = { { "old_key", 7, false }, { "new_key", 7, false } };
	char what[256];

	stream_writer_record(out, header, 2);
	snprintf(what, sizeof what, "%s: writing the key map", l->t->label);
	db_copy_out(l->conn, what, "COPY (SELECT old_key, new_key FROM pm_pairs ORDER BY old_key) TO STDOUT WITH (FORMAT csv)",
		    write_pair, out);
	stream_writer_finish(out);
}

static void commit(struct load *l)
{
	PGresult *res = PQexec(l->conn, "COMMIT");

	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		PQclear(res);
		return;
	}
	if (PQstatus(l->conn) == CONNECTION_BAD)
		pm_die(PM_EXIT_DATABASE, "%s: lost the connection during COMMIT: the load may or may not be committed",
		       l->t->label);
	/* Deferred foreign keys are checked here: a dangling reference is bad data like any other. */
	load_failed(l, res, "commit", 0, "");
}

/* The indexes and keys set aside, built again; a unique key the rows break names the record. */
static void finish_bulk(struct load *l)
{
	char name[256];
	unsigned long long n = table_bulk_finish(l->conn, l->bulk, name, sizeof name);

	if (n)
		db_die_duplicate(l->t->label, n, name, NULL);
}

void table_load(PGconn *conn, const struct load_options *o)
{
	struct load l = { .conn = conn, .o = o };
	struct stream_writer *keymap_out = NULL;

	db_exec(conn, "starting the transaction", "BEGIN");
	/* Both before the stream is opened: its writer may wait for this lock (pipelines/staged). */
	if (o->lock) {
		const char *key[1] = { o->lock };
		PQclear(db_query(conn, "taking the lock", "SELECT pg_catalog.pg_advisory_xact_lock($1::bigint)", 1, key));
	}
	if (o->checkpoint.name)
		load_checkpoint_claim(conn, &o->checkpoint);
	l.in = stream_reader_open(o->input);
	l.t = table_desc_load(conn, o->schema, o->table);
	if (l.t->kind != 'r' && l.t->kind != 'p')
		pm_die(PM_EXIT_USAGE, "%s is not a table", l.t->label);
	plan_columns(&l);
	plan_key(&l);
	if (o->new_ids)
		plan_keymap(&l);
	/* Opened now, so an output that cannot be written is found before any record is sent. */
	if (o->keymap_out)
		keymap_out = stream_writer_open(o->keymap_out, o->level);

	/* Plain inserts go straight in: same atomicity, and every error keeps its record number.
	 * Into an empty table they go without its indexes and keys, built once at the end; so do
	 * inserts with new ids, from the staging table once every id is assigned. */
	if (o->mode == LOAD_INSERT && !o->keep_indexes && l.t->kind == 'r')
		l.bulk = table_bulk_begin(conn, l.t);
	if (o->mode == LOAD_INSERT && !o->new_ids)
		l.into = l.t->qualified;
	else
		create_staging(&l);
	copy_records(&l);
	if (l.bulk && !o->new_ids)
		finish_bulk(&l);
	/* Before the savepoint: a key map made by this load outlives a rollback to it, so that
	 * locate_record can find the record that repeats an old id. */
	if (o->new_ids)
		create_keymap(&l, l.t->columns[table_desc_find(l.t, o->new_ids)].type);
	/* An empty key map filled with an empty table's rows: its keys too are built once, after. */
	if (o->new_ids && l.bulk) {
		l.keymap_t = table_desc_load(conn, KEYMAP_SCHEMA, l.keymap_name);
		l.keymap_bulk = table_bulk_begin(conn, l.keymap_t);
	}
	if (l.staged) {
		db_exec(conn, "starting the merge", "SAVEPOINT pm_merge");
		l.merging = true;
	}
	if (o->new_ids)
		merge_new_ids(&l);
	else if (o->mode != LOAD_INSERT)
		merge_by_key(&l);
	else
		l.inserted = l.records;
	l.merging = false;
	if (l.bulk && o->new_ids)
		finish_bulk(&l);
	move_sequences(&l);
	if (o->checkpoint.name)
		load_checkpoint_advance(conn, &o->checkpoint, l.inserted + l.updated);
	if (keymap_out)
		write_keymap(&l, keymap_out);
	stream_reader_close(l.in);
	commit(&l);
	if (keymap_out)
		stream_writer_close(keymap_out);
	tool_stats_put(o->stats, "records", l.records);
	tool_stats_put(o->stats, "inserted", l.inserted);
	tool_stats_put(o->stats, "updated", l.updated);
	tool_stats_put(o->stats, "unchanged", l.records - l.inserted - l.updated);
	tool_stats_put(o->stats, "keymap_entries", l.keymap_entries);
	if (o->verbose)
		pm_warn("%s: %llu records: %llu inserted, %llu updated, %llu unchanged", l.t->label,
			(unsigned long long)l.records, (unsigned long long)l.inserted, (unsigned long long)l.updated,
			(unsigned long long)(l.records - l.inserted - l.updated));
	table_bulk_free(l.bulk);
	table_bulk_free(l.keymap_bulk);
	if (l.keymap_t)
		table_desc_free(l.keymap_t);
	free(l.keymap_name);
	table_desc_free(l.t);
	namelist_free(&l.cols);
	namelist_free(&l.key);
	namelist_free(&l.other);
	free(l.src);
	free(l.keymap);
	bytebuf_free(&l.sql);
	bytebuf_free(&l.list);
}
