#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "sql_format.h"

static void append_number(struct bytebuf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void append_number(struct bytebuf *buf, const char *fmt, ...)
{
	char text[32];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	bytebuf_append(buf, text, (size_t)n);
}

static _Noreturn void bad_directive(const char *fmt, const char *at)
{
	fprintf(stderr, "sql_appendf: unknown directive at offset %zu of \"%s\"\n", (size_t)(at - fmt), fmt);
	abort();
}

void sql_vappendf(struct bytebuf *buf, PGconn *conn, const char *fmt, va_list ap)
{
	const char *p = fmt;

	while (*p) {
		const char *pct = strchr(p, '%');
		if (!pct) {
			bytebuf_puts(buf, p);
			return;
		}
		bytebuf_append(buf, p, (size_t)(pct - p));
		p = pct + 1;
		switch (*p++) {
		case 'I': db_append_ident(conn, buf, va_arg(ap, const char *)); break;
		case 'L': db_append_literal(conn, buf, va_arg(ap, const char *)); break;
		case 's': bytebuf_puts(buf, va_arg(ap, const char *)); break;
		case 'd': append_number(buf, "%d", va_arg(ap, int)); break;
		case 'u': append_number(buf, "%u", va_arg(ap, unsigned)); break;
		case '%': bytebuf_putc(buf, '%'); break;
		case 'N': {
			const char *prefix = va_arg(ap, const char *);
			const struct namelist *names = va_arg(ap, const struct namelist *);
			db_append_ident_list(conn, buf, names->items, names->n, prefix);
			break;
		}
		case 'z':
			if (*p++ != 'u')
				bad_directive(fmt, pct);
			append_number(buf, "%zu", va_arg(ap, size_t));
			break;
		case 'l':
			if (p[0] != 'l' || (p[1] != 'u' && p[1] != 'd'))
				bad_directive(fmt, pct);
			if (p[1] == 'u')
				append_number(buf, "%llu", va_arg(ap, unsigned long long));
			else
				append_number(buf, "%lld", va_arg(ap, long long));
			p += 2;
			break;
		default: bad_directive(fmt, pct);
		}
	}
}

void sql_appendf(struct bytebuf *buf, PGconn *conn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sql_vappendf(buf, conn, fmt, ap);
	va_end(ap);
}

const char *sql_printf(struct bytebuf *buf, PGconn *conn, const char *fmt, ...)
{
	va_list ap;

	buf->len = 0;
	va_start(ap, fmt);
	sql_vappendf(buf, conn, fmt, ap);
	va_end(ap);
	return bytebuf_cstr(buf);
}
