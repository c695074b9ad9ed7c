#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compat_sql.h"
#include "pm_error.h"

struct compat_reference compat_reference_parse(const struct plan *p, const char *arg)
{
	const char *dot = strchr(arg, '.'), *eq = strchr(arg, '=');
	struct compat_reference r = { 0 };

	if (!dot || !eq || eq < dot)
		pm_die(PM_EXIT_USAGE, "--reference: \"%s\" is not MOVE.COLUMN=MOVE", arg);
	char *move = pm_strndup(arg, (size_t)(dot - arg)), *column = pm_strndup(dot + 1, (size_t)(eq - dot - 1));
	r.move = plan_find(p, move);
	r.to = plan_find(p, eq + 1);
	if (!r.move || !r.to)
		pm_die(PM_EXIT_USAGE, "--reference: \"%s\": the plan has no move \"%s\"", arg, r.move ? eq + 1 : move);
	for (size_t i = 0; i < r.move->mapping->ncolumns; i++)
		if (strcmp(r.move->mapping->columns[i].name, column) == 0)
			r.column = &r.move->mapping->columns[i];
	if (r.column && strcmp(r.column->name, r.move->key) == 0)
		pm_die(PM_EXIT_USAGE, "--reference: \"%s\": the key of move %s points at no other row", arg, move);
	if (r.column && r.column->keymap)
		pm_die(PM_EXIT_USAGE, "--reference: \"%s\": column \"%s\" goes through key map %s, which moves what it points at",
		       arg, column, r.column->keymap);
	if (!r.column || !r.column->from)
		pm_die(PM_EXIT_USAGE, "--reference: \"%s\": no column \"%s\" of move %s that comes from a source column as it is",
		       arg, column, move);
	if (r.to->new_ids)
		pm_die(PM_EXIT_USAGE, "--reference: \"%s\": move %s takes new ids: its references go through its key map", arg,
		       r.to->name);
	free(move);
	free(column);
	return r;
}

/* A string constant: quotes doubled (schemas/compat.sql sets standard_conforming_strings). */
static void put_literal(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', out);
		fputc(*s, out);
	}
	fputc('\'', out);
}

/* Column c's value in the target, from the source row named row (NEW, or o in a query). */
static void put_value(FILE *out, const struct map_column *c, const char *row)
{
	if (!c->from) {
		if (c->constant)
			put_literal(out, c->constant);
		else
			fputs("NULL", out);
	} else if (c->keymap) {
		fprintf(out, "pm.compat_key_%s(%s.%s)", c->keymap, row, c->from);
	} else {
		fprintf(out, "%s.%s", row, c->from);
	}
}

/* What put_columns writes of each column but the key. */
enum column_text {
	COLUMN_NAME,     /* name */
	COLUMN_VALUE,    /* its value from the source row */
	COLUMN_ASSIGN,   /* name = its value from the source row */
	COLUMN_EXCLUDED, /* name = EXCLUDED.name */
};

/* The target's columns but the key, comma-separated, after a comma too with after_key; row names
 * the source row (NEW, or o in a query) for COLUMN_VALUE and COLUMN_ASSIGN. */
static void put_columns(FILE *out, const struct plan_move *mv, enum column_text text, bool after_key, const char *row)
{
	const struct mapping *m = mv->mapping;
	bool first = !after_key;

	for (size_t i = 0; i < m->ncolumns; i++) {
		const struct map_column *c = &m->columns[i];
		if (strcmp(c->name, mv->key) == 0)
			continue;
		fputs(first ? "" : ", ", out);
		first = false;
		if (text != COLUMN_VALUE)
			fputs(c->name, out);
		if (text == COLUMN_ASSIGN)
			fputs(" = ", out);
		if (text == COLUMN_VALUE || text == COLUMN_ASSIGN)
			put_value(out, c, row);
		if (text == COLUMN_EXCLUDED)
			fprintf(out, " = EXCLUDED.%s", c->name);
	}
}

static size_t nonkey_columns(const struct plan_move *mv)
{
	return mv->mapping->ncolumns - 1; /* the key is one of them (plan_load checks) */
}

/* The source row of key $1 into the target under the key key_value (its own, or a new one). */
static void put_insert_from_source(FILE *out, const struct plan_move *mv, const char *key_value)
{
	fprintf(out, "        INSERT INTO public.%s (%s", mv->target, mv->key);
	put_columns(out, mv, COLUMN_NAME, true, NULL);
	fprintf(out, ")\n            SELECT %s", key_value);
	put_columns(out, mv, COLUMN_VALUE, true, "o");
	fprintf(out, " FROM public.%s o WHERE o.%s = $1", mv->source, mv->key);
}

/*
 * Once a row of mv is carried on: the rows its references point at, moved unless a move has
 * reached them.  After the row, not before: the foreign keys are deferred (Django's are), and a
 * cycle of references ends at a row that is there already.  From NEW in a row trigger, or, with
 * row NULL, from the source row of key $1 (a row moved on touch).
 */
