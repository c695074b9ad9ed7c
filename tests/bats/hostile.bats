# Hostile streams (issue 16): no value of a record in any message, headers and mapping files of any
# width in linear time under a documented cap, header names shown readably, records of bounded size.
load helpers

SECRET=C81E728D9D4C2F636F067F89CC14862C

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	sql "CREATE TABLE printer (id serial PRIMARY KEY, ip_address varchar(255), api_key varchar(32), ping boolean)"
	sql "INSERT INTO printer VALUES (100, '10.0.0.100', 'kept-key', true)"
	sql "CREATE TABLE empty_printer (id serial PRIMARY KEY, ip_address varchar(255), api_key varchar(32), ping boolean)"
	# The header names ping where the values hold the api_key.
	printf 'id,ip_address,ping,api_key\n1,10.0.0.1,%s,t\n' "$SECRET" >reordered.csv
}

assert_no_secret() {
	refute_output --partial "$SECRET"
	refute_output --partial 'Failing row'
	refute_output --partial 'CONTEXT'
}

reordered_refused() {
	local table=$1
	shift
	local before
	before=$(table_digest "$table")
	run -3 pm-load -t "$table" -i reordered.csv "$@"
	assert_output "pm-load: $table: record 1: column \"ping\": invalid input syntax for type boolean (SQLSTATE 22P02); nothing loaded"
	assert_no_secret
	assert_equal "$(table_digest "$table")" "$before"
}

@test "a reordered header: a plain load names the column, never the api_key" {
	reordered_refused printer
}

@test "a reordered header: a bulk load into an empty table names the column, never the api_key" {
	reordered_refused empty_printer
}

@test "a reordered header: upsert and skip name the column, never the api_key" {
	reordered_refused printer --mode upsert
	reordered_refused printer --mode skip
}

@test "a reordered header: --new-ids names the column, never the api_key, and no key map is left" {
	reordered_refused printer --new-ids id --keymap-out keys.gz
	reordered_refused empty_printer --new-ids id
	assert_equal "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'pm'")" 0
}

@test "a value out of range and a check constraint are named without the value" {
	sql "CREATE TABLE n (id int PRIMARY KEY, k int CHECK (k < 10))"
	printf 'id,k\n1,99999999999\n' >range.csv
	run -3 pm-load -t n -i range.csv
	assert_output 'pm-load: n: record 1: column "k": value is out of range for type integer (SQLSTATE 22003); nothing loaded'
	refute_output --partial 99999999999
	printf 'id,k\n1,12345\n' >check.csv
	run -3 pm-load -t n -i check.csv --mode upsert
	assert_output 'pm-load: n: merge: new row for relation "n" violates check constraint "n_k_check" (SQLSTATE 23514); nothing loaded'
	refute_output --partial 12345
	assert_equal "$(sql 'SELECT count(*) FROM n')" 0
}
