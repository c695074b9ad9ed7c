-- The compatibility layer, the part no move varies: while old and new code run side by side, the
-- old writing the plan's source tables and the new their targets, triggers carry every INSERT,
-- UPDATE and DELETE on either side to the other in the same transaction, under the migration's own
-- rules (a move with new ids records them in its key map, both ways; a move with kept ids keeps
-- them, columns re-pointed through the key maps).  The triggers and functions of each move are
-- generated from the plan (`pm-plan -p PLAN compat install`) and run after this file;
-- `pipelines/compat install` runs both in one transaction, with psql variable lock_key, and
-- `pipelines/compat sql` prints them.  Removed by schemas/compat-remove.sql.
--
-- No write is laid over another: a carried INSERT that finds its key (or a unique value) taken is
-- refused with the table and key named; an UPDATE or DELETE reaches the row the same record maps
-- to.  A move with kept ids has one id space while the layer is installed: both tables' ids come
-- from one sequence, so old and new code are never handed the same id.
--
-- A row no move has reached yet is moved when it is first written ("move on touch"); a chunk that
-- pipelines/staged moves later skips it.  A chunk load holds advisory lock lock_key exclusively from
-- before it reads the source until it commits; these triggers hold it shared, so a write waits out a
-- chunk in flight and then sees it committed: no write is lost to a chunk that read the row before it.
-- That reasoning needs each trigger statement to see the latest commits: READ COMMITTED, Django's
-- default.  At other levels the triggers refuse the write rather than risk losing it.

SET client_min_messages = warning; -- "already exists, skipping" is the idempotence, not news
SET standard_conforming_strings = on; -- the generated part's constants are written so

CREATE SCHEMA IF NOT EXISTS pm;
DROP FUNCTION IF EXISTS pm.compat_sequence_past(text, text, bigint); -- the one-way layer's, replaced below

SELECT format($f$CREATE OR REPLACE FUNCTION pm.compat_lock_key() RETURNS bigint
    LANGUAGE sql IMMUTABLE AS 'SELECT %s::bigint'$f$, :'lock_key') \gexec

-- Every write the layer carries starts here.
CREATE OR REPLACE FUNCTION pm.compat_begin_write() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'pm compatibility layer: writes to % must run at READ COMMITTED, not %',
            'the tables it joins', upper(current_setting('transaction_isolation'))
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'a trigger at this level could miss a chunk that pipelines/staged committed after the transaction began';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(pm.compat_lock_key());
END $$;

-- The guard that keeps a write carried one way from being carried back: pm.compat_carrying is on
-- while a trigger of the layer carries a write (set locally: the end of the transaction, or of a
-- savepoint rolled back, resets it), and for the whole session in the pm tools, whose loads move
-- rows that are on the other side already.  False: the write is not the site's, carry nothing.
CREATE OR REPLACE FUNCTION pm.compat_carry_begin() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('pm.compat_carrying', true) = 'on' THEN
        RETURN false;
    END IF;
    PERFORM pm.compat_begin_write();
    PERFORM set_config('pm.compat_carrying', 'on', true);
    RETURN true;
END $$;

CREATE OR REPLACE FUNCTION pm.compat_carry_end() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('pm.compat_carrying', 'off', true);
END $$;

-- The sequence a column's new values come from: its default's (the layer may point that at the
-- other table's), else the one it owns (an identity column); NULL when it has none.  PL/pgSQL, not
-- SQL: a session keeps its plan, where an SQL function's would be made anew for every write.
CREATE OR REPLACE FUNCTION pm.compat_id_sequence(tbl regclass, key name) RETURNS regclass
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce(
        (SELECT d.refobjid::regclass
           FROM pg_attrdef ad
           JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
           JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                           AND d.refclassid = 'pg_class'::regclass
           JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
          WHERE ad.adrelid = tbl AND a.attname = key
          LIMIT 1),
        pg_get_serial_sequence(tbl::text, key)::regclass);
END $$;

-- A new id for a row of tbl that the other side's write made.
CREATE OR REPLACE FUNCTION pm.compat_next_id(tbl regclass, key name) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    s regclass := pm.compat_id_sequence(tbl, key);
BEGIN
    IF s IS NULL THEN
        RAISE EXCEPTION 'pm compatibility layer: %.% has no sequence to give the row a new id', tbl, key
            USING ERRCODE = 'feature_not_supported';
    END IF;
    RETURN nextval(s);
END $$;

-- A kept id written explicitly: the sequence the table's ids come from must stay past it, as pm-load
-- leaves it.  setval is not transactional, so two writers' checks and sets are made one at a time (a
-- session lock on the next key, held for two statements) or the smaller id could be set last.
CREATE OR REPLACE FUNCTION pm.compat_sequence_past(tbl regclass, key name, id bigint) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    s regclass := pm.compat_id_sequence(tbl, key);
BEGIN
    IF s IS NOT NULL AND id > coalesce(pg_sequence_last_value(s), 0) THEN
        PERFORM pg_advisory_lock(pm.compat_lock_key() + 1);
        IF id > coalesce(pg_sequence_last_value(s), 0) THEN
            PERFORM setval(s, id);
        END IF;
        PERFORM pg_advisory_unlock(pm.compat_lock_key() + 1);
    END IF;
END $$;

