#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "keymap.h"
#include "keymap_table.h"
#include "pm_error.h"
#include "record_sorter.h"
#include "sequence_sql.h"
#include "sql_format.h"
#include "stream_reader.h"
#include "table_desc.h"
#include "tool.h"
#include "value_check.h"
#include "verify_side.h"

/*
 * A column outside the key read through a key map, mapped here rather than by a
 * join in the server: the server then reads the table in key order straight from
 * its index, where a join had it hash and sort every row (the README's benchmark
 * section has the figures).
 */
struct mapped_column {
	size_t field;
	struct keymap *map; /* new key to old key */
	char text[64];      /* the field's text as mapped: an old key, or "no key map entry for N" */
};

struct verify_side {
	char *name;
	const struct csv_record *header;
	struct record_key key;
	struct namelist key_names, keymaps;
	/* a stream */
	struct stream_reader *in;
	struct record_sorter *sorter;
	/* a table, read in COPY's text format: a row a call, split in place, far cheaper than CSV */
	PGconn *conn;
	struct db_copy_rows *rows;
	struct table_desc *table;
	struct csv_field *header_fields, *fields;
	struct csv_record table_header, record;
	struct mapped_column *mapped;
	size_t nmapped;
};

/* The key's places in the header; a key column it lacks is a usage error. */
static void find_key(struct verify_side *s, const struct namelist *key)
{
	const struct csv_record *h = s->header;

	s->key.n = key->n;
	s->key.fields = pm_malloc(key->n * sizeof *s->key.fields);
	for (size_t i = 0; i < key->n; i++) {
		size_t f = 0;
		while (f < h->nfields && strcmp(h->fields[f].data, key->items[i]) != 0)
			f++;
		if (f == h->nfields)
			pm_die(PM_EXIT_USAGE, "%s: --key: no column \"%s\"", s->name, key->items[i]);
		s->key.fields[i] = f;
	}
}

struct verify_side *verify_side_stream(const char *path, const struct namelist *key, size_t budget)
{
	struct verify_side *s = pm_malloc(sizeof *s);
	const struct csv_record *rec;

	memset(s, 0, sizeof *s);
	s->in = stream_reader_open(path);
	s->name = pm_strdup(stream_reader_name(s->in));
	s->header = stream_reader_header(s->in);
	find_key(s, key);
	s->sorter = record_sorter_open(stream_reader_header(s->in), &s->key, budget);
	while ((rec = stream_reader_next(s->in)) != NULL)
		record_sorter_add(s->sorter, rec);
	return s;
}

static void copy_names(struct namelist *to, const struct namelist *from)
{
	to->n = from->n;
	to->items = pm_malloc((from->n ? from->n : 1) * sizeof *to->items);
	for (size_t i = 0; i < from->n; i++)
		to->items[i] = pm_strdup(from->items[i]);
}

/* The keymap named for column, or NULL. */
static const char *keymap_of(const struct namelist *keymaps, const char *column)
{
	size_t n = strlen(column);

	for (size_t i = 0; i < keymaps->n; i++)
		if (strncmp(keymaps->items[i], column, n) == 0 && keymaps->items[i][n] == '=')
			return keymaps->items[i] + n + 1;
	return NULL;
}

static bool is_integer_type(const char *type)
{
	return strcmp(type, "smallint") == 0 || strcmp(type, "integer") == 0 || strcmp(type, "bigint") == 0;
}

/* Column c as the old key: NULL stays NULL; a new key the map lacks is told apart, never NULL.
 * Into out, emptied first; returned as a C string. */
static const char *through_keymap(PGconn *conn, struct bytebuf *out, const char *column, size_t k)
{
	return sql_printf(out, conn,
			  "CASE WHEN t.%I IS NULL THEN NULL ELSE coalesce(k%zu.old_key::text, 'no key map entry for ' || t.%I) END",
			  column, k, column);
}

