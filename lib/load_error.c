/*
 * load_error: a failed statement of a load as its one-line message.  Values the
 * database refuses are bad input (exit 3, "nothing loaded"); anything else is a
 * database error (exit 4).  The message names the record where the server's COPY
 * context or load_locate can tell it, keeps the server's names and never its
 * values, and names the table being loaded where the server names pm_staging.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "pm_error.h"
#include "server_message.h"

static bool is_data_error(const char *state)
{
	return db_sqlstate_in_class(state, SQLSTATE_CLASS_DATA_EXCEPTION) ||
	       db_sqlstate_in_class(state, SQLSTATE_CLASS_INTEGRITY_CONSTRAINT_VIOLATION) ||
	       strcmp(state, SQLSTATE_CARDINALITY_VIOLATION) == 0;
}

void load_failed(struct load *l, PGresult *res, const char *step, uint64_t line, const char *column)
{
	const char *primary = db_error_field(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *state = db_sqlstate(res);
	char what[256];

	snprintf(what, sizeof what, "%s: %s", l->t->label, step);
	if (db_connection_lost(l->conn) || !primary)
		db_die(l->conn, res, what);
	bool data = is_data_error(state);
	if (data && !line && l->merging)
		line = load_locate_record(l, res);
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
	db_clear(res); /* before the exit, so that valgrind counts no leak */
	if (!data)
		pm_die(PM_EXIT_DATABASE, "%s: %s", what, bytebuf_cstr(&msg));
	if (line && column[0])
		pm_die(PM_EXIT_DATA, "%s: record %llu: column \"%s\": %s", l->t->label, (unsigned long long)line, column,
		       bytebuf_cstr(&msg));
	if (line)
		pm_die(PM_EXIT_DATA, "%s: record %llu: %s", l->t->label, (unsigned long long)line, bytebuf_cstr(&msg));
	pm_die(PM_EXIT_DATA, "%s: %s: %s", l->t->label, step, bytebuf_cstr(&msg));
}

PGresult *load_query(struct load *l, const char *step, const char *sql, int nparams, const char *const *params)
{
	PGresult *res;

	if (!db_try_query(l->conn, sql, nparams, params, &res))
		load_failed(l, res, step, 0, "");
	return res;
}

uint64_t load_command(struct load *l, const char *step, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = load_query(l, step, sql, nparams, params);
	uint64_t n = db_result_count(res);

	db_clear(res);
	return n;
}
