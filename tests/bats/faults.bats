# Faults from outside the stream: a full disk, a file size limit, a reader that leaves, a connection
# killed, the server restarted, a key map larger than its memory.  Each ends with the documented exit
# status and a message that names it (but a reader that leaves ends the writer by SIGPIPE, silent, as
# a filter ends), commits nothing, and leaves no file that passes for complete.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	# Large enough to outlast every buffer between the server and a stalled reader (~45 MB of CSV).
	sql "CREATE TABLE big (id int PRIMARY KEY, s text)"
	sql "INSERT INTO big SELECT i, repeat(md5(i::text), 2) FROM generate_series(1, 600000) i"
	sql "CREATE TABLE dst (LIKE big INCLUDING ALL)"
	sql "INSERT INTO dst VALUES (-1, 'kept')"
	before=$(table_digest dst)
	printf 'target dst\ncolumn id integer not-null\ncolumn s text null\n' >copy.map
}

teardown() {
	# What a test started, should an assertion have stopped it before it ended them: a stalled
	# pipeline or load would otherwise outlive the test, and keep bats waiting for its output.
	if mountpoint -q small 2>/dev/null; then umount small; fi
	if [ -n "${holder:-}" ]; then kill "$holder" 2>/dev/null || true; fi
	if [ -n "${pipeline:-}" ] && kill -0 "$pipeline" 2>/dev/null; then
		timeout 5 sh -c 'echo go >gate' || true
		wait "$pipeline" || true
	fi
	if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" || true
		wait "$pid" || true
	fi
}

# A lost connection, in the server's words when its FATAL arrived before the socket closed.
LOST='lost the connection to the server: (terminating connection due to administrator command|server closed the connection unexpectedly)'

err_is() { # regexp: the whole of the file err
	run cat err
	assert_output --regexp "^$1$"
}

dst_unchanged() {
	assert_equal "$(table_digest dst)" "$before"
}

# No file by that name, and no temporary one beside it.
no_output_left() { # dir name
	run ls -A "$1"
	refute_output --partial "$2"
}

# A stream cut short is refused by its readers: pm-load commits nothing from it.
refused_as_truncated() { # file
	run -3 pm-load -t dst -i "$1"
	assert_output --regexp "truncated stream"
	dst_unchanged
}

# Wait until a backend of application_name $1 runs a statement matching $2 (SQL LIKE); fail after 20 s.
wait_for_backend() { # application_name pattern
	local i
	for i in $(seq 200); do
		[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = '$1' AND state = 'active' AND query LIKE '$2'")" = 1 ] && return 0
		sleep 0.1
	done
	echo "no backend of $1 running $2" >&2
	return 1
}

terminate() { # application_name
	assert_equal "$(sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = '$1'")" 1
}

# The cluster pg_virtualenv made, restarted in fast mode (every session ends) by its own pg_ctl.
# Not pg_ctlcluster restart: under load it can fail to see the server running and skip the stop
# (pg_lsclusters then says "down" too), so only its folders are taken from pg_lsclusters.
restart_server() {
	local version name port status owner datadir log
	read -r version name port status owner datadir log < <(pg_lsclusters -h | awk -v port="$PGPORT" '$3 == port')
	[ "$datadir" = "$(sql 'SHOW data_directory')" ]
	# The new postmaster must not keep bats' descriptors open: bats waits for them to close.
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			if ((fd > 2)); then eval "exec $fd>&-"; fi
		done
		cd /
		exec runuser -u "$owner" -- "/usr/lib/postgresql/$version/bin/pg_ctl" restart -D "$datadir" -m fast -w -l "$log"
	) </dev/null >restart.log 2>&1 || { cat restart.log; return 1; }
}

@test "an -o file past the file size limit (ulimit -f): exit 5, named, no file left" {
	run -5 bash -c 'ulimit -f 200 && exec pm-extract -t big -o out.gz'
	assert_output 'pm-extract: out.gz: write failed: File too large'
	no_output_left . out.gz
	pm-extract -t big -o whole.gz
	run -5 bash -c 'ulimit -f 200 && exec pm-transform -m "$1" -i whole.gz -o out.gz' _ copy.map
	assert_output 'pm-transform: out.gz: write failed: File too large'
	no_output_left . out.gz
}

@test "standard output past the file size limit: exit 5, and the cut file is refused as truncated" {
	run -5 bash -c 'ulimit -f 200 && exec pm-extract -t big >cut.gz'
	assert_output 'pm-extract: stdout: write failed: File too large'
	assert_equal "$(stat -c %s cut.gz)" $((200 * 1024))
	refused_as_truncated cut.gz
}

