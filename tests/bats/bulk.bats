# pm-load into an empty table: indexes and keys set aside and built again, under the same names and
# definitions; any failure leaves the table exactly as it was, indexes included.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	sql_file "$FIXTURES/django-schema.sql"
	sql "INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
	     SELECT i, 'x', false, 'u' || i, '', '', '', false, true, now() FROM generate_series(1, 50) i"
	sql "INSERT INTO accounts_profile (id, user_id) SELECT i, i FROM generate_series(1, 50) i"
	# An extra index of another kind, a partial one, a comment-free CHECK: all must come back.
	sql "CREATE INDEX printers_lower_ip ON printers_printer (lower(ip_address)) WHERE ping"
	printf 'id,profile_id,ip_address,api_key,ping,printing\n' >printers.csv
	for i in $(seq 1 500); do
		printf '%d,%s,10.0.%d.%d,k%d,%s,f\n' "$i" "$([ $((i % 7)) -eq 0 ] && echo '' || echo $((i % 50 + 1)))" $((i / 256)) $((i % 256)) "$i" "$([ $((i % 2)) -eq 0 ] && echo t || echo f)"
	done >>printers.csv
}

# Every index and constraint touching printers_printer, by name and definition, and the FK into it.
schema_of() {
	sql "SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
	       SELECT indexname || ': ' || indexdef AS x FROM pg_indexes WHERE tablename IN ('printers_printer', 'accounts_profile')
	       UNION ALL
	       SELECT conrelid::regclass || '.' || conname || ': ' || pg_get_constraintdef(oid) || ' ' || convalidated
	       FROM pg_constraint WHERE conrelid IN ('printers_printer'::regclass, 'accounts_profile'::regclass)) s"
}

@test "a load into an empty table rebuilds every index and key as it was, under its name" {
	before=$(schema_of)
	[ "$(wc -l <<<"$before")" -ge 8 ]
	run -0 pm-load -t printers_printer -i printers.csv -v
	assert_output --partial '500 records: 500 inserted'
	assert_equal "$(schema_of)" "$before"
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 500
	# The indexes work: the planner can use them and they hold every row.
	assert_equal "$(sql "SET enable_seqscan = off; SELECT count(*) FROM printers_printer WHERE lower(ip_address) LIKE '10.%' AND ping")" 250
	# The rows were frozen by COPY FREEZE: no later vacuum has to visit them.
	sql 'CREATE EXTENSION pg_visibility'
	assert_equal "$(sql "SELECT count(*), count(*) FILTER (WHERE all_frozen) FROM pg_visibility_map('printers_printer')" | cut -d'|' -f1)" \
		"$(sql "SELECT count(*) FILTER (WHERE all_frozen) FROM pg_visibility_map('printers_printer')")"
	[ "$(sql "SELECT count(*) FROM pg_visibility_map('printers_printer') WHERE all_frozen")" -gt 0 ]
	# The unique index refuses a repeat now, as before.
	run -3 pm-load -t printers_printer -i printers.csv --keep-indexes
	assert_output --partial 'record 1: duplicate key value violates unique constraint "printers_printer_pkey"'
}

@test "a repeated key in the stream names the record that repeats it; the table and its indexes are as before" {
	printf '501,,10.9.9.9,k9,t,t\n7,,10.9.9.8,k8,t,t\n' >>printers.csv
	before=$(schema_of)
	run -3 pm-load -t printers_printer -i printers.csv
	assert_output 'pm-load: printers_printer: record 502: duplicate key value violates unique constraint "printers_printer_pkey" (SQLSTATE 23505); nothing loaded'
	assert_equal "$(schema_of)" "$before"
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 0
	# The same stream with the indexes kept in place names the same record.
	run -3 pm-load -t printers_printer -i printers.csv --keep-indexes
	assert_output --partial 'record 502: duplicate key value'
}

@test "a table that holds rows is loaded with its indexes in place" {
	sql "INSERT INTO printers_printer (id, ip_address, api_key, ping, printing) VALUES (1000, 'x', 'y', true, true)"
	before=$(schema_of)
	# A lock held on an index would block a DROP: the plain path never needs one.
	run -0 pm-load -t printers_printer -i printers.csv
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 501
	assert_equal "$(schema_of)" "$before"
}

@test "a load into the empty accounts_profile, which printers_printer references, puts that foreign key back" {
	sql "DELETE FROM accounts_profile"
	before=$(schema_of)
	printf 'id,user_id,name\n1,1,a\n2,,""\n3,3,\n' >profiles.csv
	run -0 pm-load -t accounts_profile -i profiles.csv
	assert_equal "$(schema_of)" "$before"
	assert_equal "$(sql "SELECT count(*) FROM pg_constraint WHERE conname = 'printers_printer_profile_id_1d417f1b_fk_accounts_profile_id'")" 1
}

# --new-ids into the empty accounts_profile: 40 old profiles, ids out of order and far from the
# sequence, some without a user.
new_ids_setup() {
	sql "DELETE FROM accounts_profile"
	sql "SELECT setval('accounts_profile_id_seq', 1000)"
	printf 'id,user_id,name\n' >profiles.csv
	for i in $(seq 1 40); do
		printf '%d,%s,p%d\n' $((i * 37 % 101 + 500)) "$([ $((i % 9)) -eq 0 ] && echo '' || echo "$i")" "$i"
	done >>profiles.csv
}