/* LEFT JOIN pm."keymap_MAP" kI ON kI.new_key = t.column: the alias kI matches through_keymap's. */
static void append_keymap_join(PGconn *conn, struct bytebuf *sql, const char *map, size_t i, const char *column)
{
	struct bytebuf table = { 0 };

	keymap_table_append(conn, &table, map);
	sql_appendf(sql, conn, " LEFT JOIN %s k%zu ON k%zu.new_key = t.%I", bytebuf_cstr(&table), i, i, column);
	bytebuf_free(&table);
}

static void check_keymaps(const struct table_desc *t, const struct namelist *keymaps)
{
	for (size_t i = 0; i < keymaps->n; i++) {
		char *col;
		const char *map;
		if (!tool_split_name_value(keymaps->items[i], &col, &map))
			pm_die(PM_EXIT_USAGE, "--keymap: \"%s\" is not COLUMN=NAME", keymaps->items[i]);
		if (table_desc_find(t, col) < 0)
			pm_die(PM_EXIT_USAGE, "%s: --keymap: no column \"%s\"", t->label, col);
		if (strlen(map) > KEYMAP_NAME_MAX)
			pm_die(PM_EXIT_USAGE, "--keymap: the name \"%s\" is longer than %d bytes", map, KEYMAP_NAME_MAX);
		free(col);
	}
}

static void build_query(struct verify_side *s, struct bytebuf *sql, const struct namelist *key,
			const struct namelist *keymaps)
{
	PGconn *conn = s->conn;
	const struct table_desc *t = s->table;
	struct bytebuf list = { 0 }, joins = { 0 }, order = { 0 }, expr = { 0 };

	check_keymaps(t, keymaps);
	for (size_t i = 0; i < t->ncolumns; i++) {
		const char *c = t->columns[i].name, *sep = i ? ", " : "";
		if (keymap_of(keymaps, c) && namelist_find(key, c) >= 0) {
			sql_appendf(&list, conn, "%s%s AS %I", sep, through_keymap(conn, &expr, c, i), c);
			append_keymap_join(conn, &joins, keymap_of(keymaps, c), i, c);
		} else {
			sql_appendf(&list, conn, "%st.%I", sep, c);
		}
	}
	/* record_key's order: NULL first, whole numbers by value, then other text by its bytes. */
	for (size_t i = 0; i < key->n; i++) {
		const char *k = key->items[i], *sep = i ? ", " : "";
		int c = table_desc_find(t, k);
		if (c < 0)
			pm_die(PM_EXIT_USAGE, "%s: --key: no column \"%s\"", t->label, k);
		if (!is_integer_type(t->columns[c].type))
			pm_die(PM_EXIT_USAGE, "%s: --key: column \"%s\" is %s: a table side needs integer key columns",
			       t->label, k, t->columns[c].type);
		if (keymap_of(keymaps, k))
			sql_appendf(&order, conn, "%st.%I IS NOT NULL, k%d.old_key IS NULL, k%d.old_key, (%s) COLLATE \"C\"",
				    sep, k, c, c, through_keymap(conn, &expr, k, (size_t)c));
		/* A NOT NULL column has no NULL to put first, and its index gives the order
		 * only without the clause (a primary key is ASC NULLS LAST): no sort. */
		else
			sql_appendf(&order, conn, "%st.%I%s", sep, k, t->columns[c].not_null ? "" : " NULLS FIRST");
	}
	sql_appendf(sql, conn, "COPY (SELECT %s FROM %s t%s ORDER BY %s) TO STDOUT", bytebuf_cstr(&list), t->qualified,
		    bytebuf_cstr(&joins), bytebuf_cstr(&order));
	bytebuf_free(&list);
	bytebuf_free(&joins);
	bytebuf_free(&order);
	bytebuf_free(&expr);
}

/* pm."keymap_NAME" read in this side's snapshot, new key to old key. */
static struct keymap *load_reverse_keymap(struct verify_side *s, const char *name)
{
	struct bytebuf sql = { 0 };
	char what[300];
	struct csv_field f[2];
	size_t len;
	char *row;

