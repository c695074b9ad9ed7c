#!/usr/bin/env bats
# pipelines/compat: the triggers that carry writes to the old tables on to the new ones (and back:
# tests/bats/twoway.bats).
load helpers

setup() {
	fresh_db
	"$PM_ROOT/scripts/generate-portal" --profiles 60 --printers 150 --targets >/dev/null
}

compat() {
	"$PM_ROOT/pipelines/compat" "$@" -d "dbname=$PGDATABASE"
}

# What the layer is made of, and the pm schema: a line per object.
layer_objects() {
	sql "SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
	     UNION ALL SELECT 'function ' || oid::regprocedure FROM pg_proc WHERE pronamespace = to_regnamespace('pm')
	     UNION ALL SELECT 'relation ' || oid::regclass FROM pg_class WHERE relnamespace = to_regnamespace('pm')
	     UNION ALL SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname = 'pm' ORDER BY 1"
}

# A mix of writes through the old tables, as old code makes them.
old_code_writes() {
	sql "INSERT INTO portal_profile (id, user_id, name, email, username, organization)
	     VALUES (1001, NULL, '', NULL, 'nouser', ' trailing '), (1002, NULL, NULL, '', NULL, NULL)"
	sql "UPDATE portal_profile SET name = 'renamed', email = '' WHERE id = 5"
	sql "INSERT INTO portal_printer (id, ip_address, api_key, ping, printing, profile_id)
	     VALUES (5001, 'https://octo.example.com:5000/', 'key5001', true, false, 1001),
	            (5002, '10.0.0.2', 'key5002', false, false, NULL)"
	# Re-pointed between two profiles without a user, and to none.
	sql "UPDATE portal_printer SET profile_id = 1002 WHERE id = 5001"
	sql "UPDATE portal_printer SET profile_id = NULL, printing = true WHERE id = 7"
	sql "BEGIN; DELETE FROM portal_printer WHERE profile_id = 9; DELETE FROM portal_profile WHERE id = 9; COMMIT"
	sql "DELETE FROM portal_printer WHERE id = 11"
}

@test "install on empty targets: the new tables hold exactly the rows written through the old ones" {
	run compat install
	assert_success
	assert_output "compat: installed: portal_profile, portal_printer write on to accounts_profile, printers_printer"
	old_code_writes
	# Touched: profiles 1001, 1002, 5 (updated) and the owners of printers 5001 (1001, then 1002)
	# and 7 (none now); printers 5001, 5002 and 7.  Deleted ones are nowhere.
	assert_equal "$(sql "SELECT string_agg(old_key::text, ' ' ORDER BY old_key) FROM pm.keymap_profile")" "5 1001 1002"
	assert_equal "$(sql "SELECT string_agg(id::text, ' ' ORDER BY id) FROM printers_printer")" "7 5001 5002"
	assert_equal "$(sql "SELECT count(*) FROM portal_profile p JOIN pm.keymap_profile k ON k.old_key = p.id
		JOIN accounts_profile a ON a.id = k.new_key
		WHERE (p.user_id, p.name, p.email, p.username, p.organization)
		      IS NOT DISTINCT FROM (a.user_id, a.name, a.email, a.username, a.organization)")" 3
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile")" 3
	# NULL and '' kept apart, the trailing spaces kept.
	assert_equal "$(sql "SELECT quote_nullable(a.name) || ' ' || quote_nullable(a.email) || ' ' || quote_nullable(a.organization)
		FROM accounts_profile a JOIN pm.keymap_profile k ON k.new_key = a.id WHERE k.old_key = 1001")" "'' NULL ' trailing '"
	# The owner is the new id of the same old profile.
	assert_equal "$(sql "SELECT n.profile_id = k.new_key FROM printers_printer n, pm.keymap_profile k WHERE n.id = 5001 AND k.old_key = 1002")" t
	assert_equal "$(sql "SELECT quote_nullable(profile_id) || ' ' || printing FROM printers_printer WHERE id = 7")" "NULL true"
	# The sequence the new table's ids come from is past the printers' kept ids.
	assert_equal "$(sql "SELECT nextval(pg_get_serial_sequence('portal_printer', 'id')) > 5002")" t
	assert_equal "$(sql "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'printers_printer'::regclass")" \
		"nextval('portal_printer_id_seq'::regclass)"
	run compat remove
	assert_success
	assert_output "compat: removed"
	assert_equal "$(layer_objects)" "$(printf 'relation pm.keymap_profile\nrelation pm.keymap_profile_new_key_key\nrelation pm.keymap_profile_pkey\nschema pm')"
	# Each table draws from its own sequence again, both past every id.
	assert_equal "$(sql "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'printers_printer'::regclass")" \
		"nextval('printers_printer_id_seq'::regclass)"
	assert_equal "$(sql "SELECT nextval('printers_printer_id_seq') > 5002 AND nextval('portal_printer_id_seq') > 5002")" t
}

@test "after a full migration, writes through the old tables keep old and new equal" {
	run "$PM_ROOT/pipelines/migrate" -s "dbname=$PGDATABASE" -t "dbname=$PGDATABASE" -w "$BATS_TEST_TMPDIR/w"
	assert_success
	compat install
	old_code_writes
	sql "UPDATE portal_profile SET user_id = NULL WHERE id IN (SELECT profile_id FROM portal_printer WHERE id = 20)"
	assert_portal_moved
	run "$PM_ROOT/pipelines/verify" -s "dbname=$PGDATABASE" -t "dbname=$PGDATABASE"
	assert_success
	run compat remove
	assert_success
	# The key map holds the migration's data: it stays; the layer is gone, so writes stay behind.
	assert_equal "$(layer_objects | grep -c '^trigger\|^function')" 0
	sql "UPDATE portal_profile SET name = 'after removal' WHERE id = 1"
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile WHERE name = 'after removal'")" 0
}

