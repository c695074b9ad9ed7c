/*
 * table_extract: one table (or a slice of it) to a stream, through COPY ... TO
 * STDOUT inside one REPEATABLE READ transaction, in a fixed order so the same rows
 * always give the same bytes.
 */
#ifndef PM_TABLE_EXTRACT_H
#define PM_TABLE_EXTRACT_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "namelist.h"
#include "stream_writer.h"
#include "tool_stats.h"

struct extract_options {
	const char *schema;
	const char *table;
	struct namelist columns;  /* empty: every column, in table order */
	struct namelist order_by; /* empty: the primary key, else every selected column */
	struct namelist after;    /* key values; rows after them in key order */
	const char *where;        /* an SQL condition, trusted from the operator */
	long long limit;          /* < 0: none */
	unsigned shard, nshards;  /* shard 1..nshards; nshards 0: none */
	const char *snapshot;
	bool progress;
	struct tool_stats *stats;   /* --stats: gets records; NULL: none */
};

/* Write the rows to out (opened by the caller, before connecting) and close it. */
void table_extract(PGconn *conn, const struct extract_options *o, struct stream_writer *out);

#endif
