-- Removes the part of the compatibility layer that schemas/compat.sql installed, after the
-- generated part of each move (`pm-plan -p PLAN compat remove`) has gone, in the same transaction
-- (`pipelines/compat remove`).  The schema goes only when nothing else is in it.

SET client_min_messages = warning; -- "does not exist, skipping" is the idempotence, not news
DROP FUNCTION IF EXISTS pm.compat_refuse_truncate(), pm.compat_sequence_past(text, text, bigint),
    pm.compat_begin_write(), pm.compat_lock_key();
DO $$
BEGIN
    IF to_regnamespace('pm') IS NOT NULL
       AND NOT EXISTS (SELECT FROM pg_class WHERE relnamespace = to_regnamespace('pm'))
       AND NOT EXISTS (SELECT FROM pg_proc WHERE pronamespace = to_regnamespace('pm'))
       AND NOT EXISTS (SELECT FROM pg_type WHERE typnamespace = to_regnamespace('pm')) THEN
        DROP SCHEMA pm;
    END IF;
END $$;
