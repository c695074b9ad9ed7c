# pm-verify: two sides compared on a key, every difference named in the report, exit 1 on any.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
}

# The report as text, header included.
report() {
	zcat "${1:-report.gz}"
}

# The generated portal moved as the plan moves it (profiles with new ids, printers re-pointed).
migrate_portal() {
	"$PM_ROOT/scripts/generate-portal" --profiles 200 --printers 800 --targets 2>/dev/null
	set -o pipefail
	pm-extract -t portal_profile | pm-transform -m "$PM_ROOT/schemas/profile.map" |
		pm-load -t accounts_profile --new-ids id --keymap profile --keymap-out keys.gz
	pm-extract -t portal_printer |
		pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap profile=keys.gz 2>/dev/null |
		pm-load -t printers_printer
}

verify_profiles() {
	pm-verify --key id --keymap id=profile -o profiles.gz table:portal_profile table:accounts_profile
}

verify_printers() {
	pm-verify --key id --keymap profile_id=profile -o printers.gz table:portal_printer table:printers_printer
}

@test "identical sides exit 0, whatever the order of the records or the columns" {
	printf 'id,a,b\n3,z,""\n1,x,\n2,"y,1","l1\nl2"\n' >a.csv
	printf 'b,id,a\n"l1\nl2",2,"y,1"\n"",3,z\n,1,x\n' >b.csv
	run -0 pm-verify --key id a.csv b.csv -o report.gz
	assert_line 'pm-verify: no differences'
	assert_line --regexp '^pm-verify: a\.csv: 3 records, checksum [0-9a-f]{16}$'
	# The checksums are the same whatever the order: the content is.
	[ "$(sed -n 's/.*checksum //p' <<<"$output" | sort -u | wc -l)" -eq 1 ]
	assert_equal "$(report)" 'id,pm_difference,pm_column,pm_left,pm_right'
}

@test "each difference between two streams is named: changed, missing, extra, NULL vs '', a trailing space, a key twice" {
	printf 'id,a,b\n1,x,\n2,y,""\n3,z,q\n4,gone,\n5,w,e\n6,d,\n6,d,\n' >a.csv
	printf 'id,a,b\n5,w,"e "\n3,zz,q\n2,y,\n1,x,\n7,new,\n6,d,\n' >b.csv
	run -1 pm-verify --key id a.csv b.csv -o report.gz
	assert_line 'pm-verify: 6 differences: 1 missing, 1 extra, 3 changed (3 values), 1 duplicate keys, 0 orphans, 0 sequences behind'
	assert_equal "$(report)" "$(printf '%s\n' 'id,pm_difference,pm_column,pm_left,pm_right' \
		'2,changed,b,"",' '3,changed,a,z,zz' '4,missing,,,' '5,changed,b,e,e ' '6,duplicate-left,,,' '7,extra,,,')"
}

@test "keys are compared as numbers where they are whole numbers, and every value as its exact text" {
	printf 'id,v\n10,a\n9,b\n007,c\n' >a.csv
	printf 'id,v\n9,b\n7,c\n10,a\n' >b.csv
	run -1 pm-verify --key id a.csv b.csv -o report.gz
	assert_equal "$(report)" "$(printf '%s\n' 'id,pm_difference,pm_column,pm_left,pm_right' '007,changed,id,007,7')"
}

@test "a stream larger than --memory is sorted in runs on disk and gives the same report" {
	# 60000 records in reverse order with a difference every 1000th, against the same in order.
	seq 60000 -1 1 | awk 'BEGIN { print "id,v" } { print $1 "," ($1 % 1000 == 0 ? "changed" : "v" $1) }' | gzip -1 >a.gz
	seq 1 60000 | awk 'BEGIN { print "id,v" } { print $1 ",v" $1 }' | gzip -1 >b.gz
	TMPDIR=$BATS_TEST_TMPDIR/tmp && mkdir "$TMPDIR" && export TMPDIR
	run -1 pm-verify --key id --memory 1 a.gz b.gz -o small.gz
	assert_line 'pm-verify: 60 differences: 0 missing, 0 extra, 60 changed (60 values), 0 duplicate keys, 0 orphans, 0 sequences behind'
	run -1 pm-verify --key id a.gz b.gz -o big.gz
	cmp small.gz big.gz
	assert_equal "$(report small.gz | sed -n 2p)" '1000,changed,v,changed,v1000'
	# The runs are gone.
	assert_equal "$(ls -A "$TMPDIR")" ''
}

