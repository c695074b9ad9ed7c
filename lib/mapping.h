/*
 * mapping: a mapping file (pm-map(5)) read into the target's columns, in output
 * order, each with its source (a stream column or a constant), type, NULL rule,
 * key map and checks.  A malformed file is a usage error (exit 2) naming its line.
 */
#ifndef PM_MAPPING_H
#define PM_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

#include "name_index.h"
#include "value_check.h"

enum map_check_kind { CHECK_IP_OR_URL };
enum map_check_action { CHECK_REJECT, CHECK_WARN };

struct map_check {
	enum map_check_kind kind;
	enum map_check_action action;
};

struct map_column {
	char *name;
	struct value_type_spec type;
	bool not_null;
	char *from;      /* source column; NULL when the value is a constant */
	char *constant;  /* with from NULL: the value, NULL for SQL NULL */
	char *keymap;    /* re-point through this key map, or NULL */
	struct map_check checks[4];
	size_t nchecks;
	int line;
};

struct mapping {
	char *path;
	char *target;
	struct map_column *columns;
	size_t ncolumns, columns_cap;
	struct name_index names; /* column names, to refuse one named twice */
};

struct mapping *mapping_load(const char *path);
void mapping_free(struct mapping *m);

#endif
