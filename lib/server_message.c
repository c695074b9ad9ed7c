#include <string.h>

#include "db.h"
#include "server_message.h"

/* The length of the known name that text (just after an opening quote) spells out with its closing quote; 0 if none. */
static size_t known_name_at(const char *text, const char *const *known, size_t nknown, char *const *names, size_t nnames)
{
	size_t best = 0;

	for (size_t i = 0; i < nknown + nnames; i++) {
		const char *name = i < nknown ? known[i] : names[i - nknown];
		size_t len = name ? strlen(name) : 0;
		/* The longest match: PostgreSQL does not double a quote inside a name it quotes. */
		if (len > best && strncmp(text, name, len) == 0 && text[len] == '"')
			best = len;
	}
	return best;
}

/* Drop a ": " or " " that would be left dangling before a removed value. */
static void trim_before_value(struct bytebuf *out, size_t start)
{
	while (out->len > start && (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == ':'))
		out->len--;
}

void server_message_append_text(struct bytebuf *out, const char *primary, const char *const *known, size_t nknown,
				char *const *names, size_t nnames)
{
	const char *last_quote = strrchr(primary, '"');
	const char *p = primary;
	size_t start = out->len;

	while (*p) {
		const char *quote = strchr(p, '"');
		if (!quote) {
			bytebuf_puts(out, p);
			break;
		}
		bytebuf_append(out, p, (size_t)(quote - p + 1));
		size_t len = known_name_at(quote + 1, known, nknown, names, nnames);
		if (len) {
			bytebuf_append(out, quote + 1, len + 1);
			p = quote + len + 2;
			continue;
		}
		/* A value: it may hold quotes itself, so all up to the last quote goes, and a ": 0xff"
		 * after it (the bytes of a value an encoding refused) goes too. */
		out->len--;
		trim_before_value(out, start);
		p = last_quote + 1;
		if (*p == ':')
			break;
		if (*p && *p != ' ')
			bytebuf_putc(out, ' ');
	}
}

void server_message_append(struct bytebuf *out, const PGresult *res, char *const *names, size_t nnames)
{
	const char *primary = db_error_field(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *known[] = {
		db_error_field(res, PG_DIAG_COLUMN_NAME),     db_error_field(res, PG_DIAG_TABLE_NAME),
		db_error_field(res, PG_DIAG_CONSTRAINT_NAME), db_error_field(res, PG_DIAG_DATATYPE_NAME),
		db_error_field(res, PG_DIAG_SCHEMA_NAME),
	};

	server_message_append_text(out, primary ? primary : "unknown database error", known,
				   sizeof known / sizeof known[0], names, nnames);
}
