/*
 * load_new_ids: a load with --new-ids.  Each staged row not yet in the key map gets
 * the next value of the id column's sequence, in order of its old id (so the same
 * stream gives the same ids), and the pair goes into the key map, pm."keymap_NAME",
 * in the same transaction as the row; the load's pairs can be written out as a stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keymap_table.h"
#include "load.h"
#include "pm_error.h"
#include "sql_format.h"
#include "stream_writer.h"

/* Name the key map and check the id column, before any record is sent. */
void load_plan_keymap(struct load *l)
{
	char name[KEYMAP_TABLE_NAME_SIZE];
	struct bytebuf b = { 0 };
	const char *base = l->o->keymap ? l->o->keymap : l->t->name;
	const struct table_column *id = &l->t->columns[table_desc_find(l->t, l->o->new_ids)];

	if (!id->sequence)
		pm_die(PM_EXIT_USAGE, "--new-ids: column \"%s\" of %s has no sequence to take new ids from", id->name,
		       l->t->label);
	if (strlen(base) > KEYMAP_NAME_MAX)
		pm_die(PM_EXIT_USAGE, "key map name \"%s\" is longer than %d bytes: choose one with --keymap", base,
		       KEYMAP_NAME_MAX);
	keymap_table_name(name, base);
	keymap_table_append(l->conn, &b, base);
	l->keymap = pm_strdup(bytebuf_cstr(&b));
	l->keymap_name = pm_strdup(name);
	bytebuf_free(&b);
}

/* Before the savepoint: a key map made by this load outlives a rollback to it, so that
 * load_locate_record can find the record that repeats an old id. */
void load_create_keymap(struct load *l)
{
	const char *type = l->t->columns[table_desc_find(l->t, l->o->new_ids)].type;

	load_command(l, "creating the key map", "CREATE SCHEMA IF NOT EXISTS " KEYMAP_SCHEMA, 0, NULL);
	load_command(l, "creating the key map",
		     sql_printf(&l->sql, l->conn,
				"CREATE TABLE IF NOT EXISTS %s (old_key %s PRIMARY KEY, new_key %s NOT NULL UNIQUE)",
				l->keymap, type, type),
		     0, NULL);
	/* An empty key map filled with an empty table's rows: its keys too are built once, after. */
	if (l->bulk) {
		l->keymap_t = table_desc_load(l->conn, KEYMAP_SCHEMA, l->keymap_name);
		l->keymap_bulk = table_bulk_begin(l->conn, l->keymap_t);
	}
}

/*
 * The empty key map's keys built again.  Its rows are in old-key order, not the stream's: a
 * repeated old id is located in the staging table, as load_locate_record does.
 */
static void finish_keymap_bulk(struct load *l)
{
	char name[256];
	char *id_name[1] = { (char *)l->o->new_ids };
	struct namelist id = { id_name, 1 };

	if (!table_bulk_finish(l->conn, l->keymap_bulk, name, sizeof name))
		return;
	db_die_duplicate(l->t->label, load_first_staged_repeat(l, &id, NULL), name, "recording the key map");
}

/* --mode upsert: rows whose old id the key map has already are updated in place, where they differ. */
static void update_mapped_rows(struct load *l, const struct table_column *id)
{
	struct bytebuf set = { 0 }, changed = { 0 };

	l->other.items = pm_malloc(l->cols.n * sizeof *l->other.items);
	for (size_t i = 0; i < l->cols.n; i++)
		if (strcmp(l->cols.items[i], id->name) != 0)
			l->other.items[l->other.n++] = pm_strdup(l->cols.items[i]);
	if (l->other.n)
		l->updated = load_command(l, "updating mapped rows",
					  sql_printf(&l->sql, l->conn,
						     "UPDATE %s AS t SET %s FROM pm_staging s, %s k"
						     " WHERE k.old_key = s.%I AND t.%I = k.new_key AND %s",
						     l->t->qualified, load_set_list(l, &set, "s."), l->keymap, id->name,
						     id->name, load_changed(l, &changed, "s.")),
					  0, NULL);
	bytebuf_free(&set);
	bytebuf_free(&changed);
}

