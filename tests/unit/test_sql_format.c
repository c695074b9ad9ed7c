/* Unit tests of sql_format: each directive, names and literals escaped as libpq escapes them. */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "sql_format.h"
#include "tap.h"

int main(void)
{
	/* Escaping needs a connection object, not a server: one that failed to connect serves. */
	PGconn *conn = PQconnectdb("host=/nonexistent/pm-unit-test connect_timeout=1");
	struct bytebuf b = { 0 };
	char *cols_items[] = { "id", "a\"b", "Mixed" };
	struct namelist cols = { cols_items, 3 };
	struct namelist none = { NULL, 0 };
	const char *got;

	ok(conn != NULL, "a connection object to escape with");

	got = sql_printf(&b, conn, "ALTER TABLE %I.%I ADD CONSTRAINT %I %s", "pm", "keymap_x", "k", "PRIMARY KEY (id)");
	ok(strcmp(got, "ALTER TABLE \"pm\".\"keymap_x\" ADD CONSTRAINT \"k\" PRIMARY KEY (id)") == 0, "%%I and %%s: %s", got);

	got = sql_printf(&b, conn, "SELECT %I", "it\"s");
	ok(strcmp(got, "SELECT \"it\"\"s\"") == 0, "a quote in a name is doubled: %s", got);

	got = sql_printf(&b, conn, "SET TRANSACTION SNAPSHOT %L", "00000003-1");
	ok(strcmp(got, "SET TRANSACTION SNAPSHOT '00000003-1'") == 0, "%%L: %s", got);

	got = sql_printf(&b, conn, "SELECT %L", "it's");
	ok(strcmp(got, "SELECT 'it''s'") == 0, "a quote in a literal is doubled: %s", got);

	got = sql_printf(&b, conn, "SELECT %L", "back\\slash");
	ok(strcmp(got, "SELECT  E'back\\\\slash'") == 0, "a backslash makes an E'' literal, as PQescapeLiteral does: %s", got);

	got = sql_printf(&b, conn, "INSERT INTO t (%N) SELECT %N FROM s", (const char *)NULL, &cols, "s.", &cols);
	ok(strcmp(got, "INSERT INTO t (\"id\", \"a\"\"b\", \"Mixed\") SELECT s.\"id\", s.\"a\"\"b\", s.\"Mixed\" FROM s") == 0,
	   "%%N with and without a prefix: %s", got);

	got = sql_printf(&b, conn, "ROW(%N)", "t.", &none);
	ok(strcmp(got, "ROW()") == 0, "%%N of no names: %s", got);

	got = sql_printf(&b, conn, "%d %zu %llu %d", -7, (size_t)42, 18446744073709551615ULL, 0);
	ok(strcmp(got, "-7 42 18446744073709551615 0") == 0, "%%d, %%zu, %%llu: %s", got);

	got = sql_printf(&b, conn, "%u %u %lld %lld", 4294967295U, 0U, -9223372036854775807LL - 1, 5LL);
	ok(strcmp(got, "4294967295 0 -9223372036854775808 5") == 0, "%%u, %%lld: %s", got);

	got = sql_printf(&b, conn, "SELECT 100%% FROM k%zu", (size_t)3);
	ok(strcmp(got, "SELECT 100% FROM k3") == 0, "%%%% and a directive right after text: %s", got);

	got = sql_printf(&b, conn, "no directives");
	ok(strcmp(got, "no directives") == 0, "plain text as it is: %s", got);

	b.len = 0;
	sql_appendf(&b, conn, "SELECT %I", "a");
	sql_appendf(&b, conn, ", %I", "b");
	ok(strcmp(bytebuf_cstr(&b), "SELECT \"a\", \"b\"") == 0, "sql_appendf appends, sql_printf starts again: %s",
	   bytebuf_cstr(&b));

	got = sql_printf(&b, conn, "%s", "");
	ok(strcmp(got, "") == 0 && b.len == 0, "an empty statement");

	bytebuf_free(&b);
	PQfinish(conn);
	return tap_done();
}
