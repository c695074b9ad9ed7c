#!/usr/bin/env bats
# pm-load --checkpoint and --lock: progress committed with the rows; a lock held from before the
# stream is read until the commit.
load helpers

setup() {
	fresh_db
	sql "CREATE TABLE t (id integer PRIMARY KEY, v text)"
	printf 'id,v\n1,a\n2,b\n' >"$BATS_TEST_TMPDIR/one.csv"
	printf 'id,v\n3,c\n' >"$BATS_TEST_TMPDIR/two.csv"
}

@test "a checkpoint moves with the rows, from the value it stood at, and counts them" {
	run pm-load -t t -i "$BATS_TEST_TMPDIR/one.csv" --checkpoint "chunks=..2"
	assert_success
	assert_equal "$(sql "SELECT name || ' ' || value || ' ' || rows FROM pm.checkpoint")" "chunks 2 2"
	run pm-load -t t -i "$BATS_TEST_TMPDIR/two.csv" --checkpoint "chunks=2..3"
	assert_success
	assert_equal "$(sql "SELECT value || ' ' || rows FROM pm.checkpoint WHERE name = 'chunks'")" "3 3"
}

@test "a checkpoint that moved on refuses the load, exit 1, nothing loaded" {
	pm-load -t t -i "$BATS_TEST_TMPDIR/one.csv" --checkpoint "chunks=..2"
	before=$(table_digest t)
	run pm-load -t t -i "$BATS_TEST_TMPDIR/two.csv" --checkpoint "chunks=..3"
	assert_failure 1
	assert_output 'pm-load: checkpoint "chunks" stands at "2", not "": another run moved this chunk; nothing loaded'
	assert_equal "$(table_digest t)" "$before"
	assert_equal "$(sql "SELECT value || ' ' || rows FROM pm.checkpoint")" "2 2"
}

@test "a load that fails leaves its checkpoint where it stood" {
	pm-load -t t -i "$BATS_TEST_TMPDIR/one.csv" --checkpoint "chunks=..2"
	printf 'id,v\n2,again\n' >"$BATS_TEST_TMPDIR/dup.csv"
	run pm-load -t t -i "$BATS_TEST_TMPDIR/dup.csv" --checkpoint "chunks=2..9"
	assert_failure 3
	assert_output --partial "duplicate key value"
	assert_equal "$(sql "SELECT value || ' ' || rows FROM pm.checkpoint")" "2 2"
}

@test "--lock waits for a lock held elsewhere and loads nothing before it has it" {
	psql -X -q -c "SELECT pg_advisory_lock_shared(42)" -c "SELECT pg_sleep(300)" >/dev/null 2>&1 &
	wait_for "SELECT count(*) FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND locktype = 'advisory' AND granted" 1
	pm-load -t t -i "$BATS_TEST_TMPDIR/one.csv" --lock 42 &
	load=$!
	wait_for "SELECT count(*) FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND locktype = 'advisory' AND NOT granted AND mode = 'ExclusiveLock'" 1
	assert_equal "$(sql "SELECT count(*) FROM t")" 0
	sql "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND locktype = 'advisory' AND granted" >/dev/null
	wait "$load"
	assert_equal "$(sql "SELECT count(*) FROM t")" 2
	# Held to the end of its own transaction only.
	assert_equal "$(sql "SELECT count(*) FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND locktype = 'advisory'")" 0
}

@test "bad --checkpoint and --lock values are usage errors before connecting" {
	for bad in "chunks" "=1..2" "chunks=1.." "chunks=1-2"; do
		run pm-load -d "dbname=pm_no_such_db" -t t --checkpoint "$bad"
		assert_failure 2
		assert_output "pm-load: --checkpoint: \"$bad\" is not NAME=FROM..TO (FROM empty for the first)"
	done
	run pm-load -d "dbname=pm_no_such_db" -t t --lock 12x
	assert_failure 2
	assert_output 'pm-load: --lock: "12x" is not a 64-bit integer'
	run pm-load -d "dbname=pm_no_such_db" -t t --lock 99999999999999999999
	assert_failure 2
}
