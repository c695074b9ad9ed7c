# A connection killed in mid-load commits nothing.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	sql "CREATE TABLE t (id int PRIMARY KEY, s text)"
	sql "INSERT INTO t VALUES (0, 'before')"
	sql "CREATE TABLE src (id int PRIMARY KEY, s text)"
	sql "INSERT INTO src SELECT i, repeat('x', 100) FROM generate_series(1, 20000) i"
	pm-extract -t src -o src.gz
}

@test "pg_terminate_backend in mid-load: non-zero exit, a message, nothing committed" {
	before=$(table_digest t)
	mkfifo in.fifo
	pm-load -t t -i in.fifo 2>err &
	pid=$!
	exec {w}>in.fifo
	# Half the stream, enough to fill the reader's buffer and start the COPY.
	zcat src.gz | head -n 10000 >&"$w"
	for _ in $(seq 100); do
		[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pm-load' AND query LIKE 'COPY%'")" = 1 ] && break
		sleep 0.1
	done
	assert_equal "$(sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pm-load'")" 1
	zcat src.gz | tail -n +10001 >&"$w" || true
	exec {w}>&-
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 4
	run cat err
	assert_output --regexp 'pm-load: t: (load|lost the connection).*'
	assert_equal "$(table_digest t)" "$before"
}
