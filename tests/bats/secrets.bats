# Secrets stay where they belong: an api_key is in the streams (files of mode 0600) and nowhere
# else, not in an error, a warning, a log or a progress line; a password is on no command line and
# in no message.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	"$PM_ROOT/scripts/generate-portal" --profiles 20 --printers 100 --targets 2>/dev/null
	# Every api key holds SECRET: no message may.  Plain addresses, so that awk can edit the CSV.
	sql "UPDATE portal_printer SET api_key = 'SECRET-' || id || '-' || left(md5(id::text), 8),
		ip_address = '10.1.' || id / 256 || '.' || id % 256"
	pm-extract -t portal_profile | pm-transform -m "$PM_ROOT/schemas/profile.map" |
		pm-load -t accounts_profile --new-ids id --keymap profile --keymap-out keys.gz
	pm-extract -t portal_printer | pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap profile=keys.gz \
		-o printers.gz 2>/dev/null
}

no_secret() { # in $output
	refute_output --partial SECRET
}

printers_unchanged() {
	assert_equal "$(table_digest printers_printer)" "$before"
}

# The printers stream with record 5 again at the end under a new id: the same (ip_address, api_key).
duplicate_stream() {
	zcat printers.gz | awk -F, -v OFS=, 'NR == 6 { dup = $0 } { print } END { $0 = dup; $1 = 100000; print }' | gzip >dup.gz
}

@test "a duplicate (ip_address, api_key) names the constraint, never the key, on every load path" {
	duplicate_stream
	constraint='duplicate key value violates unique constraint "printers_printer_ip_address_api_key_81b61a69_uniq"'
	before=$(table_digest printers_printer)
	# Into the empty table: the bulk path, keys built after the rows.
	run -3 pm-load -t printers_printer -i dup.gz
	assert_output --partial "$constraint"
	no_secret
	printers_unchanged
	# Into a table with rows: the plain COPY.
	sql "INSERT INTO printers_printer VALUES ('192.0.2.1', 'other', 99999, false, false, NULL)"
	before=$(table_digest printers_printer)
	run -3 pm-load -t printers_printer -i dup.gz
	assert_output --partial "$constraint"
	no_secret
	printers_unchanged
	# Upsert: staged, merged, the record found again by its key.
	run -3 pm-load -t printers_printer -i dup.gz --mode upsert
	assert_output --partial "$constraint"
	assert_output --partial 'record 101'
	no_secret
	printers_unchanged
}

@test "rows the table refuses (NOT NULL, CHECK, a foreign key at commit) are named, never printed" {
	before=$(table_digest printers_printer)
	# PostgreSQL's DETAIL for each would print the whole row, or the key.
	zcat printers.gz | awk -F, -v OFS=, 'NR == 4 { $5 = "" } { print }' >nn.csv
	run -3 pm-load -t printers_printer -i nn.csv
	assert_output --partial 'record 3: null value in column "ping" of relation "printers_printer" violates not-null constraint'
	no_secret
	sql "ALTER TABLE printers_printer ADD CONSTRAINT key_long CHECK (length(api_key) > 20)"
	run -3 pm-load -t printers_printer -i printers.gz
	assert_output --partial 'violates check constraint "key_long"'
	no_secret
	sql "ALTER TABLE printers_printer DROP CONSTRAINT key_long"
	zcat printers.gz | awk -F, -v OFS=, 'NR == 7 { $2 = 987654 } { print }' >fk.csv
	run -3 pm-load -t printers_printer -i fk.csv
	assert_output --partial 'violates foreign key constraint "printers_printer_profile_id_1d417f1b_fk_accounts_profile_id"'
	refute_output --partial 987654
	no_secret
	printers_unchanged
}

@test "pm-transform's rejects and warnings name record and column; only the 0600 rejects stream holds values" {
	{
		echo 'ip_address,api_key,id,ping,printing,profile_id'
		echo '10.0.0.1,SECRET-too-long-0123456789abcdef-xyz,1,t,f,'
		echo 'SECRET-not-an-ip,SECRET-warned-key,2,t,f,'
		echo '10.0.0.3,SECRET-bad-ping,3,maybe,f,'
	} >bad.csv
	run -0 pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap profile=keys.gz -i bad.csv -o out.gz --max-rejects 5
	assert_output --partial 'bad.csv: record 1: column "api_key": too long: rejected'
	assert_output --partial 'bad.csv: record 2: column "ip_address": warning: not an IP address or a URL'
	assert_output --partial 'bad.csv: record 3: column "ping": not a boolean: rejected'
	no_secret
	run -1 pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap profile=keys.gz -i bad.csv -o out.gz --rejects rej.gz
	assert_output --partial 'record 1: column "api_key": too long; more than 0 rejects, stopping'
	no_secret
	assert_equal "$(stat -c %a rej.gz)" 600
	run -0 zcat rej.gz
	assert_line --index 1 '10.0.0.1,SECRET-too-long-0123456789abcdef-xyz,1,t,f,,1,api_key,too long'
}

