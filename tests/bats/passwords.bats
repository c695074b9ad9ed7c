# A password on a command line is refused, however libpq would read it: a keyword, a URI's userinfo
# or query, a percent-encoded keyword, or a dbname that is a connection string itself (libpq expands
# it).  And what a server echoes of a connection string has its user:password@ masked.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	sql "CREATE TABLE t (id int PRIMARY KEY, s text)"
	sql "INSERT INTO t VALUES (1, 'one'), (2, 'two')"
	pm-extract -t t -o t.gz
	sql "CREATE TABLE u (id int PRIMARY KEY, s text)"
	secret="s3cret-$RANDOM$RANDOM"
	db=$PGDATABASE
	forms=(
		"dbname=$db password=$secret"                    # keyword
		"postgresql://pm:$secret@/$db"                # URI userinfo
		"postgresql:///$db?sslmode=disable&password=$secret" # URI query
		"postgresql:///$db?pass%77ord=$secret"           # percent-encoded keyword
		"dbname='dbname=$db password=$secret'"           # nested dbname: a keyword string
		"dbname=postgresql://pm:$secret@/$db"         # nested dbname: a URI
		"dbname=postgresql:///$db?pass%77ord=$secret"    # nested dbname: a URI, encoded keyword
	)
}

refused() { # tool option: the exact message, and nothing of the secret
	assert_output "$1: $2 holds a password, which a command line shows to every user (ps): put it in ~/.pgpass, PGPASSFILE or PGPASSWORD and leave it out of $2"
	refute_output --partial "$secret"
}

database_untouched() {
	assert_equal "$(sql "SELECT count(*) FROM u")" 0
	assert_equal "$(table_digest t)" "$before"
	assert_equal "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'pm'")" 0
	assert_equal "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 2
}

@test "each C tool refuses each form of a password, exit 2, naming the option, never the string" {
	before=$(table_digest t)
	for conninfo in "${forms[@]}"; do
		run -2 pm-extract -d "$conninfo" -t t -o out.gz
		refused pm-extract -d
		[ ! -e out.gz ]
		run -2 pm-extract --dbname "$conninfo" -t t -o out.gz --stats st
		refused pm-extract -d
		[ ! -e out.gz ] && [ ! -e st ]
		run -2 pm-load -d "$conninfo" -t u -i t.gz --new-ids id --keymap-out k.gz
		refused pm-load -d
		[ ! -e k.gz ]
		run -2 pm-verify --left-db "$conninfo" --key id -o rep.gz table:t t.gz
		refused pm-verify --left-db
		run -2 pm-verify --right-db "$conninfo" --key id -o rep.gz t.gz table:t
		refused pm-verify --right-db
		[ ! -e rep.gz ]
	done
	database_untouched
	# The same forms without the password connect.  (libpq expands -d, not the dbname inside it:
	# that one reaches the server as a database name, and is refused all the same.)
	run -0 pm-extract -d "postgresql:///$db?sslmode=disable" -t t -o out.gz
	run -0 pm-verify --left-db "postgresql:///$db?sslmode=disable" --key id table:t t.gz
}

@test "pm-extract --check-conninfo: libpq's verdict on standard input, for the pipelines" {
	for conninfo in "${forms[@]}"; do
		run -1 pm-extract --check-conninfo <<<"$conninfo"
		assert_output ''
	done
	for conninfo in "dbname=$db" "$db" "postgresql://pm@localhost:5432/$db?sslmode=disable" "dbname=postgresql:///$db"; do
		run -0 pm-extract --check-conninfo < <(printf '%s' "$conninfo")
		assert_output ''
	done
	run -0 pm-extract --check-conninfo </dev/null
	# libpq cannot parse it: 3, and not libpq's message, which quotes the text around the fault.
	run -3 pm-extract --check-conninfo < <(printf 'password=sec %s' "$secret")
	assert_output ''
	run -2 pm-extract --check-conninfo -t t </dev/null
}

