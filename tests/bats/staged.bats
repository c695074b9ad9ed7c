#!/usr/bin/env bats
# pipelines/staged: the migration in cron-sized steps, while the site writes the old tables.
load helpers

setup() {
	fresh_db
	"$PM_ROOT/scripts/generate-portal" --profiles 300 --printers 900 --targets >/dev/null
	db="dbname=$PGDATABASE"
	work=$BATS_TEST_TMPDIR/w
}

teardown() {
	[[ -z ${writer:-} ]] || kill "$writer" 2>/dev/null || true
}

# The id that ends the Nth chunk of TABLE (the generator leaves gaps between ids).
chunk_end() { # table n
	sql "SELECT max(id) FROM (SELECT id FROM $1 ORDER BY id LIMIT ${chunk:-100} * $2) c"
}

step() {
	"$PM_ROOT/pipelines/staged" -s "$db" -t "$db" -w "$work" --chunk "${chunk:-100}"
}

# Steps until one says done (at most $1); fails the test on a step that fails.
steps_until_done() {
	local i
	for ((i = 0; i < $1; i++)); do
		run step
		assert_success
		[[ $output != *"staged: done"* ]] || return 0
	done
	echo "not done after $1 steps: $output" >&2
	return 1
}

# A larger portal, the compatibility layer, and the old site writing through it (100 transactions a
# second, each touching a few rows: most rows are moved by chunks, the rest by the triggers) until
# stop_writer.
start_live_site() {
	"$PM_ROOT/scripts/generate-portal" --replace --profiles 2000 --printers 6000 --targets >/dev/null
	"$PM_ROOT/pipelines/compat" install -d "$db"
	pgbench -n -c 1 -R 100 -T 600 -D profiles=2000 -D printers=6000 -f "$FIXTURES/portal-writer.sql" "$PGDATABASE" \
		>"$BATS_TEST_TMPDIR/writer.log" 2>&1 &
	writer=$!
	# Under way before the first step: some transactions committed.
	wait_for "SELECT count(*) > 5 FROM portal_profile WHERE name LIKE 'new %'" t
}

stop_writer() {
	kill -TERM "$writer" # not INT: a background job ignores SIGINT
	wait "$writer" || true
	writer=''
	# No transaction of the writer's may fail: each would be a write the site lost.
	run grep -iE 'error|abort' "$BATS_TEST_TMPDIR/writer.log"
	assert_failure
}

@test "steps move one chunk each, in order, until done; each chunk's progress is in the target" {
	run step
	assert_success
	assert_output --partial "staged: backup: the source and target tables are in $work/backup.source.dump and backup.target.dump"
	p1=$(chunk_end portal_profile 1) p2=$(chunk_end portal_profile 2)
	assert_output --partial "staged: profiles: moved ids start..$p1: 100 rows loaded, 0 warnings"
	assert_equal "$(sql "SELECT value || ' ' || rows FROM pm.checkpoint WHERE name = 'staged:portal_profile'")" "$p1 100"
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile")" 100
	assert_equal "$(sql "SELECT count(*) FROM printers_printer")" 0
	run step
	assert_output --partial "staged: profiles: moved ids $p1..$p2: 100 rows loaded"
	steps_until_done 20
	assert_output --partial "staged: done: every row is moved and verified"
	assert_portal_moved
	assert_equal "$(sql "SELECT value || ' ' || rows FROM pm.checkpoint WHERE name = 'staged:portal_printer'")" "$(sql "SELECT max(id) FROM portal_printer") 900"
	# A step after done has nothing to move and says done again, from the record: no verification.
	rm -rf "$work/verify"
	run step
	assert_success
	assert_output --regexp "^staged: done: every row is moved, verified at [0-9T:-]+Z \(reports in $work/verify; --verify verifies again\)$"
	[ ! -e "$work/verify" ]
	# --verify verifies again; a difference found then is reported, and the record goes.
	run -0 "$PM_ROOT/pipelines/staged" -s "$db" -t "$db" -w "$work" --verify
	assert_output --partial "staged: done: every row is moved and verified"
	[ -e "$work/verify/printers.csv.gz" ]
	sql "UPDATE printers_printer SET ping = NOT ping WHERE id = (SELECT min(id) FROM printers_printer)"
	run -1 "$PM_ROOT/pipelines/staged" -s "$db" -t "$db" -w "$work" --verify
	assert_output --partial "verify: printers: DIFFERENCES"
	[ ! -e "$work/verified" ]
	run -1 step
	# Each chunk's streams are kept for the auditors, private to their owner.
	q1=$(chunk_end portal_printer 1)
	run zcat "$work/chunks/printers.after-$q1.csv.gz"
	assert_line --index 0 "id,profile_id,ip_address,api_key,ping,printing"
	assert_equal "${#lines[@]}" 101
	assert_equal "$(stat -c %a "$work" "$work/chunks/printers.after-$q1.csv.gz" "$work/backup.source.dump" | sort -u | tr '\n' ' ')" "600 700 "
	run ls "$work/chunks"
	refute_output --partial .partial
}

