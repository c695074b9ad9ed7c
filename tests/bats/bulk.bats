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
