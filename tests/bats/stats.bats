# --stats FILE: each tool's figures for programs, one "key value" a line, written only by a run that
# got to its end (exit 0 or 1), atomically and mode 0600.  The expected figures come from the
# fixtures themselves (SQL counts, the input files), never from an earlier run of the tool.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR" || return
	sql "CREATE TABLE src (id int PRIMARY KEY, s text)"
	sql "INSERT INTO src SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE 'v' || i END FROM generate_series(1, 2345) i"
}

# The value of KEY in the stats file FILE; fails when the key is not there exactly once.
stat_of() { # file key
	local n
	n=$(grep -c "^$2 " "$1")
	[ "$n" -eq 1 ] || { echo "$1: key $2 found $n times" >&2; return 1; }
	sed -n "s/^$2 //p" "$1"
}

# The file's keys, in order, as one line.
keys_of() { # file
	cut -d' ' -f1 "$1" | tr '\n' ' '
}

# Every line is "key value": the key lowercase words joined by _, the value decimal or 16 hex digits.
assert_stats_form() { # file
	assert_equal "$(grep -vE '^[a-z]+(_[a-z]+)* ([0-9]+|[0-9a-f]{16})$' "$1" || true)" ''
	assert_equal "$(stat -c %a "$1")" 600
}

# No file by that name, and no temporary one beside it.
no_stats_left() { # name
	run ls -A .
	refute_output --partial "$1"
}

@test "pm-extract --stats: the data records written, header excluded" {
	run -0 pm-extract -t src -o all.gz --stats all.stats
	assert_stats_form all.stats
	assert_equal "$(keys_of all.stats)" 'records '
	assert_equal "$(stat_of all.stats records)" "$(sql 'SELECT count(*) FROM src')"
	assert_equal "$(stat_of all.stats records)" $(($(zcat all.gz | wc -l) - 1))
	run -0 bash -c 'pm-extract -t src --where "id % 7 = 0" --stats part.stats >part.gz'
	assert_equal "$(stat_of part.stats records)" "$(sql 'SELECT count(*) FROM src WHERE id % 7 = 0')"
	run -0 pm-extract -t src --where false -o none.gz --stats none.stats
	assert_equal "$(stat_of none.stats records)" 0
}

# A stream of N integers, every 7th one not a number, and an ip column whose value breaks the
# ip-or-url rule on every 5th record whose integer is good: the rejects and the warnings apart.
transform_fixture() {
	awk 'BEGIN { print "v,ip"; for (i = 1; i <= 500; i++) print (i % 7 ? i : "x" i) "," (i % 5 || !(i % 7) ? "10.0.0.1" : "not-an-ip") }' >in.csv
	printf 'target t\ncolumn v integer null\ncolumn ip varchar(50) null warn ip-or-url\n' >t.map
}

@test "pm-transform --stats: records read, written, rejected, warnings" {
	transform_fixture
	records=$(($(wc -l <in.csv) - 1))
	rejected=$(grep -c '^x' in.csv)
	warnings=$(grep -c ',not-an-ip$' in.csv)
	run -0 pm-transform -m t.map -i in.csv -o out.gz --rejects rej.gz --max-rejects 1000 --stats t.stats
	assert_stats_form t.stats
	assert_equal "$(keys_of t.stats)" 'records written rejected warnings '
	assert_equal "$(stat_of t.stats records)" "$records"
	assert_equal "$(stat_of t.stats rejected)" "$rejected"
	assert_equal "$(stat_of t.stats written)" $((records - rejected))
	assert_equal "$(stat_of t.stats warnings)" "$warnings"
	# The streams agree with the figures.
	assert_equal $(($(zcat out.gz | wc -l) - 1)) "$(stat_of t.stats written)"
	assert_equal $(($(zcat rej.gz | wc -l) - 1)) "$rejected"
}

@test "pm-transform --stats on too many rejects: exit 1, the figures up to the stop" {
	transform_fixture
	# The third reject stops a run that allows two: the record it is on is the last one read.
	stop=$(grep -n '^x' in.csv | sed -n '3s/:.*//p')
	records=$((stop - 1))
	warnings=$(head -n "$stop" in.csv | grep -c ',not-an-ip$')
	run -1 pm-transform -m t.map -i in.csv -o out.gz --max-rejects 2 --stats t.stats
	assert_output --partial 'more than 2 rejects, stopping'
	[ ! -e out.gz ]
	assert_stats_form t.stats
	assert_equal "$(stat_of t.stats records)" "$records"
	assert_equal "$(stat_of t.stats rejected)" 3
	assert_equal "$(stat_of t.stats written)" $((records - 3))
	assert_equal "$(stat_of t.stats warnings)" "$warnings"
}

