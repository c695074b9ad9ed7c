/* pm-load: a pm stream on standard input into a table of a PostgreSQL database, all or nothing. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pm_error.h"
#include "stream_writer.h"
#include "table_load.h"
#include "tool.h"
#include "tool_stats.h"
#include "value_check.h"

static _Noreturn void usage(int status)
{
	tool_usage(status,
		"usage: pm-load [-d conninfo] [-n schema] -t table [-i file] [--mode insert|upsert|skip]\n"
		"               [--key col,...] [--source-only col,...] [--new-ids col [--keymap name]\n"
		"               [--keymap-out file] [-Z level]] [--keep-indexes] [--lock key]\n"
		"               [--checkpoint name=from..to] [--progress] [--stats file] [-v]\n");
}

static enum load_mode parse_mode(const char *arg)
{
	if (strcmp(arg, "insert") == 0)
		return LOAD_INSERT;
	if (strcmp(arg, "upsert") == 0)
		return LOAD_UPSERT;
	if (strcmp(arg, "skip") == 0)
		return LOAD_SKIP;
	pm_die(PM_EXIT_USAGE, "--mode: \"%s\" is not insert, upsert or skip", arg);
}

/* An advisory lock key: a whole signed 64-bit integer. */
static const char *parse_lock(const char *arg)
{
	long long v;

	if (!value_parse_int64(arg, strlen(arg), &v))
		pm_die(PM_EXIT_USAGE, "--lock: \"%s\" is not a 64-bit integer", arg);
	return arg;
}

int main(int argc, char **argv)
{
	enum { OPT_MODE = 256, OPT_KEY, OPT_SOURCE_ONLY, OPT_NEW_IDS, OPT_KEYMAP, OPT_KEYMAP_OUT, OPT_PROGRESS,
	       OPT_KEEP_INDEXES, OPT_LOCK, OPT_CHECKPOINT, OPT_STATS, OPT_VERSION };
	static const struct option longopts[] = {
		{ "dbname", required_argument, NULL, 'd' },
		{ "schema", required_argument, NULL, 'n' },
		{ "table", required_argument, NULL, 't' },
		{ "input", required_argument, NULL, 'i' },
		{ "compress", required_argument, NULL, 'Z' },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "source-only", required_argument, NULL, OPT_SOURCE_ONLY },
		{ "new-ids", required_argument, NULL, OPT_NEW_IDS },
		{ "keymap", required_argument, NULL, OPT_KEYMAP },
		{ "keymap-out", required_argument, NULL, OPT_KEYMAP_OUT },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "keep-indexes", no_argument, NULL, OPT_KEEP_INDEXES },
		{ "lock", required_argument, NULL, OPT_LOCK },
		{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "stats", required_argument, NULL, OPT_STATS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct load_options o = { .level = STREAM_DEFAULT_LEVEL };
	const char *conninfo = NULL;
	bool level_given = false;
	const char *stats_path = NULL;
	int ch;

	tool_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "d:n:t:i:Z:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': conninfo = optarg; break;
		case 'n': o.schema = optarg; break;
		case 't': o.table = optarg; break;
		case 'i': o.input = optarg; break;
		case 'Z': o.level = stream_level_parse(optarg); level_given = true; break;
		case OPT_MODE: o.mode = parse_mode(optarg); break;
		case OPT_KEY: namelist_parse(&o.key, optarg, "--key"); break;
		case OPT_SOURCE_ONLY: namelist_parse(&o.source_only, optarg, "--source-only"); break;
		case OPT_NEW_IDS: o.new_ids = optarg; break;
		case OPT_KEYMAP: o.keymap = optarg; break;
		case OPT_KEYMAP_OUT: o.keymap_out = optarg; break;
		case OPT_PROGRESS: o.progress = true; break;
		case OPT_KEEP_INDEXES: o.keep_indexes = true; break;
		case OPT_LOCK: o.lock = parse_lock(optarg); break;
		case OPT_CHECKPOINT:
			load_checkpoint_free(&o.checkpoint);
			load_checkpoint_parse(&o.checkpoint, optarg);
			break;
		case 'v': o.verbose = true; break;
		case OPT_STATS: stats_path = optarg; break;
		case OPT_VERSION: tool_version();
		case 'h': usage(PM_EXIT_OK);
		default: usage(PM_EXIT_USAGE);
		}
	}
	db_refuse_password("-d", conninfo);
	if (optind != argc || !o.table || !*o.table)
		usage(PM_EXIT_USAGE);
	if (level_given && !o.keymap_out)
		pm_die(PM_EXIT_USAGE, "-Z goes with --keymap-out");
	if ((o.keymap_out || o.keymap) && !o.new_ids)
		pm_die(PM_EXIT_USAGE, "--keymap and --keymap-out go with --new-ids");

	o.stats = tool_stats_open(stats_path);
	PGconn *conn = db_connect(conninfo);
	table_load(conn, &o);
	db_close(conn);
	tool_stats_close(o.stats);
	namelist_free(&o.key);
	namelist_free(&o.source_only);
	load_checkpoint_free(&o.checkpoint);
	return PM_EXIT_OK;
}
