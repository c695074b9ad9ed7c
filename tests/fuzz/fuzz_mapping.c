/*
 * fuzz_mapping: the input is a mapping file (pm-map(5)).  pm may refuse it (exit 2,
 * naming the line) but must not crash, and a mapping it accepts keeps the rules
 * the man page states: a target, columns with distinct non-empty names, a source
 * or a constant each, no const-null in a not-null column, a key map only on an
 * integer column, and constants that pass their own column's check.
 */
#include <string.h>

#include "harness.h"
#include "mapping.h"
#include "pm_error.h"

static void check(const struct mapping *m)
{
	if (!m->target || !*m->target || m->ncolumns == 0)
		fuzz_fail("accepted a mapping without a target or columns");
	for (size_t i = 0; i < m->ncolumns; i++) {
		const struct map_column *c = &m->columns[i];
		if (!c->name || !*c->name)
			fuzz_fail("column %zu: no name", i + 1);
		for (size_t k = 0; k < i; k++)
			if (strcmp(m->columns[k].name, c->name) == 0)
				fuzz_fail("column %s named twice", c->name);
		if (c->from && (c->constant || !*c->from))
			fuzz_fail("column %s: both a source and a constant, or an empty source", c->name);
		if (!c->from && !c->constant && c->not_null)
			fuzz_fail("column %s: const-null in a not-null column", c->name);
		if (c->keymap && c->type.type != TYPE_SMALLINT && c->type.type != TYPE_INTEGER &&
		    c->type.type != TYPE_BIGINT)
			fuzz_fail("column %s: a key map on a column that is not an integer", c->name);
		if (c->nchecks > sizeof c->checks / sizeof c->checks[0])
			fuzz_fail("column %s: %zu checks", c->name, c->nchecks);
		if (c->constant) {
			struct bytebuf out = { 0 };
			const char *why = value_check(&c->type, c->constant, strlen(c->constant), &out);
			bytebuf_free(&out);
			if (why)
				fuzz_fail("column %s: its constant fails its check: %s", c->name, why);
		}
	}
}

static void load(void *arg)
{
	struct mapping *m = mapping_load(arg);

	check(m);
	mapping_free(m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz_mapping");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int status = fuzz_call(load, (void *)fuzz_write("input", data, size));

	if (status != -1 && status != PM_EXIT_USAGE)
		fuzz_fail("exit %d for a bad mapping, not %d", status, PM_EXIT_USAGE);
	return 0;
}