static void put_references(FILE *out, const struct plan_move *mv, const struct compat_reference *refs, size_t nrefs,
			   const char *row)
{
	for (size_t i = 0; i < nrefs; i++) {
		if (refs[i].move != mv)
			continue;
		if (row)
			fprintf(out, "        PERFORM pm.compat_ref_%s(%s.%s);\n", refs[i].to->name, row, refs[i].column->from);
		else
			fprintf(out, "        PERFORM pm.compat_ref_%s(o.%s) FROM public.%s o WHERE o.%s = $1;\n",
				refs[i].to->name, refs[i].column->from, mv->source, mv->key);
	}
}

/* New ids: the key map, the function that reads it (moving an unmoved row), the row trigger. */
static void install_new_ids(FILE *out, const struct plan_move *mv, const struct compat_reference *refs, size_t nrefs)
{
	const char *km = mv->keymap, *k = mv->key;

	fprintf(out,
		"-- As pm-load --new-ids %s --keymap %s makes it.\n"
		"CREATE TABLE IF NOT EXISTS pm.keymap_%s (old_key bigint PRIMARY KEY, new_key bigint NOT NULL UNIQUE);\n\n",
		k, km, km);
	fprintf(out,
		"-- The new key of old key $1 of %s; a row no move has reached yet is moved now (its row as\n"
		"-- the source holds it at this moment: none when it is being deleted).  NULL stays NULL.\n"
		"-- The variable is quoted in mixed case: no column (a plain name) can be taken for it.\n"
		"CREATE OR REPLACE FUNCTION pm.compat_key_%s(bigint) RETURNS bigint LANGUAGE plpgsql STRICT AS $$\n"
		"DECLARE\n"
		"    \"newKey\" bigint;\n"
		"BEGIN\n"
		"    SELECT new_key INTO \"newKey\" FROM pm.keymap_%s WHERE old_key = $1;\n"
		"    IF FOUND THEN\n"
		"        RETURN \"newKey\";\n"
		"    END IF;\n"
		"    -- Two writers may move the same row at once: the second waits for the first, then uses its key.\n"
		"    INSERT INTO pm.keymap_%s (old_key, new_key)\n"
		"        VALUES ($1, nextval(pg_get_serial_sequence('public.%s', '%s')::regclass))\n"
		"        ON CONFLICT (old_key) DO NOTHING\n"
		"        RETURNING new_key INTO \"newKey\";\n"
		"    IF \"newKey\" IS NULL THEN\n"
		"        SELECT new_key INTO STRICT \"newKey\" FROM pm.keymap_%s WHERE old_key = $1;\n"
		"    ELSE\n",
		mv->source, km, km, km, mv->target, k, km);
	put_insert_from_source(out, mv, "\"newKey\"");
	fputs(";\n", out);
	put_references(out, mv, refs, nrefs, NULL);
	fprintf(out,
		"    END IF;\n"
		"    RETURN \"newKey\";\n"
		"END $$;\n\n");
	fprintf(out,
		"CREATE OR REPLACE FUNCTION pm.compat_row_%s() RETURNS trigger LANGUAGE plpgsql AS $$\n"
		"DECLARE\n"
		"    \"newKey\" bigint;\n"
		"BEGIN\n"
		"    PERFORM pm.compat_begin_write();\n"
		"    -- A key that changes is a delete of the old and an insert of the new (Django never changes one).\n"
		"    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.%s <> NEW.%s) THEN\n"
		"        DELETE FROM pm.keymap_%s WHERE old_key = OLD.%s RETURNING new_key INTO \"newKey\";\n"
		"        DELETE FROM public.%s WHERE %s = \"newKey\";\n"
		"    END IF;\n"
		"    IF TG_OP <> 'DELETE' THEN\n",
		mv->name, k, k, km, k, mv->target, k);
	fprintf(out, "        \"newKey\" := pm.compat_key_%s(NEW.%s);\n", km, k);
	if (nonkey_columns(mv) > 0) {
		fprintf(out, "        UPDATE public.%s SET ", mv->target);
		put_columns(out, mv, COLUMN_ASSIGN, false, "NEW");
		fprintf(out, " WHERE %s = \"newKey\";\n", k);
	}
	put_references(out, mv, refs, nrefs, "NEW");
	fprintf(out,
		"    END IF;\n"
		"    RETURN NULL;\n"
		"END $$;\n\n");
}

/* Kept ids: the function that moves a row no move has reached yet, for the rows that point at it. */
static void install_reference(FILE *out, const struct plan_move *mv, const struct compat_reference *refs, size_t nrefs)
{
	const char *k = mv->key;

	fprintf(out,
		"-- Row id of %s, moved now unless a move has reached it (a row that points at it is carried on).\n"
		"CREATE OR REPLACE FUNCTION pm.compat_ref_%s(bigint) RETURNS void LANGUAGE plpgsql STRICT AS $$\n"
		"BEGIN\n"
		"    IF NOT EXISTS (SELECT FROM public.%s WHERE %s = $1) THEN\n",
		mv->source, mv->name, mv->target, k);
	char key_value[80];
	snprintf(key_value, sizeof key_value, "o.%s", k);
	put_insert_from_source(out, mv, key_value);
	fprintf(out,
		"\n"
		"            ON CONFLICT (%s) DO NOTHING;\n"
		"        PERFORM pm.compat_sequence_past('public.%s', '%s', $1);\n",
		k, mv->target, k);
	put_references(out, mv, refs, nrefs, NULL);
	fprintf(out,
		"    END IF;\n"
		"END $$;\n\n");
}

