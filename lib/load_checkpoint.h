/*
 * load_checkpoint: a load's place in a longer move, kept in the target database
 * (pm.checkpoint) and moved in the same transaction as the rows, so progress can
 * never say more or less than what was committed.  A checkpoint moves only from
 * the value the caller read: of two loads of the same chunk, one commits and the
 * other is refused, whatever their timing.
 */
#ifndef PM_LOAD_CHECKPOINT_H
#define PM_LOAD_CHECKPOINT_H

#include <libpq-fe.h>
#include <stdint.h>

struct load_checkpoint {
	char *name; /* NAME=FROM..TO: FROM is "" for a checkpoint not yet recorded */
	char *from;
	char *to;
};

/* Parse "NAME=FROM..TO" (usage error, exit 2, on anything else). */
void load_checkpoint_parse(struct load_checkpoint *c, const char *arg);
void load_checkpoint_free(struct load_checkpoint *c);

/*
 * Inside the load's transaction, before any row: lock the checkpoint's row (a
 * concurrent load of the same name waits here) and check it stands at FROM;
 * exit 1 when it has moved on, nothing loaded.
 */
void load_checkpoint_claim(PGconn *conn, const struct load_checkpoint *c);

/* Inside the same transaction, after the rows: the checkpoint moves to TO. */
void load_checkpoint_advance(PGconn *conn, const struct load_checkpoint *c, uint64_t rows);

#endif
