#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pm_error.h"
#include "sql_format.h"

/* Server notices are noise to a filter (and a trigger's could print row values); warnings are kept. */
static void on_notice(void *arg, const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	(void)arg;
	if (severity && primary && strcmp(severity, "WARNING") == 0) {
		char *masked = db_mask_secrets(primary);
		pm_warn("server warning: %s", masked);
		free(masked);
	}
}

/* libpq takes a string as a connection string, not a database name, when it holds '=' or
 * starts with a URI prefix.  It expands the -d handed to it as dbname, not a dbname inside that
 * one, which reaches the server as a name (and its echo): checked all the same. */
static bool is_conninfo(const char *s)
{
	return strchr(s, '=') || strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

/*
 * 1 when the string, or a connection string its dbname holds (to a few levels, though libpq
 * expands one), has a password as PQconninfoParse decodes it: keyword, URI userinfo or query,
 * percent-encoded or not.  -1 when libpq cannot parse one of them, 0 otherwise.
 */
static int has_password(const char *conninfo, int depth)
{
	char *err = NULL;
	int found = 0;

	if (!is_conninfo(conninfo))
		return 0;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
	if (!opts) {
		PQfreemem(err); /* libpq's message quotes the text around the fault: never shown */
		return -1;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val || !*o->val)
			continue;
		if (strcmp(o->keyword, "password") == 0) {
			found = 1;
		} else if (strcmp(o->keyword, "dbname") == 0 && depth < 4) {
			int nested = has_password(o->val, depth + 1);
			if (nested == 1 || (nested < 0 && found == 0))
				found = nested;
		}
	}
	PQconninfoFree(opts);
	return found;
}

int db_conninfo_has_password(const char *conninfo)
{
	return conninfo ? has_password(conninfo, 0) : 0;
}

#define PASSWORD_REFUSED                                                                                     \
	"%s holds a password, which a command line shows to every user (ps): put it in ~/.pgpass, PGPASSFILE " \
	"or PGPASSWORD and leave it out of %s"

void db_refuse_password(const char *option, const char *conninfo)
{
	if (db_conninfo_has_password(conninfo) == 1)
		pm_die(PM_EXIT_USAGE, PASSWORD_REFUSED, option, option);
}

int db_check_conninfo_stdin(void)
{
	struct bytebuf in = { 0 };
	char chunk[4096];
	size_t n;

	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
		bytebuf_append(&in, chunk, n);
		if (in.len > (1u << 20)) {
			bytebuf_free(&in);
			pm_die(PM_EXIT_DATA, "--check-conninfo: more than 1 MiB on standard input");
		}
	}
	if (ferror(stdin)) {
		bytebuf_free(&in);
		pm_die(PM_EXIT_IO, "--check-conninfo: cannot read standard input: %s", strerror(errno));
	}
	int r = memchr(in.data ? in.data : "", '\0', in.len) ? -1 : db_conninfo_has_password(bytebuf_cstr(&in));
	bytebuf_free(&in);
	return r == 1 ? PM_EXIT_DIFFERENCES : r < 0 ? PM_EXIT_DATA : PM_EXIT_OK;
}

int db_mask_secrets_stdin(void)
{
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, stdin) >= 0) {
		char *masked = db_mask_secrets(line);
		int failed = fputs(masked, stdout) == EOF;
		free(masked);
		if (failed)
			break;
	}
	free(line);
	if (ferror(stdin))
		pm_die(PM_EXIT_IO, "--mask-secrets: cannot read standard input: %s", strerror(errno));
	if (fflush(stdout) != 0 || ferror(stdout))
		pm_die(PM_EXIT_IO, "--mask-secrets: cannot write standard output: %s", strerror(errno));
	return PM_EXIT_OK;
}

/* The length of "password" at p, each letter as itself or percent-encoded (libpq decodes a URI's
 * keywords), then optional blanks and '='; 0 when p holds none. */
