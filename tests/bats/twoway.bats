#!/usr/bin/env bats
# The compatibility layer both ways: old code writing the portal tables and new code writing the
# accounts and printers tables at once, each finding the other's rows, none laid over another.
load helpers

setup() {
	fresh_db
	db="dbname=$PGDATABASE"
	work=$BATS_TEST_TMPDIR/w
}

teardown() {
	local w
	for w in ${writers:-}; do kill "$w" 2>/dev/null || true; done
}

compat() {
	"$PM_ROOT/pipelines/compat" "$@" -d "$db"
}

# A migrated site with the layer installed, as the new code finds it when it deploys.
migrated_site() {
	"$PM_ROOT/scripts/generate-portal" --profiles 60 --printers 150 --targets >/dev/null
	"$PM_ROOT/pipelines/migrate" -s "$db" -t "$db" -w "$work" >/dev/null
	compat install >/dev/null
}

# Independent of pm: every way the old and the new tables can disagree, a line each (none: equal).
# Profiles as multisets of their fields and one to one through the key map; printers by id, the
# owner the same profile through the key map; no printer whose owner is gone; no sequence behind.
sides_differ() {
	local fields='user_id, name, email, username, organization' t
	sql "SELECT 'profile only in portal: ' || r FROM (SELECT $fields FROM portal_profile
	         EXCEPT ALL SELECT $fields FROM accounts_profile) r
	     UNION ALL SELECT 'profile only in accounts: ' || r FROM (SELECT $fields FROM accounts_profile
	         EXCEPT ALL SELECT $fields FROM portal_profile) r
	     UNION ALL SELECT 'portal profile ' || p.id || ' has no counterpart through the key map'
	         FROM portal_profile p LEFT JOIN pm.keymap_profile k ON k.old_key = p.id
	         LEFT JOIN accounts_profile a ON a.id = k.new_key
	         WHERE a.id IS NULL OR (p.user_id, p.name, p.email, p.username, p.organization)
	               IS DISTINCT FROM (a.user_id, a.name, a.email, a.username, a.organization)
	     UNION ALL SELECT 'accounts profile ' || a.id || ' has no counterpart through the key map'
	         FROM accounts_profile a LEFT JOIN pm.keymap_profile k ON k.new_key = a.id
	         LEFT JOIN portal_profile p ON p.id = k.old_key WHERE p.id IS NULL
	     UNION ALL SELECT 'key map entry ' || k.old_key || ' -> ' || k.new_key || ' points at a missing row'
	         FROM pm.keymap_profile k WHERE NOT EXISTS (SELECT FROM portal_profile p WHERE p.id = k.old_key)
	         OR NOT EXISTS (SELECT FROM accounts_profile a WHERE a.id = k.new_key)
	     UNION ALL SELECT 'printer ' || coalesce(o.id, n.id) || ' differs'
	         FROM (portal_printer o LEFT JOIN pm.keymap_profile k ON k.old_key = o.profile_id)
	         FULL JOIN printers_printer n ON n.id = o.id
	         WHERE (o.id, o.ip_address, o.api_key, o.ping, o.printing, o.profile_id IS NULL, k.new_key)
	               IS DISTINCT FROM (n.id, n.ip_address, n.api_key, n.ping, n.printing, n.profile_id IS NULL, n.profile_id)
	     UNION ALL SELECT 'portal printer ' || o.id || ' is an orphan' FROM portal_printer o
	         WHERE o.profile_id IS NOT NULL AND NOT EXISTS (SELECT FROM portal_profile p WHERE p.id = o.profile_id)
	     UNION ALL SELECT 'new printer ' || n.id || ' is an orphan' FROM printers_printer n
	         WHERE n.profile_id IS NOT NULL AND NOT EXISTS (SELECT FROM accounts_profile a WHERE a.id = n.profile_id)
	     ORDER BY 1"
	for t in portal_profile accounts_profile portal_printer printers_printer; do
		# The sequence the table owns and the one its default draws from.
		sql "SELECT '$t: sequence ' || s || ' is behind max(id)' FROM (
		         SELECT pg_get_serial_sequence('$t', 'id')::regclass AS s
		         UNION SELECT d.refobjid::regclass FROM pg_attrdef ad JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass
		             AND d.objid = ad.oid AND d.refclassid = 'pg_class'::regclass WHERE ad.adrelid = '$t'::regclass) q
		     WHERE s IS NOT NULL AND coalesce(pg_sequence_last_value(s), 0) < (SELECT coalesce(max(id), 0) FROM $t)"
	done
}

