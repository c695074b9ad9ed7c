/*
 * plan: the migration plan (pm-plan(5)) read into its table moves, in dependency
 * order, each with what its mapping file says (target, columns, the key maps its
 * columns read).  Everything a pipeline needs to know of a table comes from here.
 * A malformed plan, or one whose moves do not fit their mapping files, is a usage
 * error (exit 2) naming the file and line.
 */
#ifndef PM_PLAN_H
#define PM_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "mapping.h"

/*
 * Moves and key maps name objects of their own: pm.keymap_KEYMAP, and the compatibility
 * layer's functions pm.compat_row_MOVE and pm.compat_key_KEYMAP, within PostgreSQL's 63 bytes.
 */
#define PLAN_NAME_MAX 52

struct plan_move {
	char *name;                /* the move's name: its stage and file names */
	char *source;              /* tables of schema public, plain names (pm-plan(5)) */
	char *target;              /* the mapping file's target */
	char *mapping_path;        /* as found: relative paths are the plan's directory's */
	struct mapping *mapping;
	char *ddl_path;            /* TARGET.sql beside the plan: creates the target where it is absent */
	char *key;                 /* the column that identifies a row, in source and target */
	bool new_ids;              /* the target assigns new keys, recorded in key map `keymap` */
	char *keymap;              /* with new_ids: the key map it records; else NULL */
	char **replaces;           /* Django migrations ("app.name") the move takes the place of */
	size_t nreplaces;
	int line;
};

struct plan {
	char *path;
	struct plan_move *moves;
	size_t nmoves;
};

struct plan *plan_load(const char *path);
void plan_free(struct plan *p);

/* The move named name, or NULL. */
const struct plan_move *plan_find(const struct plan *p, const char *name);

#endif
