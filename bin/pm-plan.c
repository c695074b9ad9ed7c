/* pm-plan: the migration plan (pm-plan(5)) checked and told to the pipelines, one fact a line. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat_sql.h"
#include "plan.h"
#include "plan_print.h"
#include "pm_error.h"
#include "tool.h"

static _Noreturn void usage(int status)
{
	tool_usage(status,
		"usage: pm-plan -p plan check\n"
		"       pm-plan -p plan moves\n"
		"       pm-plan -p plan columns move\n"
		"       pm-plan -p plan compat install [--reference move.column=move]...\n"
		"       pm-plan -p plan compat remove\n");
}

int main(int argc, char **argv)
{
	enum { OPT_VERSION = 256 };
	static const struct option longopts[] = {
		{ "plan", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	int ch;

	tool_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "+p:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': path = optarg; break;
		case OPT_VERSION: tool_version();
		case 'h': usage(PM_EXIT_OK);
		default: usage(PM_EXIT_USAGE);
		}
	}
	if (!path || optind >= argc)
		usage(PM_EXIT_USAGE);
	const char *command = argv[optind++];
	int nargs = argc - optind;
	bool install = strcmp(command, "compat") == 0 && nargs >= 1 && strcmp(argv[optind], "install") == 0;
	bool known = (strcmp(command, "check") == 0 && nargs == 0) || (strcmp(command, "moves") == 0 && nargs == 0) ||
		     (strcmp(command, "columns") == 0 && nargs == 1) ||
		     (strcmp(command, "compat") == 0 && nargs == 1 && strcmp(argv[optind], "remove") == 0) ||
		     (install && nargs % 2 == 1);
	for (int i = optind + 1; known && i < argc; i += 2)
		known = strcmp(argv[i], "--reference") == 0;
	if (!known)
		usage(PM_EXIT_USAGE);

	struct plan *p = plan_load(path);
	if (strcmp(command, "moves") == 0) {
		plan_print_moves(p, stdout);
	} else if (strcmp(command, "columns") == 0) {
		const struct plan_move *mv = plan_find(p, argv[optind]);
		if (!mv)
			pm_die(PM_EXIT_USAGE, "%s: no move named \"%s\"", path, argv[optind]);
		plan_print_columns(mv, stdout);
	} else if (strcmp(command, "compat") == 0) {
		if (install) {
			size_t nrefs = (size_t)(nargs - 1) / 2;
			struct compat_reference *refs = pm_malloc((nrefs ? nrefs : 1) * sizeof *refs);
			for (size_t i = 0; i < nrefs; i++)
				refs[i] = compat_reference_parse(p, argv[optind + 2 + 2 * (int)i]);
			compat_sql_install(p, refs, nrefs, stdout);
			free(refs);
		} else {
			compat_sql_remove(p, stdout);
		}
	}
	/* check: loading it was the check. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		pm_die_if_pipe_closed(errno);
		pm_die(PM_EXIT_IO, "stdout: write failed");
	}
	plan_free(p);
	return PM_EXIT_OK;
}