# What the layer is made of: its triggers, functions, the defaults it points elsewhere.
layer_objects() {
	sql "SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
	     UNION ALL SELECT 'function ' || oid::regprocedure FROM pg_proc WHERE pronamespace = to_regnamespace('pm')
	     UNION ALL SELECT 'default ' || adrelid::regclass || ' ' || pg_get_expr(adbin, adrelid) FROM pg_attrdef
	     UNION ALL SELECT 'relation ' || oid::regclass FROM pg_class WHERE relnamespace = to_regnamespace('pm')
	     ORDER BY 1"
}

# The issue's two inserts, in the order given: new code's printer, old code's printer (or back).
two_inserts() { # new-first|old-first
	local new="INSERT INTO printers_printer (profile_id, ip_address, api_key, ping, printing)
	           VALUES ((SELECT min(id) FROM accounts_profile), '10.2.2.2', 'new-code', false, false) RETURNING id"
	local old="INSERT INTO portal_printer (profile_id, ip_address, api_key, ping, printing)
	           VALUES ((SELECT min(id) FROM portal_profile), '10.2.2.3', 'old-code', false, false) RETURNING id"
	if [[ $1 == new-first ]]; then
		new_id=$(sql "$new") old_id=$(sql "$old")
	else
		old_id=$(sql "$old") new_id=$(sql "$new")
	fi
}

assert_both_inserts_in_both_tables() {
	[ "$new_id" != "$old_id" ]
	local t
	for t in portal_printer printers_printer; do
		assert_equal "$(sql "SELECT string_agg(api_key || '=' || id, ' ' ORDER BY api_key) FROM $t WHERE api_key LIKE '%-code'")" \
			"new-code=$new_id old-code=$old_id"
	done
	assert_equal "$(sides_differ)" ""
	run -0 "$PM_ROOT/pipelines/verify" -s "$db" -t "$db"
	assert_output --partial "verify: no differences"
}

@test "new code's printer, then old code's: both printers in both tables, each once, under two ids" {
	migrated_site
	two_inserts new-first
	assert_both_inserts_in_both_tables
}

@test "old code's printer, then new code's: both printers in both tables, each once, under two ids" {
	migrated_site
	two_inserts old-first
	assert_both_inserts_in_both_tables
}

