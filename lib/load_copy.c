/*
 * load_copy: the records into the database.  Plain inserts go straight into the
 * table; merges go into pm_staging, a temporary table of the loaded columns with
 * the target's own types and NOT NULLs and each record's number beside it.  Records
 * are sent through COPY in text format, where the server's line N is record N.
 */
#include <stdio.h>
#include <stdlib.h>

#include "load.h"
#include "pm_error.h"
#include "progress.h"
#include "sql_format.h"

#define SEND_AT (64 * 1024)

void load_create_staging(struct load *l)
{
	static const char step[] = "creating the staging table";

	load_command(l, step,
		     sql_printf(&l->sql, l->conn,
				"CREATE TEMPORARY TABLE pm_staging ON COMMIT DROP AS"
				" SELECT %N, NULL::bigint AS " LOAD_RECORD_COLUMN " FROM %s WITH NO DATA",
				NULL, &l->cols, l->t->qualified),
		     0, NULL);

	sql_printf(&l->sql, l->conn, "ALTER TABLE pm_staging");
	size_t n = 0;
	for (size_t i = 0; i < l->cols.n; i++)
		if (l->t->columns[table_desc_find(l->t, l->cols.items[i])].not_null)
			sql_appendf(&l->sql, l->conn, "%s ALTER COLUMN %I SET NOT NULL", n++ ? "," : "", l->cols.items[i]);
	if (n)
		load_command(l, step, bytebuf_cstr(&l->sql), 0, NULL);
	l->into = "pm_staging";
	l->staged = true;
}

void load_copy_records(struct load *l)
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
	db_copy_in_begin(l->conn, what,
			 sql_printf(&l->sql, l->conn, "COPY %s (%N%s) FROM STDIN%s", l->into, NULL, &l->cols,
				    l->staged ? ", " LOAD_RECORD_COLUMN : "", !l->staged && l->bulk ? " WITH (FREEZE)" : ""));

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
