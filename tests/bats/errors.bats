# Errors on the operator's terminal: each names its cause once, in a sentence (no psql prefix, no
# echo of SQL, no second message for the same failure), with the pipeline's exit status, and the
# databases are as they were.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	db="dbname=$PGDATABASE"
	"$PM_ROOT/scripts/generate-portal" --profiles 20 --printers 60 --targets 2>/dev/null
	empty=${PGDATABASE}_empty
	dropdb --if-exists "$empty"
	createdb "$empty"
	before=$(db_state "$db")
	pm=$PM_ROOT/bin/pm
}

teardown() {
	dropdb --if-exists "$empty"
	psql -X -q -c "DROP ROLE IF EXISTS ${PGDATABASE}_reader" 2>/dev/null || true
}

# refused STATUS MESSAGE COMMAND...: COMMAND exits STATUS, its stderr exactly MESSAGE.
refused() {
	local want_status=$1 want=$2
	shift 2
	run --separate-stderr "$@"
	assert_equal "$status" "$want_status"
	assert_equal "$stderr" "$want"
}

# Everything a database holds, structure and rows: a failed start changes none of it.
db_state() {
	# (pg_dump's \restrict lines hold a key of their own each run.)
	pg_dump -d "$1" | grep -vE '^(--|\\(un)?restrict )' | md5sum
}

assert_unchanged() {
	assert_equal "$(db_state "$db")" "$before"
	assert_equal "$(psql -X -A -t -d "$empty" -c "SELECT count(*) FROM pg_class WHERE relnamespace <> ALL (ARRAY['pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pg_toast'::regnamespace])")" 0
}

@test "migrate: a SRC or a DST that does not exist is one line naming it, exit 4, nothing done" {
	nosuch="dbname=nosuch_$PGDATABASE"
	for side in SRC DST; do
		args=(-s "$nosuch" -t "dbname=$empty")
		[[ $side == SRC ]] || args=(-s "$db" -t "$nosuch")
		refused 4 "migrate: cannot connect to $side: database \"nosuch_$PGDATABASE\" does not exist" "$pm" migrate "${args[@]}" -w "work-$side"
		[ ! -e "work-$side/backup.source.dump" ]
	done
	assert_unchanged
}

@test "migrate: a SRC without the plan's tables is a sentence naming the table, not pg_dump's SQL, exit 2" {
	refused 2 "migrate: no table public.portal_profile in SRC: the plan's move profiles reads it (another SRC, or another --plan?); nothing done" "$pm" migrate -s "dbname=$empty" -t "$db" -w work
	[ ! -e work/backup.source.dump ]
	assert_unchanged
}

@test "a WORKDIR that cannot be made is said once, by the pipeline, with the reason, exit 5" {
	for name in migrate staged verify; do
		refused 5 "$name: cannot create $BATS_TEST_TMPDIR/no/such/work: No such file or directory" "$pm" "$name" -s "$db" -t "$db" -w "$BATS_TEST_TMPDIR/no/such/work"
	done
	assert_unchanged
}

@test "migrate: a failed stage prints the causes from its log, each once, without SQL, then where the log is" {
	# A role that may connect but not read the portal's tables: pg_dump and the digest both fail on them.
	reader=${PGDATABASE}_reader
	sql "CREATE ROLE $reader LOGIN PASSWORD '$PGPASSWORD'"
	run --separate-stderr "$pm" migrate -s "$db user=$reader" -t "dbname=$empty" -w work
	assert_equal "$status" 4
	# pg_dump and the digest run side by side: their causes come in either order.
	assert_equal "$(sed -n 1p <<<"$stderr")" "migrate: backup ..."
	assert_equal "$(sed '1d;$d' <<<"$stderr" | sort)" "permission denied for table portal_printer
permission denied for table portal_profile"
	assert_equal "$(sed -n '$p' <<<"$stderr")" "migrate: backup failed (exit status 4); its messages are in work/backup.log"
	# The log keeps pg_dump's own lines, SQL and all, for whoever looks.
	run grep -c 'Query was: LOCK TABLE' work/backup.log
	assert_output 1
	[ ! -e work/backup.source.dump ]
	assert_unchanged
}

