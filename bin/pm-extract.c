/* pm-extract: a table of a PostgreSQL database to a pm stream on standard output. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pm_error.h"
#include "stream_writer.h"
#include "table_extract.h"
#include "tool.h"
#include "tool_stats.h"

static _Noreturn void usage(int status)
{
	tool_usage(status,
		"usage: pm-extract [-d conninfo] [-n schema] -t table [-c col,...] [-o file] [-Z level]\n"
		"                  [--where condition] [--order-by col,...] [--after value,...]\n"
		"                  [--limit n] [--shard k/n] [--snapshot id] [--progress] [--stats file]\n");
}

static void parse_shard(struct extract_options *o, const char *arg)
{
	const char *slash = strchr(arg, '/');
	char k[32];

	if (!slash || (size_t)(slash - arg) >= sizeof k)
		pm_die(PM_EXIT_USAGE, "--shard: \"%s\" is not K/N", arg);
	memcpy(k, arg, (size_t)(slash - arg));
	k[slash - arg] = '\0';
	o->nshards = (unsigned)tool_parse_number(slash + 1, "--shard", 1, 1 << 20);
	o->shard = (unsigned)tool_parse_number(k, "--shard", 1, o->nshards);
}

int main(int argc, char **argv)
{
	enum { OPT_WHERE = 256, OPT_ORDER, OPT_AFTER, OPT_LIMIT, OPT_SHARD, OPT_SNAPSHOT, OPT_PROGRESS, OPT_STATS, OPT_VERSION, OPT_CHECK_CONNINFO,
	       OPT_MASK_SECRETS };
	static const struct option longopts[] = {
		{ "dbname", required_argument, NULL, 'd' },
		{ "schema", required_argument, NULL, 'n' },
		{ "table", required_argument, NULL, 't' },
		{ "columns", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "compress", required_argument, NULL, 'Z' },
		{ "where", required_argument, NULL, OPT_WHERE },
		{ "order-by", required_argument, NULL, OPT_ORDER },
		{ "after", required_argument, NULL, OPT_AFTER },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "snapshot", required_argument, NULL, OPT_SNAPSHOT },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "stats", required_argument, NULL, OPT_STATS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "check-conninfo", no_argument, NULL, OPT_CHECK_CONNINFO }, /* for the pipelines (pm-extract(1)) */
		{ "mask-secrets", no_argument, NULL, OPT_MASK_SECRETS },     /* likewise */
		{ NULL, 0, NULL, 0 },
	};
	struct extract_options o = { .limit = -1 };
	const char *conninfo = NULL, *output = NULL;
	int level = STREAM_DEFAULT_LEVEL;
	const char *stats_path = NULL;
	bool check_conninfo = false, mask_secrets = false;
	int ch;

	tool_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "d:n:t:c:o:Z:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': conninfo = optarg; break;
		case 'n': o.schema = optarg; break;
		case 't': o.table = optarg; break;
		case 'c': namelist_parse(&o.columns, optarg, "-c"); break;
		case 'o': output = optarg; break;
		case 'Z': level = stream_level_parse(optarg); break;
		case OPT_WHERE: o.where = optarg; break;
		case OPT_ORDER: namelist_parse(&o.order_by, optarg, "--order-by"); break;
		case OPT_AFTER: namelist_parse(&o.after, optarg, "--after"); break;
		case OPT_LIMIT: o.limit = tool_parse_number(optarg, "--limit", 0, 1LL << 62); break;
		case OPT_SHARD: parse_shard(&o, optarg); break;
		case OPT_SNAPSHOT: o.snapshot = optarg; break;
		case OPT_PROGRESS: o.progress = true; break;
		case OPT_STATS: stats_path = optarg; break;
		case OPT_CHECK_CONNINFO: check_conninfo = true; break;
		case OPT_MASK_SECRETS: mask_secrets = true; break;
		case OPT_VERSION: tool_version();
		case 'h': usage(PM_EXIT_OK);
		default: usage(PM_EXIT_USAGE);
		}
	}
	if (check_conninfo) {
		if (optind != argc || argc != 2)
			usage(PM_EXIT_USAGE);
		return db_check_conninfo_stdin();
	}
	if (mask_secrets) {
		if (optind != argc || argc != 2)
			usage(PM_EXIT_USAGE);
		return db_mask_secrets_stdin();
	}
	db_refuse_password("-d", conninfo);
	if (optind != argc || !o.table || !*o.table)
		usage(PM_EXIT_USAGE);

	/* Outputs first: a terminal or an unwritable file is refused before any connection. */
	o.stats = tool_stats_open(stats_path);
	struct stream_writer *out = stream_writer_open(output, level);
	PGconn *conn = db_connect(conninfo);
	table_extract(conn, &o, out);
	db_close(conn);
	tool_stats_close(o.stats);
	namelist_free(&o.columns);
	namelist_free(&o.order_by);
	namelist_free(&o.after);
	return PM_EXIT_OK;
}
