/*
 * verify_diff: two sides (verify_side.h), both in key order, merged record by
 * record.  Each difference is a record of the report stream: the key, then
 * pm_difference (missing: only on the left; extra: only on the right; changed:
 * one column differs, the values in pm_left and pm_right; duplicate-left or
 * duplicate-right: a key seen again on that side), pm_column, pm_left, pm_right.
 * Values compare as their exact text, NULL apart from the empty string.  Counts
 * and an order-independent checksum of each side come back for the summary.
 */
#ifndef PM_VERIFY_DIFF_H
#define PM_VERIFY_DIFF_H

#include <stdint.h>

#include "namelist.h"
#include "stream_writer.h"
#include "tool_stats.h"
#include "verify_side.h"

struct verify_counts {
	uint64_t left, right;             /* records read */
	uint64_t missing, extra, changed; /* records */
	uint64_t changed_values;
	uint64_t duplicates;
	uint64_t orphans, sequences;      /* the right side's own checks (verify_report_checks) */
	uint64_t left_sum, right_sum; /* checksums of the compared columns, whatever the order */
};

/* ignore: columns left out of the comparison.  Every other column must be on both sides. */
void verify_diff(struct verify_side *left, struct verify_side *right, const struct namelist *ignore,
		 struct stream_writer *report, struct verify_counts *counts);

uint64_t verify_counts_differences(const struct verify_counts *c);

/* After verify_diff: the right side's own checks (verify_side_checks) into the report. */
void verify_report_checks(struct verify_side *right, struct stream_writer *report, struct verify_counts *counts);

/* The summary on standard error: each side's count and checksum, then the differences. */
void verify_summary(const char *left, const char *right, const struct verify_counts *c);

/* The same figures for programs (--stats): see pm-verify(1) for the keys. */
void verify_stats(struct tool_stats *s, const struct verify_counts *c);

#endif
