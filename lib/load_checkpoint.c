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
	db_command(conn, "claiming the checkpoint",
		   "INSERT INTO pm.checkpoint (name, value) VALUES ($1, '') ON CONFLICT (name) DO NOTHING", 1, params);
	char *at = db_query_value(conn, "claiming the checkpoint",
				  "SELECT value FROM pm.checkpoint WHERE name = $1 FOR UPDATE", 1, params);
	if (!at || strcmp(at, c->from) != 0)
		pm_die(PM_EXIT_DIFFERENCES,
		       "checkpoint \"%s\" stands at \"%s\", not \"%s\": another run moved this chunk; nothing loaded",
		       c->name, at ? at : "", c->from);
	free(at);
}

void load_checkpoint_advance(PGconn *conn, const struct load_checkpoint *c, uint64_t rows)
{
	char n[32];
	snprintf(n, sizeof n, "%llu", (unsigned long long)rows);
	const char *params[3] = { c->name, c->to, n };

	db_command(conn, "moving the checkpoint",
		   "UPDATE pm.checkpoint SET value = $2, rows = rows + $3::bigint, updated = now() WHERE name = $1", 3,
		   params);
}
