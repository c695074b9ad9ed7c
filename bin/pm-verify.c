/* pm-verify: two sides (streams or tables) compared record by record on a key; a report of differences. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "namelist.h"
#include "pm_error.h"
#include "stream_writer.h"
#include "tool.h"
#include "tool_stats.h"
#include "verify_diff.h"
#include "verify_side.h"

static _Noreturn void usage(int status)
{
	tool_usage(status,
		"usage: pm-verify --key col,... [--ignore col,...] [-o report] [-Z level] [--memory MiB]\n"
		"                 [--left-db conninfo] [--right-db conninfo] [--keymap col=name]...\n"
		"                 [--stats file]\n"
		"                 left right\n"
		"       left and right: a stream file, - for standard input, or table:NAME\n");
}

struct side_options {
	const char *arg;
	const char *conninfo;
	const struct namelist *keymaps; /* a table side's columns read through key maps */
};

static bool is_table(const struct side_options *s)
{
	return strncmp(s->arg, "table:", 6) == 0;
}

static struct verify_side *open_side(const struct side_options *s, const struct namelist *key, size_t budget,
				       const char *import, char **export)
{
	if (is_table(s)) {
		if (!s->arg[6])
			pm_die(PM_EXIT_USAGE, "\"%s\": table: needs a table name", s->arg);
		return verify_side_table(s->conninfo, s->arg + 6, key, s->keymaps, import, export);
	}
	if (s->keymaps->n)
		pm_die(PM_EXIT_USAGE, "--keymap reads a table's column: the right side is a stream");
	return verify_side_stream(s->arg, key, budget);
}

int main(int argc, char **argv)
{
	enum { OPT_KEY = 256, OPT_IGNORE, OPT_LEFT_DB, OPT_RIGHT_DB, OPT_KEYMAP, OPT_MEMORY, OPT_STATS, OPT_VERSION };
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, OPT_KEY },
		{ "ignore", required_argument, NULL, OPT_IGNORE },
		{ "left-db", required_argument, NULL, OPT_LEFT_DB },
		{ "right-db", required_argument, NULL, OPT_RIGHT_DB },
		{ "keymap", required_argument, NULL, OPT_KEYMAP },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "output", required_argument, NULL, 'o' },
		{ "compress", required_argument, NULL, 'Z' },
		{ "stats", required_argument, NULL, OPT_STATS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct namelist key = { 0 }, ignore = { 0 }, keymaps = { 0 }, none = { 0 };
	struct side_options left = { .keymaps = &none }, right = { .keymaps = &keymaps };
	const char *output = NULL;
	int level = STREAM_DEFAULT_LEVEL;
	long long memory = 64;
	const char *stats_path = NULL;
	int ch;

	tool_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "o:Z:h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_KEY: namelist_parse(&key, optarg, "--key"); break;
		case OPT_IGNORE: namelist_parse(&ignore, optarg, "--ignore"); break;
		case OPT_LEFT_DB: left.conninfo = optarg; break;
		case OPT_RIGHT_DB: right.conninfo = optarg; break;
		case OPT_KEYMAP:
			keymaps.items = pm_realloc(keymaps.items, (keymaps.n + 1) * sizeof *keymaps.items);
			keymaps.items[keymaps.n++] = pm_strdup(optarg);
			break;
		case OPT_MEMORY: memory = tool_parse_number(optarg, "--memory", 1, 1 << 20); break;
		case 'o': output = optarg; break;
		case 'Z': level = stream_level_parse(optarg); break;
		case OPT_STATS: stats_path = optarg; break;
		case OPT_VERSION: tool_version();
		case 'h': usage(PM_EXIT_OK);
		default: usage(PM_EXIT_USAGE);
		}
	}
	db_refuse_password("--left-db", left.conninfo);
	db_refuse_password("--right-db", right.conninfo);
	if (argc - optind != 2 || key.n == 0)
		usage(PM_EXIT_USAGE);
	left.arg = argv[optind];
	right.arg = argv[optind + 1];
	if (strcmp(left.arg, "-") == 0 && strcmp(right.arg, "-") == 0)
		pm_die(PM_EXIT_USAGE, "only one side can be standard input");

	struct tool_stats *stats = tool_stats_open(stats_path);
	struct stream_writer *report = stream_writer_open(output, level);
	size_t budget = (size_t)memory << 20;
	/* Two tables of one database (the same connection string) are read in one snapshot. */
	bool one_snapshot = is_table(&left) && is_table(&right) &&
			    strcmp(left.conninfo ? left.conninfo : "", right.conninfo ? right.conninfo : "") == 0;
	char *snapshot = NULL;
	struct verify_side *l = open_side(&left, &key, budget, NULL, one_snapshot ? &snapshot : NULL);
	struct verify_side *r = open_side(&right, &key, budget, snapshot, NULL);
	free(snapshot);
	struct verify_counts counts;
	verify_diff(l, r, &ignore, report, &counts);
	verify_report_checks(r, report, &counts);
	/* Everything that can fail first: the report is in place only when the comparison is whole. */
	char *lname = pm_strdup(verify_side_name(l)), *rname = pm_strdup(verify_side_name(r));
	verify_side_close(l);
	verify_side_close(r);
	stream_writer_close(report);
	verify_summary(lname, rname, &counts);
	verify_stats(stats, &counts);
	tool_stats_close(stats);
	free(lname);
	free(rname);
	namelist_free(&key);
	namelist_free(&ignore);
	namelist_free(&keymaps);
	return verify_counts_differences(&counts) ? PM_EXIT_DIFFERENCES : PM_EXIT_OK;
}
