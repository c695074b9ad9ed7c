/*
 * server_message: a failed result's primary message as it may be shown to a person.
 * PostgreSQL quotes the value it refused ('invalid input syntax for type boolean:
 * "C81E..."', 'value "99999999999" is out of range for type integer'), and a value
 * can be a secret: every quoted text that is not one of the names the error is
 * about (its column, table, constraint, type, schema, or a name the caller knows) is
 * left out, with what follows it up to the message's last quote.  DETAIL and CONTEXT
 * (which print keys and whole rows) are never used.
 */
#ifndef PM_SERVER_MESSAGE_H
#define PM_SERVER_MESSAGE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "bytebuf.h"

/* Append the message, without its values, to out; names (may be NULL) are identifiers kept when quoted. */
void server_message_append(struct bytebuf *out, const PGresult *res, char *const *names, size_t nnames);

/* The same for a bare message text and the names it may quote (for tests and callers without a result). */
void server_message_append_text(struct bytebuf *out, const char *primary, const char *const *known, size_t nknown,
				char *const *names, size_t nnames);

#endif