static size_t password_keyword(const char *p)
{
	static const char word[] = "password";
	const char *q = p;

	for (const char *w = word; *w; w++) {
		if ((*q | 0x20) == *w) {
			q++;
		} else if (q[0] == '%' && q[1] && q[2]) {
			char hex[3] = { q[1], q[2], '\0' };
			char *end;
			long c = strtol(hex, &end, 16);
			if (*end || (c | 0x20) != *w)
				return 0;
			q += 3;
		} else {
			return 0;
		}
	}
	while (*q == ' ' || *q == '\t')
		q++;
	return *q == '=' ? (size_t)(q + 1 - p) : 0;
}

/* Past a keyword's value: quoted ('a b', with \' and \\) or up to a blank, quote, '&' or '#'. */
static const char *skip_value(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\'') {
		for (p++; *p && *p != '\''; p++)
			if (*p == '\\' && p[1])
				p++;
		return *p ? p + 1 : p;
	}
	while (*p && !strchr(" \t\r\n\"'&#", *p))
		p++;
	return p;
}

char *db_mask_secrets(const char *msg)
{
	struct bytebuf out = { 0 };
	const char *p = msg;
	size_t n;

	while (*p) {
		if ((n = password_keyword(p)) > 0) {
			bytebuf_append(&out, p, n);
			bytebuf_puts(&out, "***");
			p = skip_value(p + n);
			continue;
		}
		if (strncmp(p, "://", 3) == 0) {
			/* A URI's userinfo, as libpq reads it: up to the first '@' before any '/'. */
			const char *at = p + 3;
			while (*at && *at != '@' && *at != '/' && *at != '\n')
				at++;
			const char *colon = *at == '@' ? memchr(p + 3, ':', (size_t)(at - (p + 3))) : NULL;
			if (colon) {
				bytebuf_append(&out, p, (size_t)(colon + 1 - p));
				bytebuf_puts(&out, "***@");
				p = at + 1;
				continue;
			}
		}
		if (*p == ':') {
			/* user:password@ without a scheme: up to an '@' within one word. */
			const char *at = p + 1;
			while (*at && !strchr(" \t\r\n\"'/@", *at))
				at++;
			if (*at == '@') {
				bytebuf_puts(&out, ":***@");
				p = at + 1;
				continue;
			}
		}
		bytebuf_putc(&out, *p++);
	}
	char *masked = pm_strdup(out.data ? bytebuf_cstr(&out) : "");
	bytebuf_free(&out);
	return masked;
}

PGconn *db_connect(const char *conninfo)
{
	const char *keys[] = { "dbname", "fallback_application_name", "client_encoding", NULL };
	const char *vals[] = { conninfo && *conninfo ? conninfo : NULL, pm_progname(), "UTF8", NULL };
	int password = db_conninfo_has_password(conninfo);

	/* Each tool's main refuses a password naming its option (db_refuse_password): this is the net. */
	if (password == 1)
		pm_die(PM_EXIT_USAGE, PASSWORD_REFUSED, "the connection string", "it");
	if (password < 0)
		pm_die(PM_EXIT_DATABASE, "cannot connect: the connection string is malformed"
					 " (libpq's message is not shown: it can quote a password)");
	PGconn *conn = PQconnectdbParams(keys, vals, 1);

	if (!conn)
		pm_die(PM_EXIT_DATABASE, "out of memory (connection)");
	if (PQstatus(conn) != CONNECTION_OK) {
		/* libpq's message names host, port and user; a server can echo a database name that
		 * holds user:password@ (PGDATABASE, a service file), which is masked. */
		char *msg = db_mask_secrets(PQerrorMessage(conn));
		size_t n = strlen(msg);
		while (n > 0 && msg[n - 1] == '\n')
			msg[--n] = '\0';
		PQfinish(conn);
		pm_die(PM_EXIT_DATABASE, "cannot connect: %s", msg);
	}
	PQsetNoticeReceiver(conn, on_notice, NULL);
	/* Fixed output styles: the same rows give the same bytes whatever the server's defaults.  And
	 * the compatibility layer carries no write of a pm tool: a load moves rows that are on the other
	 * side already (schemas/compat.sql, pm.compat_carrying). */
	db_exec(conn, "setting session defaults",
		"SELECT pg_catalog.set_config('datestyle', 'ISO, YMD', false),"
		" pg_catalog.set_config('timezone', 'UTC', false),"
		" pg_catalog.set_config('intervalstyle', 'postgres', false),"
		" pg_catalog.set_config('extra_float_digits', '1', false),"
		" pg_catalog.set_config('bytea_output', 'hex', false),"
		" pg_catalog.set_config('pm.compat_carrying', 'on', false)");
	return conn;
}

