/* pm-transform: a pm stream to a pm stream, by a mapping file: renamed, checked, re-pointed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keymap.h"
#include "keymap_table.h"
#include "mapping.h"
#include "pm_error.h"
#include "stream_writer.h"
#include "tool.h"
#include "tool_stats.h"
#include "transform.h"

static _Noreturn void usage(int status)
{
	tool_usage(status,
		"usage: pm-transform -m mapping [--keymap name=file]... [-i file] [-o file] [-Z level]\n"
		"                    [--rejects file] [--max-rejects n] [--progress] [--stats file] [-v]\n");
}

static struct keymap *load_keymap(const char *arg)
{
	char *name;
	const char *file;

	if (!tool_split_name_value(arg, &name, &file))
		pm_die(PM_EXIT_USAGE, "--keymap: \"%s\" is not NAME=FILE", arg);
	if (strlen(name) > KEYMAP_NAME_MAX)
		pm_die(PM_EXIT_USAGE, "--keymap: the name \"%s\" is longer than %d bytes", name, KEYMAP_NAME_MAX);
	struct keymap *m = keymap_load(name, file);
	free(name);
	return m;
}

int main(int argc, char **argv)
{
	enum { OPT_KEYMAP = 256, OPT_REJECTS, OPT_MAX_REJECTS, OPT_PROGRESS, OPT_STATS, OPT_VERSION };
	static const struct option longopts[] = {
		{ "mapping", required_argument, NULL, 'm' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "compress", required_argument, NULL, 'Z' },
		{ "keymap", required_argument, NULL, OPT_KEYMAP },
		{ "rejects", required_argument, NULL, OPT_REJECTS },
		{ "max-rejects", required_argument, NULL, OPT_MAX_REJECTS },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "stats", required_argument, NULL, OPT_STATS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct transform_options o = { .level = STREAM_DEFAULT_LEVEL };
	const char *mapping_path = NULL;
	const char *stats_path = NULL;
	int ch;

	tool_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "m:i:o:Z:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm': mapping_path = optarg; break;
		case 'i': o.input = optarg; break;
		case 'o': o.output = optarg; break;
		case 'Z': o.level = stream_level_parse(optarg); break;
		case OPT_KEYMAP:
			o.keymaps = pm_realloc(o.keymaps, (o.nkeymaps + 1) * sizeof *o.keymaps);
			o.keymaps[o.nkeymaps] = load_keymap(optarg);
			for (size_t k = 0; k < o.nkeymaps; k++)
				if (strcmp(keymap_name(o.keymaps[k]), keymap_name(o.keymaps[o.nkeymaps])) == 0)
					pm_die(PM_EXIT_USAGE, "--keymap: %s given twice", keymap_name(o.keymaps[k]));
			o.nkeymaps++;
			break;
		case OPT_REJECTS: o.rejects = optarg; break;
		case OPT_MAX_REJECTS: o.max_rejects = tool_parse_number(optarg, "--max-rejects", 0, 1LL << 62); break;
		case OPT_PROGRESS: o.progress = true; break;
		case 'v': o.verbose = true; break;
		case OPT_STATS: stats_path = optarg; break;
		case OPT_VERSION: tool_version();
		case 'h': usage(PM_EXIT_OK);
		default: usage(PM_EXIT_USAGE);
		}
	}
	if (optind != argc || !mapping_path)
		usage(PM_EXIT_USAGE);
	if (o.rejects && (strcmp(o.rejects, "-") == 0 || (o.output && strcmp(o.rejects, o.output) == 0)))
		pm_die(PM_EXIT_USAGE, "--rejects needs a file of its own, apart from the output");

	o.stats = tool_stats_open(stats_path);
	struct mapping *m = mapping_load(mapping_path);
	transform_run(m, &o);
	mapping_free(m);
	tool_stats_close(o.stats);
	for (size_t i = 0; i < o.nkeymaps; i++)
		keymap_free(o.keymaps[i]);
	free(o.keymaps);
	return PM_EXIT_OK;
}
