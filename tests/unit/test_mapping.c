/* Unit tests of mapping: pm-map(5) files read into columns, and each malformed file refused (exit 2, file:line). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "fixture.h"
#include "mapping.h"
#include "pm_error.h"
#include "pm_limits.h"
#include "tap.h"

static void load(void *path)
{
	mapping_free(mapping_load(path));
}

/* The file is refused with exit 2 and "test_mapping: FILE:LINE: message..." on stderr. */
static void refused(const char *text, int line, const char *message)
{
	char err[1024], want[512];
	const char *p = write_text("bad.map", text);
	int status = child_run(load, (void *)p, err, sizeof err);
	if (line > 0)
		snprintf(want, sizeof want, "test_mapping: %s:%d: %s", p, line, message);
	else
		snprintf(want, sizeof want, "test_mapping: %s: %s", p, message);
	bool same = status == PM_EXIT_USAGE && strncmp(err, want, strlen(want)) == 0 && strchr(err, '\n') == err + strlen(err) - 1;
	ok(same, "refused (line %d): %s", line, message);
	if (!same)
		printf("#   status %d, stderr: %s#   wanted: %s\n", status, err, want);
}

static void test_good(void)
{
	const char *p = write_text("good.map", "# a comment line\n"
					      "\n"
					      "   \t  \n"
					      "column id integer not-null   # the key\n"
					      "target \"my table\"\r\n"
					      "column \"a b\" varchar(20) null from \"src \"\"q\"\"\"\n"
					      "column k bigint null keymap profile\n"
					      "column c text not-null const \"\"\n"
					      "column z smallint null const-null\n"
					      "column ip varchar(255) not-null warn ip-or-url reject ip-or-url\n"
					      "column b boolean not-null const \" yes \" \n"
					      "column a#b text null\n"
					      "column dup integer null from id\n");
	struct mapping *m = mapping_load(p);
	ok(m->target && strcmp(m->target, "my table") == 0, "target: a quoted name, anywhere in the file, CR LF read as LF");
	ok(m->ncolumns == 9, "nine columns");
	ok(strcmp(m->path, p) == 0, "the mapping keeps its path");
	const struct map_column *c = m->columns;
	ok(strcmp(c[0].name, "id") == 0 && c[0].type.type == TYPE_INTEGER && c[0].not_null && strcmp(c[0].from, "id") == 0 &&
		   !c[0].constant && !c[0].keymap && c[0].nchecks == 0 && c[0].line == 4,
	   "id: integer not-null, from the column of its own name, line 4, comment dropped");
	ok(strcmp(c[1].name, "a b") == 0 && c[1].type.type == TYPE_VARCHAR && c[1].type.max_chars == 20 && !c[1].not_null &&
		   strcmp(c[1].from, "src \"q\"") == 0,
	   "a quoted name and a quoted source with doubled quotes; varchar(20)");
	ok(c[2].type.type == TYPE_BIGINT && c[2].keymap && strcmp(c[2].keymap, "profile") == 0 && strcmp(c[2].from, "k") == 0,
	   "keymap on a bigint column");
	ok(!c[3].from && c[3].constant && strcmp(c[3].constant, "") == 0, "const \"\" is the empty string");
	ok(!c[4].from && !c[4].constant && !c[4].not_null, "const-null: neither a source nor a constant");
	ok(c[5].nchecks == 2 && c[5].checks[0].action == CHECK_WARN && c[5].checks[1].action == CHECK_REJECT &&
		   c[5].checks[0].kind == CHECK_IP_OR_URL,
	   "warn and reject checks, in the order written");
	ok(c[6].constant && strcmp(c[6].constant, " yes ") == 0, "a constant is kept as written (checked, not normalised)");
	ok(strcmp(c[7].name, "a#b") == 0, "# inside a word is part of it");
	ok(strcmp(c[8].from, "id") == 0, "one source column may feed two target columns");
	mapping_free(m);

	/* The largest file the limit allows. */
	size_t cap = 64 + (size_t)PM_MAX_COLUMNS * 32, len = 0;
	char *big = malloc(cap);
	len += (size_t)snprintf(big + len, cap - len, "target t\n");
	for (int i = 0; i < PM_MAX_COLUMNS; i++)
		len += (size_t)snprintf(big + len, cap - len, "column c%d integer null\n", i);
	m = mapping_load(write_text("max.map", big));
	ok(m->ncolumns == PM_MAX_COLUMNS && strcmp(m->columns[PM_MAX_COLUMNS - 1].name, "c1599") == 0,
	   "%d columns, the limit, are read", PM_MAX_COLUMNS);
	mapping_free(m);
	snprintf(big + len, cap - len, "column one_more integer null\n");
	refused(big, PM_MAX_COLUMNS + 2, "more than 1600 columns");
	free(big);

	/* Four checks, the most a column takes. */
	m = mapping_load(write_text("words.map", "target t\n"
						"column x integer null warn ip-or-url warn ip-or-url reject ip-or-url reject ip-or-url\n"));
	ok(m->columns[0].nchecks == 4, "four checks are the most a column takes");
	mapping_free(m);
}

