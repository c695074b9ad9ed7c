# Every name that reaches SQL is an identifier, never SQL: names built to break out of quoting,
# end a statement or open a comment either name a real table and move it, or are refused with a
# clear message; a canary table is never touched.  (names.bats has quotes, spaces and commas.)
load helpers

# One of each way out of an identifier: a double quote, a single quote, a semicolon, -- and /*.
EVIL=(
	'x"; DROP TABLE canary; --'
	"x'; DROP TABLE canary; --"
	'x; DROP TABLE canary'
	'x/* DROP TABLE canary */'
	'x") FROM canary; DROP TABLE canary; --'
)

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	sql "CREATE TABLE canary (id int PRIMARY KEY, s text); INSERT INTO canary VALUES (42, 'alive')"
	canary=$(table_digest canary)
	# A real table to aim at, with a serial id for --new-ids.
	sql "CREATE TABLE t (id bigserial PRIMARY KEY, s text); INSERT INTO t (s) VALUES ('a'), ('b')"
	pm-extract -t t -o t.gz
}

teardown() {
	# Whatever failed above, the canary is asserted on: it is the point of every test here.
	assert_equal "$(table_digest canary)" "$canary"
}

# SQL's own quoting of a name, for the checks in plain SQL.
q() {
	sql "SELECT quote_ident(\$\$$1\$\$)"
}

# A name as a list option (-c, --key ...) takes it: quoted as CSV, "" for a quote.
listed() {
	printf '"%s"' "${1//\"/\"\"}"
}

@test "a schema, table and columns really named with each evil name move through all four tools" {
	for e in "${EVIL[@]}"; do
		qe=$(q "$e")
		sql "CREATE SCHEMA $qe"
		sql "CREATE TABLE $qe.$qe (id bigserial PRIMARY KEY, $qe text UNIQUE); INSERT INTO $qe.$qe ($qe) VALUES ('one'), ('two')"
		sql "CREATE TABLE public.$qe (id bigserial PRIMARY KEY, $qe text UNIQUE)"
		sql "CREATE TABLE $qe.renumbered (id bigserial PRIMARY KEY, $qe text)"
		# pm-map(5) quotes a name as CSV does.
		printf 'target %s\ncolumn id bigint not-null\ncolumn %s text null\n' "$(listed "$e")" "$(listed "$e")" >evil.map
		run -0 pm-extract -n "$e" -t "$e" -c "id,$(listed "$e")" --order-by "$(listed "$e")" -o e.gz
		run -0 pm-transform -m evil.map -i e.gz -o m.gz
		# The header as CSV writes it: quoted only when the name holds a quote or a comma.
		header=$e
		if [[ $e == *[\",]* ]]; then header=$(listed "$e"); fi
		run -0 zcat m.gz
		assert_line --index 0 "id,$header"
		run -0 pm-load -t "$e" -i m.gz --mode upsert --key "$(listed "$e")"
		assert_equal "$(sql "SELECT count(*) FROM (SELECT * FROM $qe.$qe EXCEPT SELECT * FROM public.$qe) d")" 0
		assert_equal "$(sql "SELECT count(*) FROM public.$qe")" 2
		run -0 pm-verify --key id "table:$e" m.gz
		assert_line 'pm-verify: no differences'
		run -0 pm-load -n "$e" -t renumbered -i m.gz --new-ids id --keymap "$e"
		assert_equal "$(sql "SELECT count(*) FROM pm.$(q "keymap_$e")")" 2
		# The key map read back by its name: a name that missed would be exit 4.
		run -0 pm-verify --key id --keymap "id=$e" "table:$e" "table:$e"
		assert_line 'pm-verify: no differences'
	done
	assert_equal "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'x%'")" ${#EVIL[@]}
}

@test "each evil name of nothing that exists is refused, named, with its exit status; nothing runs" {
	before=$(table_digest t)
	for e in "${EVIL[@]}"; do
		l=$(listed "$e")
		run -4 pm-extract -t "$e"
		assert_output "pm-extract: table $e does not exist (or is not on the search_path)"
		run -4 pm-extract -n "$e" -t t
		assert_output "pm-extract: table $e.t does not exist"
		run -2 pm-extract -t t -c "id,$l"
		assert_output "pm-extract: t: -c: no column \"$e\""
		run -2 pm-extract -t t --order-by "$l"
		assert_output "pm-extract: t: --order-by: no column \"$e\""
		run -4 pm-load -t "$e" -i t.gz
		assert_output "pm-load: table $e does not exist (or is not on the search_path)"
		run -4 pm-load -n "$e" -t t -i t.gz
		assert_output "pm-load: table $e.t does not exist"
		run -2 pm-load -t t -i t.gz --mode upsert --key "$l"
		assert_output "pm-load: key column \"$e\" is not loaded from the stream"
		run -2 pm-load -t t -i t.gz --source-only "$l"
		assert_output "pm-load: --source-only: the stream has no column \"$e\""
		run -2 pm-load -t t -i t.gz --new-ids "$e"
		assert_output "pm-load: --new-ids: the stream has no loaded column \"$e\""
		# A mapping's target and column names reach SQL as the stream's header, through pm-load.
		printf 'target %s\ncolumn id bigint not-null\ncolumn %s text null from s\n' "$l" "$l" >evil.map
		run -3 bash -c 'pm-transform -m evil.map -i t.gz | pm-load -t t'
		assert_output "pm-load: stdin: header: column \"$e\" is not in table t (declare it with --source-only to skip it)"
		run -2 pm-verify --key "$l" table:t t.gz
		assert_output "pm-verify: t: --key: no column \"$e\""
		run -2 pm-verify --key id --ignore "$l" table:t t.gz
		assert_output "pm-verify: --ignore: no column \"$e\" on either side"
		run -2 pm-verify --key id --keymap "$e=profile" table:t table:t
		assert_output --partial "--keymap: no column \"$e\""
		run -4 pm-verify --key id "table:$e" t.gz
		assert_output "pm-verify: table $e does not exist (or is not on the search_path)"
		run -4 pm-verify --key id --keymap "id=$e" table:t table:t
		assert_output "pm-verify: t: reading: relation \"pm.keymap_$e\" does not exist (SQLSTATE 42P01)"
		assert_equal "$(table_digest t)" "$before"
	done
}