@test "install and remove are idempotent, and remove leaves no trace" {
	before=$(layer_objects)
	compat install
	run compat install
	assert_success
	refute_output --partial NOTICE
	installed=$(layer_objects)
	# Two a table: the row trigger and the TRUNCATE refusal, on the old tables and the new.
	assert_equal "$(grep -c '^trigger' <<<"$installed")" 8
	run compat remove
	assert_success
	run compat remove
	assert_success
	assert_equal "$(layer_objects)" "$before"
}

@test "a write at REPEATABLE READ is refused whole, with the reason; TRUNCATE too; a changed key too" {
	compat install
	before=$(table_digest portal_profile)
	run psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "UPDATE portal_profile SET name = 'x' WHERE id = 3" -c "COMMIT"
	assert_failure
	assert_output --partial "writes to the tables it joins must run at READ COMMITTED, not REPEATABLE READ"
	assert_equal "$(table_digest portal_profile)" "$before"
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile")" 0
	run psql -X -q -v ON_ERROR_STOP=1 -c "TRUNCATE portal_printer"
	assert_failure
	assert_output --partial "TRUNCATE portal_printer would not reach the other side"
	assert_equal "$(sql "SELECT count(*) FROM portal_printer")" 150
	run psql -X -q -v ON_ERROR_STOP=1 -c "UPDATE portal_printer SET id = 9999 WHERE id = 3"
	assert_failure
	assert_output --partial "an UPDATE of portal_printer.id is refused: a changed key is not carried"
	assert_equal "$(sql "SELECT count(*) FROM portal_printer WHERE id = 3")" 1
	assert_equal "$(sql "SELECT count(*) FROM printers_printer")" 0
}

@test "install refuses a database without the new tables, and bad usage; nothing installed" {
	sql "DROP TABLE printers_printer"
	before=$(layer_objects)
	run compat install
	assert_failure 2
	assert_output --partial "no table public.printers_printer"
	assert_equal "$(layer_objects)" "$before"
	run "$PM_ROOT/pipelines/compat" install
	assert_failure 2
	assert_output --partial "usage: pipelines/compat install|remove -d CONNINFO"
	run "$PM_ROOT/pipelines/compat" upgrade -d "dbname=$PGDATABASE"
	assert_failure 2
	run "$PM_ROOT/pipelines/compat" install -d "dbname=pm_no_such_db"
	assert_failure 4
	assert_output --partial "cannot connect"
}

@test "the layer is generated from the plan and its mapping files; compat sql prints what install and remove run" {
	run -0 "$PM_ROOT/pipelines/compat" sql install
	sql_text=$output
	# What no move varies, then each move's part, generated: one trigger function a move.
	assert_line --partial 'CREATE OR REPLACE FUNCTION pm.compat_begin_write()'
	assert_line 'CREATE OR REPLACE FUNCTION pm.compat_row_profiles() RETURNS trigger LANGUAGE plpgsql AS $$'
	assert_line 'CREATE OR REPLACE FUNCTION pm.compat_row_printers() RETURNS trigger LANGUAGE plpgsql AS $$'
	# The columns and key maps of the mapping files: the owner through the key map, NULL kept by STRICT.
	assert_line --partial 'VALUES (NEW.id, pm.compat_key_profile(NEW.profile_id), NEW.ip_address, NEW.api_key, NEW.ping, NEW.printing)'
	assert_line --partial 'pm.compat_key_profile(bigint) RETURNS bigint LANGUAGE plpgsql STRICT'
	# What install runs is what it printed: the objects it makes are the ones the text names.
	compat install
	assert_equal "$(sql "SELECT string_agg(proname, ' ' ORDER BY proname) FROM pg_proc WHERE pronamespace = 'pm'::regnamespace")" \
		"$(grep -o 'FUNCTION pm\.[a-z_]*(' <<<"$sql_text" | sed 's/FUNCTION pm\.//; s/($//' | sort -u | paste -sd ' ')"
	# A mapping file's change reaches the triggers with no other edit: a constant column.
	mkdir "$BATS_TEST_TMPDIR/plan"
	cp "$PM_ROOT"/schemas/*.map "$PM_ROOT/schemas/portal.plan" "$BATS_TEST_TMPDIR/plan/"
	sed -i 's/^column organization .*/column organization varchar(200) null const "it'"'"'s"/' "$BATS_TEST_TMPDIR/plan/profile.map"
	"$PM_ROOT/pipelines/compat" install -d "dbname=$PGDATABASE" --plan "$BATS_TEST_TMPDIR/plan/portal.plan"
	sql "UPDATE portal_profile SET name = 'x' WHERE id = 4"
	assert_equal "$(sql "SELECT a.organization FROM accounts_profile a JOIN pm.keymap_profile k ON k.new_key = a.id WHERE k.old_key = 4")" "it's"
	run -0 "$PM_ROOT/pipelines/compat" sql remove
	assert_line 'DROP FUNCTION IF EXISTS pm.compat_row_printers(), pm.compat_back_printers();'
	run -2 "$PM_ROOT/pipelines/compat" sql
	assert_output --partial 'usage: pipelines/compat install|remove -d CONNINFO [--plan FILE]'
	run -2 "$PM_ROOT/pipelines/compat" sql install --frobnicate
}
