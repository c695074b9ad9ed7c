/* Unit tests of record_sorter: in memory, and in many runs on disk merged more than once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record_sorter.h"
#include "tap.h"

static struct csv_field F(const char *s)
{
	return (struct csv_field){ s, strlen(s), false };
}

/* Sort n records keyed (k, text) with k = (i * 7919) % m, budget bytes; check order, stability, content. */
static void sort_check(size_t n, size_t m, size_t budget, const char *what)
{
	struct csv_field hf[3] = { F("k"), F("v"), F("pad") };
	struct csv_record header = { 0, 3, hf };
	size_t places[1] = { 0 };
	struct record_key key = { 1, places };
	struct record_sorter *s = record_sorter_open(&header, &key, budget);
	char k[32], v[32];

	for (size_t i = 1; i <= n; i++) {
		snprintf(k, sizeof k, "%zu", (i * 7919) % m);
		snprintf(v, sizeof v, "v%zu", i);
		struct csv_field f[3] = { F(k), F(v), i % 3 ? F("") : (struct csv_field){ NULL, 0, true } };
		record_sorter_add(s, &(struct csv_record){ i, 3, f });
	}
	size_t got = 0, runs = record_sorter_runs(s);
	bool ordered = true, intact = true;
	long long last_k = -1;
	uint64_t last_number = 0, sum = 0;
	const struct csv_record *rec;
	while ((rec = record_sorter_next(s)) != NULL) {
		long long kk = atoll(rec->fields[0].data);
		ordered = ordered && (kk > last_k || (kk == last_k && rec->number > last_number));
		snprintf(v, sizeof v, "v%llu", (unsigned long long)rec->number);
		intact = intact && strcmp(rec->fields[1].data, v) == 0 && rec->fields[2].null == (rec->number % 3 == 0) &&
			 kk == (long long)((rec->number * 7919) % m);
		last_k = kk;
		last_number = rec->number;
		sum += rec->number;
		got++;
	}
	runs = record_sorter_runs(s) > runs ? record_sorter_runs(s) : runs;
	ok(got == n && sum == (uint64_t)n * (n + 1) / 2, "%s: every record comes back once (%zu)", what, got);
	ok(ordered, "%s: in key order, equal keys in input order", what);
	ok(intact, "%s: fields, NULLs and record numbers kept", what);
	if (budget < 100000)
		ok(runs > 32, "%s: %zu runs written, so runs were merged before the end", what, runs);
	else
		ok(runs == 0, "%s: no run written", what);
	record_sorter_close(s);
}

int main(void)
{
	char dir[] = "/tmp/pm-sorter-XXXXXX";
	if (!mkdtemp(dir))
		return 2;
	setenv("TMPDIR", dir, 1);
	sort_check(5000, 1000, 1 << 26, "in memory");
	sort_check(20000, 5000, 8192, "on disk");
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rmdir %s", dir); /* fails if a run was left behind */
	ok(system(cmd) == 0, "no run left behind");
	return tap_done();
}
