#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compat_sql.h"
#include "keymap_table.h"
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

/*
 * Which way a write goes: on from the source to the target (old code's writes), or back from the
 * target to the source (new code's).  Forward, every column of the target but the key gets its
 * value as the mapping says; back, every source column the mapping reads gets the target column's
 * value (the first that reads it), a key map read backwards; the target's constants go nowhere.
 */
enum way { FORWARD, BACK };

static bool goes_back(const struct plan_move *mv, size_t i)
{
	const struct map_column *c = &mv->mapping->columns[i];

	if (!c->from || strcmp(c->name, mv->key) == 0)
		return false;
	for (size_t j = 0; j < i; j++) {
		const struct map_column *e = &mv->mapping->columns[j];
		if (e->from && strcmp(e->from, c->from) == 0)
			return false;
	}
	return true;
}

/* What put_columns writes of each column but the key. */
enum column_text {
	COLUMN_NAME,   /* the column written */
	COLUMN_VALUE,  /* its value from the row written (NEW, or o in a query) */
	COLUMN_ASSIGN, /* name = value */
};

/* Column i's value, written the way w, from the row named row. */
static void put_value(FILE *out, const struct plan_move *mv, size_t i, enum way w, const char *row)
{
	const struct map_column *c = &mv->mapping->columns[i];

	if (w == BACK && c->keymap)
		fprintf(out, "pm.compat_old_key_%s(%s.%s)", c->keymap, row, c->name);
	else if (w == BACK)
		fprintf(out, "%s.%s", row, c->name);
	else if (!c->from && c->constant)
		put_literal(out, c->constant);
	else if (!c->from)
		fputs("NULL", out);
	else if (c->keymap)
		fprintf(out, "pm.compat_key_%s(%s.%s)", c->keymap, row, c->from);
	else
		fprintf(out, "%s.%s", row, c->from);
}

/* The columns written the way w but the key, comma-separated, after a comma too with after_key. */
static void put_columns(FILE *out, const struct plan_move *mv, enum way w, enum column_text text, bool after_key,
			const char *row)
{
	const struct mapping *m = mv->mapping;
	bool first = !after_key;

	for (size_t i = 0; i < m->ncolumns; i++) {
		const struct map_column *c = &m->columns[i];
		if (w == FORWARD ? strcmp(c->name, mv->key) == 0 : !goes_back(mv, i))
			continue;
		fputs(first ? "" : ", ", out);
		first = false;
		if (text != COLUMN_VALUE)
			fputs(w == FORWARD ? c->name : c->from, out);
		if (text == COLUMN_ASSIGN)
			fputs(" = ", out);
		if (text != COLUMN_NAME)
			put_value(out, mv, i, w, row);
	}
}

static size_t columns_written(const struct plan_move *mv, enum way w)
{
	size_t n = 0;

	for (size_t i = 0; i < mv->mapping->ncolumns; i++)
		n += w == FORWARD ? strcmp(mv->mapping->columns[i].name, mv->key) != 0 : goes_back(mv, i);
	return n;
}

/* The tables a write the way w goes from and to. */
static const char *written_table(const struct plan_move *mv, enum way w)
{
	return w == FORWARD ? mv->source : mv->target;
}

static const char *carried_table(const struct plan_move *mv, enum way w)
{
	return w == FORWARD ? mv->target : mv->source;
}

/* INSERT of the row written (NEW) into the table it is carried to, under key value key_value; a row
 * that is there already is someone else's: the write is refused, never laid over it. */
static void put_carry_insert(FILE *out, const struct plan_move *mv, enum way w, const char *indent,
			     const char *key_value)
{
	fprintf(out, "%sINSERT INTO public.%s (%s", indent, carried_table(mv, w), mv->key);
	put_columns(out, mv, w, COLUMN_NAME, true, NULL);
	fprintf(out, ")\n%s    VALUES (%s", indent, key_value);
	put_columns(out, mv, w, COLUMN_VALUE, true, "NEW");
	fprintf(out,
		")\n"
		"%s    ON CONFLICT DO NOTHING;\n"
		"%sIF NOT FOUND THEN\n"
		"%s    PERFORM pm.compat_refuse_conflict('%s', NEW.%s, 'public.%s', '%s', %s);\n"
		"%sEND IF;\n",
		indent, indent, indent, written_table(mv, w), mv->key, carried_table(mv, w), mv->key, key_value, indent);
}

/* UPDATE of the row carried to, key value key_value, from the row written (NEW); FOUND says
 * whether it was there. */