@test "database against database through the key map: the migrated portal matches" {
	migrate_portal
	run -0 verify_profiles
	assert_line --regexp '^pm-verify: portal_profile: 200 records, checksum [0-9a-f]{16}$'
	assert_line 'pm-verify: no differences'
	run -0 verify_printers
	assert_line 'pm-verify: no differences'
	assert_equal "$(report printers.gz)" 'id,pm_difference,pm_column,pm_left,pm_right'
}

@test "database against database: a changed field, NULL vs '', a trailing space, a missing and an extra printer" {
	migrate_portal
	sql "UPDATE printers_printer SET api_key = 'changed' WHERE id = 5"
	sql "UPDATE printers_printer SET ip_address = ip_address || ' ' WHERE id = 6"
	sql "DELETE FROM printers_printer WHERE id = 7"
	sql "INSERT INTO printers_printer (id, ip_address, api_key, ping, printing) VALUES (100000, '10.1.1.1', 'k', true, true)"
	sql "UPDATE portal_profile SET organization = NULL WHERE id = (SELECT min(id) FROM portal_profile)"
	sql "UPDATE accounts_profile SET organization = '' WHERE id = (SELECT new_key FROM pm.keymap_profile WHERE old_key = (SELECT min(id) FROM portal_profile))"
	old=$(sql 'SELECT min(id) FROM portal_profile')
	before=$(table_digest printers_printer)
	run -1 verify_printers
	# The extra printer came with an id of its own: the sequence is behind it, and that is named too.
	assert_line 'pm-verify: 5 differences: 1 missing, 1 extra, 2 changed (2 values), 0 duplicate keys, 0 orphans, 1 sequences behind'
	run report printers.gz
	assert_line --regexp '^,sequence-behind,id,100000,[0-9]+$'
	assert_line --regexp '^5,changed,api_key,[^,]+,changed$'
	assert_line --regexp '^6,changed,ip_address,([^,]+),\1 $'
	assert_line '7,missing,,,'
	assert_line '100000,extra,,,'
	run -1 verify_profiles
	assert_line 'pm-verify: 1 differences: 0 missing, 0 extra, 1 changed (1 values), 0 duplicate keys, 0 orphans, 0 sequences behind'
	assert_equal "$(report profiles.gz | tail -n 1)" "$old,changed,organization,,\"\""
	# pm-verify only reads.
	assert_equal "$(table_digest printers_printer)" "$before"
}

@test "a printer re-pointed to another profile is found, also between two profiles without a user" {
	migrate_portal
	# Two printers whose owners are profiles without a user, each moved to the other's owner.
	read -r p1 o1 p2 o2 <<<"$(sql "SELECT a.id, a.profile_id, b.id, b.profile_id FROM printers_printer a, printers_printer b
		WHERE a.profile_id IN (SELECT id FROM accounts_profile WHERE user_id IS NULL)
		  AND b.profile_id IN (SELECT id FROM accounts_profile WHERE user_id IS NULL)
		  AND a.profile_id < b.profile_id ORDER BY a.id, b.id LIMIT 1" | tr '|' ' ')"
	[ -n "$p2" ]
	sql "UPDATE printers_printer SET profile_id = $o2 WHERE id = $p1"
	sql "UPDATE printers_printer SET profile_id = $o1 WHERE id = $p2"
	old1=$(sql "SELECT old_key FROM pm.keymap_profile WHERE new_key = $o1")
	old2=$(sql "SELECT old_key FROM pm.keymap_profile WHERE new_key = $o2")
	run -1 verify_printers
	assert_line 'pm-verify: 2 differences: 0 missing, 0 extra, 2 changed (2 values), 0 duplicate keys, 0 orphans, 0 sequences behind'
	# Owners are named by their old ids, as the source has them.
	run report printers.gz
	assert_line "$p1,changed,profile_id,$old1,$old2"
	assert_line "$p2,changed,profile_id,$old2,$old1"
	# A printer whose owner is not in the key map at all is never taken for a match.
	sql "INSERT INTO accounts_profile (id) VALUES (999999)"
	sql "UPDATE printers_printer SET profile_id = 999999 WHERE id = $p1"
	run -1 verify_printers
	run report printers.gz
	assert_line "$p1,changed,profile_id,$old1,no key map entry for 999999"
}

