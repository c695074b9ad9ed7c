/* pm-mark-nulls: a pm stream with each NULL written as a marker, for readers that cannot tell NULL from "". */
#include <getopt.h>
#include <string.h>

#include "null_marker.h"
#include "pm_error.h"
#include "stream_writer.h"
#include "tool.h"

static _Noreturn void usage(int status)
{
	tool_usage(status, "usage: pm-mark-nulls --null marker [-i file] [-o file] [-Z level] [-v]\n");
}

int main(int argc, char **argv)
{
	enum { OPT_NULL = 256, OPT_VERSION };
	static const struct option longopts[] = {
		{ "null", required_argument, NULL, OPT_NULL },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "compress", required_argument, NULL, 'Z' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *marker = NULL, *input = NULL, *output = NULL;
	int level = STREAM_DEFAULT_LEVEL;
	bool verbose = false;
	int ch;

	tool_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "i:o:Z:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_NULL: marker = optarg; break;
		case 'i': input = optarg; break;
		case 'o': output = optarg; break;
		case 'Z': level = stream_level_parse(optarg); break;
		case 'v': verbose = true; break;
		case OPT_VERSION: tool_version();
		case 'h': usage(PM_EXIT_OK);
		default: usage(PM_EXIT_USAGE);
		}
	}
	if (optind != argc || !marker)
		usage(PM_EXIT_USAGE);
	/* An empty marker is the unquoted empty field: the very thing such readers cannot tell apart. */
	if (marker[0] == '\0')
		pm_die(PM_EXIT_USAGE, "--null: the marker is empty; give a text no value holds, such as \\N");

	unsigned long long records = null_marker_copy(input, output, level, marker);
	if (verbose)
		pm_warn("%llu records", records);
	return PM_EXIT_OK;
}
