-- Removes what schemas/compat.sql installed (`pipelines/compat remove`), in one transaction.  The
-- key map and the schema go only when empty: rows there are a migration's data, not the layer's.

SET client_min_messages = warning; -- "already exists, skipping" is the idempotence, not news
DROP TRIGGER IF EXISTS pm_compat ON public.portal_profile;
DROP TRIGGER IF EXISTS pm_compat ON public.portal_printer;
DROP TRIGGER IF EXISTS pm_compat_truncate ON public.portal_profile;
DROP TRIGGER IF EXISTS pm_compat_truncate ON public.portal_printer;
DROP FUNCTION IF EXISTS pm.compat_profile(), pm.compat_printer(), pm.compat_refuse_truncate(),
    pm.compat_printer_sequence_past(integer), pm.compat_profile_key(bigint), pm.compat_begin_write(),
    pm.compat_lock_key();
DO $$
BEGIN
    -- Nested: plpgsql may plan the whole condition before it knows the table is there.
    IF to_regclass('pm.keymap_profile') IS NOT NULL THEN
        IF NOT EXISTS (SELECT FROM pm.keymap_profile) THEN
            DROP TABLE pm.keymap_profile;
        END IF;
    END IF;
    IF to_regnamespace('pm') IS NOT NULL
       AND NOT EXISTS (SELECT FROM pg_class WHERE relnamespace = to_regnamespace('pm'))
       AND NOT EXISTS (SELECT FROM pg_proc WHERE pronamespace = to_regnamespace('pm'))
       AND NOT EXISTS (SELECT FROM pg_type WHERE typnamespace = to_regnamespace('pm')) THEN
        DROP SCHEMA pm;
    END IF;
END $$;
