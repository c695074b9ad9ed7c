-- The compatibility layer: while old code still writes portal_profile and portal_printer, these
-- triggers carry every INSERT, UPDATE and DELETE on to accounts_profile and printers_printer in the
-- same transaction, under the migration's own rules (profiles take new ids recorded in
-- pm.keymap_profile; printers keep theirs, owners re-pointed through the key map).
-- Installed by `pipelines/compat install` with psql variable lock_key; removed by schemas/compat-remove.sql.
--
-- A row no move has reached yet is moved when it is first written ("move on touch"); a chunk that
-- pipelines/staged moves later skips it.  A chunk load holds advisory lock lock_key exclusively from
-- before it reads the source until it commits; these triggers hold it shared, so a write waits out a
-- chunk in flight and then sees it committed: no write is lost to a chunk that read the row before it.
-- That reasoning needs each trigger statement to see the latest commits: READ COMMITTED, Django's
-- default.  At other levels the triggers refuse the write rather than risk losing it.

SET client_min_messages = warning; -- "already exists, skipping" is the idempotence, not news

CREATE SCHEMA IF NOT EXISTS pm;
-- As pm-load --new-ids --keymap profile makes it.
CREATE TABLE IF NOT EXISTS pm.keymap_profile (old_key bigint PRIMARY KEY, new_key bigint NOT NULL UNIQUE);

SELECT format($f$CREATE OR REPLACE FUNCTION pm.compat_lock_key() RETURNS bigint
    LANGUAGE sql IMMUTABLE AS 'SELECT %s::bigint'$f$, :'lock_key') \gexec

-- Every write through the old tables starts here.
CREATE OR REPLACE FUNCTION pm.compat_begin_write() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'pm compatibility layer: writes to the portal tables must run at READ COMMITTED, not %',
            upper(current_setting('transaction_isolation'))
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'a trigger at this level could miss a chunk that pipelines/staged committed after the transaction began';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(pm.compat_lock_key());
END $$;

-- The new id of old profile p; a profile not yet moved is moved now (its row as the source holds it
-- at this moment: none when it is being deleted).
CREATE OR REPLACE FUNCTION pm.compat_profile_key(p bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
BEGIN
    SELECT new_key INTO k FROM pm.keymap_profile WHERE old_key = p;
    IF FOUND THEN
        RETURN k;
    END IF;
    -- Two writers may move the same profile at once: the second waits for the first, then uses its id.
    INSERT INTO pm.keymap_profile (old_key, new_key)
        VALUES (p, nextval(pg_get_serial_sequence('public.accounts_profile', 'id')::regclass))
        ON CONFLICT (old_key) DO NOTHING
        RETURNING new_key INTO k;
    IF k IS NULL THEN
        SELECT new_key INTO STRICT k FROM pm.keymap_profile WHERE old_key = p;
    ELSE
        INSERT INTO public.accounts_profile (id, user_id, name, email, username, organization)
            SELECT k, user_id, name, email, username, organization FROM public.portal_profile WHERE id = p;
    END IF;
    RETURN k;
END $$;

CREATE OR REPLACE FUNCTION pm.compat_profile() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
BEGIN
    PERFORM pm.compat_begin_write();
    -- An id that changes is a delete of the old and an insert of the new (Django never changes one).
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.id <> NEW.id) THEN
        DELETE FROM pm.keymap_profile WHERE old_key = OLD.id RETURNING new_key INTO k;
        DELETE FROM public.accounts_profile WHERE id = k;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        k := pm.compat_profile_key(NEW.id);
        UPDATE public.accounts_profile
           SET user_id = NEW.user_id, name = NEW.name, email = NEW.email, username = NEW.username,
               organization = NEW.organization
         WHERE id = k;
    END IF;
    RETURN NULL;
END $$;

-- Printers keep their ids: the new table's sequence must stay past every id, as pm-load leaves it.
-- setval is not transactional, so two writers' checks and sets are made one at a time (a session lock
-- on the next key, held for two statements) or the smaller id could be set last.
CREATE OR REPLACE FUNCTION pm.compat_printer_sequence_past(printer_id integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    s regclass := pg_get_serial_sequence('public.printers_printer', 'id')::regclass;
BEGIN
    IF printer_id > coalesce(pg_sequence_last_value(s), 0) THEN
        PERFORM pg_advisory_lock(pm.compat_lock_key() + 1);
        IF printer_id > coalesce(pg_sequence_last_value(s), 0) THEN
            PERFORM setval(s, printer_id);
        END IF;
        PERFORM pg_advisory_unlock(pm.compat_lock_key() + 1);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION pm.compat_printer() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner bigint;
BEGIN
    PERFORM pm.compat_begin_write();
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.id <> NEW.id) THEN
        DELETE FROM public.printers_printer WHERE id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.profile_id IS NOT NULL THEN
            owner := pm.compat_profile_key(NEW.profile_id);
        END IF;
        INSERT INTO public.printers_printer (id, profile_id, ip_address, api_key, ping, printing)
            VALUES (NEW.id, owner, NEW.ip_address, NEW.api_key, NEW.ping, NEW.printing)
            ON CONFLICT (id) DO UPDATE
            SET profile_id = EXCLUDED.profile_id, ip_address = EXCLUDED.ip_address, api_key = EXCLUDED.api_key,
                ping = EXCLUDED.ping, printing = EXCLUDED.printing;
        PERFORM pm.compat_printer_sequence_past(NEW.id);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION pm.compat_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'pm compatibility layer: TRUNCATE % would not reach the new tables', TG_TABLE_NAME
        USING ERRCODE = 'feature_not_supported', HINT = 'run pipelines/compat remove first';
END $$;

-- CREATE OR REPLACE TRIGGER (PostgreSQL 14) keeps install idempotent in one statement each.
CREATE OR REPLACE TRIGGER pm_compat AFTER INSERT OR UPDATE OR DELETE ON public.portal_profile
    FOR EACH ROW EXECUTE FUNCTION pm.compat_profile();
CREATE OR REPLACE TRIGGER pm_compat AFTER INSERT OR UPDATE OR DELETE ON public.portal_printer
    FOR EACH ROW EXECUTE FUNCTION pm.compat_printer();
CREATE OR REPLACE TRIGGER pm_compat_truncate BEFORE TRUNCATE ON public.portal_profile
    FOR EACH STATEMENT EXECUTE FUNCTION pm.compat_refuse_truncate();
CREATE OR REPLACE TRIGGER pm_compat_truncate BEFORE TRUNCATE ON public.portal_printer
    FOR EACH STATEMENT EXECUTE FUNCTION pm.compat_refuse_truncate();
