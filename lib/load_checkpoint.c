#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "load_checkpoint.h"
#include "pm_error.h"
#include "tool.h"

void load_checkpoint_parse(struct load_checkpoint *c, const char *arg)
{
	const char *range = NULL;
	const char *dots = tool_split_name_value(arg, &c->name, &range) ? strstr(range, "..") : NULL;

	if (!dots || !dots[2])
		pm_die(PM_EXIT_USAGE, "--checkpoint: \"%s\" is not NAME=FROM..TO (FROM empty for the first)", arg);
	c->from = pm_strndup(range, (size_t)(dots - range));
	c->to = pm_strdup(dots + 2);
}

void load_checkpoint_free(struct load_checkpoint *c)
{
	free(c->name);
	free(c->from);
	free(c->to);
}

void load_checkpoint_claim(PGconn *conn, const struct load_checkpoint *c)
{
	const char *params[1] = { c->name };

	/* IF NOT EXISTS races with a concurrent first load; the one that loses fails whole (exit 4). */
	db_exec(conn, "creating pm.checkpoint", "CREATE SCHEMA IF NOT EXISTS pm");
	db_exec(conn, "creating pm.checkpoint",
		"CREATE TABLE IF NOT EXISTS pm.checkpoint (name text PRIMARY KEY, value text NOT NULL,"
		" rows bigint NOT NULL DEFAULT 0, updated timestamptz NOT NULL DEFAULT now())");
	/* The row exists before it is locked, so a second load of a first chunk waits too. */
	PQclear(db_query(conn, "claiming the checkpoint",
			 "INSERT INTO pm.checkpoint (name, value) VALUES ($1, '') ON CONFLICT (name) DO NOTHING", 1,
			 params));
	PGresult *res = db_query(conn, "claiming the checkpoint",
				 "SELECT value FROM pm.checkpoint WHERE name = $1 FOR UPDATE", 1, params);
	const char *at = PQgetvalue(res, 0, 0);
	if (strcmp(at, c->from) != 0) {
		char *copy = pm_strdup(at);
		PQclear(res);
		pm_die(PM_EXIT_DIFFERENCES,
		       "checkpoint \"%s\" stands at \"%s\", not \"%s\": another run moved this chunk; nothing loaded",
		       c->name, copy, c->from);
	}
	PQclear(res);
}

void load_checkpoint_advance(PGconn *conn, const struct load_checkpoint *c, uint64_t rows)
{
	char n[32];
	snprintf(n, sizeof n, "%llu", (unsigned long long)rows);
	const char *params[3] = { c->name, c->to, n };

	PQclear(db_query(conn, "moving the checkpoint",
			 "UPDATE pm.checkpoint SET value = $2, rows = rows + $3::bigint, updated = now() WHERE name = $1",
			 3, params));
}
