# pm-extract: columns, order, chunks, shards, snapshots, and errors that never give a short stream.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	sql "CREATE TABLE t (id int PRIMARY KEY, grp text, n int)"
	sql "INSERT INTO t SELECT i, 'g' || (i % 3), i * 10 FROM generate_series(1, 100) i"
}

data_lines() {
	zcat "$1" | tail -n +2
}

@test "-c picks and orders columns; the header names them" {
	run -0 pm-extract -t t -c n,id --limit 2 -o x.gz
	run -0 zcat x.gz
	assert_output "$(printf 'n,id\n10,1\n20,2')"
}

@test "--where filters and --order-by orders" {
	run -0 pm-extract -t t -c id --where "n > 950" --order-by n -o x.gz
	run -0 zcat x.gz
	assert_output "$(printf 'id\n96\n97\n98\n99\n100')"
}

@test "the default order is the primary key, whatever the physical order" {
	sql "UPDATE t SET n = n + 1 WHERE id % 2 = 0"
	run -0 pm-extract -t t -c id -o x.gz
	assert_equal "$(data_lines x.gz | tr '\n' ' ')" "$(seq 1 100 | tr '\n' ' ')"
}

@test "chunks with --after and --limit add up to the whole table, in order" {
	pm-extract -t t -o all.gz
	: >chunks.csv
	after=()
	while :; do
		pm-extract -t t --limit 7 "${after[@]}" -o chunk.gz
		[ "$(data_lines chunk.gz | wc -l)" -gt 0 ] || break
		data_lines chunk.gz >>chunks.csv
		after=(--after "$(data_lines chunk.gz | tail -n 1 | cut -d, -f1)")
	done
	cmp <(data_lines all.gz) chunks.csv
}

@test "--after takes one value per key column, compared as the column's type" {
	sql "CREATE TABLE k (a int, b text, PRIMARY KEY (a, b))"
	sql "INSERT INTO k VALUES (1, 'x'), (1, 'y'), (2, 'a'), (10, 'a')"
	run -0 pm-extract -t k --after '1,x' -o k.gz
	assert_equal "$(data_lines k.gz | tr '\n' ' ')" '1,y 2,a 10,a '
	run -2 pm-extract -t k --after 1
	assert_output --partial '--after has 1 values for a key of 2 columns'
}

@test "--after needs a key that tells every row apart" {
	sql "CREATE TABLE nokey (a int, b text); INSERT INTO nokey VALUES (1, 'x'), (1, 'x')"
	run -2 pm-extract -t nokey --after 1
	assert_output --partial 'nokey: --after needs a unique key: the table has no primary key'
}

@test "shards partition the table: every row in exactly one shard" {
	pm-extract -t t -o all.gz
	for k in 1 2 3; do pm-extract -t t --shard "$k/3" -o "s$k.gz"; done
	for k in 1 2 3; do [ "$(data_lines "s$k.gz" | wc -l)" -gt 0 ]; done
	cmp <(data_lines all.gz | sort) <(for k in 1 2 3; do data_lines "s$k.gz"; done | sort)
	run -2 pm-extract -t t --shard 4/3
	assert_output --partial '--shard'
}

@test "--snapshot sees the database as the exporting session did" {
	coproc PSQL { psql -X -q -A -t; }
	echo "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT pg_export_snapshot();" >&"${PSQL[1]}"
	read -r snap <&"${PSQL[0]}"
	sql "INSERT INTO t VALUES (1000, 'late', 0)"
	run -0 pm-extract -t t --snapshot "$snap" -o then.gz
	run -0 pm-extract -t t -o now.gz
	echo "COMMIT;" >&"${PSQL[1]}"
	exec {PSQL[1]}>&-
	wait
	assert_equal "$(data_lines then.gz | wc -l)" 100
	assert_equal "$(data_lines now.gz | wc -l)" 101
	run -4 pm-extract -t t --snapshot 'no-such-snapshot'
	assert_output --partial 'joining the snapshot: invalid snapshot identifier'
}

@test "a database error in mid-stream fails the extract and leaves no file" {
	sql "CREATE TABLE boomsrc (id int PRIMARY KEY); INSERT INTO boomsrc SELECT generate_series(1, 20000)"
	sql "CREATE VIEW boom AS SELECT id, 1 / (15000 - id) AS x FROM boomsrc"
	# An index scan streams rows before the failing one arrives.
	PGOPTIONS='-c enable_sort=off -c enable_seqscan=off' run -4 pm-extract -t boom --order-by id -o out.gz
	assert_output --partial 'boom: extract: division by zero (SQLSTATE 22012)'
	assert_equal "$(ls)" ""
	PGOPTIONS='-c enable_sort=off -c enable_seqscan=off' run -4 --separate-stderr pm-extract -t boom --order-by id
}

@test "an unknown table or column is named" {
	run -4 pm-extract -t nosuch
	assert_output 'pm-extract: table nosuch does not exist (or is not on the search_path)'
	run -2 pm-extract -t t -c id,nosuch
	assert_output 'pm-extract: t: -c: no column "nosuch"'
	run -2 pm-extract -t t -c id,n,id
	assert_output 'pm-extract: t: -c: column "id" named twice'
	run -2 pm-extract -t t --limit -1
	assert_output --partial '--limit'
	run -2 pm-extract
	assert_output --partial 'usage: pm-extract'
}

@test "an unwritable output is refused before connecting" {
	run -5 pm-extract -d 'host=127.0.0.1 port=1' -t t -o /nonexistent/dir/x.gz
	assert_output --partial '/nonexistent/dir/x.gz.partial'
}

@test "--help, --version, and the exit status of a usage error" {
	run -0 pm-extract --help
	assert_output --partial 'usage: pm-extract'
	run -0 pm-load --version
	assert_output --regexp '^pm-load \(pm\) [0-9]+\.[0-9]+\.[0-9]+$'
	run -2 pm-extract --no-such-option
	# Standard output is checked for --help and --version alike.
	run -5 bash -c 'pm-extract --help >/dev/full'
	assert_output 'pm-extract: stdout: write failed'
	run -5 bash -c 'pm-transform --version >/dev/full'
	assert_output 'pm-transform: stdout: write failed'
}

@test "an extract killed by a signal leaves no file behind" {
	sql "CREATE VIEW slow AS SELECT i AS id, pg_sleep(0.01)::text AS s FROM generate_series(1, 1000) i"
	pm-extract -t slow --order-by id -o out.gz &
	pid=$!
	for _ in $(seq 50); do
		[ -n "$(ls)" ] && break
		sleep 0.1
	done
	assert [ -n "$(ls)" ]
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 143
	assert_equal "$(ls)" ""
}

@test "a write that fails (disk full) is an I/O error with a message, never a shorter stream" {
	sql "INSERT INTO t SELECT i, md5(i::text), i FROM generate_series(101, 50000) i"
	run -5 bash -c 'pm-extract -t t >/dev/full'
	assert_output --partial 'pm-extract: stdout: write failed: No space left on device'
	run -5 bash -c 'pm-extract -t t -c id --limit 1 >/dev/full'
	assert_output --partial 'stdout: write failed'
}
