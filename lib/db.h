/*
 * db: the one place that talks to libpq.  Connections, statements, COPY in both
 * directions, and PostgreSQL errors turned into one-line messages.  Messages keep
 * the server's primary text and SQLSTATE but never its DETAIL or row context,
 * which can print whole rows, api keys included.
 */
#ifndef PM_DB_H
#define PM_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "bytebuf.h"

/*
 * Passwords stay off command lines (ps shows them to every user).  Whether a connection string
 * holds one is decided by libpq's own parser, PQconninfoParse: a keyword string or URI, its
 * percent-encoding decoded, and a dbname that is a connection string itself (libpq expands it).
 * 1 it holds one, 0 it does not (NULL, "", a plain database name), -1 libpq cannot parse it.
 */
int db_conninfo_has_password(const char *conninfo);
/* Exit 2, naming option and never the string, when conninfo holds a password; the check a
 * tool's main makes before it opens any file or connection.  A malformed one is db_connect's. */
void db_refuse_password(const char *option, const char *conninfo);
/* pm-extract --check-conninfo, for the pipelines: the connection string on standard input
 * (all of it, no newline added) gives 0 no password, 1 a password, 3 libpq cannot parse it. */
int db_check_conninfo_stdin(void);

/* pm-extract --mask-secrets, for the pipelines: standard input to standard output, each line's
 * passwords masked as db_mask_secrets does (what psql and pg_dump print can quote a server's echo). */
int db_mask_secrets_stdin(void);
/* A copy of a libpq or server message (malloc'd) with each user:password@ and password=value
 * masked as user:***@ and password=***: a server echoes a database name as it was given. */
char *db_mask_secrets(const char *msg);

/* Connect with a libpq keyword string or URI; NULL or "" leaves it to the PG* environment. */
PGconn *db_connect(const char *conninfo);
void db_close(PGconn *conn);

/* Run a statement with text parameters; any result but success is fatal (exit 4). */
PGresult *db_query(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params);
void db_exec(PGconn *conn, const char *what, const char *sql);

/* Run a command (parameters as db_query's); its row count (INSERT, UPDATE, SELECT...). */
uint64_t db_command(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params);
/* The first row's first value, malloc'd; NULL for no row or SQL NULL.  A failure is fatal. */
char *db_query_value(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params);

/*
 * A statement that may fail, and says so: true with *res its result, false with *res the
 * failed result, for the caller to read (db_sqlstate, db_error_field) and free (db_clear),
 * or to hand to db_die.  The connection stays open either way.
 */
bool db_try_query(PGconn *conn, const char *sql, int nparams, const char *const *params, PGresult **res);
/* A statement whose failure means only "cannot tell" (a lookup after an error): true if it ran. */
bool db_try_exec(PGconn *conn, const char *sql);
/* The first row's first value of a query that may fail, as a whole number: false when the query
 * failed or gave no row or NULL. */
bool db_try_uint64(PGconn *conn, const char *sql, int nparams, const char *const *params, uint64_t *value);

/* A result's rows, a value (NULL for SQL NULL; valid until db_clear), its row count as a command's. */
int db_rows(const PGresult *res);
const char *db_value(const PGresult *res, int row, int column);
uint64_t db_result_count(const PGresult *res);
void db_clear(PGresult *res);
/* A field of a failed result (PG_DIAG_CONSTRAINT_NAME ...), NULL when the server sent none. */
const char *db_error_field(const PGresult *res, int field);
/* Has the server gone (the connection is bad, whatever the last result said)? */
bool db_connection_lost(PGconn *conn);

/* Exit 4 with "what: message (SQLSTATE)" from a failed result (freed) or the connection. */
_Noreturn void db_die(PGconn *conn, PGresult *res, const char *what);

/* Append an escaped identifier ("a ""b""") to sql; names may hold any character. */
void db_append_ident(PGconn *conn, struct bytebuf *sql, const char *name);
/* Append a quoted literal ('it''s'), for the few statements that take no parameters. */
void db_append_literal(PGconn *conn, struct bytebuf *sql, const char *value);
void db_append_ident_list(PGconn *conn, struct bytebuf *sql, char *const *names, size_t n, const char *prefix);

/* COPY ... TO STDOUT: call sink with each row as it arrives; returns the row count. */
typedef void (*db_row_sink)(void *ctx, const char *row, size_t len);
uint64_t db_copy_out(PGconn *conn, const char *what, const char *sql, db_row_sink sink, void *ctx);

/*
 * COPY ... TO STDOUT one row at a time: db_copy_rows_next hands out each row
 * (writable, valid until the next call) and, after the last, checks the final
 * result and returns NULL, so a server error is exit 4, never a short read.
 */
struct db_copy_rows;
struct db_copy_rows *db_copy_rows_open(PGconn *conn, const char *what, const char *sql);
char *db_copy_rows_next(struct db_copy_rows *r, size_t *len);
void db_copy_rows_close(struct db_copy_rows *r);

/*
 * COPY ... FROM STDIN.  On a server error, db_copy_in_end reports the CSV line the
 * server names (PostgreSQL counts the records sent, 1 for the first) in *line and
 * the column in column (empty when none), and returns the failed result; NULL on success.
 */
void db_copy_in_begin(PGconn *conn, const char *what, const char *sql);
void db_copy_in_send(PGconn *conn, const char *what, const char *data, size_t len);
PGresult *db_copy_in_end(PGconn *conn, const char *what, uint64_t *line, char *column, size_t column_size,
			 char *const *columns, size_t ncolumns);

/* BEGIN a read-only REPEATABLE READ transaction, in the exported snapshot when one is given. */
void db_begin_snapshot(PGconn *conn, const char *snapshot);

/* A result's SQLSTATE ("" when absent). */
const char *db_sqlstate(const PGresult *res);

/* The SQLSTATEs pm tells apart, named as PostgreSQL's errcodes.txt names them, and two classes
 * (the first two characters). */
#define SQLSTATE_CARDINALITY_VIOLATION "21000"
#define SQLSTATE_UNIQUE_VIOLATION "23505"
#define SQLSTATE_CLASS_DATA_EXCEPTION "22"
#define SQLSTATE_CLASS_INTEGRITY_CONSTRAINT_VIOLATION "23"

/* Is state of class (two characters)? */
bool db_sqlstate_in_class(const char *state, const char *class);

/* Exit 3: record (0: none found) repeats a key of the unique constraint named; what says what was
 * being done when no record is named.  The one wording of a duplicate key, on every load path. */
_Noreturn void db_die_duplicate(const char *label, unsigned long long record, const char *constraint,
				const char *what);

#endif
