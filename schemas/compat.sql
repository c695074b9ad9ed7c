-- The compatibility layer, the part no move varies: while old code still writes the plan's source
-- tables, triggers carry every INSERT, UPDATE and DELETE on to their targets in the same
-- transaction, under the migration's own rules (a move with new ids records them in its key map; a
-- move with kept ids keeps them, columns re-pointed through the key maps).  The triggers and
-- functions of each move are generated from the plan (`pm-plan -p PLAN compat install`) and run
-- after this file; `pipelines/compat install` runs both in one transaction, with psql variable
-- lock_key, and `pipelines/compat sql` prints them.  Removed by schemas/compat-remove.sql.
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

SELECT format($f$CREATE OR REPLACE FUNCTION pm.compat_lock_key() RETURNS bigint
    LANGUAGE sql IMMUTABLE AS 'SELECT %s::bigint'$f$, :'lock_key') \gexec

-- Every write through the old tables starts here.
CREATE OR REPLACE FUNCTION pm.compat_begin_write() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'pm compatibility layer: writes to the old tables must run at READ COMMITTED, not %',
            upper(current_setting('transaction_isolation'))
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'a trigger at this level could miss a chunk that pipelines/staged committed after the transaction began';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(pm.compat_lock_key());
END $$;

-- A move with kept ids: the target's sequence (if any) must stay past every id, as pm-load leaves it.
-- setval is not transactional, so two writers' checks and sets are made one at a time (a session lock
-- on the next key, held for two statements) or the smaller id could be set last.
CREATE OR REPLACE FUNCTION pm.compat_sequence_past(target text, key text, id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    s regclass := pg_get_serial_sequence(target, key)::regclass;
BEGIN
    IF s IS NOT NULL AND id > coalesce(pg_sequence_last_value(s), 0) THEN
        PERFORM pg_advisory_lock(pm.compat_lock_key() + 1);
        IF id > coalesce(pg_sequence_last_value(s), 0) THEN
            PERFORM setval(s, id);
        END IF;
        PERFORM pg_advisory_unlock(pm.compat_lock_key() + 1);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION pm.compat_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'pm compatibility layer: TRUNCATE % would not reach the new tables', TG_TABLE_NAME
        USING ERRCODE = 'feature_not_supported', HINT = 'run pipelines/compat remove first';
END $$;
