/*
 * plan_print: the plan told to shell scripts, one tab-separated line a fact, in a
 * fixed column order (pm-plan(1)): nothing to parse but fields.
 */
#ifndef PM_PLAN_PRINT_H
#define PM_PLAN_PRINT_H

#include <stdio.h>

#include "plan.h"

/* A line a move, in plan order:
 * name source target mapping key new|kept keymap|- reads|- replaces|- ddl */
void plan_print_moves(const struct plan *p, FILE *out);

/* A line a column of the move's target, in the mapping file's order:
 * name type null|not-null source|- const|- keymap|- */
void plan_print_columns(const struct plan_move *mv, FILE *out);

#endif
