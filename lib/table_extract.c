#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pm_error.h"
#include "progress.h"
#include "sql_format.h"
#include "stream_writer.h"
#include "table_desc.h"
#include "table_extract.h"

struct extract_sink {
	struct stream_writer *out;
	struct progress progress;
	uint64_t rows;
};

static void write_row(void *ctx, const char *row, size_t len)
{
	struct extract_sink *s = ctx;

	stream_writer_raw(s->out, row, len);
	progress_update(&s->progress, ++s->rows, stream_writer_bytes(s->out));
}

static void check_columns(const struct table_desc *t, const struct namelist *names, const char *option)
{
	struct name_index seen = { 0 };

	for (size_t i = 0; i < names->n; i++) {
		if (table_desc_find(t, names->items[i]) < 0)
			pm_die(PM_EXIT_USAGE, "%s: %s: no column \"%s\"", t->label, option, names->items[i]);
		if (name_index_add(&seen, names->items[i], strlen(names->items[i]), (int)i) >= 0)
			pm_die(PM_EXIT_USAGE, "%s: %s: column \"%s\" named twice", t->label, option, names->items[i]);
	}
	name_index_free(&seen);
}

/*
 * --after values travel as parameters into custom settings, because COPY (query)
 * cannot take parameters, and are read back cast to each key column's own type.
 */
static void after_clause(PGconn *conn, struct bytebuf *out, const struct table_desc *t, const struct namelist *order,
			 const struct namelist *after)
{
	struct bytebuf values = { 0 };
	char name[32];

	if (after->n != order->n)
		pm_die(PM_EXIT_USAGE, "%s: --after has %zu values for a key of %zu columns", t->label, after->n,
		       order->n);
	for (size_t i = 0; i < after->n; i++) {
		snprintf(name, sizeof name, "pm.after_%zu", i + 1);
		const char *params[2] = { name, after->items[i] };
		db_command(conn, "setting --after", "SELECT pg_catalog.set_config($1, $2, true)", 2, params);
		const char *type = t->columns[table_desc_find(t, order->items[i])].type;
		sql_appendf(&values, conn, "%sCAST(pg_catalog.current_setting('%s') AS %s)", i ? ", " : "", name, type);
	}
	sql_printf(out, conn, " AND (%N) > (%s)", NULL, order, bytebuf_cstr(&values));
	bytebuf_free(&values);
}

static void build_query(PGconn *conn, struct bytebuf *sql, const struct table_desc *t,
			const struct extract_options *o, const struct namelist *cols, const struct namelist *order)
{
	struct bytebuf where = { 0 }, after = { 0 }, shard = { 0 }, limit = { 0 };

	if (o->where) /* the newline ends a trailing -- comment in --where */
		sql_appendf(&where, conn, " AND (%s\n)", o->where);
	if (o->after.n)
		after_clause(conn, &after, t, order, &o->after);
	if (o->nshards)
		sql_appendf(&shard, conn, " AND abs(pg_catalog.hashtextextended(ROW(%N)::text, 0) %% %u) = %u", NULL, order,
			    o->nshards, o->shard - 1);
	if (o->limit >= 0)
		sql_appendf(&limit, conn, " LIMIT %lld", o->limit);
	sql_appendf(sql, conn, "COPY (SELECT %N FROM %s WHERE true%s%s%s ORDER BY %N%s) TO STDOUT WITH (FORMAT csv)", NULL,
		    cols, t->qualified, bytebuf_cstr(&where), bytebuf_cstr(&after), bytebuf_cstr(&shard), NULL, order,
		    bytebuf_cstr(&limit));
	bytebuf_free(&where);
	bytebuf_free(&after);
	bytebuf_free(&shard);
	bytebuf_free(&limit);
}

void table_extract(PGconn *conn, const struct extract_options *o, struct stream_writer *out)
{
	struct namelist cols = { 0 }, order = { 0 };
	struct bytebuf sql = { 0 };
	struct extract_sink sink = { 0 };
	char what[256];

	sink.out = out;
	db_begin_snapshot(conn, o->snapshot);
	struct table_desc *t = table_desc_load(conn, o->schema, o->table);
	check_columns(t, &o->columns, "-c");
	check_columns(t, &o->order_by, "--order-by");
	/* Chunks need a key that orders every row apart; a primary key does. */
	if (o->after.n && o->order_by.n == 0 && t->npk == 0)
		pm_die(PM_EXIT_USAGE, "%s: --after needs a unique key: the table has no primary key, name one with --order-by",
		       t->label);

	const struct namelist *use = &o->columns;
	if (use->n == 0) {
		cols.items = pm_malloc(t->ncolumns * sizeof *cols.items);
		for (size_t i = 0; i < t->ncolumns; i++)
			cols.items[cols.n++] = pm_strdup(t->columns[i].name);
		use = &cols;
	}
	const struct namelist *key = &o->order_by;
	if (key->n == 0) {
		/* Without a primary key, ordering by every column still gives one order. */
		char **src = t->npk ? t->pk : use->items;
		size_t n = t->npk ? t->npk : use->n;
		order.items = pm_malloc(n * sizeof *order.items);
		for (size_t i = 0; i < n; i++)
			order.items[order.n++] = pm_strdup(src[i]);
		key = &order;
	}
	build_query(conn, &sql, t, o, use, key);

	struct csv_field *header = pm_malloc(use->n * sizeof *header);
	for (size_t i = 0; i < use->n; i++)
		header[i] = (struct csv_field){ use->items[i], strlen(use->items[i]), false };
	stream_writer_record(sink.out, header, use->n);
	free(header);

	progress_start(&sink.progress, o->progress, t->label);
	snprintf(what, sizeof what, "%s: extract", t->label);
	db_copy_out(conn, what, bytebuf_cstr(&sql), write_row, &sink);
	db_exec(conn, what, "COMMIT");
	progress_finish(&sink.progress, sink.rows, stream_writer_bytes(sink.out));
	stream_writer_close(sink.out);
	tool_stats_put(o->stats, "records", sink.rows);

	bytebuf_free(&sql);
	namelist_free(&cols);
	namelist_free(&order);
	table_desc_free(t);
}
