# Every bad stream is refused whole: non-zero exit, a message naming the problem and the record,
# and the target table exactly as it was.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	sql "CREATE TABLE src (id int PRIMARY KEY, n int, s text, b boolean)"
	sql "INSERT INTO src SELECT i, i * 2, 'row ' || i, i % 2 = 0 FROM generate_series(1, 10000) i"
	sql "CREATE TABLE dst (LIKE src INCLUDING ALL)"
	sql "INSERT INTO dst VALUES (-1, -1, 'kept', true), (-2, NULL, '', NULL)"
	before=$(table_digest dst)
	pm-extract -t src -o good.gz
}

dst_unchanged() {
	assert_equal "$(table_digest dst)" "$before"
}

@test "the good stream loads (the control for every case below)" {
	run -0 pm-load -t dst -i good.gz
	assert_equal "$(sql 'SELECT count(*) FROM dst')" 10002
}

@test "a truncated stream is refused at every cut point and nothing is loaded" {
	size=$(stat -c %s good.gz)
	for cut in 10 100 $((size / 2)) $((size - 9)) $((size - 4)) $((size - 1)); do
		head -c "$cut" good.gz >cut.gz
		run -3 pm-load -t dst -i cut.gz
		assert_output --regexp 'cut\.gz: (header|record [0-9]+): truncated stream'
		dst_unchanged
	done
}

# The offsets at which the gzip members of a pm stream end (each holds its size at byte 16, LE).
member_ends() {
	local at=0 size total
	total=$(stat -c %s "$1")
	while ((at < total)); do
		size=$(od -An -tu4 --endian=little -j $((at + 16)) -N4 "$1" | tr -d ' ')
		((size > 0)) || return 1
		at=$((at + size))
		echo "$at"
	done
}

@test "a stream cut between two gzip members is refused, as a writer killed there leaves it" {
	sql "INSERT INTO src SELECT i, i, repeat('x', 50), true FROM generate_series(10001, 40000) i"
	pm-extract -t src -o big.gz
	ends=$(member_ends big.gz)
	assert [ "$(wc -l <<<"$ends")" -ge 4 ]
	assert_equal "$(tail -n 1 <<<"$ends")" "$(stat -c %s big.gz)"
	run -0 zcat big.gz # any gzip reader reads the members as one stream
	for cut in $(head -n -1 <<<"$ends"); do
		head -c "$cut" big.gz >cut.gz
		run -3 pm-load -t dst -i cut.gz
		assert_output --regexp 'cut\.gz: record [0-9]+: truncated stream \(it ends before its last gzip member\)'
		dst_unchanged
		# A whole stream appended to the cut one does not hide the cut.
		cat cut.gz good.gz >cat.gz
		run -3 pm-load -t dst -i cat.gz
		assert_output --regexp 'cat\.gz: record [0-9]+: truncated stream \(another stream follows before its last gzip member\)'
		dst_unchanged
	done
}

@test "a flipped byte in the compressed data is refused and nothing is loaded" {
	size=$(stat -c %s good.gz)
	cp good.gz bad.gz
	for at in $((size / 3)) $((size / 2)) $((size - 6)); do
		cp good.gz bad.gz
		byte=$(od -An -tu1 -j "$at" -N1 bad.gz | tr -d ' ')
		printf "$(printf '\\%03o' $((byte ^ 0x55)))" | dd of=bad.gz bs=1 seek="$at" conv=notrunc status=none
		run -3 pm-load -t dst -i bad.gz
		assert_output --regexp 'bad\.gz: (header|record [0-9]+): (corrupt gzip data|malformed CSV|[0-9]+ fields)'
		dst_unchanged
	done
}

@test "garbage is refused and nothing is loaded" {
	head -c 100000 /dev/urandom >garbage
	run -3 pm-load -t dst -i garbage
	assert_output --regexp 'garbage: (header|record [0-9]+): '
	dst_unchanged
}

@test "junk after the end of the gzip data is refused" {
	{ cat good.gz; echo junk; } >junk.gz
	run -3 pm-load -t dst -i junk.gz
	assert_output --regexp 'junk\.gz: record [0-9]+: junk after the end of the gzip data'
	dst_unchanged
}

@test "an empty stream is refused" {
	: >empty
	run -3 pm-load -t dst -i empty
	assert_output 'pm-load: empty: empty stream: no header'
	dst_unchanged
}

