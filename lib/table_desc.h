/*
 * table_desc: what the catalog says of one table: its columns in order, their
 * types, NOT NULL, the sequence behind each, and the primary key.  Names are
 * taken literally (no quoting rules); the schema is the one given or, without
 * one, the first on the search_path that holds the table.
 */
#ifndef PM_TABLE_DESC_H
#define PM_TABLE_DESC_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "bytebuf.h"
#include "name_index.h"

struct table_column {
	char *name;
	char *type;     /* format_type(): safe to paste into SQL as a type name */
	char *sequence; /* the sequence that feeds it (regclass text), or NULL */
	bool not_null;
};

struct table_desc {
	char *schema;
	char *name;
	char *label;     /* the name for messages: table, or schema.table off the search path */
	char *qualified; /* escaped "schema"."table" for SQL */
	char kind;       /* pg_class.relkind */
	struct table_column *columns;
	size_t ncolumns;
	char **pk; /* primary key column names, in key order */
	size_t npk;
	struct name_index index; /* column names, for table_desc_find */
};

struct table_desc *table_desc_load(PGconn *conn, const char *schema, const char *table);
void table_desc_free(struct table_desc *t);

/* Index of the named column, or -1. */
int table_desc_find(const struct table_desc *t, const char *name);

#endif