static void put_carry_update(FILE *out, const struct plan_move *mv, enum way w, const char *indent,
			     const char *key_value)
{
	if (columns_written(mv, w) == 0) {
		fprintf(out, "%sPERFORM FROM public.%s WHERE %s = %s;\n", indent, carried_table(mv, w), mv->key,
			key_value);
		return;
	}
	fprintf(out, "%sUPDATE public.%s SET ", indent, carried_table(mv, w));
	put_columns(out, mv, w, COLUMN_ASSIGN, false, "NEW");
	fprintf(out, " WHERE %s = %s;\n", mv->key, key_value);
}

/* The first statements of every row trigger: a write carried here is not carried back, and a key
 * that changes is refused (Django never changes one). */
static void put_trigger_start(FILE *out, const struct plan_move *mv, const char *name, const char *declare)
{
	fprintf(out,
		"CREATE OR REPLACE FUNCTION pm.%s() RETURNS trigger LANGUAGE plpgsql AS $$\n"
		"%s"
		"BEGIN\n"
		"    IF NOT pm.compat_carry_begin() THEN\n"
		"        RETURN NULL;\n"
		"    END IF;\n"
		"    IF TG_OP = 'UPDATE' AND NEW.%s IS DISTINCT FROM OLD.%s THEN\n"
		"        PERFORM pm.compat_refuse_key_change(TG_TABLE_NAME, '%s');\n"
		"    END IF;\n",
		name, declare, mv->key, mv->key, mv->key);
}

static void put_trigger_end(FILE *out)
{
	fputs("    PERFORM pm.compat_carry_end();\n"
	      "    RETURN NULL;\n"
	      "END $$;\n\n",
	      out);
}

/* A row of the table mv's write goes from into the one it goes to, from the row of key $1 of the
 * first in a query (a row carried when first touched), under the key value key_value. */