	struct bytebuf table = { 0 };
	keymap_table_append(s->conn, &table, name);
	sql_printf(&sql, s->conn, "COPY (SELECT new_key, old_key FROM %s) TO STDOUT", bytebuf_cstr(&table));
	bytebuf_free(&table);
	snprintf(what, sizeof what, "%s: reading key map %s", s->table->label, name);
	struct keymap *m = keymap_new(name);
	struct db_copy_rows *rows = db_copy_rows_open(s->conn, what, bytebuf_cstr(&sql));
	while ((row = db_copy_rows_next(rows, &len)) != NULL) {
		long long new_key, old_key;
		if (csv_record_decode_copy_text(row, len, f, 2) != 2 || f[0].null || f[1].null ||
		    !value_parse_int64(f[0].data, f[0].len, &new_key) || !value_parse_int64(f[1].data, f[1].len, &old_key))
			pm_die(PM_EXIT_DATABASE, "%s: a row that is not two whole numbers", what);
		keymap_add(m, new_key, old_key, what);
	}
	db_copy_rows_close(rows);
	keymap_build(m, what);
	bytebuf_free(&sql);
	return m;
}

/* The columns outside the key that are read through a key map: their maps, before the table's COPY. */
static void load_mapped_columns(struct verify_side *s, const struct namelist *key, const struct namelist *keymaps)
{
	const struct table_desc *t = s->table;

	s->mapped = pm_malloc((t->ncolumns ? t->ncolumns : 1) * sizeof *s->mapped);
	for (size_t i = 0; i < t->ncolumns; i++) {
		const char *map = keymap_of(keymaps, t->columns[i].name);
		if (!map || namelist_find(key, t->columns[i].name) >= 0)
			continue;
		struct mapped_column *mc = &s->mapped[s->nmapped++];
		mc->field = i;
		mc->map = load_reverse_keymap(s, map);
	}
}

/* A mapped column's field becomes the old key its new key stands for, as the source has it. */
static void map_field(struct mapped_column *mc, struct csv_field *f)
{
	long long new_key, old_key;
	size_t n;

	if (f->null)
		return;
	if (value_parse_int64(f->data, f->len, &new_key) && keymap_lookup(mc->map, new_key, &old_key)) {
		n = value_format_int64(mc->text, old_key);
	} else {
		int w = snprintf(mc->text, sizeof mc->text, "no key map entry for %.*s", (int)f->len, f->data);
		n = w < 0 ? 0 : (size_t)w >= sizeof mc->text ? sizeof mc->text - 1 : (size_t)w;
	}
	mc->text[n] = '\0';
	f->data = mc->text;
	f->len = n;
}

struct verify_side *verify_side_table(const char *conninfo, const char *table, const struct namelist *key,
					  const struct namelist *keymaps, const char *import, char **export)
{
	struct verify_side *s = pm_malloc(sizeof *s);
	struct bytebuf sql = { 0 };
	char what[300];

	memset(s, 0, sizeof *s);
	s->conn = db_connect(conninfo);
	db_begin_snapshot(s->conn, import);
	if (export) {
		*export = db_query_value(s->conn, "exporting the snapshot", "SELECT pg_catalog.pg_export_snapshot()", 0, NULL);
	}
	s->table = table_desc_load(s->conn, NULL, table);
	s->name = pm_strdup(s->table->label);
	build_query(s, &sql, key, keymaps);
	load_mapped_columns(s, key, keymaps);
	snprintf(what, sizeof what, "%s: reading", s->table->label);
	s->rows = db_copy_rows_open(s->conn, what, bytebuf_cstr(&sql));
	size_t n = s->table->ncolumns;
	s->header_fields = pm_malloc(n * sizeof *s->header_fields);
	s->fields = pm_malloc(n * sizeof *s->fields);
	for (size_t i = 0; i < n; i++)
		s->header_fields[i] = (struct csv_field){ s->table->columns[i].name, strlen(s->table->columns[i].name), false };
	s->table_header = (struct csv_record){ 0, n, s->header_fields };
	s->header = &s->table_header;
	find_key(s, key);
	bytebuf_free(&sql);
	copy_names(&s->key_names, key);
	copy_names(&s->keymaps, keymaps);
	return s;
}