seq_state() {
	sql "SELECT last_value || ' ' || is_called FROM accounts_profile_id_seq"
}

# The key map's indexes and constraints (its keys too are set aside when it is empty), by name and definition.
keymap_schema() {
	sql "SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
	       SELECT indexname || ': ' || indexdef AS x FROM pg_indexes WHERE schemaname = 'pm'
	       UNION ALL
	       SELECT conname || ': ' || pg_get_constraintdef(oid) || ' ' || convalidated FROM pg_constraint
	       WHERE conrelid = 'pm.keymap_profile'::regclass
	       UNION ALL
	       SELECT attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attnotnull FROM pg_attribute
	       WHERE attrelid = 'pm.keymap_profile'::regclass AND attnum > 0) s"
}

relfilenode() {
	sql "SELECT relfilenode FROM pg_class WHERE oid = 'accounts_profile'::regclass"
}

@test "new ids into an empty table go the bulk way: same rows, key map and sequence as with the indexes kept" {
	new_ids_setup
	before=$(schema_of)
	node=$(relfilenode)
	run -0 pm-load -t accounts_profile -i profiles.csv --new-ids id --keymap profile --keymap-out kept.gz --keep-indexes
	# --keep-indexes inserts in place: the table keeps its file.
	assert_equal "$(relfilenode)" "$node"
	rows=$(table_digest accounts_profile)
	keys=$(table_digest pm.keymap_profile)
	seq=$(seq_state)
	keymap_schema=$(keymap_schema)
	assert_equal "$(sql "SELECT min(new_key) || ' ' || max(new_key) FROM pm.keymap_profile")" '1001 1040'

	sql "DELETE FROM accounts_profile"
	sql "DROP SCHEMA pm CASCADE"
	sql "SELECT setval('accounts_profile_id_seq', 1000)"
	node=$(relfilenode)
	run -0 pm-load -v -t accounts_profile -i profiles.csv --new-ids id --keymap profile --keymap-out bulk.gz
	assert_output 'pm-load: accounts_profile: 40 records: 40 inserted, 0 updated, 0 unchanged'
	# The bulk way truncates the emptied table, so it has a new file.
	[ "$(relfilenode)" != "$node" ]
	assert_equal "$(schema_of)" "$before"
	assert_equal "$(table_digest accounts_profile)" "$rows"
	assert_equal "$(table_digest pm.keymap_profile)" "$keys"
	assert_equal "$(seq_state)" "$seq"
	assert_equal "$(keymap_schema)" "$keymap_schema"
	cmp <(zcat kept.gz) <(zcat bulk.gz)
	# The rebuilt keys hold: a printer may point at a new id, not at an old one.
	sql "INSERT INTO printers_printer (id, profile_id, ip_address, api_key, ping, printing) VALUES (1, 1001, 'a', 'b', true, true)"
	run ! sql "INSERT INTO printers_printer (id, profile_id, ip_address, api_key, ping, printing) VALUES (2, 501, 'c', 'd', true, true)"
}

@test "new ids into an empty table: a repeated old id or user names its record, as with the indexes kept; nothing loaded" {
	new_ids_setup
	cp profiles.csv users.csv
	printf '900,,x\n537,,again\n' >>profiles.csv # 537 is record 1's old id: record 42 repeats it
	printf '900,5,x\n' >>users.csv                # user 5 is record 5's: record 41 repeats it
	before=$(schema_of)
	run -3 pm-load -t accounts_profile -i profiles.csv --new-ids id --keymap profile
	assert_output 'pm-load: accounts_profile: record 42: duplicate key value violates unique constraint "keymap_profile_pkey" (SQLSTATE 23505); nothing loaded'
	bulk_output=$output
	run -3 pm-load -t accounts_profile -i profiles.csv --new-ids id --keymap profile --keep-indexes
	assert_equal "$output" "$bulk_output"
	run -3 pm-load -t accounts_profile -i users.csv --new-ids id --keymap profile
	assert_output 'pm-load: accounts_profile: record 41: duplicate key value violates unique constraint "accounts_profile_user_id_key" (SQLSTATE 23505); nothing loaded'
	bulk_output=$output
	run -3 pm-load -t accounts_profile -i users.csv --new-ids id --keymap profile --keep-indexes
	assert_equal "$output" "$bulk_output"
	assert_equal "$(schema_of)" "$before"
	assert_equal "$(sql 'SELECT count(*) FROM accounts_profile')" 0
	assert_equal "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'pm'")" 0
}

@test "new ids into an empty table: a user that does not exist is refused when the foreign key is built again" {
	new_ids_setup
	printf '900,999,ghost\n' >>profiles.csv
	before=$(schema_of)
	sql "CREATE SCHEMA pm; CREATE TABLE pm.keymap_profile (old_key bigint PRIMARY KEY, new_key bigint NOT NULL UNIQUE)"
	run -3 pm-load -t accounts_profile -i profiles.csv --new-ids id --keymap profile
	assert_output 'pm-load: accounts_profile: building keys: insert or update on table "accounts_profile" violates foreign key constraint "accounts_profile_user_id_49a85d32_fk_auth_user_id" (SQLSTATE 23503); nothing loaded'
	assert_equal "$(schema_of)" "$before"
	assert_equal "$(sql 'SELECT count(*) FROM accounts_profile')" 0
	assert_equal "$(sql 'SELECT count(*) FROM pm.keymap_profile')" 0
}