void db_close(PGconn *conn)
{
	PQfinish(conn);
}

const char *db_sqlstate(const PGresult *res)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

bool db_sqlstate_in_class(const char *state, const char *class)
{
	return strncmp(state, class, 2) == 0;
}

void db_die_duplicate(const char *label, unsigned long long record, const char *constraint, const char *what)
{
	if (record)
		pm_die(PM_EXIT_DATA,
		       "%s: record %llu: duplicate key value violates unique constraint \"%s\" (SQLSTATE "
		       SQLSTATE_UNIQUE_VIOLATION "); nothing loaded",
		       label, record, constraint);
	pm_die(PM_EXIT_DATA,
	       "%s: %s: duplicate key value violates unique constraint \"%s\" (SQLSTATE " SQLSTATE_UNIQUE_VIOLATION
	       "); nothing loaded",
	       label, what, constraint);
}

/* The first line of libpq's message, without a severity ("FATAL:  "): only the primary text. */
static char *first_line(PGconn *conn)
{
	char *msg = db_mask_secrets(PQerrorMessage(conn));
	char *nl = strchr(msg, '\n');
	static const char *const severities[] = { "FATAL:  ", "ERROR:  ", "PANIC:  " };

	if (nl)
		*nl = '\0';
	for (size_t i = 0; i < sizeof severities / sizeof *severities; i++) {
		size_t n = strlen(severities[i]);
		if (strncmp(msg, severities[i], n) == 0)
			memmove(msg, msg + n, strlen(msg + n) + 1);
	}
	return msg;
}

void db_die(PGconn *conn, PGresult *res, const char *what)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (!primary) {
		PQclear(res);
		/* No server error fields: libpq's own words, which hold a server's last FATAL, the
		 * reason a connection ended ("terminating connection due to administrator command"). */
		char *msg = first_line(conn);
		if (PQstatus(conn) == CONNECTION_BAD)
			pm_die(PM_EXIT_DATABASE, "%s: lost the connection to the server%s%s", what, *msg ? ": " : "", msg);
		pm_die(PM_EXIT_DATABASE, "%s: %s", what, *msg ? msg : "unknown database error");
	}
	/* Copied out so that the result is freed before the exit: valgrind counts no leak. */
	char text[1024];
	char *masked = db_mask_secrets(primary);
	if (PQstatus(conn) == CONNECTION_BAD)
		snprintf(text, sizeof text, "lost the connection to the server: %s", masked);
	else
		snprintf(text, sizeof text, "%s (SQLSTATE %s)", masked, db_sqlstate(res));
	free(masked);
	PQclear(res);
	pm_die(PM_EXIT_DATABASE, "%s: %s", what, text);
}

PGresult *db_query(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		db_die(conn, res, what);
	return res;
}

void db_exec(PGconn *conn, const char *what, const char *sql)
{
	PQclear(db_query(conn, what, sql, 0, NULL));
}

uint64_t db_command(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = db_query(conn, what, sql, nparams, params);
	uint64_t n = db_result_count(res);

	PQclear(res);
	return n;
}

