/*
 * fuzz_transform: pm-transform's record path.  The input is a stream of printers,
 * run through schemas/printer.map with a small key map, as
 *
 *   pm-transform -m schemas/printer.map --keymap profile=keys.csv -i INPUT -o out.gz \
 *                --rejects rejects.gz --max-rejects 3
 *
 * would.  pm may refuse the stream (exit 3) or stop at the fourth reject (exit 1),
 * but must not crash, and what it writes must read back as a stream of the
 * mapping's columns with values the mapping allows.
 */
#include <string.h>

#include "harness.h"
#include "keymap.h"
#include "mapping.h"
#include "pm_error.h"
#include "stream_reader.h"
#include "transform.h"

static struct mapping *mapping;
static struct keymap *keymap;
static struct transform_options options;

static void load_fixtures(void *arg)
{
	static const char keys[] = "old_key,new_key\n10,1\n20,2\n30,3\n-5,9223372036854775807\n";

	(void)arg;
	mapping = mapping_load(fuzz_source_file("schemas/printer.map"));
	keymap = keymap_load("profile", fuzz_write("keys.csv", (const uint8_t *)keys, sizeof keys - 1));
}

static void transform(void *arg)
{
	(void)arg;
	transform_run(mapping, &options);
}

/* The output: a header of the mapping's columns, then records whose values pass their columns' checks. */
static void read_output(void *arg)
{
	struct stream_reader *r = stream_reader_open(fuzz_path("out.gz"));
	const struct csv_record *h = stream_reader_header(r), *rec;
	struct bytebuf scratch = { 0 };

	(void)arg;
	if (h->nfields != mapping->ncolumns)
		fuzz_fail("output header: %zu columns, the mapping %zu", h->nfields, mapping->ncolumns);
	for (size_t i = 0; i < h->nfields; i++)
		if (strcmp(h->fields[i].data, mapping->columns[i].name) != 0)
			fuzz_fail("output header: column %zu is %s, not %s", i + 1, h->fields[i].data, mapping->columns[i].name);
	while ((rec = stream_reader_next(r)) != NULL) {
		for (size_t i = 0; i < rec->nfields; i++) {
			const struct map_column *c = &mapping->columns[i];
			const struct csv_field *f = &rec->fields[i];
			if (f->null) {
				if (c->not_null)
					fuzz_fail("output record %llu: NULL in not-null column %s",
						  (unsigned long long)rec->number, c->name);
				continue;
			}
			scratch.len = 0;
			const char *why = value_check(&c->type, f->data, f->len, &scratch);
			if (why || scratch.len != f->len || memcmp(scratch.data, f->data, f->len) != 0)
				fuzz_fail("output record %llu: column %s: a value not in its normal form (%s)",
					  (unsigned long long)rec->number, c->name, why ? why : "changed by its check");
		}
	}
	stream_reader_close(r);
	bytebuf_free(&scratch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz_transform");
	if (fuzz_call(load_fixtures, NULL) != -1)
		fuzz_fail("cannot load %s or the key map", fuzz_source_file("schemas/printer.map"));
	options = (struct transform_options){ .output = strdup(fuzz_path("out.gz")),
					      .rejects = strdup(fuzz_path("rejects.gz")),
					      .level = 1,
					      .max_rejects = 3,
					      .keymaps = &keymap,
					      .nkeymaps = 1 };
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	options.input = fuzz_write("input", data, size);
	int status = fuzz_call(transform, NULL);

	if (status == -1) {
		status = fuzz_call(read_output, NULL);
		if (status != -1)
			fuzz_fail("the output of an accepted stream does not read back (exit %d)", status);
	} else if (status != PM_EXIT_DATA && status != PM_EXIT_DIFFERENCES) {
		fuzz_fail("exit %d for a bad stream, not %d (or %d for too many rejects)", status, PM_EXIT_DATA,
			  PM_EXIT_DIFFERENCES);
	}
	return 0;
}
