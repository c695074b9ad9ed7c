/*
 * load_plan: which stream fields a load takes and into which columns, and the key it
 * merges on.  Every column of the stream's header is loaded, declared source-only, or
 * an error; the conflict key is --key, else the table's primary key.  Decided once,
 * before any record is sent.
 */
#include <stdlib.h>

#include "load.h"
#include "pm_error.h"

void load_plan_columns(struct load *l)
{
	const struct csv_record *h = stream_reader_header(l->in);
	const struct load_options *o = l->o;

	l->src = pm_malloc(h->nfields * sizeof *l->src);
	l->cols.items = pm_malloc(h->nfields * sizeof *l->cols.items);
	for (size_t i = 0; i < h->nfields; i++) {
		const char *name = h->fields[i].data;
		if (namelist_find(&o->source_only, name) >= 0)
			continue;
		if (table_desc_find(l->t, name) < 0)
			pm_die(PM_EXIT_DATA,
			       "%s: header: column \"%s\" is not in table %s (declare it with --source-only to skip it)",
			       stream_reader_name(l->in), name, l->t->label);
		l->src[l->cols.n] = i;
		l->cols.items[l->cols.n++] = pm_strdup(name);
	}
	for (size_t i = 0; i < o->source_only.n; i++) {
		if (stream_reader_column(l->in, o->source_only.items[i]) < 0)
			pm_die(PM_EXIT_USAGE, "--source-only: the stream has no column \"%s\"", o->source_only.items[i]);
	}
	if (o->new_ids && namelist_find(&l->cols, o->new_ids) < 0)
		pm_die(PM_EXIT_USAGE, "--new-ids: the stream has no loaded column \"%s\"", o->new_ids);
}

void load_plan_key(struct load *l)
{
	const struct namelist *key = &l->o->key;

	if (l->o->new_ids) {
		if (key->n)
			pm_die(PM_EXIT_USAGE, "--key does not go with --new-ids: the key map is the key");
		return;
	}
	if (l->o->mode == LOAD_INSERT) {
		if (key->n)
			pm_die(PM_EXIT_USAGE, "--key goes with --mode upsert or skip");
		return;
	}
	if (key->n == 0 && l->t->npk == 0)
		pm_die(PM_EXIT_USAGE, "%s has no primary key: name the conflict key with --key", l->t->label);
	char **names = key->n ? key->items : l->t->pk;
	size_t n = key->n ? key->n : l->t->npk;
	l->key.items = pm_malloc(n * sizeof *l->key.items);
	for (size_t i = 0; i < n; i++) {
		if (namelist_find(&l->cols, names[i]) < 0)
			pm_die(PM_EXIT_USAGE, "key column \"%s\" is not loaded from the stream", names[i]);
		l->key.items[l->key.n++] = pm_strdup(names[i]);
	}
	l->other.items = pm_malloc(l->cols.n * sizeof *l->other.items);
	for (size_t i = 0; i < l->cols.n; i++)
		if (namelist_find(&l->key, l->cols.items[i]) < 0)
			l->other.items[l->other.n++] = pm_strdup(l->cols.items[i]);
}