@test "an orphaned printer and a sequence behind the data are found in the target" {
	migrate_portal
	# The foreign key is deferrable: a session can leave an orphan only by turning triggers off.
	sql "SET session_replication_role = replica; UPDATE printers_printer SET profile_id = 888888 WHERE id = 9"
	sql "SELECT setval('printers_printer_id_seq', 5)"
	# Only the right side, the target, is checked: the source's own sequence is not its business.
	sql "SELECT setval('portal_printer_id_seq', 5)"
	run -1 verify_printers
	assert_line 'pm-verify: 3 differences: 0 missing, 0 extra, 1 changed (1 values), 0 duplicate keys, 1 orphans, 1 sequences behind'
	run report printers.gz
	assert_line --regexp '^9,changed,profile_id,[0-9]+,no key map entry for 888888$'
	assert_line "9,orphan,profile_id,,888888"
	assert_line ",sequence-behind,id,$(sql 'SELECT max(id) FROM printers_printer'),6"
}

@test "a stream against a table: did this file get loaded?" {
	sql "CREATE TABLE t (id int PRIMARY KEY, v text)"
	sql "INSERT INTO t VALUES (1, 'a'), (2, NULL), (3, '')"
	pm-extract -t t -o t.gz
	run -0 pm-verify --key id t.gz table:t -o report.gz
	assert_line 'pm-verify: no differences'
	sql "UPDATE t SET v = '' WHERE id = 2"
	run -1 pm-verify --key id t.gz table:t -o report.gz
	assert_equal "$(report | tail -n 1)" '2,changed,v,,""'
}

@test "bad input: usage errors exit 2, bad streams 3, database errors 4, each named; nothing is written" {
	sql "CREATE TABLE t (id int PRIMARY KEY, name text, v text)"
	sql "INSERT INTO t VALUES (1, 'a', 'x')"
	before=$(table_digest t)
	printf 'id,v\n1,x\n' >a.csv
	printf 'id,w\n1,x\n' >b.csv
	run -2 pm-verify a.csv a.csv
	assert_output --partial 'usage: pm-verify --key'
	run -2 pm-verify --key nope a.csv a.csv -o r.gz
	assert_output 'pm-verify: a.csv: --key: no column "nope"'
	run -3 pm-verify --key id a.csv b.csv -o r.gz
	assert_output 'pm-verify: column "v" is in a.csv but not in b.csv (leave it out with --ignore)'
	run -0 pm-verify --key id --ignore v,w a.csv b.csv -o r.gz
	run -2 pm-verify --key name a.csv table:t -o r.gz
	assert_output --partial 'pm-verify: a.csv: --key: no column "name"'
	run -2 pm-verify --key name table:t table:t -o r.gz
	assert_output 'pm-verify: t: --key: column "name" is text: a table side needs integer key columns'
	run -2 pm-verify --key id - - -o r.gz
	assert_output 'pm-verify: only one side can be standard input'
	run -2 pm-verify --key id --keymap v=k a.csv a.csv -o r.gz
	assert_output --partial 'pm-verify: --keymap reads a table'
	run -2 pm-verify --key id --keymap "id=$(printf 'x%.0s' {1..57})" a.csv table:t -o r.gz
	assert_output --partial 'is longer than 56 bytes'
	run -4 pm-verify --key id a.csv table:nosuch -o r.gz
	assert_output --partial 'table nosuch does not exist'
	printf 'id,v\n1,"x\n' >bad.csv
	run -3 pm-verify --key id bad.csv a.csv -o r.gz
	assert_output --partial 'bad.csv: record 1: malformed CSV'
	[ ! -e r.gz ] || [ "$(report r.gz | wc -l)" -eq 1 ]
	assert_equal "$(table_digest t)" "$before"
}

