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

# pm-load refuses stream $1 into printer with exit 3 and exactly message $2; printer is unchanged.
load_refused() {
	local before
	before=$(table_digest printer)
	run -3 pm-load -t printer -i "$1"
	assert_output "$2"
	assert_equal "$(table_digest printer)" "$before"
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

# Names c1..cN joined by commas: a header of N columns.
header_of() {
	seq -f 'c%g' 1 "$1" | paste -sd,
}

# Now in milliseconds.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

@test "a header of 200,000 columns is refused at the cap, as soon as a 10,000-column one" {
	header_of 10000 >h10k.csv
	header_of 200000 >h200k.csv
	before=$(table_digest printer)
	start=$(now_ms)
	run -3 pm-load -t printer -i h10k.csv
	small=$(($(now_ms) - start))
	start=$(now_ms)
	run -3 pm-load -t printer -i h200k.csv
	large=$(($(now_ms) - start))
	assert_output "pm-load: h200k.csv: header: more than 1600 columns: the limit of a stream (PostgreSQL's own for a table)"
	((large <= 10 * small + 10)) || fail "200k columns took ${large} ms, 10k ${small} ms"
	assert_equal "$(table_digest printer)" "$before"
}

@test "a header of 1600 columns, the cap, loads into a table of 1600 columns" {
	sql "CREATE TABLE wide ($(seq -f 'c%g int' 1 1600 | paste -sd,))"
	{ header_of 1600; seq 1 1600 | paste -sd,; } >h1600.csv
	run -0 pm-load -t wide -i h1600.csv
	assert_equal "$(sql 'SELECT c1 + c1600 FROM wide')" 1601
}

@test "a record of more than 1600 fields is refused while it is read, with its number" {
	{ echo id,ip_address,ping,api_key; echo 1,a,t,k; seq 1 5000 | paste -sd,; } >fields.csv
	load_refused fields.csv "pm-load: fields.csv: record 2: more than 1600 fields: the limit of a stream (PostgreSQL's own for a table)"
}

@test "a mapping file of more than 1600 columns is refused at the cap, one of 1600 is used" {
	{ echo target t; seq -f 'column c%g integer null' 1 40000; } >big.map
	{ header_of 1600; seq 1 1600 | paste -sd,; } >h1600.csv
	run -2 pm-transform -m big.map -i h1600.csv -o out.gz
	assert_output "pm-transform: big.map:1602: more than 1600 columns: the limit of a mapping file (PostgreSQL's own for a table)"
	[ ! -e out.gz ]
	head -n 1601 big.map >cap.map
	run -0 pm-transform -m cap.map -i h1600.csv -o out.gz
	assert_equal "$(zcat out.gz | sed -n 2p)" "$(sed -n 2p h1600.csv)"
}

@test "a UTF-8 byte-order mark before the header is skipped, in plain CSV and in gzip" {
	printf '\xef\xbb\xbfid,ip_address,api_key,ping\n1,10.0.0.1,k1,t\n' >bom.csv
	run -0 pm-load -t empty_printer -i bom.csv
	printf '\xef\xbb\xbfid,ip_address,api_key,ping\n2,10.0.0.2,k2,f\n' | gzip >bom.gz
	run -0 pm-load -t empty_printer -i bom.gz
	assert_equal "$(sql 'SELECT string_agg(id || api_key, $$ $$ ORDER BY id) FROM empty_printer')" '1k1 2k2'
}

@test "a byte-order mark anywhere but the stream's start is a name's byte, and shown escaped" {
	printf 'id,\xef\xbb\xbfping\n1,t\n' >late.csv
	load_refused late.csv 'pm-load: late.csv: header: column "\xef\xbb\xbfping" is not in table printer (declare it with --source-only to skip it)'
}

@test "a NUL byte in a header name is refused with the column's position, not cut short" {
	printf 'id,ping\0x,api_key\n1,t,k\n' >nul.csv
	load_refused nul.csv 'pm-load: nul.csv: header: column 2 has a NUL byte in its name'
}

@test "invalid UTF-8 and control bytes in a header name are escaped in every message" {
	printf 'id,\xff\x1b[31mred\x07\xc2\x9b\n1,x\n' >raw.csv
	load_refused raw.csv 'pm-load: raw.csv: header: column "\xff\x1b[31mred\x07\xc2\x9b" is not in table printer (declare it with --source-only to skip it)'
	refute_output --partial $'\x1b'
	refute_output --partial $'\xff'
	refute_output --partial $'\a'
	printf 'id,\xff\x1b,\xff\x1b\n' >twice.csv
	load_refused twice.csv 'pm-load: twice.csv: header: column "\xff\x1b" appears twice'
	printf 'id\n1\n' >a.csv
	printf 'id,\xe9t\xe9\n1,2\n' >b.csv
	run -3 pm-verify --key id a.csv b.csv
	assert_output 'pm-verify: column "\xe9t\xe9" is in b.csv but not in a.csv (leave it out with --ignore)'
}

# Peak resident memory, in KiB, of "$@" (run as bats' run), from GNU time.
run_measured() {
	run /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" "$@"
	rss_kib=$(tail -n 1 "$BATS_TEST_TMPDIR/rss")
}

@test "a gzip bomb of one unterminated 512 MiB field is refused at the 16 MiB record limit, memory flat" {
	{ echo id,ip_address,ping,api_key; head -c 512M /dev/zero; } | gzip -1 >bomb.gz
	before=$(table_digest printer)
	run_measured pm-load -t printer -i bomb.gz
	assert_equal "$status" 3
	assert_equal "${lines[0]}" 'pm-load: bomb.gz: record 1: larger than 16 MiB: the limit of a record in a stream'
	# The sanitizer build's own bookkeeping and quarantine take more; either is far under the field's size.
	limit=$((48 * 1024))
	[[ $PM_BIN == */asan/* ]] && limit=$((192 * 1024))
	((rss_kib < limit)) || fail "peak RSS ${rss_kib} KiB, over ${limit} KiB"
	assert_equal "$(table_digest printer)" "$before"
}

@test "a record just under 16 MiB loads; one byte over is refused with its number" {
	sql "CREATE TABLE blob (id int, b text)"
	max=$((16 * 1024 * 1024))
	# A record's bytes are its fields' text: "2" and the value, under or over the limit by one.
	{ echo id,b; echo 1,small; printf 2,; head -c $((max - 1)) /dev/zero | tr '\0' x; echo; } >under.csv
	run -0 pm-load -t blob -i under.csv
	assert_equal "$(sql 'SELECT sum(length(b)) FROM blob')" $((max - 1 + 5))
	before=$(table_digest blob)
	{ echo id,b; echo 3,small; printf 4,; head -c "$max" /dev/zero | tr '\0' x; echo; } >over.csv
	run -3 pm-load -t blob -i over.csv
	assert_output 'pm-load: over.csv: record 2: larger than 16 MiB: the limit of a record in a stream'
	assert_equal "$(table_digest blob)" "$before"
}

@test "a reordered header through pm-transform: the reject and the stop name the column, never the api_key" {
	printf 'target printer\ncolumn id integer not-null\ncolumn ip_address varchar(255) null\ncolumn api_key varchar(32) null\ncolumn ping boolean null\n' >printer.map
	run -1 pm-transform -m printer.map -i reordered.csv -o out.gz
	assert_output "pm-transform: reordered.csv: record 1: column \"ping\": not a boolean; more than 0 rejects, stopping"
	assert_no_secret
	[ ! -e out.gz ]
	run -0 pm-transform -m printer.map -i reordered.csv -o out.gz --rejects rejects.gz --max-rejects 5
	assert_output "pm-transform: printer: 1 records: 0 written, 1 rejected, 0 warnings"
	assert_no_secret
}
