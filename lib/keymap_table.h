/*
 * keymap_table: where a key map lives in the target database, pm."keymap_NAME", and
 * how long NAME may be.  pm-load writes it, pm-verify reads it, pm-transform's
 * --keymap names the same maps: one rule for all three.
 */
#ifndef PM_KEYMAP_TABLE_H
#define PM_KEYMAP_TABLE_H

#include <libpq-fe.h>

#include "bytebuf.h"

#define KEYMAP_SCHEMA "pm"
#define KEYMAP_TABLE_PREFIX "keymap_"
/* pm.keymap_NAME in SQL that pm generates as text (the compatibility layer), NAME a plain name
 * the plan checked: a printf format for it. */
#define KEYMAP_TABLE_FMT KEYMAP_SCHEMA "." KEYMAP_TABLE_PREFIX "%s"

/* keymap_NAME must be a whole PostgreSQL name (NAMEDATALEN 64: 63 bytes), or the server would
 * cut it and two maps could collide. */
#define KEYMAP_TABLE_NAME_SIZE 64
#define KEYMAP_NAME_MAX (KEYMAP_TABLE_NAME_SIZE - (int)sizeof KEYMAP_TABLE_PREFIX)

/* The table's name, keymap_NAME, into out (KEYMAP_TABLE_NAME_SIZE bytes); name no longer than
 * KEYMAP_NAME_MAX. */
void keymap_table_name(char out[KEYMAP_TABLE_NAME_SIZE], const char *name);

/* Append the escaped, qualified "pm"."keymap_NAME" to sql. */
void keymap_table_append(PGconn *conn, struct bytebuf *sql, const char *name);

#endif
