-- Removes the part of the compatibility layer that schemas/compat.sql installed, after the
-- generated part of each move (`pm-plan -p PLAN compat remove`) has gone, in the same transaction
-- (`pipelines/compat remove`): the id spaces it joined are parted, each table's sequence past every
-- id.  The schema goes only when nothing else is in it.

SET client_min_messages = warning; -- "does not exist, skipping" is the idempotence, not news
DO $$
BEGIN
    IF to_regclass('pm.compat_shared_ids') IS NOT NULL THEN
        PERFORM pm.compat_part_ids(to_regclass(source), to_regclass(target), key)
           FROM pm.compat_shared_ids WHERE to_regclass(source) IS NOT NULL AND to_regclass(target) IS NOT NULL;
        DROP TABLE pm.compat_shared_ids;
    END IF;
END $$;
DROP FUNCTION IF EXISTS pm.compat_refuse_truncate(), pm.compat_refuse_key_change(text, text),
    pm.compat_refuse_dangling(regclass, name, bigint),
    pm.compat_refuse_conflict(text, bigint, regclass, name, bigint),
    pm.compat_part_ids(regclass, regclass, name), pm.compat_share_ids(regclass, regclass, name),
    pm.compat_id_space(regclass, regclass, name),
    pm.compat_top_id(regclass, regclass, name), pm.compat_sequence_past(regclass, name, bigint),
    pm.compat_next_id(regclass, name), pm.compat_id_sequence(regclass, name),
    pm.compat_carry_end(), pm.compat_carry_begin(),
    pm.compat_sequence_past(text, text, bigint), -- the one-way layer's, where it was installed
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