@test "pm-verify's stderr counts the differences; only its 0600 report holds the values" {
	pm-load -t printers_printer -i printers.gz
	sql "UPDATE printers_printer SET api_key = 'SECRET-changed' WHERE id = 3"
	run -1 pm-verify --key id --keymap profile_id=profile -o report.gz table:portal_printer table:printers_printer
	assert_output --partial '1 differences: 0 missing, 0 extra, 1 changed (1 values)'
	no_secret
	assert_equal "$(stat -c %a report.gz)" 600
	run -0 zcat report.gz
	assert_line --index 1 --regexp '^3,changed,api_key,SECRET-3-[0-9a-f]{8},SECRET-changed$'
}

@test "progress lines and -v summaries carry counts, never values" {
	run -0 bash -c 'pm-extract -t portal_printer --progress 2>&1 >/dev/null'
	assert_output --regexp 'pm-extract: portal_printer: 100 rows'
	no_secret
	run -0 bash -c 'pm-transform -m "$1" --keymap profile=keys.gz -i printers.gz --progress -v 2>&1 >/dev/null' \
		_ "$PM_ROOT/schemas/printer.map"
	assert_output --partial 'printers_printer: 100 records: 100 written'
	no_secret
	run -0 pm-load -t printers_printer -i printers.gz --progress -v
	assert_output --partial 'printers_printer: 100 records: 100 inserted'
	no_secret
}

@test "every file a tool writes is 0600 whatever the umask, a file it replaces included" {
	umask 000
	: >out.gz
	chmod 644 out.gz
	pm-extract -t portal_printer -o out.gz
	pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap profile=keys.gz -i out.gz -o t.gz --rejects r.gz
	sql "CREATE TABLE prof (id bigserial PRIMARY KEY, name text)"
	pm-extract -t portal_profile -c id,name | pm-load -t prof --new-ids id --keymap-out k.gz
	pm-verify --key id -o v.gz out.gz t.gz 2>/dev/null || true
	run stat -c '%n %a' out.gz t.gz r.gz k.gz v.gz
	assert_output "$(printf '%s 600\n' out.gz t.gz r.gz k.gz v.gz)"
}

# ---------------------------------------------------------------------------------------------------
# Passwords: a role that logs in with one, over TCP (scram-sha-256 in pg_virtualenv's pg_hba.conf).
make_role() {
	pw="pw-hunter2-$RANDOM$RANDOM"
	# Roles outlive a test's database (and check's first pass): one a test, made anew each run.
	role=pm_secret_$BATS_TEST_NUMBER
	sql "SET client_min_messages = warning; DROP ROLE IF EXISTS $role; CREATE ROLE $role LOGIN SUPERUSER PASSWORD '$pw'"
	as_role="host=localhost user=$role dbname=$PGDATABASE"
}

@test "a password is never echoed when a connection fails, however the connection string is wrong" {
	make_role
	# The control: the role logs in with its password from the environment.
	PGPASSWORD=$pw run -0 pm-extract -d "$as_role" -t portal_printer -o ok.gz
	PGPASSWORD=wrong-$pw run -4 pm-extract -d "$as_role" -t portal_printer
	assert_output --partial 'password authentication failed for user "'"$role"'"'
	refute_output --partial "$pw"
	# A password in the string is refused before libpq connects (tests/bats/passwords.bats).
	run -2 pm-extract -d "$as_role password=$pw sslmode=$pw" -t portal_printer
	refute_output --partial "$pw"
	# libpq's own message for these quotes the text around the fault: the password here.
	for bad in "$as_role password=sec $pw" "$as_role password='$pw" "postgresql://$role:$pw%zz@localhost/x"; do
		run -4 pm-extract -d "$bad" -t portal_printer
		refute_output --partial "$pw"
		assert_output --regexp '^pm-extract: cannot connect: '
	done
	run -4 pm-load -d "$as_role password=sec $pw" -t printers_printer -i ok.gz
	assert_output "pm-load: cannot connect: the connection string is malformed (libpq's message is not shown: it can quote a password)"
	run -4 pm-verify --left-db "$as_role password=sec $pw" --key id table:portal_printer ok.gz
	refute_output --partial "$pw"
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 0
}

