/* Unit tests of transform: a stream through a mapping, its output, its rejects, and where it stops. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "fixture.h"
#include "keymap.h"
#include "mapping.h"
#include "pm_error.h"
#include "stream_reader.h"
#include "tap.h"
#include "transform.h"

static bool exists(const char *name)
{
	return access(path_of(name), F_OK) == 0;
}

/* Files in the directory whose name holds part (a writer's temporary file holds its target's name). */
static int files_named(const char *part)
{
	int n = 0;
	DIR *d = opendir(fixture_dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		n += strstr(e->d_name, part) != NULL;
	if (d)
		closedir(d);
	return n;
}

static struct mapping *map;
static struct keymap *profile;
static struct transform_options opts;

static void run(void *arg)
{
	(void)arg;
	transform_run(map, &opts);
}

static void set_options(const char *input, const char *rejects, long long max_rejects)
{
	opts = (struct transform_options){ .input = path_of(input),
					   .output = strdup(path_of("out.gz")),
					   .rejects = rejects ? strdup(path_of(rejects)) : NULL,
					   .level = 1,
					   .max_rejects = max_rejects,
					   .keymaps = &profile,
					   .nkeymaps = 1 };
	opts.input = strdup(opts.input);
}

static void free_options(void)
{
	free((char *)opts.input);
	free((char *)opts.output);
	free((char *)opts.rejects);
}

static const char MAP[] = "target t\n"
			  "column id integer not-null\n"
			  "column owner smallint null from profile keymap profile\n"
			  "column ok boolean not-null from flag\n"
			  "column name varchar(3) null\n"
			  "column again integer null from id\n"
			  "column kind text not-null const \"printer\"\n"
			  "column gone text null const-null\n"
			  "column addr text null reject ip-or-url\n";

static void test_output(void)
{
	/* Input columns in another order, one the mapping does not use (dropped). */
	write_text("in.csv", "flag,unused,name,profile,id,addr\n"
			     "TRUE,x, ,10, 0042 ,10.0.0.1\n"
			     "off,y,\"\",,7,\n"
			     "1,z,\xc3\xa9\xc3\xa9\xc3\xa9,-5,-0,http://h:80/\n");
	set_options("in.csv", NULL, 0);
	transform_run(map, &opts);
	ok(strcmp(slurp("out.gz"), "id|owner|ok|name|again|kind|gone|addr;"
				   "42|1|t| |42|printer|<null>|10.0.0.1;"
				   "7|<null>|f||7|printer|<null>|<null>;"
				   "0|3|t|\xc3\xa9\xc3\xa9\xc3\xa9|0|printer|<null>|http://h:80/;") == 0,
	   "output: the mapping's header, values normalised, key map, constants, NULL and \"\" kept apart");
	ok(!exists("rejects.gz"), "no rejects stream unless asked for");
	free_options();

	write_text("empty.csv", "id,profile,flag,name,addr\n");
	set_options("empty.csv", "rejects.gz", 0);
	transform_run(map, &opts);
	ok(strcmp(slurp("out.gz"), "id|owner|ok|name|again|kind|gone|addr;") == 0, "a stream of no records: the header alone");
	ok(strcmp(slurp("rejects.gz"), "id|profile|flag|name|addr|pm_record|pm_column|pm_reason;") == 0,
	   "and a rejects stream of the input's header and the three reason columns");
	free_options();
}

static void test_rejects(void)
{
	write_text("bad.csv", "id,profile,flag,name,addr\n"
			      "1,10,t,a,\n"        /* 1: written */
			      ",10,t,a,\n"         /* 2: NULL in a NOT NULL column */
			      "x,10,t,a,\n"        /* 3: not a whole number */
			      "2,7,t,a,\n"         /* 4: 7 is not in key map profile */
			      "3,30,t,a,\n"        /* 5: key map gives 40000: out of range for smallint */
			      "4,10,maybe,a,\n"    /* 6: not a boolean */
			      "5,10,t,abcd,\n"     /* 7: too long */
			      "6,10,t,a,localhost\n" /* 8: not an IP address or a URL */
			      "2147483648,10,t,a,\n" /* 9: out of range for integer */
			      "9,,t,a,\n");        /* 10: written */
	set_options("bad.csv", "rejects.gz", 100);
	char err[4096];
	int status = child_run(run, NULL, err, sizeof err);
	ok(status == 0, "eight rejects under a limit of 100: the run completes");
	ok(strcmp(slurp("out.gz"), "id|owner|ok|name|again|kind|gone|addr;"
				   "1|1|t|a|1|printer|<null>|<null>;"
				   "9|<null>|t|a|9|printer|<null>|<null>;") == 0,
	   "only the good records are written");
	ok(strcmp(slurp("rejects.gz"), "id|profile|flag|name|addr|pm_record|pm_column|pm_reason;"
				       "<null>|10|t|a|<null>|2|id|NULL in a NOT NULL column;"
				       "x|10|t|a|<null>|3|id|not a whole number;"
				       "2|7|t|a|<null>|4|owner|7 is not in key map profile;"
				       "3|30|t|a|<null>|5|owner|key map profile gives 40000, out of range for the column;"
				       "4|10|maybe|a|<null>|6|ok|not a boolean;"
				       "5|10|t|abcd|<null>|7|name|too long;"
				       "6|10|t|a|localhost|8|addr|not an IP address or a URL with a scheme and a host;"
				       "2147483648|10|t|a|<null>|9|id|out of range for integer;") == 0,
	   "each reject: the input record as it was, its number, the first column that failed, the reason");
	ok(strstr(err, "t: 10 records: 2 written, 8 rejected, 0 warnings\n") != NULL, "the summary counts them");
	ok(strstr(err, ": rejected\n") == NULL, "with a rejects stream, no line a reject on stderr");
	free_options();

	/* Without a rejects stream each reject is a warning line on stderr. */
	set_options("bad.csv", NULL, 100);
	status = child_run(run, NULL, err, sizeof err);
	char want[256];
	snprintf(want, sizeof want, "test_transform: %s: record 4: column \"owner\": 7 is not in key map profile: rejected\n",
		 path_of("bad.csv"));
	ok(status == 0 && strstr(err, want) != NULL, "without a rejects stream, a reject is a line on stderr");
	free_options();

	/* One more than max_rejects: exit 1, no output, the rejects so far kept. */
	unlink(path_of("out.gz"));
	unlink(path_of("rejects.gz"));
	set_options("bad.csv", "rejects.gz", 2);
	status = child_run(run, NULL, err, sizeof err);
	snprintf(want, sizeof want, "test_transform: %s: record 4: column \"owner\": 7 is not in key map profile; more than 2 rejects, stopping\n",
		 path_of("bad.csv"));
	ok(status == PM_EXIT_DIFFERENCES && strstr(err, want) != NULL, "the third reject of at most 2 stops the run: exit 1");
	ok(!exists("out.gz") && files_named("out.gz") == 0, "and leaves no output file, not even a temporary one");
	ok(exists("rejects.gz") && strcmp(slurp("rejects.gz"), "id|profile|flag|name|addr|pm_record|pm_column|pm_reason;"
							       "<null>|10|t|a|<null>|2|id|NULL in a NOT NULL column;"
							       "x|10|t|a|<null>|3|id|not a whole number;"
							       "2|7|t|a|<null>|4|owner|7 is not in key map profile;") == 0,
	   "the rejects up to the stop stay, the stopping one included");
	free_options();

	set_options("bad.csv", NULL, 0);
	status = child_run(run, NULL, err, sizeof err);
	ok(status == PM_EXIT_DIFFERENCES && strstr(err, "record 2: column \"id\": NULL in a NOT NULL column; more than 0 rejects") != NULL,
	   "max_rejects 0: the first reject stops the run");
	free_options();
}

static void test_warn(void)
{
	struct mapping *saved = map;
	map = mapping_load(write_text("warn.map", "target w\ncolumn addr varchar(20) null warn ip-or-url\n"));
	write_text("warn.csv", "addr\nlocalhost\n10.0.0.1\n\"\"\n\n");
	set_options("warn.csv", NULL, 0);
	char err[1024], want[256];
	int status = child_run(run, NULL, err, sizeof err);
	snprintf(want, sizeof want,
		 "test_transform: %s: record 1: column \"addr\": warning: not an IP address or a URL with a scheme and a host\n",
		 path_of("warn.csv"));
	ok(status == 0 && strstr(err, want) != NULL && strstr(err, "localhost") == NULL,
	   "warn: a line naming the record and column, never the value");
	ok(strstr(err, "w: 4 records: 4 written, 0 rejected, 2 warnings\n") != NULL,
	   "warn: the empty string is checked (it is not NULL), NULL is not; the summary counts the warnings");
	ok(strcmp(slurp("out.gz"), "addr;localhost;10.0.0.1;;<null>;") == 0, "warn: every record is written as it was");
	free_options();
	mapping_free(map);
	map = saved;
}

static void test_refused(void)
{
	char err[1024], want[512];

	write_text("nosrc.csv", "id,flag,name,addr\n1,t,a,\n");
	set_options("nosrc.csv", NULL, 0);
	int status = child_run(run, NULL, err, sizeof err);
	snprintf(want, sizeof want, "test_transform: %s: header: no column \"profile\" (%s:3, column owner)\n",
		 path_of("nosrc.csv"), path_of("t.map"));
	ok(status == PM_EXIT_DATA && strcmp(err, want) == 0, "a source column the header lacks: exit 3, naming the mapping's line");
	free_options();

	write_text("in2.csv", "id,profile,flag,name,addr\n1,10,t,a,\n");
	set_options("in2.csv", NULL, 0);
	opts.nkeymaps = 0;
	status = child_run(run, NULL, err, sizeof err);
	snprintf(want, sizeof want, "test_transform: %s:3: column owner needs --keymap profile=FILE\n", path_of("t.map"));
	ok(status == PM_EXIT_USAGE && strcmp(err, want) == 0, "a key map not given: exit 2, naming the mapping's line");
	free_options();

	write_text("trunc.csv", "id,profile,flag,name,addr\n1,10,t,\"a\n");
	set_options("trunc.csv", NULL, 0);
	unlink(path_of("out.gz"));
	status = child_run(run, NULL, err, sizeof err);
	ok(status == PM_EXIT_DATA && files_named("out.gz") == 0, "a malformed input: exit 3 and no output file");
	free_options();
}

int main(void)
{
	pm_set_progname("test_transform");
	if (!fixture_dir_make())
		return 2;
	map = mapping_load(write_text("t.map", MAP));
	profile = keymap_new("profile");
	keymap_add(profile, 10, 1, "test");
	keymap_add(profile, -5, 3, "test");
	keymap_add(profile, 30, 40000, "test");
	keymap_build(profile, "test");
	test_output();
	test_rejects();
	test_warn();
	test_refused();
	keymap_free(profile);
	mapping_free(map);
	bytebuf_free(&slurp_buf);
	fixture_dir_remove();
	return tap_done();
}