static void test_bad(void)
{
	refused("", 0, "no target line");
	refused("# only a comment\n", 0, "no target line");
	refused("column a integer null\n", 0, "no target line");
	refused("target t\n", 0, "no column lines");
	refused("target t\ntarget u\ncolumn a integer null\n", 2, "a second target");
	refused("target\ncolumn a integer null\n", 1, "target takes one table name");
	refused("target a b\n", 1, "target takes one table name");
	refused("target \"\"\n", 1, "the target name cannot be empty");
	refused("target t\nTarget u\n", 2, "unknown directive \"Target\"");
	refused("target t\ncolumns a integer null\n", 2, "unknown directive \"columns\"");
	refused("target t\ncolumn\n", 2, "column needs a name");
	refused("target t\ncolumn a\n", 2, "column needs a type");
	refused("target t\ncolumn a integer\n", 2, "column needs null or not-null");
	refused("target t\ncolumn \"\" integer null\n", 2, "a column name cannot be empty");
	refused("target t\ncolumn a int null\n", 2, "unknown type \"int\"");
	refused("target t\ncolumn a INTEGER null\n", 2, "unknown type \"INTEGER\"");
	refused("target t\ncolumn a varchar(0) null\n", 2, "unknown type \"varchar(0)\"");
	refused("target t\ncolumn a integer nullable\n", 2, "expected null or not-null, not \"nullable\"");
	refused("target t\ncolumn a integer NULL\n", 2, "expected null or not-null, not \"NULL\"");
	refused("target t\ncolumn a integer null from\n", 2, "from needs a source column");
	refused("target t\ncolumn a integer null from \"\"\n", 2, "a source column name cannot be empty");
	refused("target t\ncolumn a integer null const\n", 2, "const needs a value");
	refused("target t\ncolumn a integer null keymap\n", 2, "keymap needs a name");
	refused("target t\ncolumn a integer null warn\n", 2, "a check needs a name");
	refused("target t\ncolumn a integer null from b const 1\n", 2, "a second source: \"const\"");
	refused("target t\ncolumn a integer null const-null from b\n", 2, "a second source: \"from\"");
	refused("target t\ncolumn a integer null keymap k keymap k\n", 2, "a second key map");
	refused("target t\ncolumn a text null keymap k\n", 2, "a key map needs an integer column: \"a\"");
	refused("target t\ncolumn a boolean null keymap k\n", 2, "a key map needs an integer column: \"a\"");
	refused("target t\ncolumn a integer not-null const-null\n", 2, "const-null in a not-null column: \"a\"");
	refused("target t\ncolumn a integer null const x\n", 2, "not a whole number \"x\"");
	refused("target t\ncolumn a smallint null const 32768\n", 2, "out of range for smallint \"32768\"");
	refused("target t\ncolumn a varchar(2) null const abc\n", 2, "too long \"abc\"");
	refused("target t\ncolumn a integer null warn ip-or-url warn ip-or-url warn ip-or-url warn ip-or-url warn ip-or-url\n", 2,
		"too many checks");
	refused("target t\ncolumn a integer null warn is-url\n", 2, "unknown check \"is-url\"");
	refused("target t\ncolumn a integer null nullable\n", 2, "unknown word \"nullable\"");
	refused("target t\ncolumn a integer null\ncolumn a text null\n", 3, "column named twice: \"a\"");
	refused("target t\ncolumn \"a\" integer null\ncolumn a text null\n", 3, "column named twice: \"a\"");
	refused("target t\ncolumn \"a integer null\n", 2, "unterminated quote");
	refused("target t\ncolumn \"a\"b integer null\n", 2, "text right after a closing quote");
	refused("target t\ncolumn a integer null\n"
		"column b integer null x x x x x x x x x x x x x x x x x x x x x x x x x x x x x\n",
		3, "too many words");
	refused("target t\ncolumn a integer null\n"
		"column b integer null x x x x x x x x x x x x x x x x x x x x x x x x x x x x\n",
		3, "unknown word \"x\""); /* 32 words: read, then refused by the column's own rule */
	/* The first error in the file is the one reported. */
	refused("target t\ncolumn a int null\ncolumn b int null\n", 2, "unknown type \"int\"");
	refused("target t\ncolumn a integer null\n\n# x\ncolumn b int null\n", 5, "unknown type \"int\"");

	char err[512];
	int status = child_run(load, (void *)path_of("no-such.map"), err, sizeof err);
	ok(status == PM_EXIT_USAGE && strstr(err, "no-such.map: No such file or directory") != NULL,
	   "a file that cannot be opened is exit 2 with the system's message");
	status = child_run(load, fixture_dir, err, sizeof err);
	ok(status == PM_EXIT_IO, "a directory fails while it is read: exit 5, not a crash (exit %d)", status);
}

int main(void)
{
	pm_set_progname("test_mapping");
	if (!fixture_dir_make())
		return 2;
	test_good();
	test_bad();
	fixture_dir_remove();
	return tap_done();
}