@test "the new code's writes reach the old tables: new old ids with their key-map pairs, owners translated back, NULL kept" {
	migrated_site
	# A profile as new code saves it: NULL and '' apart, quotes, a newline, non-ASCII.
	new_profile=$(sql "INSERT INTO accounts_profile (user_id, name, email, username, organization)
		VALUES (NULL, '', NULL, E'o''neil\nsecond line', 'Zoë & Co') RETURNING id")
	printer=$(sql "INSERT INTO printers_printer (profile_id, ip_address, api_key, ping, printing)
		VALUES ($new_profile, 'http://farm.local:5000', 'k-new', true, false) RETURNING id")
	ownerless=$(sql "INSERT INTO printers_printer (profile_id, ip_address, api_key, ping, printing)
		VALUES (NULL, '10.3.3.3', 'k-none', false, false) RETURNING id")
	# The old code finds them: the profile under an old id of its own sequence, paired in the key map.
	old_profile=$(sql "SELECT old_key FROM pm.keymap_profile WHERE new_key = $new_profile")
	[ "$old_profile" -gt "$(sql "SELECT max(old_key) FROM pm.keymap_profile WHERE new_key <> $new_profile")" ]
	assert_equal "$(sql "SELECT quote_nullable(name) || ' ' || quote_nullable(email) || ' ' || replace(username, E'\n', '|') || ' ' || organization
		FROM portal_profile WHERE id = $old_profile")" "'' NULL o'neil|second line Zoë & Co"
	assert_equal "$(sql "SELECT profile_id || ' ' || ip_address FROM portal_printer WHERE id = $printer")" "$old_profile http://farm.local:5000"
	assert_equal "$(sql "SELECT quote_nullable(profile_id) FROM portal_printer WHERE id = $ownerless")" NULL
	# Updates reach the same record: a profile renamed, a printer moved to an old profile, then to none.
	sql "UPDATE accounts_profile SET name = NULL, email = '' WHERE id = $new_profile"
	assert_equal "$(sql "SELECT quote_nullable(name) || ' ' || quote_nullable(email) FROM portal_profile WHERE id = $old_profile")" "NULL ''"
	sql "UPDATE printers_printer SET profile_id = (SELECT new_key FROM pm.keymap_profile WHERE old_key = 5) WHERE id = $ownerless"
	assert_equal "$(sql "SELECT profile_id FROM portal_printer WHERE id = $ownerless")" 5
	sql "UPDATE printers_printer SET profile_id = NULL, printing = true WHERE id = $printer"
	assert_equal "$(sql "SELECT quote_nullable(profile_id) || ' ' || printing FROM portal_printer WHERE id = $printer")" "NULL true"
	# Deletes as Django cascades them: a migrated profile's printers, then the profile; its key-map pair goes.
	gone=$(sql "SELECT new_key FROM pm.keymap_profile WHERE old_key = 1")
	sql "BEGIN; DELETE FROM printers_printer WHERE profile_id = $gone; DELETE FROM accounts_profile WHERE id = $gone; COMMIT"
	assert_equal "$(sql "SELECT count(*) FROM portal_profile WHERE id = 1")" 0
	assert_equal "$(sql "SELECT count(*) FROM portal_printer WHERE profile_id = 1")" 0
	assert_equal "$(sql "SELECT count(*) FROM pm.keymap_profile WHERE old_key = 1 OR new_key = $gone")" 0
	assert_equal "$(sides_differ)" ""
	run -0 "$PM_ROOT/pipelines/verify" -s "$db" -t "$db"
}

@test "a write whose key or unique value the other side holds already is refused, naming table and key; nothing changes" {
	migrated_site
	# Rows in the old table only, written past the layer: what another writer left there.
	sql "ALTER TABLE portal_printer DISABLE TRIGGER pm_compat"
	sql "INSERT INTO portal_printer (id, ip_address, api_key, ping, printing) VALUES (9000, '10.4.4.4', 'k-secret-77', false, false)"
	sql "ALTER TABLE portal_printer ENABLE TRIGGER pm_compat"
	before="$(table_digest portal_printer) $(table_digest printers_printer)"
	run psql -X -q -v ON_ERROR_STOP=1 -c "INSERT INTO printers_printer (id, ip_address, api_key, ping, printing)
		VALUES (9000, '10.5.5.5', 'mine', true, true)"
	assert_failure
	assert_output --partial "pm compatibility layer: the row written to printers_printer (id 9000) is not carried to portal_printer: it has a row of id 9000 already"
	assert_output --partial "no row is laid over another"
	# A unique value: the (ip_address, api_key) pair, never printed (an api_key is a secret).
	run psql -X -q -v ON_ERROR_STOP=1 -c "INSERT INTO printers_printer (ip_address, api_key, ping, printing)
		VALUES ('10.4.4.4', 'k-secret-77', true, true)"
	assert_failure
	assert_output --regexp "the row written to printers_printer \(id [0-9]+\) is not carried to portal_printer: a value unique there is taken already"
	refute_output --partial k-secret-77
	assert_equal "$(table_digest portal_printer) $(table_digest printers_printer)" "$before"
}

@test "the new tables refuse a write at REPEATABLE READ, a TRUNCATE and a changed id; nothing half-carried" {
	migrated_site
	before="$(table_digest portal_profile) $(table_digest accounts_profile) $(table_digest portal_printer) $(table_digest printers_printer)"
	run psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN ISOLATION LEVEL REPEATABLE READ" \
		-c "UPDATE accounts_profile SET name = 'x' WHERE id = (SELECT min(id) FROM accounts_profile)" -c COMMIT
	assert_failure
	assert_output --partial "must run at READ COMMITTED, not REPEATABLE READ"
	run psql -X -q -v ON_ERROR_STOP=1 -c "TRUNCATE printers_printer"
	assert_failure
	assert_output --partial "TRUNCATE printers_printer would not reach the other side"
	run psql -X -q -v ON_ERROR_STOP=1 -c "UPDATE printers_printer SET id = 99999 WHERE id = (SELECT min(id) FROM printers_printer)"
	assert_failure
	assert_output --partial "an UPDATE of printers_printer.id is refused: a changed key is not carried"
	run psql -X -q -v ON_ERROR_STOP=1 -c "UPDATE accounts_profile SET id = -1 WHERE id = (SELECT min(id) FROM accounts_profile)"
	assert_failure
	assert_output --partial "an UPDATE of accounts_profile.id is refused"
	assert_equal "$(table_digest portal_profile) $(table_digest accounts_profile) $(table_digest portal_printer) $(table_digest printers_printer)" "$before"
}

@test "a savepoint rolled back in mid-write leaves nothing carried, and the writes after it are carried" {
	migrated_site
	sql "BEGIN;
	     SAVEPOINT a;
	     INSERT INTO printers_printer (ip_address, api_key, ping, printing) VALUES ('10.6.6.1', 'rolled-back', false, false);
	     ROLLBACK TO a;
	     INSERT INTO printers_printer (ip_address, api_key, ping, printing) VALUES ('10.6.6.2', 'kept', false, false);
	     COMMIT"
	# A refusal inside a savepoint (Django's nested atomic blocks) leaves the layer as it was.
	sql "ALTER TABLE portal_printer DISABLE TRIGGER pm_compat"
	sql "INSERT INTO portal_printer (id, ip_address, api_key, ping, printing) VALUES (9001, '10.6.6.3', 'k', false, false)"
	sql "ALTER TABLE portal_printer ENABLE TRIGGER pm_compat"
	psql -X -q -c "BEGIN" -c "SAVEPOINT b" \
		-c "INSERT INTO printers_printer (id, ip_address, api_key, ping, printing) VALUES (9001, '10.6.6.4', 'refused', false, false)" \
		-c "ROLLBACK TO b" \
		-c "INSERT INTO accounts_profile (name) VALUES ('after the refusal')" -c "COMMIT" 2>/dev/null
	assert_equal "$(sql "SELECT string_agg(api_key, ' ' ORDER BY api_key) FROM portal_printer WHERE ip_address LIKE '10.6.6.%'")" "k kept"
	assert_equal "$(sql "SELECT count(*) FROM portal_profile WHERE name = 'after the refusal'")" 1
	sql "DELETE FROM portal_printer WHERE id = 9001" # carried: nothing of it in the new table, so nothing to delete
	assert_equal "$(sides_differ)" ""
}

@test "install, writes both ways, remove: nothing of the layer is left, every sequence is past every id" {
	"$PM_ROOT/scripts/generate-portal" --profiles 60 --printers 150 --targets >/dev/null
	"$PM_ROOT/pipelines/migrate" -s "$db" -t "$db" -w "$work" >/dev/null
	before=$(layer_objects)
	compat install >/dev/null
	[ "$(layer_objects | grep -c '^trigger')" -eq 8 ]
	assert_equal "$(layer_objects | grep '^default .*printer')" \
		"$(printf '%s\n' "default portal_printer nextval('portal_printer_id_seq'::regclass)" "default printers_printer nextval('portal_printer_id_seq'::regclass)")"
	for i in 1 2 3; do
		sql "INSERT INTO portal_printer (ip_address, api_key, ping, printing) VALUES ('10.7.0.$i', 'old$i', false, false)"
		sql "INSERT INTO printers_printer (ip_address, api_key, ping, printing) VALUES ('10.7.1.$i', 'new$i', false, false)"
		sql "INSERT INTO portal_profile (name) VALUES ('old$i')"
		sql "INSERT INTO accounts_profile (name) VALUES ('new$i')"
	done
	compat remove >/dev/null
	assert_equal "$(layer_objects)" "$before"
	assert_equal "$(sides_differ)" ""
	# Each table draws from its own sequence again, past every id either side holds.
	top=$(sql "SELECT max(id) FROM portal_printer")
	assert_equal "$(sql "SELECT nextval('printers_printer_id_seq') > $top AND nextval('portal_printer_id_seq') > $top")" t
	assert_equal "$(sql "INSERT INTO printers_printer (ip_address, api_key, ping, printing) VALUES ('10.7.2.1', 'after', false, false) RETURNING id > $top")" t
	assert_equal "$(sql "SELECT count(*) FROM portal_printer WHERE api_key = 'after'")" 0
}

# The old site and the new one writing at once (100 transactions a second each, pgbench), until
# stop_writers; no transaction of either may fail.
start_writers() {
	pgbench -n -c 1 -R 100 -T 600 -D profiles=2000 -D printers=6000 -f "$FIXTURES/portal-writer.sql" "$PGDATABASE" \
		>"$BATS_TEST_TMPDIR/old-writer.log" 2>&1 &
	writers=$!
	pgbench -n -c 1 -R 100 -T 600 -D printers=6200 -f "$FIXTURES/accounts-writer.sql" "$PGDATABASE" \
		>"$BATS_TEST_TMPDIR/new-writer.log" 2>&1 &
	writers+=" $!"
	wait_for "SELECT count(*) > 5 FROM portal_profile WHERE name LIKE 'newcode %'" t
}

stop_writers() {
	local w gone=0
	for w in $writers; do
		kill -TERM "$w" 2>/dev/null || gone=1 # a writer that stopped by itself: its log says why
		wait "$w" || true
	done
	writers=''
	run grep -iE 'error|abort' "$BATS_TEST_TMPDIR/old-writer.log" "$BATS_TEST_TMPDIR/new-writer.log"
	if [[ $status -ne 1 || $gone -ne 0 ]]; then
		tail -n 20 "$BATS_TEST_TMPDIR/old-writer.log" "$BATS_TEST_TMPDIR/new-writer.log"
		return 1
	fi
}

@test "old and new code write at once while staged steps run, killed at random moments: both sides equal" {
	"$PM_ROOT/scripts/generate-portal" --profiles 2000 --printers 6000 --targets >/dev/null
	compat install >/dev/null
	start_writers
	kill_staged_steps 10 700
	for ((i = 0; i < 40; i++)); do
		run "$PM_ROOT/pipelines/staged" -s "$db" -t "$db" -w "$work" --chunk 700
		assert_success
		[[ $output != *"staged: done"* ]] || break
	done
	assert_output --partial "staged: done"
	sleep 0.5 # both keep writing after done: the triggers carry it
	stop_writers
	# Both writers did their part, and new code's rows reached the old tables.
	[ "$(sql "SELECT count(*) FROM portal_profile WHERE name LIKE 'newcode %'")" -gt 20 ]
	[ "$(sql "SELECT count(*) FROM portal_printer WHERE ip_address LIKE 'https://new-%'")" -gt 20 ]
	assert_equal "$(sides_differ)" ""
	run -0 "$PM_ROOT/pipelines/verify" -s "$db" -t "$db"
}

@test "rollback refuses while the layer is installed, naming both ways back; once removed, it restores and says what is lost" {
	migrated_site
	sql "INSERT INTO printers_printer (ip_address, api_key, ping, printing) VALUES ('10.8.8.8', 'written-since', false, false)"
	before="$(table_digest portal_printer) $(table_digest printers_printer) $(table_digest accounts_profile)"
	run -2 "$PM_ROOT/pipelines/rollback" -s "$db" -t "$db" -w "$work" --yes
	assert_output --partial "rollback: source: the compatibility layer is installed, so new code may have written rows the backup does not hold."
	assert_output --partial "revert the code and leave the layer in place: nothing is lost"
	assert_output --partial "or run pipelines/compat remove, then rollback again, which"
	assert_output --partial "restores the backup: every write since it is lost.  Nothing done"
	assert_equal "$(table_digest portal_printer) $(table_digest printers_printer) $(table_digest accounts_profile)" "$before"
	# The other way: the old code finds the new code's printer where it looks.
	assert_equal "$(sql "SELECT count(*) FROM portal_printer WHERE api_key = 'written-since'")" 1
	compat remove >/dev/null
	run -2 "$PM_ROOT/pipelines/rollback" -s "$db" -t "$db" -w "$work"
	assert_output --partial "portal_printer: changed since the backup (150 rows then, 151 now)"
	assert_output --partial "(what changed since is lost)"
	run -0 "$PM_ROOT/pipelines/rollback" -s "$db" -t "$db" -w "$work" --yes
	assert_equal "$(sql "SELECT count(*) FROM portal_printer")" 150
	assert_equal "$(sql "SELECT count(*) FROM portal_printer WHERE api_key = 'written-since'")" 0
}