@test "a full disk under -o: exit 5, named, no file left" {
	mkdir small
	# A 256 KiB tmpfs is a real full disk (ENOSPC); where mounting is not allowed, a file size
	# limit of the same size fails the same write (EFBIG).
	if mount -t tmpfs -o size=256k,mode=0700 pm-test small 2>/dev/null; then
		run -5 pm-extract -t big -o small/out.gz
		assert_output 'pm-extract: small/out.gz: write failed: No space left on device'
	else
		run -5 bash -c 'ulimit -f 256 && exec pm-extract -t big -o small/out.gz'
		assert_output 'pm-extract: small/out.gz: write failed: File too large'
	fi
	run ls -A small
	assert_output ''
	run -5 pm-extract -t big -o /dev/full/out.gz
	assert_output --regexp '^pm-extract: /dev/full/out\.gz\.partial\.[A-Za-z0-9]{6}: Not a directory$'
}

@test "an -o device or fifo is written in place, never replaced by a file (-o /dev/null)" {
	mknod null c 1 3 # a /dev/null of the test's own: the real one is the machine's
	run -0 pm-extract -t big -o null
	[ -c null ]
	assert_equal "$(stat -c '%t,%T' null)" 1,3
	mkfifo fifo
	cat fifo >got.gz &
	run -0 pm-extract -t big -o fifo
	wait $!
	[ -p fifo ]
	run -0 pm-load -t dst -i got.gz
	assert_equal "$(sql 'SELECT count(*) FROM dst')" 600001
}

@test "standard output to a full device: exit 5, named" {
	run -5 bash -c 'pm-extract -t big >/dev/full'
	assert_output 'pm-extract: stdout: write failed: No space left on device'
	pm-extract -t big -o whole.gz
	run -5 bash -c 'pm-transform -m "$1" -i whole.gz >/dev/full' _ copy.map
	assert_output 'pm-transform: stdout: write failed: No space left on device'
}

@test "a reader that leaves early: the writer ends by SIGPIPE as a filter does (141), silent, no partial file" {
	run bash -c 'pm-extract -t big 2>err | head -c 100 >/dev/null; echo "${PIPESTATUS[0]}"'
	assert_output 141
	assert_equal "$(cat err)" ''
	pm-extract -t big -o whole.gz
	# The partial rejects file and the stats file go, as on any failure, before the signal.
	run bash -c 'pm-transform -m "$1" -i whole.gz --rejects rej.gz --stats t.stats 2>err | head -c 100 >/dev/null
		echo "${PIPESTATUS[0]}"' _ copy.map
	assert_output 141
	assert_equal "$(cat err)" ''
	no_output_left . rej.gz
	no_output_left . t.stats
	# An -o fifo is a pipe too.
	mkfifo fifo
	head -c 100 fifo >/dev/null &
	run pm-transform -m copy.map -i whole.gz -o fifo
	wait $!
	assert_equal "$status" 141
	assert_output ''
	# pm-load's key map into a pipe that closes: the load is not committed.
	sql "CREATE TABLE prof (id bigserial PRIMARY KEY, s text)"
	head -c 100 fifo >/dev/null &
	run pm-load -t prof -i whole.gz --new-ids id --keymap-out fifo --stats l.stats
	wait $!
	assert_equal "$status" 141
	assert_output ''
	assert_equal "$(sql 'SELECT count(*) FROM prof')" 0
	assert_equal "$(sql "SELECT to_regclass('pm.keymap_prof') IS NULL")" t
	no_output_left . l.stats
	# What the tools print on standard output themselves: --help, --version (true has left
	# before the write, so it fails with EPIPE).
	run bash -c '{ sleep 0.2; pm-load --help; echo "status $?" >&2; } | true'
	assert_output 'status 141'
	run bash -c '{ sleep 0.2; pm-verify --version; echo "status $?" >&2; } | true'
	assert_output 'status 141'
	# The stage after a writer that died mid-stream refuses what it got, and commits nothing.
	run bash -c 'pm-extract -t big 2>/dev/null | head -c 300000 | pm-load -t dst; echo "${PIPESTATUS[2]}"'
	assert_line --regexp 'pm-load: stdin: (header|record [0-9]+): truncated stream'
	assert_line 3
	dst_unchanged
}

@test "the connection killed while pm-extract waits for a lock: exit 4, no -o file left" {
	# A session that holds the table: pm-extract's COPY waits for it, deterministically.
	PGAPPNAME=holder psql -X -q -c "BEGIN; LOCK big; SELECT pg_sleep(60)" >/dev/null 2>&1 3>&- &
	holder=$!
	wait_for_backend holder '%pg_sleep%'
	pm-extract -t big -o out.gz 2>err &
	pid=$!
	wait_for_backend pm-extract 'COPY%'
	terminate pm-extract
	rc=0
	wait "$pid" || rc=$?
	terminate holder
	wait "$holder" || true
	assert_equal "$rc" 4
	err_is "pm-extract: big: extract: $LOST"
	no_output_left . out.gz
}

# pm-extract to standard output, into a pipe whose reader waits at a gate: pm-extract stalls with
# its COPY open, deterministically, until the gate opens.
start_stalled_extract() {
	mkfifo gate
	(
		{
			status=0 # (a failure must not end this group under bats' set -e)
			pm-extract -t big 2>err || status=$?
			echo "$status" >rc
		} | {
			read -r _ <gate
			cat >cut.gz
		}
	) 3>&- &
	pipeline=$!
	wait_for_backend pm-extract 'COPY%'
}