@test "a header naming a column the table lacks is refused unless declared source-only" {
	printf 'id,n,s,b,extra\n1,2,x,t,e\n' >extra.csv
	run -3 pm-load -t dst -i extra.csv
	assert_output --partial 'header: column "extra" is not in table dst'
	dst_unchanged
	run -0 pm-load -t dst -i extra.csv --source-only extra
	assert_equal "$(sql 'SELECT s FROM dst WHERE id = 1')" x
}

@test "a source-only column the stream lacks is a usage error" {
	run -2 pm-load -t dst -i good.gz --source-only nope
	assert_output --partial 'the stream has no column "nope"'
	dst_unchanged
}

@test "a header naming a column twice is refused" {
	printf 'id,n,n\n1,2,3\n' >twice.csv
	run -3 pm-load -t dst -i twice.csv
	assert_output --partial 'column "n" appears twice'
	dst_unchanged
}

@test "a value of the wrong type in record 5000 of 10000 is named by record and column" {
	zcat good.gz | awk -F, 'NR == 5001 { $2 = "x5000" } { print }' OFS=, >bad.csv
	run -3 pm-load -t dst -i bad.csv
	assert_output --partial 'dst: record 5000: column "n": invalid input syntax for type integer (SQLSTATE 22P02)'
	refute_output --partial x5000
	assert_output --partial 'nothing loaded'
	dst_unchanged
}

@test "a record with a quoted line break still maps to its own record number" {
	{ printf 'id,n,s,b\n1,1,"two\nlines",t\n2,2,"also\r\ntwo",f\n'; printf '3,x,y,t\n'; } >nl.csv
	run -3 pm-load -t dst -i nl.csv
	assert_output --partial 'record 3: column "n"'
	dst_unchanged
}

@test "a record with too many fields is refused with its number" {
	{ zcat good.gz | head -n 100; echo '100000,1,x,t,surplus'; } >wide.csv
	run -3 pm-load -t dst -i wide.csv
	assert_output --partial 'wide.csv: record 100: 5 fields, the header has 4'
	dst_unchanged
}

@test "malformed CSV is refused with its record number" {
	printf 'id,n,s,b\n1,1,ok,t\n2,2,bad"quote,t\n' >q.csv
	run -3 pm-load -t dst -i q.csv
	assert_output --partial 'q.csv: record 2: malformed CSV'
	printf 'id,n,s,b\n1,1,"never closed,t\n' >open.csv
	run -3 pm-load -t dst -i open.csv
	assert_output --partial 'open.csv: record 1: malformed CSV: unterminated quoted field'
	dst_unchanged
}

@test "a NOT NULL violation is refused with its record number, without the row's values" {
	sql "ALTER TABLE dst ALTER COLUMN s SET NOT NULL"
	printf 'id,n,s,b\n1,1,secret-one,t\n2,2,,t\n' >nn.csv
	run -3 pm-load -t dst -i nn.csv
	assert_output --partial 'dst: record 2: '
	assert_output --partial 'violates not-null constraint'
	refute_output --partial 'secret-one'
	refute_output --partial 'Failing row'
	dst_unchanged
}

@test "a value too long names the column but not the value" {
	sql "CREATE TABLE keys (id int, api_key varchar(8))"
	printf 'id,api_key\n1,short\n2,supersecretapikey\n' >k.csv
	run -3 pm-load -t keys -i k.csv
	assert_output --partial 'keys: record 2: column "api_key": value too long for type character varying(8)'
	refute_output --partial supersecret
	assert_equal "$(sql 'SELECT count(*) FROM keys')" 0
}

@test "a missing table and a bad connection are database errors" {
	run -4 pm-load -t nosuch -i good.gz
	assert_output --partial 'table nosuch does not exist'
	run -4 pm-load -d 'host=127.0.0.1 port=1 connect_timeout=2' -t dst -i good.gz
	assert_output --partial 'cannot connect'
	dst_unchanged
}

@test "usage errors exit 2" {
	run -2 pm-load
	assert_output --partial 'usage: pm-load'
	run -2 pm-load -t dst --mode merge
	assert_output --partial '--mode: "merge" is not insert, upsert or skip'
	run -2 pm-load -t dst --key id -i good.gz
	assert_output --partial '--key goes with --mode upsert or skip'
	dst_unchanged
}