/* Each old id its new one, in pm_pairs and in the key map.  Skip and upsert map only the old ids
 * the key map lacks; insert maps all, and an old id mapped already fails on the key map's key. */
static void assign_new_ids(struct load *l, const struct table_column *id)
{
	const char *seq[1] = { id->sequence };
	struct bytebuf where = { 0 };
	const char *unmapped = l->o->mode == LOAD_INSERT ? ""
				: sql_printf(&where, l->conn, " WHERE NOT EXISTS (SELECT FROM %s k WHERE k.old_key = s.%I)",
					     l->keymap, id->name);

	l->inserted = load_command(l, "assigning new ids",
				   sql_printf(&l->sql, l->conn,
					      "INSERT INTO pm_pairs SELECT old_key, pg_catalog.nextval($1::regclass)"
					      " FROM (SELECT %I AS old_key FROM pm_staging s%s ORDER BY 1) o",
					      id->name, unmapped),
				   1, seq);
	bytebuf_free(&where);
	l->keymap_entries = load_command(l, "recording the key map",
					 sql_printf(&l->sql, l->conn, "INSERT INTO %s SELECT old_key, new_key FROM pm_pairs",
						    l->keymap),
					 0, NULL);
	if (l->keymap_bulk)
		finish_keymap_bulk(l);
}

/* The staged rows with a pair, the new id in place of the old. */
static void insert_rows(struct load *l, const struct table_column *id)
{
	struct bytebuf values = { 0 };

	for (size_t i = 0; i < l->cols.n; i++)
		if (strcmp(l->cols.items[i], id->name) == 0)
			sql_appendf(&values, l->conn, "%sp.new_key", i ? ", " : "");
		else
			sql_appendf(&values, l->conn, "%ss.%I", i ? ", " : "", l->cols.items[i]);
	/* Into a table emptied by table_bulk_begin, rows land in ctid order as inserted: in record
	 * order, table_bulk_finish names the record that repeats a unique key, as COPY's would. */
	load_command(l, "inserting rows with new ids",
		     sql_printf(&l->sql, l->conn,
				"INSERT INTO %s (%N) OVERRIDING SYSTEM VALUE SELECT %s"
				" FROM pm_staging s JOIN pm_pairs p ON p.old_key = s.%I%s",
				l->t->qualified, NULL, &l->cols, bytebuf_cstr(&values), id->name,
				l->bulk ? " ORDER BY s." LOAD_RECORD_COLUMN : ""),
		     0, NULL);
	bytebuf_free(&values);
}

void load_merge_new_ids(struct load *l)
{
	const struct table_column *id = &l->t->columns[table_desc_find(l->t, l->o->new_ids)];

	load_command(l, "creating the key pairs",
		     sql_printf(&l->sql, l->conn, "CREATE TEMPORARY TABLE pm_pairs (old_key %s, new_key %s) ON COMMIT DROP",
				id->type, id->type),
		     0, NULL);
	if (l->o->mode == LOAD_UPSERT)
		update_mapped_rows(l, id);
	assign_new_ids(l, id);
	insert_rows(l, id);
}

static void write_pair(void *ctx, const char *row, size_t len)
{
	stream_writer_raw(ctx, row, len);
}

/* This load's pairs, in old-key order, then everything but the rename: that waits for COMMIT. */
void load_write_keymap(struct load *l, struct stream_writer *out)
{
	static const struct csv_field header[2] = { { "old_key", 7, false }, { "new_key", 7, false } };
	char what[256];

	stream_writer_record(out, header, 2);
	snprintf(what, sizeof what, "%s: writing the key map", l->t->label);
	db_copy_out(l->conn, what, "COPY (SELECT old_key, new_key FROM pm_pairs ORDER BY old_key) TO STDOUT WITH (FORMAT csv)",
		    write_pair, out);
	stream_writer_finish(out);
}