-- The id spaces the layer joined, so that remove can part them again.
CREATE TABLE IF NOT EXISTS pm.compat_shared_ids (source text, target text, key text, PRIMARY KEY (source, target, key));

-- The greatest id either table holds or either sequence has handed out.
CREATE OR REPLACE FUNCTION pm.compat_top_id(source regclass, target regclass, key name) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    top bigint;
BEGIN
    EXECUTE format('SELECT greatest((SELECT max(%1$I) FROM %2$s), (SELECT max(%1$I) FROM %3$s))', key, source, target)
        INTO top;
    RETURN greatest(top, pg_sequence_last_value(pg_get_serial_sequence(source::text, key)::regclass),
                    pg_sequence_last_value(pg_get_serial_sequence(target::text, key)::regclass));
END $$;

-- A move with kept ids, its one id space: the sequence both tables draw from while the layer is
-- installed (the source's, or the target's when the source has none), the column made to draw from
-- it, and that column's own sequence (NULL: none).  shared NULL: neither has one, the site gives
-- every id itself.
CREATE OR REPLACE FUNCTION pm.compat_id_space(source regclass, target regclass, key name,
                                              OUT shared regclass, OUT joined regclass, OUT own regclass)
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    s regclass := pg_get_serial_sequence(source::text, key)::regclass;
    t regclass := pg_get_serial_sequence(target::text, key)::regclass;
BEGIN
    shared := coalesce(s, t);
    joined := CASE WHEN s IS NULL THEN source ELSE target END;
    own := CASE WHEN s IS NULL THEN NULL ELSE t END;
END $$;

-- The id space joined: the joined column's ids come from the shared sequence, set past every id of
-- both tables.
CREATE OR REPLACE FUNCTION pm.compat_share_ids(source regclass, target regclass, key name) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    space record;
    top bigint;
BEGIN
    IF EXISTS (SELECT FROM pg_attribute WHERE attrelid IN (source, target) AND attname = key AND attidentity <> '') THEN
        RAISE EXCEPTION 'pm compatibility layer: %.% or %.% is an identity column: their ids cannot come from one sequence',
            source, key, target, key
            USING ERRCODE = 'feature_not_supported', HINT = 'Django 3.2 makes serial columns; an identity column is not supported';
    END IF;
    SELECT * INTO space FROM pm.compat_id_space(source, target, key);
    IF space.shared IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT nextval(%L::regclass)', space.joined, key, space.shared::text);
    top := pm.compat_top_id(source, target, key);
    IF top IS NOT NULL THEN
        PERFORM setval(space.shared, top);
    END IF;
    INSERT INTO pm.compat_shared_ids VALUES (source::text, target::text, key) ON CONFLICT DO NOTHING;
END $$;

-- compat_share_ids undone: the joined column draws from its own sequence again (or has no default,
-- as it had none), and both sequences are past every id of both tables.
CREATE OR REPLACE FUNCTION pm.compat_part_ids(source regclass, target regclass, key name) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    space record;
    top bigint := pm.compat_top_id(source, target, key);
BEGIN
    SELECT * INTO space FROM pm.compat_id_space(source, target, key);
    IF space.shared IS NULL THEN
        RETURN;
    END IF;
    IF pm.compat_id_sequence(space.joined, key) = space.shared THEN
        IF space.own IS NULL THEN
            EXECUTE format('ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT', space.joined, key);
        ELSE
            EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT nextval(%L::regclass)', space.joined, key,
                           space.own::text);
        END IF;
    END IF;
    IF top IS NOT NULL THEN
        PERFORM setval(space.shared, top);
        PERFORM setval(space.own, top) WHERE space.own IS NOT NULL;
    END IF;
END $$;

-- A carried INSERT that finds its key, or a value unique there, taken by a row it did not write.
CREATE OR REPLACE FUNCTION pm.compat_refuse_conflict(written text, id bigint, target regclass, key name,
                                                     target_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    held boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %I = $1)', target, key) INTO held USING target_id;
    RAISE EXCEPTION 'pm compatibility layer: the row written to % (id %) is not carried to %: %', written, id, target,
        CASE WHEN held THEN format('it has a row of %s %s already', key, target_id)
             ELSE 'a value unique there is taken already' END
        USING ERRCODE = 'unique_violation', HINT = 'no row is laid over another: the write is refused whole';
END $$;

-- A key map asked for a row that is not there.
CREATE OR REPLACE FUNCTION pm.compat_refuse_dangling(tbl regclass, key name, id bigint) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'pm compatibility layer: % has no row of % %, so the row pointing at it cannot be carried', tbl, key, id
        USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE OR REPLACE FUNCTION pm.compat_refuse_key_change(tbl text, key text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'pm compatibility layer: an UPDATE of %.% is refused: a changed key is not carried', tbl, key
        USING ERRCODE = 'feature_not_supported', HINT = 'delete the row and insert it anew, or run pipelines/compat remove first';
END $$;

-- The pm tools' own loads may truncate an empty target (pm-load's bulk path); the site may not.
CREATE OR REPLACE FUNCTION pm.compat_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('pm.compat_carrying', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'pm compatibility layer: TRUNCATE % would not reach the other side', TG_TABLE_NAME
        USING ERRCODE = 'feature_not_supported', HINT = 'run pipelines/compat remove first';
END $$;
