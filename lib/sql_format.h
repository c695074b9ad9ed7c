/*
 * sql_format: a statement written as one format string, its names escaped as it is
 * built, as pg_dump writes appendPQExpBuffer(q, "ALTER TABLE %s ...", fmtId(name)).
 * For statements built once per load or check, never per row.
 *
 *   %I  const char *: an identifier, quoted as PQescapeIdentifier quotes it ("a ""b""")
 *   %L  const char *: a literal, quoted as PQescapeLiteral quotes it ('it''s'), for the
 *       few statements that take no parameters
 *   %N  const char *prefix (NULL: none), const struct namelist *: its names as %I,
 *       comma-separated, each after prefix ("s.", "EXCLUDED.")
 *   %s  const char *: trusted SQL text as it is (an escaped name built before, a type
 *       name from format_type, regclass text, a fragment built by the caller)
 *   %d  int    %u  unsigned    %zu  size_t    %lld  long long    %llu  unsigned long long
 *   %%  a percent sign
 *
 * Any other directive is a bug in the caller: it aborts.
 */
#ifndef PM_SQL_FORMAT_H
#define PM_SQL_FORMAT_H

#include <libpq-fe.h>
#include <stdarg.h>

#include "bytebuf.h"
#include "namelist.h"

/* Append the statement to buf; conn gives the escaping its client encoding. */
void sql_appendf(struct bytebuf *buf, PGconn *conn, const char *fmt, ...);
void sql_vappendf(struct bytebuf *buf, PGconn *conn, const char *fmt, va_list ap);

/* buf emptied, then sql_appendf: the statement as a C string, valid until buf changes. */
const char *sql_printf(struct bytebuf *buf, PGconn *conn, const char *fmt, ...);

#endif