@test "while the site writes the old tables, steps run until done and nothing is lost or doubled" {
	chunk=500
	start_live_site
	steps_until_done 40
	sleep 0.5 # the writer keeps writing after done: the triggers carry it
	stop_writer
	[ "$(sql "SELECT count(*) FROM portal_profile WHERE name LIKE 'new %'")" -gt 50 ]
	# Both ways of moving did their part: chunks loaded rows, and the triggers moved others.
	[ "$(sql "SELECT sum(rows) FROM pm.checkpoint")" -gt 4000 ]
	by_triggers=$(sql "SELECT (SELECT count(*) FROM printers_printer) - rows FROM pm.checkpoint WHERE name = 'staged:portal_printer'")
	[ "$by_triggers" -gt 50 ]
	run "$PM_ROOT/pipelines/verify" -s "$db" -t "$db"
	assert_success
	assert_output --partial "verify: no differences"
	assert_portal_moved
	assert_equal "$(sql "SELECT count(*) FROM pm.keymap_profile")" "$(sql "SELECT count(*) FROM portal_profile")"
}

@test "kill -9 of a step at 20 random moments while the site writes: the next step resumes, the verify is clean" {
	chunk=300
	start_live_site
	kill_staged_steps 20 "$chunk"
	steps_until_done 60
	stop_writer
	run "$PM_ROOT/pipelines/verify" -s "$db" -t "$db"
	assert_success
	assert_portal_moved
	# Nothing loaded twice: one key map entry and one new row per old profile.
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile")" "$(sql "SELECT count(*) FROM portal_profile")"
	# A killed step leaves .partial files; every stream under its own name is whole.
	for f in "$work"/chunks/*.csv.gz; do
		[[ $f == *.keys-*.csv.gz || $f == *.rejects.csv.gz ]] && continue
		run pm-verify --key id "$f" "$f"
		assert_success
	done
}

# A write in flight, as the compatibility layer's triggers hold the chunk lock, until release_chunk_lock.
hold_chunk_lock() {
	local key
	key=$(sed -n 's/^PM_LOCK_KEY=//p' "$PM_ROOT/pipelines/lib.sh")
	psql -X -q -c "SELECT pg_advisory_lock_shared($key)" -c "SELECT pg_sleep(300)" >/dev/null 2>&1 &
	wait_for "SELECT count(*) FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND locktype = 'advisory' AND granted AND mode = 'ShareLock'" 1
}
release_chunk_lock() {
	sql "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND locktype = 'advisory' AND granted AND mode = 'ShareLock'" >/dev/null
}
loads_waiting() { # N: until N chunk loads wait for the lock
	wait_for "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'pm-staged-%' AND wait_event_type = 'Lock'" "$1"
}

@test "two steps at once: one moves the chunk, the other leaves; nothing is loaded twice" {
	# The same WORKDIR: the second finds the first running (held up by a write in flight).
	hold_chunk_lock
	step >"$BATS_TEST_TMPDIR/a" 2>&1 &
	loads_waiting 1
	run step
	assert_success
	assert_output "staged: another step is running in $work; leaving it be"
	release_chunk_lock
	wait
	run cat "$BATS_TEST_TMPDIR/a"
	p1=$(chunk_end portal_profile 1) p2=$(chunk_end portal_profile 2)
	assert_output --partial "staged: profiles: moved ids start..$p1: 100 rows loaded"
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile")" 100
	# Two WORKDIRs on one target, both waiting for the same chunk: one loads it, the other is refused.
	hold_chunk_lock
	"$PM_ROOT/pipelines/staged" -s "$db" -t "$db" -w "$BATS_TEST_TMPDIR/w1" --chunk 100 >"$BATS_TEST_TMPDIR/a" 2>&1 &
	"$PM_ROOT/pipelines/staged" -s "$db" -t "$db" -w "$BATS_TEST_TMPDIR/w2" --chunk 100 >"$BATS_TEST_TMPDIR/b" 2>&1 &
	loads_waiting 2
	release_chunk_lock
	wait
	run cat "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	assert_equal "$(grep -c "staged: profiles: moved ids $p1..$p2: 100 rows loaded" <<<"$output")" 1
	assert_output --partial "staged: profiles: another step moved the chunk after $p1; nothing loaded"
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile")" 200
	assert_equal "$(sql "SELECT count(*) FROM pm.keymap_profile")" 200
	assert_equal "$(sql "SELECT value || ' ' || rows FROM pm.checkpoint WHERE name = 'staged:portal_profile'")" "$p2 200"
}

@test "a chunk that fails is named, loads nothing, and the next step takes it again" {
	chunk=100
	step
	# The target refuses one row of the next chunk.
	sql "ALTER TABLE accounts_profile ADD CONSTRAINT refused_name CHECK (name IS DISTINCT FROM 'refused')"
	p1=$(chunk_end portal_profile 1) p2=$(chunk_end portal_profile 2)
	sql "UPDATE portal_profile SET name = 'refused' WHERE id = $p2"
	before=$(table_digest accounts_profile)
	run step
	assert_failure 3
	assert_output --partial "staged: profiles: pm-load failed (exit status 3); nothing of this chunk is loaded"
	assert_output --partial 'violates check constraint "refused_name"'
	assert_equal "$(table_digest accounts_profile)" "$before"
	assert_equal "$(sql "SELECT value FROM pm.checkpoint WHERE name = 'staged:portal_profile'")" "$p1"
	sql "UPDATE portal_profile SET name = 'fixed' WHERE id = $p2"
	run step
	assert_success
	assert_output --partial "staged: profiles: moved ids $p1..$p2: 100 rows loaded"
}

@test "bad usage, a WORKDIR of other databases, and missing targets are refused; nothing changes" {
	run "$PM_ROOT/pipelines/staged" -s "$db" -t "$db"
	assert_failure 2
	assert_output --partial "usage: pipelines/staged -s SRC -t DST -w WORKDIR [--chunk N]"
	run "$PM_ROOT/pipelines/staged" -s "$db" -t "$db" -w "$work" --chunk 0
	assert_failure 2
	step
	run "$PM_ROOT/pipelines/staged" -s "$db" -t "dbname=postgres" -w "$work"
	assert_failure 2
	assert_output --partial "belongs to a run between other databases"
	sql "DROP TABLE printers_printer"
	before=$(table_digest accounts_profile)
	run "$PM_ROOT/pipelines/staged" -s "$db" -t "$db" -w "$BATS_TEST_TMPDIR/other"
	assert_failure 2
	assert_output --partial "no table public.printers_printer in DST"
	assert_equal "$(table_digest accounts_profile)" "$before"
}

@test "a chunk the target refuses names pm-load as the cause, with its status; nothing of it is loaded" {
	"$PM_ROOT/scripts/generate-portal" --replace --profiles 300 --printers 40000 --targets >/dev/null
	sql "ALTER TABLE printers_printer DROP COLUMN ping"
	chunk=20000
	run -0 step
	assert_output --partial 'staged: profiles: moved ids start..'
	run -3 step
	assert_line 'pm-load: stdin: header: column "ping" is not in table printers_printer (declare it with --source-only to skip it)'
	assert_line 'staged: printers: pm-load failed (exit status 3); nothing of this chunk is loaded'
	refute_output --partial 'pm-transform failed'
	refute_output --partial 'pm-extract failed'
	refute_output --regexp '[Bb]roken pipe'
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 0
	assert_equal "$(sql "SELECT count(*) FROM pm.checkpoint WHERE name = 'staged:portal_printer'")" 0
}

@test "two first steps started together on a fresh WORKDIR: both exit 0, one moves the chunk, nothing loads twice" {
	for i in 1 2 3 4; do
		step >"$BATS_TEST_TMPDIR/step$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[i]}" || { cat "$BATS_TEST_TMPDIR/step$((i + 1)).out"; false; }
	done
	run cat "$BATS_TEST_TMPDIR"/step*.out
	refute_output --partial 'File exists'
	refute_output --partial 'cannot create'
	# Each chunk moved once, by one of them: the others left it be, or moved the next.
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile")" "$(sql "SELECT rows FROM pm.checkpoint WHERE name = 'staged:portal_profile'")"
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile")" "$(sql "SELECT count(*) FROM pm.keymap_profile")"
	[ "$(grep -c 'moved ids' "$BATS_TEST_TMPDIR"/step*.out | awk -F: '{ n += $2 } END { print n }')" -ge 1 ]
	steps_until_done 20
	assert_portal_moved
}

@test "a WORKDIR whose database was dropped and created again is refused, exit 2, nothing changed" {
	run -0 step
	# The same name, a new database: the WORKDIR's checkpoint and key map belonged to the old one.
	dropdb "$PGDATABASE"
	createdb "$PGDATABASE"
	"$PM_ROOT/scripts/generate-portal" --profiles 300 --printers 900 --targets >/dev/null
	before=$(table_digest portal_profile)$(table_digest accounts_profile)
	run -2 step
	assert_output --regexp "^staged: $work belongs to a run with another source database \(another cluster, or a database dropped and created again under its name: [0-9]+:[0-9]+ then, [0-9]+:[0-9]+ now\): give each run a WORKDIR of its own$"
	assert_equal "$(table_digest portal_profile)$(table_digest accounts_profile)" "$before"
	assert_equal "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'pm'")" 0
}

@test "a staged run is rolled back as a migrate run is: source as backed up, targets empty, progress gone" {
	before="$(table_digest portal_profile) $(table_digest portal_printer)"
	"$PM_ROOT/pipelines/compat" install -d "$db"
	chunk=400
	steps_until_done 20
	[ -f "$work/backup.target.dump" ] && [ -f "$work/source.digest" ] && [ ! -s "$work/created" ]
	# Written through the layer after the backup: the restore way back loses it, and says so.
	sql "INSERT INTO portal_printer (ip_address, api_key, ping, printing) VALUES ('10.9.9.9', 'since', false, false)"
	run -2 "$PM_ROOT/pipelines/rollback" -s "$db" -t "$db" -w "$work" --yes
	assert_output --partial "the compatibility layer is installed"
	"$PM_ROOT/pipelines/compat" remove -d "$db"
	run -2 "$PM_ROOT/pipelines/rollback" -s "$db" -t "$db" -w "$work"
	assert_output --partial "portal_printer: changed since the backup (900 rows then, 901 now)"
	assert_output --partial "pm.checkpoint: drop it (the staged steps' progress, 2 rows)"
	run -0 "$PM_ROOT/pipelines/rollback" -s "$db" -t "$db" -w "$work" --yes
	assert_equal "$(table_digest portal_profile) $(table_digest portal_printer)" "$before"
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile") $(sql "SELECT count(*) FROM printers_printer")" "0 0"
	# The key map was there, empty, when the first step took its backup (the layer made it): empty again.
	assert_equal "$(sql "SELECT count(*) FROM pm.keymap_profile") $(sql "SELECT to_regclass('pm.checkpoint') IS NULL")" "0 t"
	# And the deploy can start again: a new staged run moves everything.
	work=$BATS_TEST_TMPDIR/again
	steps_until_done 20
	assert_portal_moved
}
