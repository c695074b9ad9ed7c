/*
 * verify_side: one side of a pm-verify comparison, handing out its records in
 * key order (record_key.h).  A stream is read whole into a record_sorter (it need
 * not be sorted); a table is read with COPY in one REPEATABLE READ transaction,
 * sorted by the server (its key columns must be integers, so that the server's
 * order is record_key's).  A table side may read columns through key maps: such a
 * column holds new keys, and is read as the old key that pm."keymap_NAME" gives for
 * each, so that it compares with the source's.
 */
#ifndef PM_VERIFY_SIDE_H
#define PM_VERIFY_SIDE_H

#include <stddef.h>

#include "csv_record.h"
#include "namelist.h"
#include "record_key.h"

struct verify_side;

/* A stream: path, or standard input for "-". */
struct verify_side *verify_side_stream(const char *path, const struct namelist *key, size_t budget);

/*
 * A table of the database conninfo names; keymaps holds COLUMN=NAME items, each
 * column read through pm."keymap_NAME" of the same database.  Two sides of one
 * database read one snapshot, so that writes committed meanwhile (which the
 * compatibility layer makes on both tables at once) count on neither side or on
 * both: with export set, the side exports its snapshot there (free it); with
 * import set, the side reads that snapshot.
 */
struct verify_side *verify_side_table(const char *conninfo, const char *table, const struct namelist *key,
					  const struct namelist *keymaps, const char *import, char **export);

const char *verify_side_name(const struct verify_side *s);
const struct csv_record *verify_side_header(const struct verify_side *s);
const struct record_key *verify_side_key(const struct verify_side *s);

/* The next record in key order, valid until the next call; NULL at the end. */
const struct csv_record *verify_side_next(struct verify_side *s);

/*
 * A table side's own checks, once its records are all read: rows whose foreign key
 * (by the table's FOREIGN KEY constraints) points at no row ("orphan", the key of
 * the row, the foreign-key columns and their value), and sequences that would hand
 * out a value not above max(column) ("sequence-behind", no key, the column, max and
 * the next value).  A stream side has none.
 */
typedef void (*verify_finding)(void *ctx, const struct csv_field *key, const char *what, const char *column,
			       const struct csv_field *left, const struct csv_field *right);
void verify_side_checks(struct verify_side *s, verify_finding found, void *ctx);

void verify_side_close(struct verify_side *s);

#endif