@test "the pipelines refuse a password on their command line, echo none of it and run nothing" {
	make_role
	for conninfo in "$as_role password=$pw" "postgresql://$role:$pw@localhost/$PGDATABASE" \
		"postgresql://$role@localhost/$PGDATABASE?password=$pw"; do
		run -2 "$PM_ROOT/pipelines/verify" -s "$conninfo" -t "$as_role" -w v
		assert_output 'verify: -s holds a password, which a command line shows to every user (ps): put it in ~/.pgpass, PGPASSFILE or PGPASSWORD and leave it out of -s'
		run -2 "$PM_ROOT/pipelines/rollback" -s "$as_role" -t "$conninfo" -w w
		assert_output 'rollback: -t holds a password, which a command line shows to every user (ps): put it in ~/.pgpass, PGPASSFILE or PGPASSWORD and leave it out of -t'
		run -2 "$PM_ROOT/pipelines/migrate" -s "$conninfo" -t "$as_role" -w w
		assert_output 'migrate: -s holds a password, which a command line shows to every user (ps): put it in ~/.pgpass, PGPASSFILE or PGPASSWORD and leave it out of -s'
		run -2 "$PM_ROOT/pipelines/staged" -s "$as_role" -t "$conninfo" -w w
		assert_output 'staged: -t holds a password, which a command line shows to every user (ps): put it in ~/.pgpass, PGPASSFILE or PGPASSWORD and leave it out of -t'
		run -2 "$PM_ROOT/pipelines/compat" install -d "$conninfo"
		assert_output 'compat: -d holds a password, which a command line shows to every user (ps): put it in ~/.pgpass, PGPASSFILE or PGPASSWORD and leave it out of -d'
	done
	[ ! -e v ]
	[ ! -e w ]
	# A host:port URI and a user without a password are no password.
	run -0 bash -c '. "$1/pipelines/conninfo.bash"; ! conninfo_has_password "postgresql://pm@localhost:5432/x?sslmode=disable"' _ "$PM_ROOT"
}

# A directory of stand-ins for the pm tools, psql, pg_dump and pg_restore: each records its command
# line, as ps shows it, and runs the real one.
record_commands() {
	mkdir rec
	for t in pm-extract pm-transform pm-load pm-verify pm-plan psql pg_dump pg_restore; do
		real=$(PATH=$PM_BIN:$PATH command -v "$t")
		printf '#!/bin/sh\necho "$0 $*" >>%q\nexec %q "$@"\n' "$BATS_TEST_TMPDIR/cmdlines" "$real" >"rec/$t"
		chmod +x "rec/$t"
	done
}

@test "migrate, verify and rollback reach a password-protected database with no password on any command line" {
	make_role
	record_commands
	sql "DROP TABLE printers_printer, accounts_profile; DROP SCHEMA pm CASCADE"
	umask 022
	export PATH=$PWD/rec:$PATH PM_BIN=$PWD/rec PGPASSWORD=$pw
	run -0 "$PM_ROOT/pipelines/migrate" -s "$as_role" -t "$as_role" -w work
	assert_line 'verification: no differences'
	run -0 "$PM_ROOT/pipelines/verify" -s "$as_role" -t "$as_role" -w v
	assert_output --partial 'verify: no differences'
	run -0 "$PM_ROOT/pipelines/rollback" -s "$as_role" -t "$as_role" -w work --yes
	# Each ran its commands (migrate: pg_dump, psql and the four tools), none with the password.
	for t in pg_dump psql pm-extract pm-transform pm-load pm-verify pg_restore; do
		grep -q "/rec/$t " cmdlines
	done
	run grep -F -- "$pw" cmdlines
	assert_failure
	# Their files hold api keys, or could: 0600 in 0700 directories, whatever the umask.
	run find work v -type f ! -perm 600 -o -type d ! -perm 700
	assert_output ''
	# Their logs and summaries hold none.
	run grep -rl SECRET work v --exclude='*.csv.gz' --exclude='*.dump'
	assert_output ''
}