static void sequence_checks(struct verify_side *s, verify_finding found, void *ctx)
{
	const struct table_desc *t = s->table;
	struct bytebuf sql = { 0 }, behind = { 0 };

	for (size_t i = 0; i < t->ncolumns; i++) {
		const struct table_column *c = &t->columns[i];
		if (!c->sequence)
			continue;
		sql_printf(&sql, s->conn, "SELECT b.m::text, b.n::text FROM (%s) b",
			   sequence_behind_sql(&behind, s->conn, t->qualified, c->name, c->sequence));
		const char *params[1] = { c->sequence };
		PGresult *res = db_query(s->conn, "checking sequences", bytebuf_cstr(&sql), 1, params);
		if (db_rows(res) == 1) {
			struct csv_field m = { db_value(res, 0, 0), strlen(db_value(res, 0, 0)), false };
			struct csv_field n = { db_value(res, 0, 1), strlen(db_value(res, 0, 1)), false };
			found(ctx, NULL, "sequence-behind", c->name, &m, &n);
		}
		db_clear(res);
	}
	bytebuf_free(&sql);
	bytebuf_free(&behind);
}

static const char fk_sql[] =
	"SELECT c.oid, c.confrelid::regclass::text, l.attname, r.attname"
	" FROM pg_catalog.pg_constraint c"
	" CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(lnum, rnum, ord)"
	" JOIN pg_catalog.pg_attribute l ON l.attrelid = c.conrelid AND l.attnum = k.lnum"
	" JOIN pg_catalog.pg_attribute r ON r.attrelid = c.confrelid AND r.attnum = k.rnum"
	" WHERE c.conrelid = $1::regclass AND c.contype = 'f' ORDER BY c.conname, c.oid, k.ord";

/* One foreign key's orphans: rows whose columns [from, to) of fks are all set and match no row. */
static void orphan_check(struct verify_side *s, PGresult *fks, int from, int to, verify_finding found, void *ctx)
{
	const struct table_desc *t = s->table;
	PGconn *conn = s->conn;
	struct bytebuf sql = { 0 }, columns = { 0 }, keys = { 0 }, joins = { 0 }, expr = { 0 };
	struct bytebuf fk = { 0 }, matches = { 0 }, set = { 0 };

	for (size_t i = 0; i < s->key_names.n; i++) {
		const char *k = s->key_names.items[i], *map = keymap_of(&s->keymaps, k);
		size_t c = (size_t)table_desc_find(t, k);
		if (map) {
			sql_appendf(&keys, conn, "%s%s", i ? ", " : "", through_keymap(conn, &expr, k, c));
			append_keymap_join(conn, &joins, map, c, k);
		} else {
			sql_appendf(&keys, conn, "%st.%I", i ? ", " : "", k);
		}
	}
	for (int r = from; r < to; r++) {
		const char *col = db_value(fks, r, 2), *ref = db_value(fks, r, 3);
		sql_appendf(&fk, conn, "%st.%I", r > from ? ", " : "", col);
		bytebuf_puts(&columns, r > from ? "," : ""); /* for the report, not SQL */
		bytebuf_puts(&columns, col);
		sql_appendf(&matches, conn, " AND r.%I = t.%I", ref, col);
		sql_appendf(&set, conn, " AND t.%I IS NOT NULL", col); /* MATCH SIMPLE: a NULL in the key checks nothing */
	}
	/* The referenced table as regclass text: quoted as needed. */
	sql_printf(&sql, conn,
		   "COPY (SELECT %s, %s%s%s::text FROM %s t%s WHERE NOT EXISTS (SELECT FROM %s r WHERE true%s)%s"
		   " ORDER BY 1) TO STDOUT",
		   bytebuf_cstr(&keys), to - from > 1 ? "ROW(" : "", bytebuf_cstr(&fk), to - from > 1 ? ")" : "",
		   t->qualified, bytebuf_cstr(&joins), db_value(fks, from, 1), bytebuf_cstr(&matches), bytebuf_cstr(&set));
	bytebuf_free(&keys);
	bytebuf_free(&joins);
	bytebuf_free(&expr);
	bytebuf_free(&fk);
	bytebuf_free(&matches);
	bytebuf_free(&set);

	char what[300];
	snprintf(what, sizeof what, "%s: looking for orphans", t->label);
	struct db_copy_rows *rows = db_copy_rows_open(s->conn, what, bytebuf_cstr(&sql));
	size_t nf = s->key_names.n + 1, len;
	struct csv_field *f = pm_malloc(nf * sizeof *f);
	char *row;
	while ((row = db_copy_rows_next(rows, &len)) != NULL) {
		if (csv_record_decode_copy_text(row, len, f, nf) != (int)nf)
			pm_die(PM_EXIT_DATABASE, "%s: a row the server sent is not COPY text", what);
		found(ctx, f, "orphan", bytebuf_cstr(&columns), NULL, &f[s->key_names.n]);
	}
	free(f);
	db_copy_rows_close(rows);
	bytebuf_free(&sql);
	bytebuf_free(&columns);
}