@test "pipelines/verify: the whole plan, exit 0 when clean, 1 naming each table that differs, else the failure" {
	migrate_portal
	db="dbname=$PGDATABASE"
	run -0 "$PM_ROOT/pipelines/verify" -s "$db" -t "$db" -w out
	assert_line 'profiles: pm-verify: no differences'
	assert_line 'printers: pm-verify: no differences'
	assert_line 'verify: no differences (reports in out)'
	assert_equal "$(stat -c %a out)" 700
	sql "UPDATE printers_printer SET ping = NOT ping WHERE id = 3"
	run -1 "$PM_ROOT/pipelines/verify" -s "$db" -t "$db" -w out
	assert_line 'verify: printers: DIFFERENCES, report out/printers.csv.gz'
	refute_line --partial 'verify: profiles: DIFFERENCES'
	assert_equal "$(zcat out/printers.csv.gz | tail -n 1 | cut -d, -f1-3)" '3,changed,ping'
	sql "DROP TABLE pm.keymap_profile"
	run -4 "$PM_ROOT/pipelines/verify" -s "$db" -t "$db" -w out
	assert_line 'verify: profiles: pm-verify failed (exit status 4)'
	assert_line --partial 'relation "pm.keymap_profile" does not exist'
	run -2 "$PM_ROOT/pipelines/verify" -s "$db"
	assert_output 'verify: usage: pipelines/verify -s SRC -t DST [-w DIR] [--plan FILE]'
	# --help as the other pipelines have it (getopts once took it for -- and -).
	run -0 "$PM_ROOT/pipelines/verify" --help
	assert_line --index 0 'usage: pipelines/verify -s SRC -t DST [-w DIR] [--plan FILE]'
	assert_line --partial '--plan FILE the migration plan'
}

@test "source and target in two databases: pipelines/verify compares them across" {
	migrate_portal
	other="${PGDATABASE}_target"
	dropdb --if-exists "$other" 2>/dev/null
	createdb "$other"
	psql -X -q -d "$other" -c 'CREATE SCHEMA pm'
	# The target side (its tables, the key map, the users its profiles point at) in a database of its own.
	pg_dump -t auth_user -t accounts_profile -t printers_printer -t 'pm.keymap_profile' "$PGDATABASE" |
		psql -X -q -v ON_ERROR_STOP=1 -d "$other" >/dev/null
	sql "DROP TABLE printers_printer, accounts_profile, pm.keymap_profile"
	run -0 "$PM_ROOT/pipelines/verify" -s "dbname=$PGDATABASE" -t "dbname=$other" -w out
	assert_line 'verify: no differences (reports in out)'
	psql -X -q -d "$other" -c "DELETE FROM printers_printer WHERE id = (SELECT max(id) FROM printers_printer)"
	run -1 "$PM_ROOT/pipelines/verify" -s "dbname=$PGDATABASE" -t "dbname=$other" -w out
	assert_line 'verify: printers: DIFFERENCES, report out/printers.csv.gz'
	assert_equal "$(zcat out/printers.csv.gz | tail -n 1)" "$(sql 'SELECT max(id) FROM portal_printer'),missing,,,"
	dropdb "$other"
}