@test "pm-load --stats: inserted, updated, unchanged in upsert; key map entries with --new-ids" {
	sql "CREATE TABLE dst (id int PRIMARY KEY, s text)"
	# The target holds a part of src, some of it changed.
	sql "INSERT INTO dst SELECT id, CASE WHEN id % 3 = 0 THEN 'old' ELSE s END FROM src WHERE id <= 1000"
	pm-extract -t src -o src.gz
	records=$(sql 'SELECT count(*) FROM src')
	inserted=$(sql 'SELECT count(*) FROM src WHERE id NOT IN (SELECT id FROM dst)')
	updated=$(sql 'SELECT count(*) FROM src JOIN dst USING (id) WHERE src.s IS DISTINCT FROM dst.s')
	unchanged=$(sql 'SELECT count(*) FROM src JOIN dst USING (id) WHERE src.s IS NOT DISTINCT FROM dst.s')
	run -0 pm-load -t dst -i src.gz --mode upsert --stats load.stats
	assert_stats_form load.stats
	assert_equal "$(keys_of load.stats)" 'records inserted updated unchanged keymap_entries '
	assert_equal "$(stat_of load.stats records)" "$records"
	assert_equal "$(stat_of load.stats inserted)" "$inserted"
	assert_equal "$(stat_of load.stats updated)" "$updated"
	assert_equal "$(stat_of load.stats unchanged)" "$unchanged"
	assert_equal "$(stat_of load.stats keymap_entries)" 0
	[ "$inserted" -gt 0 ] && [ "$updated" -gt 0 ] && [ "$unchanged" -gt 0 ]

	sql "CREATE TABLE prof (id bigserial PRIMARY KEY, s text)"
	run -0 pm-load -t prof -i src.gz --new-ids id --keymap-out keys.gz --stats ids.stats
	assert_equal "$(stat_of ids.stats inserted)" "$records"
	assert_equal "$(stat_of ids.stats keymap_entries)" "$(sql 'SELECT count(*) FROM pm.keymap_prof')"
	assert_equal "$(stat_of ids.stats keymap_entries)" $(($(zcat keys.gz | wc -l) - 1))
}

@test "pm-verify --stats: both sides' counts and checksums, and each kind of difference" {
	printf 'id,a,b\n1,x,y\n2,x,y\n3,x,y\n4,x,y\n5,x,y\n6,x,y\n' >left.csv
	# Against the left: 3 missing; 5 changed in both columns; 7 extra; 2 twice on the right.
	printf 'id,a,b\n1,x,y\n2,x,y\n2,x,y\n4,x,y\n5,X,Y\n6,x,y\n7,x,y\n' >right.csv
	missing=$(comm -23 <(cut -d, -f1 left.csv | sort -u) <(cut -d, -f1 right.csv | sort -u) | wc -l)
	extra=$(comm -13 <(cut -d, -f1 left.csv | sort -u) <(cut -d, -f1 right.csv | sort -u) | wc -l)
	duplicates=$(($(tail -n +2 right.csv | cut -d, -f1 | sort | uniq -d | wc -l)))
	changed_values=$(join -t, <(tail -n +2 left.csv | sort) <(tail -n +2 right.csv | sort -u) |
		awk -F, '{ n += ($2 != $4) + ($3 != $5) } END { print n }')
	run -1 pm-verify --key id left.csv right.csv -o report.gz --stats v.stats
	assert_stats_form v.stats
	assert_equal "$(keys_of v.stats)" 'left_records left_checksum right_records right_checksum differences missing extra changed changed_values duplicate_keys orphans sequences_behind '
	assert_equal "$(stat_of v.stats left_records)" $(($(wc -l <left.csv) - 1))
	assert_equal "$(stat_of v.stats right_records)" $(($(wc -l <right.csv) - 1))
	assert_equal "$(stat_of v.stats missing)" "$missing"
	assert_equal "$(stat_of v.stats extra)" "$extra"
	assert_equal "$(stat_of v.stats changed)" 1
	assert_equal "$(stat_of v.stats changed_values)" "$changed_values"
	assert_equal "$(stat_of v.stats duplicate_keys)" "$duplicates"
	assert_equal "$(stat_of v.stats differences)" $((missing + extra + 1 + duplicates))
	# The checksums are those of the summary, and the same content gives the same one.
	assert_line "pm-verify: left.csv: 6 records, checksum $(stat_of v.stats left_checksum)"
	assert_line "pm-verify: right.csv: 7 records, checksum $(stat_of v.stats right_checksum)"
	{ head -n 1 left.csv; tail -n +2 left.csv | tac; } >shuffled.csv
	run -0 pm-verify --key id left.csv shuffled.csv -o /dev/null --stats same.stats
	assert_equal "$(stat_of same.stats differences)" 0
	assert_equal "$(stat_of same.stats left_checksum)" "$(stat_of same.stats right_checksum)"
	assert_equal "$(stat_of same.stats left_checksum)" "$(stat_of v.stats left_checksum)"
}