finish_stalled_extract() { # -> rc
	echo go >gate
	wait "$pipeline"
	rc=$(cat rc)
}

@test "the connection killed in mid-extract: exit 4, and the stream it wrote is refused as truncated" {
	start_stalled_extract
	terminate pm-extract
	finish_stalled_extract
	assert_equal "$rc" 4
	err_is "pm-extract: big: extract: $LOST"
	[ -s cut.gz ]
	refused_as_truncated cut.gz
}

# pm-load reads its stream from a fifo: half of it, then the COPY is open and waits for the rest.
start_load() { # pm-load arguments...
	mkfifo in.fifo
	pm-load -i in.fifo "$@" 2>err &
	pid=$!
	exec {w}>in.fifo
	zcat whole.gz | head -n 300000 >&"$w"
	wait_for_backend pm-load 'COPY%'
}

finish_load() { # -> rc: send the rest, close, and wait for pm-load's status
	zcat whole.gz | tail -n +300001 >&"$w" 2>/dev/null || true
	exec {w}>&-
	rc=0
	wait "$pid" || rc=$?
}

@test "the connection killed in mid-load into an empty table (the bulk path): exit 4, nothing committed" {
	pm-extract -t big -o whole.gz
	sql "DELETE FROM dst"
	before=$(table_digest dst)
	idx=$(sql "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'dst'")
	start_load -t dst
	terminate pm-load
	finish_load
	assert_equal "$rc" 4
	err_is "pm-load: dst: load: $LOST"
	dst_unchanged
	# The indexes the bulk path sets aside are all still there.
	assert_equal "$(sql "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'dst'")" "$idx"
}

@test "the connection killed in mid-load with --new-ids: exit 4, no rows, no key map, no --keymap-out file" {
	sql "CREATE TABLE prof (id bigserial PRIMARY KEY, s text)"
	pm-extract -t big -o whole.gz
	start_load -t prof --new-ids id --keymap-out keys.gz
	terminate pm-load
	finish_load
	assert_equal "$rc" 4
	err_is "pm-load: prof: .*: $LOST"
	assert_equal "$(sql 'SELECT count(*) FROM prof')" 0
	assert_equal "$(sql "SELECT to_regclass('pm.keymap_prof') IS NULL")" t
	no_output_left . keys.gz
}

@test "the server restarted in mid-load: exit 4, nothing committed" {
	pm-extract -t big -o whole.gz
	start_load -t dst
	restart_server
	finish_load
	assert_equal "$rc" 4
	err_is "pm-load: dst: load: $LOST"
	dst_unchanged
}

@test "the server restarted in mid-extract: exit 4, and the cut stream is refused" {
	start_stalled_extract
	restart_server
	finish_stalled_extract
	assert_equal "$rc" 4
	err_is "pm-extract: big: extract: $LOST"
	refused_as_truncated cut.gz
}

# The plain build: AddressSanitizer reserves terabytes of address space and cannot run under ulimit -v.
@test "a key map larger than the memory allowed (ulimit -v): exit 5, the key map named, no output" {
	plain=$PM_ROOT/build/bin
	printf 'ip_address,api_key,id,ping,printing,profile_id\n10.0.0.1,k1,1,t,f,5\n' >printers.csv
	seq 1000 | awk 'BEGIN { print "old_key,new_key" } { print $1 "," $1 + 7 }' >small.keys
	seq 2000000 | awk 'BEGIN { print "old_key,new_key" } { print $1 "," $1 + 7 }' | gzip -1 >big.keys.gz
	transform() { # keys
		bash -c 'ulimit -v 32768 && exec "$1/pm-transform" -m "$2" --keymap "profile=$3" -i printers.csv -o out.gz' \
			_ "$plain" "$PM_ROOT/schemas/printer.map" "$1"
	}
	# The control: within the same limit, a small key map does its work.
	run -0 transform small.keys
	run -0 zcat out.gz
	assert_line --index 1 '1,12,10.0.0.1,k1,t,f'
	rm out.gz
	run -5 transform big.keys.gz
	assert_output --regexp '^pm-transform: big\.keys\.gz: key map profile: out of memory after [0-9]+ keys$'
	no_output_left . out.gz
}

@test "pm-load --new-ids holds no key map in memory: 600000 ids under the same limit" {
	sql "CREATE TABLE prof (id bigserial PRIMARY KEY, s text)"
	pm-extract -t big -o whole.gz
	run -0 bash -c 'ulimit -v 32768 && exec "$1/pm-load" -t prof -i whole.gz --new-ids id --keymap-out keys.gz' \
		_ "$PM_ROOT/build/bin"
	assert_equal "$(sql 'SELECT count(*) FROM pm.keymap_prof')" 600000
	assert_equal "$(zcat keys.gz | wc -l)" 600001
}
