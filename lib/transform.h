/*
 * transform: source records to target records by a mapping.  Every value is
 * checked against its target column; a record that fails goes to the rejects
 * stream with the reason, and the run goes on until more than max_rejects.
 */
#ifndef PM_TRANSFORM_H
#define PM_TRANSFORM_H

#include <stdbool.h>

#include "keymap.h"
#include "mapping.h"
#include "tool_stats.h"

struct transform_options {
	const char *input;
	const char *output;
	const char *rejects;     /* a stream of rejected records, or NULL */
	int level;
	long long max_rejects;
	struct keymap **keymaps;
	size_t nkeymaps;
	bool progress;
	bool verbose;
	struct tool_stats *stats; /* --stats: the run's counts; NULL: none */
};

/* More rejects than max_rejects end the run with exit 1 and no output file; the stats file,
 * if any, is then written and closed here, with the counts up to the stop. */
void transform_run(const struct mapping *m, const struct transform_options *o);

#endif
