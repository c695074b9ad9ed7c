/*
 * table_load: the steps of a load in their order, inside one transaction: the plan,
 * the records in, the merge, the sequences moved past the data, the checkpoint, the
 * commit.  Each step is in a file of its own (load.h lists them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "pm_error.h"
#include "sequence_sql.h"
#include "sql_format.h"
#include "stream_writer.h"

/* Explicit ids leave a sequence behind the data; move each past max(column), never back (nor
 * a descending one); the name comes quoted from pg_get_serial_sequence. */
static void move_sequences(struct load *l)
{
	struct bytebuf behind = { 0 };

	for (size_t i = 0; i < l->cols.n; i++) {
		const struct table_column *c = &l->t->columns[table_desc_find(l->t, l->cols.items[i])];
		if (!c->sequence || (l->o->new_ids && strcmp(c->name, l->o->new_ids) == 0))
			continue;
		const char *seq[1] = { c->sequence };
		load_command(l, "moving the sequence",
			     sql_printf(&l->sql, l->conn, "SELECT pg_catalog.setval($1::regclass, b.m) FROM (%s) b WHERE b.increment > 0",
					sequence_behind_sql(&behind, l->conn, l->t->qualified, c->name, c->sequence)),
			     1, seq);
	}
	bytebuf_free(&behind);
}

static void commit(struct load *l)
{
	PGresult *res;

	if (db_try_query(l->conn, "COMMIT", 0, NULL, &res)) {
		db_clear(res);
		return;
	}
	if (db_connection_lost(l->conn))
		pm_die(PM_EXIT_DATABASE, "%s: lost the connection during COMMIT: the load may or may not be committed",
		       l->t->label);
	/* Deferred foreign keys are checked here: a dangling reference is bad data like any other. */
	load_failed(l, res, "commit", 0, "");
}

/* The indexes and keys set aside, built again; a unique key the rows break names the record. */
static void finish_bulk(struct load *l)
{
	char name[256];
	unsigned long long n = table_bulk_finish(l->conn, l->bulk, name, sizeof name);

	if (n)
		db_die_duplicate(l->t->label, n, name, NULL);
}

static void report(const struct load *l)
{
	const struct load_options *o = l->o;

	tool_stats_put(o->stats, "records", l->records);
	tool_stats_put(o->stats, "inserted", l->inserted);
	tool_stats_put(o->stats, "updated", l->updated);
	tool_stats_put(o->stats, "unchanged", l->records - l->inserted - l->updated);
	tool_stats_put(o->stats, "keymap_entries", l->keymap_entries);
	if (o->verbose)
		pm_warn("%s: %llu records: %llu inserted, %llu updated, %llu unchanged", l->t->label,
			(unsigned long long)l->records, (unsigned long long)l->inserted, (unsigned long long)l->updated,
			(unsigned long long)(l->records - l->inserted - l->updated));
}

static void free_load(struct load *l)
{
	table_bulk_free(l->bulk);
	table_bulk_free(l->keymap_bulk);
	if (l->keymap_t)
		table_desc_free(l->keymap_t);
	free(l->keymap_name);
	table_desc_free(l->t);
	namelist_free(&l->cols);
	namelist_free(&l->key);
	namelist_free(&l->other);
	free(l->src);
	free(l->keymap);
	bytebuf_free(&l->sql);
}

void table_load(PGconn *conn, const struct load_options *o)
{
	struct load l = { .conn = conn, .o = o };
	struct stream_writer *keymap_out = NULL;

	db_exec(conn, "starting the transaction", "BEGIN");
	/* Both before the stream is opened: its writer may wait for this lock (pipelines/staged). */
	if (o->lock) {
		const char *key[1] = { o->lock };
		db_command(conn, "taking the lock", "SELECT pg_catalog.pg_advisory_xact_lock($1::bigint)", 1, key);
	}
	if (o->checkpoint.name)
		load_checkpoint_claim(conn, &o->checkpoint);
	l.in = stream_reader_open(o->input);
	l.t = table_desc_load(conn, o->schema, o->table);
	if (l.t->kind != 'r' && l.t->kind != 'p')
		pm_die(PM_EXIT_USAGE, "%s is not a table", l.t->label);
	load_plan_columns(&l);
	load_plan_key(&l);
	if (o->new_ids)
		load_plan_keymap(&l);
	/* Opened now, so an output that cannot be written is found before any record is sent. */
	if (o->keymap_out)
		keymap_out = stream_writer_open(o->keymap_out, o->level);

	/* Plain inserts go straight in: same atomicity, and every error keeps its record number.
	 * Into an empty table they go without its indexes and keys, built once at the end; so do
	 * inserts with new ids, from the staging table once every id is assigned. */
	if (o->mode == LOAD_INSERT && !o->keep_indexes && l.t->kind == 'r')
		l.bulk = table_bulk_begin(conn, l.t);
	if (o->mode == LOAD_INSERT && !o->new_ids)
		l.into = l.t->qualified;
	else
		load_create_staging(&l);
	load_copy_records(&l);
	if (l.bulk && !o->new_ids)
		finish_bulk(&l);
	if (o->new_ids)
		load_create_keymap(&l);
	if (l.staged) {
		db_exec(conn, "starting the merge", "SAVEPOINT pm_merge");
		l.merging = true;
	}
	if (o->new_ids)
		load_merge_new_ids(&l);
	else if (o->mode != LOAD_INSERT)
		load_merge_by_key(&l);
	else
		l.inserted = l.records;
	l.merging = false;
	if (l.bulk && o->new_ids)
		finish_bulk(&l);
	move_sequences(&l);
	if (o->checkpoint.name)
		load_checkpoint_advance(conn, &o->checkpoint, l.inserted + l.updated);
	if (keymap_out)
		load_write_keymap(&l, keymap_out);
	stream_reader_close(l.in);
	commit(&l);
	if (keymap_out)
		stream_writer_close(keymap_out);
	report(&l);
	free_load(&l);
}