static void put_insert_from(FILE *out, const struct plan_move *mv, enum way w, const char *key_value)
{
	fprintf(out, "        INSERT INTO public.%s (%s", carried_table(mv, w), mv->key);
	put_columns(out, mv, w, COLUMN_NAME, true, NULL);
	fprintf(out, ")\n            SELECT %s", key_value);
	put_columns(out, mv, w, COLUMN_VALUE, true, "o");
	fprintf(out, " FROM public.%s o WHERE o.%s = $1", written_table(mv, w), mv->key);
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

/*
 * New ids: the row trigger of the table written the way w.  The key map pairs the written row's
 * key (old_key forward, new_key back) with the other side's, which a new row takes from the other
 * table's sequence.
 */
static void install_new_ids_trigger(FILE *out, const struct plan_move *mv, const struct compat_reference *refs,
				    size_t nrefs, enum way w)
{
	const char *km = mv->keymap, *k = mv->key, *to = carried_table(mv, w);
	const char *mine = w == FORWARD ? "old_key" : "new_key", *theirs = w == FORWARD ? "new_key" : "old_key";
	const char *var = w == FORWARD ? "\"newKey\"" : "\"oldKey\"";
	char name[128], declare[64];

	snprintf(name, sizeof name, w == FORWARD ? "compat_row_%s" : "compat_back_%s", mv->name);
	snprintf(declare, sizeof declare, "DECLARE\n    %s bigint;\n", var);
	put_trigger_start(out, mv, name, declare);
	fprintf(out,
		"    IF TG_OP = 'DELETE' THEN\n"
		"        DELETE FROM " KEYMAP_TABLE_FMT " WHERE %s = OLD.%s RETURNING %s INTO %s;\n"
		"        DELETE FROM public.%s WHERE %s = %s;\n"
		"    ELSIF TG_OP = 'INSERT' THEN\n"
		"        %s := pm.compat_next_id('public.%s', '%s');\n"
		"        INSERT INTO " KEYMAP_TABLE_FMT " (%s, %s) VALUES (NEW.%s, %s) ON CONFLICT DO NOTHING;\n"
		"        IF NOT FOUND THEN\n"
		"            PERFORM pm.compat_refuse_conflict('%s', NEW.%s, '" KEYMAP_TABLE_FMT "', '%s', NEW.%s);\n"
		"        END IF;\n",
		km, mine, k, theirs, var, to, k, var, var, to, k, km, mine, theirs, k, var, written_table(mv, w), k, km,
		mine, k);
	put_carry_insert(out, mv, w, "        ", var);
	fprintf(out,
		"    ELSE\n"
		"        %s := pm.compat_%s_%s(NEW.%s);\n",
		var, w == FORWARD ? "key" : "old_key", km, k);
	put_carry_update(out, mv, w, "        ", var);
	fputs("    END IF;\n", out);
	if (w == FORWARD && nrefs) {
		fputs("    IF TG_OP <> 'DELETE' THEN\n", out);
		put_references(out, mv, refs, nrefs, "NEW");
		fputs("    END IF;\n", out);
	}
	put_trigger_end(out);
}

/*
 * New ids: the key map; the functions that read it either way, carrying a row no write has carried
 * yet (a source row no move has reached, a target row written before the layer was installed);
 * the row triggers of both tables.
 */
static void install_new_ids(FILE *out, const struct plan_move *mv, const struct compat_reference *refs, size_t nrefs)
{
	const char *km = mv->keymap, *k = mv->key, *src = mv->source, *tgt = mv->target;

	fprintf(out,
		"-- As pm-load --new-ids %s --keymap %s makes it.\n"
		"CREATE TABLE IF NOT EXISTS " KEYMAP_TABLE_FMT " (old_key bigint PRIMARY KEY, new_key bigint NOT NULL UNIQUE);\n\n",
		k, km, km);
	fprintf(out,
		"-- The new key of old key $1 of %s; a row no move has reached yet is moved now (its row as\n"
		"-- the source holds it at this moment: none when it is being deleted).  NULL stays NULL.\n"
		"-- The variable is quoted in mixed case: no column (a plain name) can be taken for it.\n"
		"CREATE OR REPLACE FUNCTION pm.compat_key_%s(bigint) RETURNS bigint LANGUAGE plpgsql STRICT AS $$\n"
		"DECLARE\n"
		"    \"newKey\" bigint;\n"
		"BEGIN\n"
		"    SELECT new_key INTO \"newKey\" FROM " KEYMAP_TABLE_FMT " WHERE old_key = $1;\n"
		"    IF FOUND THEN\n"
		"        RETURN \"newKey\";\n"
		"    END IF;\n"
		"    -- Two writers may move the same row at once: the second waits for the first, then uses its key.\n"
		"    INSERT INTO " KEYMAP_TABLE_FMT " (old_key, new_key) VALUES ($1, pm.compat_next_id('public.%s', '%s'))\n"
		"        ON CONFLICT (old_key) DO NOTHING\n"
		"        RETURNING new_key INTO \"newKey\";\n"
		"    IF \"newKey\" IS NULL THEN\n"
		"        SELECT new_key INTO STRICT \"newKey\" FROM " KEYMAP_TABLE_FMT " WHERE old_key = $1;\n"
		"    ELSE\n",
		src, km, km, km, tgt, k, km);
	put_insert_from(out, mv, FORWARD, "\"newKey\"");
	fputs(";\n", out);
	put_references(out, mv, refs, nrefs, NULL);
	fprintf(out,
		"    END IF;\n"
		"    RETURN \"newKey\";\n"
		"END $$;\n\n");

	fprintf(out,
		"-- The old key of new key $1 of %s; a row no write has carried back yet (written before the\n"
		"-- layer was installed) is carried back now, with a new old key.  NULL stays NULL.\n"
		"CREATE OR REPLACE FUNCTION pm.compat_old_key_%s(bigint) RETURNS bigint LANGUAGE plpgsql STRICT AS $$\n"
		"DECLARE\n"
		"    \"oldKey\" bigint;\n"
		"BEGIN\n"
		"    SELECT old_key INTO \"oldKey\" FROM " KEYMAP_TABLE_FMT " WHERE new_key = $1;\n"
		"    IF FOUND THEN\n"
		"        RETURN \"oldKey\";\n"
		"    END IF;\n"
		"    IF NOT EXISTS (SELECT FROM public.%s WHERE %s = $1) THEN\n"
		"        PERFORM pm.compat_refuse_dangling('public.%s', '%s', $1);\n"
		"    END IF;\n"
		"    INSERT INTO " KEYMAP_TABLE_FMT " (old_key, new_key) VALUES (pm.compat_next_id('public.%s', '%s'), $1)\n"
		"        ON CONFLICT (new_key) DO NOTHING\n"
		"        RETURNING old_key INTO \"oldKey\";\n"
		"    IF \"oldKey\" IS NULL THEN\n"
		"        SELECT old_key INTO STRICT \"oldKey\" FROM " KEYMAP_TABLE_FMT " WHERE new_key = $1;\n"
		"    ELSE\n",
		tgt, km, km, tgt, k, tgt, k, km, src, k, km);
	put_insert_from(out, mv, BACK, "\"oldKey\"");
	fprintf(out,
		";\n"
		"    END IF;\n"
		"    RETURN \"oldKey\";\n"
		"END $$;\n\n");

	install_new_ids_trigger(out, mv, refs, nrefs, FORWARD);
	install_new_ids_trigger(out, mv, refs, nrefs, BACK);
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
	put_insert_from(out, mv, FORWARD, key_value);
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

/* Kept ids: the row trigger of the table written the way w.  An UPDATE of a row the other table
 * does not hold yet (no move has reached it, or it was written before the layer) carries it whole. */
static void install_kept_ids_trigger(FILE *out, const struct plan_move *mv, const struct compat_reference *refs,
				     size_t nrefs, enum way w)
{
	const char *k = mv->key;
	char name[128], key_value[80];

	snprintf(name, sizeof name, w == FORWARD ? "compat_row_%s" : "compat_back_%s", mv->name);
	snprintf(key_value, sizeof key_value, "NEW.%s", k);
	put_trigger_start(out, mv, name, "");
	fprintf(out,
		"    IF TG_OP = 'DELETE' THEN\n"
		"        DELETE FROM public.%s WHERE %s = OLD.%s;\n"
		"    ELSE\n"
		"        IF TG_OP = 'UPDATE' THEN\n",
		carried_table(mv, w), k, k);
	put_carry_update(out, mv, w, "            ", key_value);
	fputs("        END IF;\n"
	      "        IF TG_OP = 'INSERT' OR NOT FOUND THEN\n",
	      out);
	put_carry_insert(out, mv, w, "            ", key_value);
	fprintf(out, "            PERFORM pm.compat_sequence_past('public.%s', '%s', NEW.%s);\n"
		     "        END IF;\n",
		carried_table(mv, w), k, k);
	if (w == FORWARD)
		put_references(out, mv, refs, nrefs, "NEW");
	fputs("    END IF;\n", out);
	put_trigger_end(out);
}

static void install_triggers(FILE *out, const char *table, const char *function)
{
	fprintf(out,
		"CREATE OR REPLACE TRIGGER pm_compat AFTER INSERT OR UPDATE OR DELETE ON public.%s\n"
		"    FOR EACH ROW EXECUTE FUNCTION pm.%s();\n"
		"CREATE OR REPLACE TRIGGER pm_compat_truncate BEFORE TRUNCATE ON public.%s\n"
		"    FOR EACH STATEMENT EXECUTE FUNCTION pm.compat_refuse_truncate();\n",
		table, function, table);
}

void compat_sql_install(const struct plan *p, const struct compat_reference *refs, size_t nrefs, FILE *out)
{
	fprintf(out, "-- Generated by pm-plan from %s and its mapping files: the compatibility layer's\n"
		     "-- part of each move, in the plan's order.\n\n", p->path);
	for (size_t i = 0; i < p->nmoves; i++) {
		const struct plan_move *mv = &p->moves[i];
		char function[128];
		fprintf(out, "-- move %s: %s to %s and back, %s\n", mv->name, mv->source, mv->target,
			mv->new_ids ? "new ids" : "ids kept");
		if (mv->new_ids) {
			install_new_ids(out, mv, refs, nrefs);
		} else {
			fprintf(out, "-- One id space: while the layer is installed, old and new code draw ids from one sequence.\n"
				     "SELECT pm.compat_share_ids('public.%s', 'public.%s', '%s');\n\n",
				mv->source, mv->target, mv->key);
			install_reference(out, mv, refs, nrefs);
			install_kept_ids_trigger(out, mv, refs, nrefs, FORWARD);
			install_kept_ids_trigger(out, mv, refs, nrefs, BACK);
		}
		snprintf(function, sizeof function, "compat_row_%s", mv->name);
		install_triggers(out, mv->source, function);
		snprintf(function, sizeof function, "compat_back_%s", mv->name);
		install_triggers(out, mv->target, function);
		fputc('\n', out);
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
			"DROP TRIGGER IF EXISTS pm_compat ON public.%s;\n"
			"DROP TRIGGER IF EXISTS pm_compat_truncate ON public.%s;\n"
			"DROP FUNCTION IF EXISTS pm.compat_row_%s(), pm.compat_back_%s();\n",
			mv->source, mv->source, mv->target, mv->target, mv->name, mv->name);
		if (!mv->new_ids) {
			fprintf(out, "DROP FUNCTION IF EXISTS pm.compat_ref_%s(bigint);\n", mv->name);
			continue;
		}
		fprintf(out,
			"DROP FUNCTION IF EXISTS pm.compat_key_%s(bigint), pm.compat_old_key_%s(bigint);\n"
			"DO $$\n"
			"BEGIN\n"
			"    -- Nested: plpgsql may plan the whole condition before it knows the table is there.\n"
			"    IF to_regclass('" KEYMAP_TABLE_FMT "') IS NOT NULL THEN\n"
			"        IF NOT EXISTS (SELECT FROM " KEYMAP_TABLE_FMT ") THEN\n"
			"            DROP TABLE " KEYMAP_TABLE_FMT ";\n"
			"        END IF;\n"
			"    END IF;\n"
			"END $$;\n",
			mv->keymap, mv->keymap, mv->keymap, mv->keymap, mv->keymap);
	}
}