char *db_query_value(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = db_query(conn, what, sql, nparams, params);
	const char *v = db_value(res, 0, 0);
	char *copy = v ? pm_strdup(v) : NULL;

	PQclear(res);
	return copy;
}

bool db_try_query(PGconn *conn, const char *sql, int nparams, const char *const *params, PGresult **res)
{
	*res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(*res);

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

bool db_try_exec(PGconn *conn, const char *sql)
{
	PGresult *res;
	bool ok = db_try_query(conn, sql, 0, NULL, &res);

	PQclear(res);
	return ok;
}

bool db_try_uint64(PGconn *conn, const char *sql, int nparams, const char *const *params, uint64_t *value)
{
	PGresult *res;
	bool ok = db_try_query(conn, sql, nparams, params, &res);
	const char *v = ok ? db_value(res, 0, 0) : NULL;

	if (v)
		*value = strtoull(v, NULL, 10);
	PQclear(res);
	return v != NULL;
}

int db_rows(const PGresult *res)
{
	return PQntuples(res);
}

const char *db_value(const PGresult *res, int row, int column)
{
	if (row >= PQntuples(res) || column >= PQnfields(res) || PQgetisnull(res, row, column))
		return NULL;
	return PQgetvalue(res, row, column);
}

uint64_t db_result_count(const PGresult *res)
{
	return strtoull(PQcmdTuples((PGresult *)res), NULL, 10);
}

void db_clear(PGresult *res)
{
	PQclear(res);
}

const char *db_error_field(const PGresult *res, int field)
{
	return res ? PQresultErrorField(res, field) : NULL;
}

bool db_connection_lost(PGconn *conn)
{
	return PQstatus(conn) == CONNECTION_BAD;
}

typedef char *(*escape_fn)(PGconn *conn, const char *str, size_t len);

static void append_escaped(PGconn *conn, struct bytebuf *sql, const char *s, escape_fn escape, const char *what)
{
	char *q = escape(conn, s, strlen(s));

	if (!q) {
		char *msg = db_mask_secrets(PQerrorMessage(conn));
		pm_die(PM_EXIT_USAGE, "invalid %s: %s", what, msg);
	}
	bytebuf_puts(sql, q);
	PQfreemem(q);
}

void db_append_ident(PGconn *conn, struct bytebuf *sql, const char *name)
{
	append_escaped(conn, sql, name, PQescapeIdentifier, "identifier");
}

void db_append_literal(PGconn *conn, struct bytebuf *sql, const char *value)
{
	append_escaped(conn, sql, value, PQescapeLiteral, "literal");
}

void db_append_ident_list(PGconn *conn, struct bytebuf *sql, char *const *names, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			bytebuf_puts(sql, ", ");
		if (prefix)
			bytebuf_puts(sql, prefix);
		db_append_ident(conn, sql, names[i]);
	}
}

/* Start a COPY in either direction (expected: PGRES_COPY_OUT or PGRES_COPY_IN); fatal otherwise. */
static void copy_begin(PGconn *conn, const char *what, const char *sql, ExecStatusType expected)
{
	PGresult *res = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0); /* one statement only */

	if (PQresultStatus(res) != expected)
		db_die(conn, res, what);
	PQclear(res);
}

/* After PQgetCopyData's last row (n is what it returned): an error can arrive after rows have,
 * so the final result decides, never the row count. */
