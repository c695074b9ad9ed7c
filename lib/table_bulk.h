/*
 * table_bulk: a load into an empty table without its indexes.  Maintaining a
 * primary key, a unique index, an index and a foreign key row by row costs
 * PostgreSQL several times the load itself; building each once afterwards is
 * far cheaper.  Inside the load's transaction, with the table locked and found
 * empty, table_bulk_begin drops the foreign keys that reference the table or that
 * it holds, its primary key, unique and exclusion constraints and its other
 * indexes, and truncates it so that COPY may FREEZE; table_bulk_finish creates
 * them all again from their definitions, under their names, before the commit.
 * Any failure rolls the whole transaction back: the table is as it was.
 * Not kept: comments on the indexes and constraints, an index's tablespace other
 * than the default, CLUSTER marks and a REPLICA IDENTITY USING INDEX.
 */
#ifndef PM_TABLE_BULK_H
#define PM_TABLE_BULK_H

#include <libpq-fe.h>

#include "table_desc.h"

struct table_bulk;

/* Lock t; if it is empty, set its indexes and keys aside and return the plan; else NULL. */
struct table_bulk *table_bulk_begin(PGconn *conn, const struct table_desc *t);

/*
 * Build everything again.  On a unique key the loaded rows break, returns the
 * record number (in load order, 1 first) of the first row that repeats an
 * earlier one, with the constraint's name in constraint; 0 on success.  Other
 * failures are fatal here (exit 3 for bad data, 4 otherwise).
 */
unsigned long long table_bulk_finish(PGconn *conn, struct table_bulk *b, char *constraint, size_t size);

void table_bulk_free(struct table_bulk *b);

#endif
