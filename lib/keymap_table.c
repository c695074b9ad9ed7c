#include <stdio.h>
#include <string.h>

#include "keymap_table.h"
#include "sql_format.h"

_Static_assert(KEYMAP_NAME_MAX == 56, "the messages and man pages say 56 bytes");

void keymap_table_name(char out[KEYMAP_TABLE_NAME_SIZE], const char *name)
{
	snprintf(out, KEYMAP_TABLE_NAME_SIZE, KEYMAP_TABLE_PREFIX "%s", name);
}

void keymap_table_append(PGconn *conn, struct bytebuf *sql, const char *name)
{
	char table[KEYMAP_TABLE_NAME_SIZE];

	keymap_table_name(table, name);
	sql_appendf(sql, conn, "%I.%I", KEYMAP_SCHEMA, table);
}