static void copy_out_end(PGconn *conn, const char *what, int n)
{
	PGresult *res;

	if (n == -2)
		db_die(conn, NULL, what);
	while ((res = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			db_die(conn, res, what);
		PQclear(res);
	}
	if (PQstatus(conn) != CONNECTION_OK)
		db_die(conn, NULL, what);
}

uint64_t db_copy_out(PGconn *conn, const char *what, const char *sql, db_row_sink sink, void *ctx)
{
	uint64_t rows = 0;
	char *row;
	int n;

	copy_begin(conn, what, sql, PGRES_COPY_OUT);
	while ((n = PQgetCopyData(conn, &row, 0)) > 0) {
		sink(ctx, row, (size_t)n);
		PQfreemem(row);
		rows++;
	}
	copy_out_end(conn, what, n);
	return rows;
}

struct db_copy_rows {
	PGconn *conn;
	char *what;
	char *row; /* the row handed out last */
	bool done;
};

struct db_copy_rows *db_copy_rows_open(PGconn *conn, const char *what, const char *sql)
{
	struct db_copy_rows *r = pm_malloc(sizeof *r);

	*r = (struct db_copy_rows){ .conn = conn, .what = pm_strdup(what) };
	copy_begin(conn, what, sql, PGRES_COPY_OUT);
	return r;
}

char *db_copy_rows_next(struct db_copy_rows *r, size_t *len)
{
	PQfreemem(r->row);
	r->row = NULL;
	if (r->done)
		return NULL;
	int n = PQgetCopyData(r->conn, &r->row, 0);
	if (n <= 0) {
		r->row = NULL;
		r->done = true;
		copy_out_end(r->conn, r->what, n);
		return NULL;
	}
	*len = (size_t)n;
	return r->row;
}

void db_copy_rows_close(struct db_copy_rows *r)
{
	PQfreemem(r->row);
	free(r->what);
	free(r);
}

void db_copy_in_begin(PGconn *conn, const char *what, const char *sql)
{
	copy_begin(conn, what, sql, PGRES_COPY_IN);
}

void db_copy_in_send(PGconn *conn, const char *what, const char *data, size_t len)
{
	if (len > 0 && PQputCopyData(conn, data, (int)len) != 1)
		db_die(conn, NULL, what);
}

/* Read "COPY rel, line N[, column C]: ..." without passing on the row values it quotes. */
static void parse_copy_context(const char *ctx, uint64_t *line, char *column, size_t column_size,
			       char *const *columns, size_t ncolumns)
{
	const char *p = ctx ? strstr(ctx, ", line ") : NULL;
	size_t best = 0;

	*line = 0;
	column[0] = '\0';
	if (!p)
		return;
	*line = strtoull(p + 7, (char **)&p, 10);
	if (strncmp(p, ", column ", 9) != 0)
		return;
	p += 9;
	/* Column names may hold ": ", so match the longest known name instead of scanning. */
	for (size_t i = 0; i < ncolumns; i++) {
		size_t n = strlen(columns[i]);
		if (n > best && strncmp(p, columns[i], n) == 0 && (p[n] == ':' || p[n] == '\0') && n < column_size) {
			memcpy(column, columns[i], n + 1);
			best = n;
		}
	}
}

PGresult *db_copy_in_end(PGconn *conn, const char *what, uint64_t *line, char *column, size_t column_size,
			 char *const *columns, size_t ncolumns)
{
	PGresult *res, *failed = NULL;

	if (PQputCopyEnd(conn, NULL) != 1)
		db_die(conn, NULL, what);
	while ((res = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && !failed) {
			failed = res;
			parse_copy_context(PQresultErrorField(res, PG_DIAG_CONTEXT), line, column, column_size,
					   columns, ncolumns);
			continue;
		}
		PQclear(res);
	}
	if (!failed && PQstatus(conn) != CONNECTION_OK)
		db_die(conn, NULL, what);
	return failed;
}

void db_begin_snapshot(PGconn *conn, const char *snapshot)
{
	db_exec(conn, "starting the transaction", "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	if (!snapshot)
		return;
	/* SET TRANSACTION SNAPSHOT takes no parameters: the id goes in as an escaped literal. */
	struct bytebuf sql = { 0 };
	db_exec(conn, "joining the snapshot", sql_printf(&sql, conn, "SET TRANSACTION SNAPSHOT %L", snapshot));
	bytebuf_free(&sql);
}