@test "pipelines/migrate and pipelines/verify refuse each form, echo none of it and run nothing" {
	before=$(table_digest t)
	for conninfo in "${forms[@]}"; do
		for p in migrate verify; do
			run -2 "$PM_ROOT/pipelines/$p" -s "$conninfo" -t "dbname=$db" -w w
			refused "$p" -s
			run -2 "$PM_ROOT/pipelines/$p" -s "dbname=$db" -t "$conninfo" -w w
			refused "$p" -t
		done
		run -2 "$PM_ROOT/pipelines/rollback" -s "dbname=$db" -t "$conninfo" -w w
		refused rollback -t
		run -2 "$PM_ROOT/pipelines/staged" -s "$conninfo" -t "dbname=$db" -w w
		refused staged -s
		run -2 "$PM_ROOT/pipelines/compat" install -d "$conninfo"
		refused compat -d
	done
	[ ! -e w ]
	database_untouched
	# A string libpq cannot parse may hold one: refused too, without libpq's message.
	run -2 "$PM_ROOT/pipelines/migrate" -s "dbname=$db password=sec $secret" -t "dbname=$db" -w w
	assert_output "migrate: -s is not a connection string libpq can parse (its message is not shown: it can quote a password)"
	run -2 "$PM_ROOT/pipelines/verify" -s "dbname=$db" -t "dbname='password=sec $secret'" -w w
	assert_output "verify: -t is not a connection string libpq can parse (its message is not shown: it can quote a password)"
	[ ! -e w ]
	# No pm-extract to ask: refused, not waved through.
	run -2 env PM_BIN=/nonexistent PATH=/usr/bin:/bin "$PM_ROOT/pipelines/verify" -s "dbname=$db" -t "dbname=$db" -w w
	assert_output 'verify: no pm-extract to check -s with: run make, or put the pm tools on PATH'
	[ ! -e w ]
}

@test "a database name the server echoes has its user:password@ and password= masked" {
	# PGDATABASE is never expanded by libpq: the server gets, and echoes, the whole string.
	for tool in "pm-extract -t t" "pm-load -t u -i t.gz" "pm-verify --key id table:t t.gz"; do
		read -r -a cmd <<<"$tool"
		PGDATABASE="postgresql://pm:$secret@/nodb" run -4 "${cmd[@]}"
		assert_output --partial 'database "postgresql://pm:***@/nodb" does not exist'
		refute_output --partial "$secret"
		PGDATABASE="nodb password=$secret" run -4 "${cmd[@]}"
		assert_output --partial 'database "nodb password=***" does not exist'
		refute_output --partial "$secret"
		PGDATABASE="nodb?pass%77ord=$secret" run -4 "${cmd[@]}"
		assert_output --partial 'database "nodb?pass%77ord=***" does not exist'
		refute_output --partial "$secret"
	done
	assert_equal "$(sql "SELECT count(*) FROM u")" 0
}

@test "the pipelines mask what psql and pg_dump print of a database name that holds a password" {
	# A service file is not on any command line, and libpq does not expand its dbname: the server
	# gets the whole string and echoes it in its FATAL, which psql, pg_dump and the pipelines print.
	printf '[site]\ndbname=postgresql://pm:%s@/nodb\n' "$secret" >services
	export PGSERVICEFILE=$BATS_TEST_TMPDIR/services
	run -4 "$PM_ROOT/pipelines/compat" install -d service=site
	assert_output --partial 'database "postgresql://pm:***@/nodb" does not exist'
	refute_output --partial "$secret"
	run "$PM_ROOT/pipelines/migrate" -s service=site -t "dbname=$db" -w w
	assert_failure
	assert_output --partial 'postgresql://pm:***@/nodb'
	refute_output --partial "$secret"
	run "$PM_ROOT/pipelines/verify" -s service=site -t "dbname=$db" -w v
	assert_failure
	refute_output --partial "$secret"
	run "$PM_ROOT/pipelines/staged" -s service=site -t "dbname=$db" -w s
	assert_failure
	assert_output --partial 'postgresql://pm:***@/nodb'
	refute_output --partial "$secret"
	assert_equal "$(sql "SELECT count(*) FROM u")" 0
	# The filter itself: the tools' masking, line by line, nothing else changed.
	run -0 pm-extract --mask-secrets <<<"a postgresql://u:$secret@h/db b password=$secret c"
	assert_output "a postgresql://u:***@h/db b password=*** c"
}