/* Kept ids: the row trigger, which also keeps the target's sequence past every id it writes. */
static void install_kept_ids(FILE *out, const struct plan_move *mv, const struct compat_reference *refs, size_t nrefs)
{
	const char *k = mv->key;

	fprintf(out,
		"CREATE OR REPLACE FUNCTION pm.compat_row_%s() RETURNS trigger LANGUAGE plpgsql AS $$\n"
		"BEGIN\n"
		"    PERFORM pm.compat_begin_write();\n"
		"    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.%s <> NEW.%s) THEN\n"
		"        DELETE FROM public.%s WHERE %s = OLD.%s;\n"
		"    END IF;\n"
		"    IF TG_OP <> 'DELETE' THEN\n",
		mv->name, k, k, mv->target, k, k);
	fprintf(out, "        INSERT INTO public.%s (%s", mv->target, k);
	put_columns(out, mv, COLUMN_NAME, true, NULL);
	fprintf(out, ")\n            VALUES (NEW.%s", k);
	put_columns(out, mv, COLUMN_VALUE, true, "NEW");
	if (nonkey_columns(mv) == 0)
		fprintf(out, ")\n            ON CONFLICT (%s) DO NOTHING", k);
	else
		fprintf(out, ")\n            ON CONFLICT (%s) DO UPDATE SET ", k);
	put_columns(out, mv, COLUMN_EXCLUDED, false, NULL);
	fprintf(out,
		";\n"
		"        PERFORM pm.compat_sequence_past('public.%s', '%s', NEW.%s);\n",
		mv->target, k, k);
	put_references(out, mv, refs, nrefs, "NEW");
	fprintf(out,
		"    END IF;\n"
		"    RETURN NULL;\n"
		"END $$;\n\n");
}

void compat_sql_install(const struct plan *p, const struct compat_reference *refs, size_t nrefs, FILE *out)
{
	fprintf(out, "-- Generated by pm-plan from %s and its mapping files: the compatibility layer's\n"
		     "-- part of each move, in the plan's order.\n\n", p->path);
	for (size_t i = 0; i < p->nmoves; i++) {
		const struct plan_move *mv = &p->moves[i];
		fprintf(out, "-- move %s: %s to %s, %s\n", mv->name, mv->source, mv->target,
			mv->new_ids ? "new ids" : "ids kept");
		if (mv->new_ids) {
			install_new_ids(out, mv, refs, nrefs);
		} else {
			install_reference(out, mv, refs, nrefs);
			install_kept_ids(out, mv, refs, nrefs);
		}
		fprintf(out,
			"CREATE OR REPLACE TRIGGER pm_compat AFTER INSERT OR UPDATE OR DELETE ON public.%s\n"
			"    FOR EACH ROW EXECUTE FUNCTION pm.compat_row_%s();\n"
			"CREATE OR REPLACE TRIGGER pm_compat_truncate BEFORE TRUNCATE ON public.%s\n"
			"    FOR EACH STATEMENT EXECUTE FUNCTION pm.compat_refuse_truncate();\n\n",
			mv->source, mv->name, mv->source);
	}
}

void compat_sql_remove(const struct plan *p, FILE *out)
{
	fprintf(out, "-- Generated by pm-plan from %s: what compat_sql_install made, the plan backwards.\n"
		     "-- The key maps go only when empty: rows there are a migration's data, not the layer's.\n",
		p->path);
	for (size_t i = p->nmoves; i-- > 0;) {
		const struct plan_move *mv = &p->moves[i];
		fprintf(out,
			"DROP TRIGGER IF EXISTS pm_compat ON public.%s;\n"
			"DROP TRIGGER IF EXISTS pm_compat_truncate ON public.%s;\n"
			"DROP FUNCTION IF EXISTS pm.compat_row_%s();\n",
			mv->source, mv->source, mv->name);
		if (!mv->new_ids) {
			fprintf(out, "DROP FUNCTION IF EXISTS pm.compat_ref_%s(bigint);\n", mv->name);
			continue;
		}
		fprintf(out,
			"DROP FUNCTION IF EXISTS pm.compat_key_%s(bigint);\n"
			"DO $$\n"
			"BEGIN\n"
			"    -- Nested: plpgsql may plan the whole condition before it knows the table is there.\n"
			"    IF to_regclass('pm.keymap_%s') IS NOT NULL THEN\n"
			"        IF NOT EXISTS (SELECT FROM pm.keymap_%s) THEN\n"
			"            DROP TABLE pm.keymap_%s;\n"
			"        END IF;\n"
			"    END IF;\n"
			"END $$;\n",
			mv->keymap, mv->keymap, mv->keymap, mv->keymap);
	}
}
