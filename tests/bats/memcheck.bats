# The tools under valgrind (tests/valgrind), in a representative set of runs: each ends with its
# documented status and valgrind finds no invalid access and no leak (it would exit 97).  The plain
# build always: valgrind cannot run the sanitizer build.  `make memcheck` runs this file alone.
load helpers

setup() {
	fresh_db
	sql_file "$FIXTURES/awkward.sql"
	cd "$BATS_TEST_TMPDIR"
}

vg() { # tool args...
	"$PM_ROOT/tests/valgrind" "$PM_ROOT/build/bin/$@"
}

@test "valgrind: pm-extract, and pm-load by COPY, into an empty table (the bulk path), upsert and --new-ids" {
	run -0 vg pm-extract -t awkward -o a.gz
	sql "CREATE TABLE copy (LIKE awkward INCLUDING ALL)"
	run -0 vg pm-load -t copy -i a.gz
	assert_equal "$(table_digest copy)" "$(table_digest awkward)"
	run -0 vg pm-load -t copy -i a.gz --mode upsert -v
	assert_output --partial '0 inserted, 0 updated'
	# Into a table with rows: the plain COPY.
	sql "DELETE FROM copy; INSERT INTO copy (id) VALUES (-1)"
	run -0 vg pm-load -t copy -i a.gz
	sql "CREATE TABLE p (id bigserial PRIMARY KEY, t text)"
	printf 'id,t\n5,"x\ny"\n6,\n' >p.csv
	run -0 vg pm-load -t p -i p.csv --new-ids id --keymap-out k.gz
	assert_equal "$(sql 'SELECT count(*) FROM pm.keymap_p')" 2
	run -0 vg pm-extract -t awkward --where 'id > 3' --order-by id --after 5 --limit 4 --shard 1/2 -o s.gz
}

@test "valgrind: pm-transform with a key map, rejects, warnings, and too many rejects" {
	printf 'old_key,new_key\n5,1\n6,2\n' | gzip >k.gz
	printf 'ip_address,api_key,id,ping,printing,profile_id\n10.0.0.1,k1,1,t,f,5\nnot-ip,k2,2,f,f,\n1.2.3.4,k3,3,x,f,6\n' >pr.csv
	run -0 vg pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap profile=k.gz \
		-i pr.csv -o pr.gz --rejects rej.gz --max-rejects 1
	assert_output --partial '3 records: 2 written, 1 rejected, 1 warnings'
	run -1 vg pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap profile=k.gz -i pr.csv -o pr.gz
	assert_output --partial 'more than 0 rejects, stopping'
}

@test "valgrind: pm-verify, stream against stream and table (sorted in runs on disk) and table against table" {
	sql "CREATE TABLE p (id bigserial PRIMARY KEY, t text)"
	printf 'id,t\n5,"x\ny"\n6,\n' | pm-load -t p --new-ids id
	seq 30000 -1 1 | awk 'BEGIN { print "id,t" } { print $1 ",v" $1 }' | gzip -1 >big.gz
	sql "CREATE TABLE v (id int PRIMARY KEY, t text, r bigint REFERENCES p (id))"
	sql "INSERT INTO v SELECT i, 'v' || i, NULL FROM generate_series(2, 30000) i"
	sql "SET session_replication_role = replica; INSERT INTO v VALUES (30001, 'x', 99)"
	run -1 vg pm-verify --key id --ignore r --memory 1 big.gz table:v -o rep.gz
	assert_output --partial '3 differences: 1 missing, 1 extra, 0 changed (0 values), 0 duplicate keys, 1 orphans'
	# p's new ids 1 and 2 on the left, read back as their old ids 5 and 6 on the right.
	run -1 vg pm-verify --key id --keymap id=p table:p table:p -o rep2.gz
	assert_output --partial '4 differences: 2 missing, 2 extra'
	pm-extract -t v -c id,t -o v.gz
	run -1 vg pm-verify --key id big.gz v.gz -o rep3.gz
	assert_output --partial '2 differences: 1 missing, 1 extra, 0 changed (0 values)'
}

@test "valgrind: the error paths: a bad stream, a stream that does not fit its mapping, no such table or column" {
	pm-extract -t awkward -o a.gz
	head -c 200 a.gz >cut.gz
	sql "CREATE TABLE copy (LIKE awkward INCLUDING ALL)"
	run -3 vg pm-load -t copy -i cut.gz
	assert_output --partial 'truncated stream'
	run -3 vg pm-transform -m "$PM_ROOT/schemas/printer.map" -i a.gz
	assert_output --partial 'header: no column "profile_id"'
	run -4 vg pm-extract -t nosuch
	assert_output --partial 'does not exist'
	run -2 vg pm-verify --key nosuch a.gz a.gz
	assert_equal "$(sql 'SELECT count(*) FROM copy')" 0
	# A row the table refuses, found by COPY and by the merge: the server's result is freed first.
	pm-load -t copy -i a.gz
	run -3 vg pm-load -t copy -i a.gz
	assert_output --partial 'duplicate key value violates unique constraint'
	sql "CREATE TABLE refusing (LIKE awkward INCLUDING ALL, CHECK (id < 0))"
	run -3 vg pm-load -t refusing --mode upsert -i a.gz
	assert_output --partial 'violates check constraint'
}

@test "valgrind: pm-mark-nulls, a whole copy and one stopped at a value that is the marker" {
	pm-extract -t awkward -o a.gz
	run -0 vg pm-mark-nulls --null '<NULL>' -i a.gz -o m.gz
	assert_equal "$(zcat m.gz | wc -l)" "$(zcat a.gz | wc -l)"
	# The fixture holds \N as a value (row 6).
	run -3 vg pm-mark-nulls --null '\N' -i a.gz -o m2.gz
	assert_output --partial 'column "t" holds the marker "\N"'
	[ ! -e m2.gz ]
}