void verify_side_checks(struct verify_side *s, verify_finding found, void *ctx)
{
	if (!s->conn)
		return;
	sequence_checks(s, found, ctx);
	const char *params[1] = { s->table->qualified };
	PGresult *fks = db_query(s->conn, "looking up foreign keys", fk_sql, 1, params);
	for (int from = 0, to; from < db_rows(fks); from = to) {
		for (to = from + 1; to < db_rows(fks) && strcmp(db_value(fks, to, 0), db_value(fks, from, 0)) == 0;)
			to++;
		orphan_check(s, fks, from, to, found, ctx);
	}
	db_clear(fks);
}

const char *verify_side_name(const struct verify_side *s)
{
	return s->name;
}

const struct csv_record *verify_side_header(const struct verify_side *s)
{
	return s->header;
}

const struct record_key *verify_side_key(const struct verify_side *s)
{
	return &s->key;
}

const struct csv_record *verify_side_next(struct verify_side *s)
{
	size_t len;
	char *row;

	if (s->sorter)
		return record_sorter_next(s->sorter);
	if ((row = db_copy_rows_next(s->rows, &len)) == NULL)
		return NULL;
	s->record.number++;
	if (csv_record_decode_copy_text(row, len, s->fields, s->table->ncolumns) != (int)s->table->ncolumns)
		pm_die(PM_EXIT_DATABASE, "%s: row %llu: not the COPY text the server should send", s->name,
		       (unsigned long long)s->record.number);
	for (size_t i = 0; i < s->nmapped; i++)
		map_field(&s->mapped[i], &s->fields[s->mapped[i].field]);
	s->record.nfields = s->table->ncolumns;
	s->record.fields = s->fields;
	return &s->record;
}

void verify_side_close(struct verify_side *s)
{
	if (s->sorter) {
		record_sorter_close(s->sorter);
		stream_reader_close(s->in);
	}
	if (s->conn) {
		db_copy_rows_close(s->rows);
		db_exec(s->conn, "ending the transaction", "COMMIT");
		table_desc_free(s->table);
		db_close(s->conn);
		free(s->header_fields);
		free(s->fields);
		for (size_t i = 0; i < s->nmapped; i++)
			keymap_free(s->mapped[i].map);
		free(s->mapped);
	}
	free(s->key.fields);
	namelist_free(&s->key_names);
	namelist_free(&s->keymaps);
	free(s->name);
	free(s);
}
