/*
 * table_load: a stream into one table, all or nothing.  The stream's header is
 * matched to the table's columns by name; records go in through COPY ... FROM
 * STDIN and are merged in one transaction, which a bad stream, a bad value, a
 * constraint or a lost connection rolls back whole.
 */
#ifndef PM_TABLE_LOAD_H
#define PM_TABLE_LOAD_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "load_checkpoint.h"
#include "namelist.h"
#include "tool_stats.h"

enum load_mode { LOAD_INSERT, LOAD_UPSERT, LOAD_SKIP };

struct load_options {
	const char *schema;
	const char *table;
	const char *input;
	enum load_mode mode;
	struct namelist key;         /* conflict key for upsert and skip; empty: the primary key */
	struct namelist source_only; /* stream columns that are not loaded */
	const char *new_ids;         /* stream column of old ids; the table assigns new ones */
	const char *keymap;          /* key map name; NULL: the table's name */
	const char *keymap_out;
	int level;
	bool progress;
	bool verbose;
	bool keep_indexes; /* no rebuild (table_bulk) even when the table is empty */
	const char *lock;  /* an advisory lock key, held exclusively from before the first record */
	struct load_checkpoint checkpoint; /* name NULL: none */
	struct tool_stats *stats; /* --stats: the load's counts, once committed; NULL: none */
};

void table_load(PGconn *conn, const struct load_options *o);

#endif
