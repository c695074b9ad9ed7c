# A table of awkward values leaves PostgreSQL as a stream and comes back exactly.
load helpers

setup() {
	fresh_db
	sql_file "$FIXTURES/awkward.sql"
	cd "$BATS_TEST_TMPDIR"
}

@test "an awkward table round-trips: EXCEPT both ways is empty and a second extract is byte-identical" {
	run -0 pm-extract -t awkward -o a.gz
	sql "CREATE TABLE copy (LIKE awkward INCLUDING ALL)"
	run -0 pm-load -t copy -i a.gz
	assert_equal "$(sql 'SELECT count(*) FROM copy')" 15
	assert_equal "$(sql 'SELECT count(*) FROM (SELECT * FROM awkward EXCEPT ALL SELECT * FROM copy) x')" 0
	assert_equal "$(sql 'SELECT count(*) FROM (SELECT * FROM copy EXCEPT ALL SELECT * FROM awkward) x')" 0
	# EXCEPT treats NULL as equal to NULL but must also tell NULL from '': check that directly.
	assert_equal "$(sql "SELECT id FROM copy WHERE t IS NULL ORDER BY id")" 1
	assert_equal "$(sql "SELECT id FROM copy WHERE t = '' ORDER BY id")" 2
	run -0 pm-extract -t copy -o b.gz
	cmp a.gz b.gz
}

@test "the stream writes NULL as nothing, the empty string as \"\", and the header first" {
	run -0 pm-extract -t awkward -c 'id,t,v' -o a.gz
	run -0 zcat a.gz
	assert_line --index 0 'id,t,v'
	assert_line --index 2 '1,,'
	assert_line --index 3 '2,"",""'
	assert_output --partial $'\n6,\\N,NULL\n'
}

@test "two extracts of the same table are byte-identical" {
	pm-extract -t awkward >one.gz
	pm-extract -t awkward >two.gz
	cmp one.gz two.gz
}

@test "a one-column table keeps NULL, the empty string and a lone \\. apart" {
	sql "CREATE TABLE one (v text); INSERT INTO one VALUES (NULL), (''), ('\\.'), ('x')"
	run -0 pm-extract -t one -o one.gz
	run -0 zcat one.gz
	assert_output "$(printf 'v\n""\n"\\."\nx\n')"
	sql "CREATE TABLE one_copy (v text)"
	run -0 pm-load -t one_copy -i one.gz
	assert_equal "$(sql "SELECT count(*) FROM one_copy WHERE v IS NULL")" 1
	assert_equal "$(sql "SELECT count(*) FROM one_copy WHERE v = ''")" 1
	assert_equal "$(sql "SELECT count(*) FROM one_copy WHERE v = '\\.'")" 1
	assert_equal "$(sql "SELECT count(*) FROM one_copy")" 4
}

@test "plain CSV, CRLF line ends and several gzip members are all read" {
	sql "CREATE TABLE t (id int PRIMARY KEY, s text)"
	printf 'id,s\r\n1,a\r\n2,\r\n' >plain.csv
	run -0 pm-load -t t -i plain.csv
	printf 'id,s\n3,""\n' | gzip -1 >multi.gz
	printf '4,"x\ny"\n' | gzip -9 >>multi.gz
	run -0 pm-load -t t -i multi.gz
	assert_equal "$(sql "SELECT string_agg(id || ':' || coalesce(s, '<null>'), ' ' ORDER BY id) FROM t")" \
		"$(printf '1:a 2:<null> 3: 4:x\ny')"
}

@test "whole streams appended one after another load as one: shards concatenated" {
	for k in 1 2 3; do pm-extract -t awkward --shard "$k/3" -o "s$k.gz"; done
	sql "CREATE TABLE copy (LIKE awkward INCLUDING ALL)"
	cat s1.gz s2.gz s3.gz | pm-load -t copy
	assert_equal "$(table_digest copy)" "$(table_digest awkward)"
}

@test "-o writes a 0600 file and -Z sets the level" {
	run -0 pm-extract -t awkward -o fast.gz
	run -0 pm-extract -t awkward -Z 9 -o small.gz
	assert_equal "$(stat -c %a fast.gz)" 600
	assert_equal "$(stat -c %a small.gz)" 600
	cmp <(zcat fast.gz) <(zcat small.gz)
	run -2 pm-extract -t awkward -Z 10 -o x.gz
	assert_output --partial 'compression level must be 0 to 9'
	[ ! -e x.gz ]
}

@test "a stream never goes to a terminal" {
	run script -qec "pm-extract -t awkward" /dev/null
	assert_output --partial 'refusing to write a compressed stream to a terminal'
}
