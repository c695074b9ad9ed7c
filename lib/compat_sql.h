/*
 * compat_sql: the compatibility layer's SQL for each move of a plan, generated from the plan
 * and its mapping files (the same columns, constants and key maps the loads use): a trigger on
 * each source table that carries every INSERT, UPDATE and DELETE on to its target in the same
 * transaction, and for each key map a function that gives an old key's new one, moving the row
 * first when no move has reached it yet.  schemas/compat.sql holds what no move varies
 * (pm(7), LIVE MIGRATION); this part runs after it, and the removal before compat-remove.sql.
 * Every name in a plan is plain (pm-plan(5)): none needs quoting.
 */
#ifndef PM_COMPAT_SQL_H
#define PM_COMPAT_SQL_H

#include <stdio.h>

#include "plan.h"

/*
 * A column of a move's target that is a foreign key to the target of a move with kept ids (as
 * the target database declares it; the mapping files do not say): before a row is carried on,
 * the row it points at is moved, when no move has reached it yet.
 */
struct compat_reference {
	const struct plan_move *move;
	const struct map_column *column;
	const struct plan_move *to;
};

/* "MOVE.COLUMN=MOVE" checked against the plan; a bad one is a usage error (exit 2). */
struct compat_reference compat_reference_parse(const struct plan *p, const char *arg);

void compat_sql_install(const struct plan *p, const struct compat_reference *refs, size_t nrefs, FILE *out);
void compat_sql_remove(const struct plan *p, FILE *out);

#endif