@test "verify: a SRC that does not exist is one line, not one per move, exit 4" {
	refused 4 "verify: cannot connect to SRC: database \"nosuch_$PGDATABASE\" does not exist" "$pm" verify -s "dbname=nosuch_$PGDATABASE" -t "$db"
	assert_unchanged
}

@test "verify: a DST without the plan's targets names the table, exit 2" {
	refused 2 "verify: no table public.accounts_profile in DST: create the new tables first (Django's migrate); nothing done" "$pm" verify -s "$db" -t "dbname=$empty"
	assert_unchanged
}

@test "staged: a SRC that does not exist, or lacks the plan's tables, is one line, and nothing is done" {
	refused 4 "staged: cannot connect to SRC: database \"nosuch_$PGDATABASE\" does not exist" "$pm" staged -s "dbname=nosuch_$PGDATABASE" -t "$db" -w work
	refused 2 "staged: no table public.portal_profile in SRC: the plan's move profiles reads it (another SRC, or another --plan?); nothing done" "$pm" staged -s "dbname=$empty" -t "$db" -w work2
	[ ! -e work2/backup.source.dump ]
	assert_unchanged
}

@test "compat: a database that does not exist is one line, exit 4" {
	for action in install remove; do
		refused 4 "compat: cannot connect to the database: database \"nosuch_$PGDATABASE\" does not exist" "$pm" compat "$action" -d "dbname=nosuch_$PGDATABASE"
	done
	assert_unchanged
}

@test "rollback: a WORKDIR that is not one is one line, exit 2" {
	refused 2 "rollback: $BATS_TEST_TMPDIR/nowork: no such directory" "$pm" rollback -s "$db" -t "$db" -w "$BATS_TEST_TMPDIR/nowork"
	assert_unchanged
}

@test "through pm, usage and help name the command as pm COMMAND; from a checkout, as pipelines/NAME" {
	for name in migrate verify rollback compat staged; do
		run --separate-stderr "$pm" "$name" --no-such-option
		assert_equal "$status" 2
		assert_regex "$stderr" "^($name: )?usage: pm $name "
		refute_regex "$stderr" "pipelines/"
		run --separate-stderr "$PM_ROOT/pipelines/$name" --no-such-option
		assert_equal "$status" 2
		assert_regex "$stderr" "^($name: )?usage: pipelines/$name "
		run -0 "$pm" "$name" --help
		assert_line --regexp "^usage: pm $name "
		refute_output --partial "pipelines/$name"
	done
}

@test "db_causes: psql's and pg_dump's messages as their causes, once each, without SQL, rows or addresses" {
	run -0 bash -c 'me=test; . "$PM_ROOT/pipelines/lib.sh"; db_causes' <<'EOF'
psql: error: connection to server at "localhost" (127.0.0.1), port 5433 failed: FATAL:  database "x" does not exist
psql:/tmp/layer.sql:12: ERROR:  relation "public.portal_profile" does not exist
LINE 2: FROM public.portal_profile r
             ^
ERROR:  duplicate key value violates unique constraint "k"
DETAIL:  Key (api_key)=(secret-key) already exists.
CONTEXT:  COPY printers_printer, line 3: "3,10.0.0.1,secret-key"
HINT:  Check the row.
pg_dump: error: query failed: ERROR:  permission denied for table portal_printer
pg_dump: detail: Query was: LOCK TABLE public.portal_printer IN ACCESS SHARE MODE
permission denied for table portal_printer

psql: error: connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed: No such file or directory
	Is the server running locally and accepting connections on that socket?
EOF
	assert_output 'database "x" does not exist
table public.portal_profile does not exist
duplicate key value violates unique constraint "k"
permission denied for table portal_printer
connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed: No such file or directory
Is the server running locally and accepting connections on that socket?'
}
