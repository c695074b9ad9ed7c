/*
 * load: the state of one table_load, shared by the files that carry out its steps,
 * each one job:
 *   load_plan     the stream's columns matched to the table's, and the conflict key
 *   load_copy     the staging table, and the records sent through COPY
 *   load_merge    staged rows merged into the table by the conflict key
 *   load_new_ids  staged rows given new ids, each pair recorded in the key map
 *   load_locate   the stream record a failed merge stumbled on
 *   load_error    a failed statement turned into the load's one-line message
 * Only table_load.c and these include it; the tools see table_load.h.
 */
#ifndef PM_LOAD_H
#define PM_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "bytebuf.h"
#include "db.h"
#include "namelist.h"
#include "stream_reader.h"
#include "stream_writer.h"
#include "table_bulk.h"
#include "table_desc.h"
#include "table_load.h"

/* The staging table's column of each staged row's stream record number. */
#define LOAD_RECORD_COLUMN "pm__record"

struct load {
	PGconn *conn;
	const struct load_options *o;
	struct table_desc *t;
	struct stream_reader *in;
	struct namelist cols;  /* loaded columns, in stream order */
	size_t *src;           /* stream field of each loaded column */
	struct namelist key;   /* conflict key */
	struct namelist other; /* loaded columns outside the key */
	char *keymap;          /* escaped pm."keymap_NAME", with --new-ids */
	char *keymap_name;     /* keymap_NAME, unescaped */
	struct table_desc *keymap_t;   /* the key map, when its indexes are set aside too */
	struct table_bulk *keymap_bulk;
	const char *into;      /* relation COPY fills: the table, or the staging table */
	bool staged;           /* records went to pm_staging, each with its record number */
	bool merging;          /* inside SAVEPOINT pm_merge: a failure can be traced to a record */
	struct table_bulk *bulk; /* an empty table's indexes and keys, set aside until the rows are in */
	struct bytebuf sql;    /* the statement being built */
	uint64_t records, inserted, updated;
	uint64_t keymap_entries; /* pairs added to the key map */
};

/* load_plan */
void load_plan_columns(struct load *l);
void load_plan_key(struct load *l);

/* load_copy */
void load_create_staging(struct load *l);
void load_copy_records(struct load *l);

/* load_merge */
void load_merge_by_key(struct load *l);
/* "a = FROMa, b = FROMb" for the columns outside the key, and the test that skips rows already
 * equal (a repeated upsert writes nothing); each into out, emptied first. */
const char *load_set_list(struct load *l, struct bytebuf *out, const char *from);
const char *load_changed(struct load *l, struct bytebuf *out, const char *from);

/* load_new_ids */
void load_plan_keymap(struct load *l);
void load_create_keymap(struct load *l);
void load_merge_new_ids(struct load *l);
void load_write_keymap(struct load *l, struct stream_writer *out);

/* load_locate: the first stream record behind a failed merge (0: none found); rolls back to
 * SAVEPOINT pm_merge first. */
uint64_t load_locate_record(struct load *l, const PGresult *res);
/* first_repeat over the staging table: the first record, in stream order, whose cols repeat an
 * earlier one's or for which meets (a condition on staged row s; NULL: none) holds; 0: unknown. */
uint64_t load_first_staged_repeat(struct load *l, const struct namelist *cols, const char *meets);

/* load_error: exit 3 for a value or constraint the database refused, else exit 4; line and
 * column name the record when COPY did. */
_Noreturn void load_failed(struct load *l, PGresult *res, const char *step, uint64_t line, const char *column);
/* Run sql, a failure as load_failed says; the result (freed by the caller), or the row count. */
PGresult *load_query(struct load *l, const char *step, const char *sql, int nparams, const char *const *params);
uint64_t load_command(struct load *l, const char *step, const char *sql, int nparams, const char *const *params);

#endif
