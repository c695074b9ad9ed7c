/*
 * record_sorter: records of any number, handed back in key order (record_key.h).
 * Records are held in memory up to a budget; beyond it each full batch is sorted
 * and written to a temporary stream (a run), and the runs are merged at the end,
 * so memory stays at the budget plus one read buffer a run.  Equal keys keep their
 * input order.  The runs live in a private directory under $TMPDIR (default /tmp),
 * removed at close and on any exit.
 */
#ifndef PM_RECORD_SORTER_H
#define PM_RECORD_SORTER_H

#include <stddef.h>

#include "csv_record.h"
#include "record_key.h"

struct record_sorter;

/* header: the records' column names (copied); key: places in the records (copied). */
struct record_sorter *record_sorter_open(const struct csv_record *header, const struct record_key *key,
					 size_t budget);

/* Add a record (copied); its number is kept and handed back with it. */
void record_sorter_add(struct record_sorter *s, const struct csv_record *rec);

/* After the last add: the records in key order, each valid until the next call; NULL at the end. */
const struct csv_record *record_sorter_next(struct record_sorter *s);

/* Runs written to disk so far, merged ones included (0 when everything fitted in memory). */
size_t record_sorter_runs(const struct record_sorter *s);

void record_sorter_close(struct record_sorter *s);

#endif