@test "pm-verify --stats: the target's orphans and sequences behind" {
	sql "CREATE TABLE parent (id int PRIMARY KEY)"
	sql "CREATE TABLE child (id serial PRIMARY KEY, parent_id int REFERENCES parent)"
	sql "INSERT INTO parent SELECT generate_series(1, 5)"
	sql "INSERT INTO child (parent_id) SELECT 1 + i % 5 FROM generate_series(1, 40) i"
	pm-extract -t child -o child.gz
	# Only triggers turned off leave an orphan behind a foreign key.
	sql "SET session_replication_role = replica; UPDATE child SET parent_id = 99 WHERE id IN (3, 4)"
	sql "SELECT setval('child_id_seq', 10)"
	orphans=$(sql 'SELECT count(*) FROM child WHERE parent_id NOT IN (SELECT id FROM parent)')
	run -1 pm-verify --key id --ignore parent_id child.gz table:child -o report.gz --stats v.stats
	assert_equal "$(stat_of v.stats orphans)" "$orphans"
	assert_equal "$(stat_of v.stats sequences_behind)" 1
	assert_equal "$(stat_of v.stats differences)" $((orphans + 1))
	assert_equal "$(stat_of v.stats right_records)" "$(sql 'SELECT count(*) FROM child')"
}

@test "no stats file after a failure, and an older one is gone: the run's own or none" {
	echo 'records 999' >old.stats
	run -4 pm-extract -t nosuch -o out.gz --stats old.stats
	no_stats_left old.stats
	echo 'records 999' >old.stats
	printf 'v\n1\n"2\n' >bad.csv
	printf 'target t\ncolumn v integer null\n' >one.map
	run -3 pm-transform -m one.map -i bad.csv -o out.gz --stats old.stats
	no_stats_left old.stats
	echo 'records 999' >old.stats
	sql "CREATE TABLE dst (id int PRIMARY KEY, s text)"
	run -3 pm-load -t dst -i bad.csv --stats old.stats
	no_stats_left old.stats
	echo 'records 999' >old.stats
	run -3 pm-verify --key v bad.csv bad.csv -o out.gz --stats old.stats
	no_stats_left old.stats
	# A command line refused as a whole touches no file at all.
	echo 'records 999' >old.stats
	run -2 pm-extract --stats old.stats
	assert_equal "$(cat old.stats)" 'records 999'
}

@test "an unwritable stats path, or one that is not a file: exit 5, named, before any work" {
	run -5 pm-extract -t src -o out.gz --stats /nonexistent/dir/x.stats
	assert_output --regexp '^pm-extract: --stats: /nonexistent/dir/x\.stats\.partial\.[A-Za-z0-9]{6}: No such file or directory$'
	no_stats_left out.gz
	run -5 pm-load -d 'host=127.0.0.1 port=1' -t dst -i /dev/null --stats /nonexistent/dir/x.stats
	assert_output --partial 'pm-load: --stats: /nonexistent/dir/x.stats.partial.'
	mkdir dir
	run -5 pm-transform -m /dev/null -i /dev/null -o out.gz --stats dir
	assert_output 'pm-transform: --stats: dir: not a regular file'
	# A device is never replaced by a file.
	mknod null c 1 3
	run -5 pm-verify --key id /dev/null /dev/null --stats null
	assert_output 'pm-verify: --stats: null: not a regular file'
	[ -c null ]
}
