# The deploy as a Django site runs it, with Debian's Django 3.2 and the test site of
# tests/fixtures/django (the portal's models, migrations made by makemigrations, the origin project's
# data migrations): structure by Django's migrate, pm's move in place of the data migrations, then
# Django's migrate again, which must find nothing to run.  The ORM is the real client throughout.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
}

site() { # manage.py COMMAND...: Django's own command on this test's database
	(cd "$FIXTURES/django" && ./manage.py "$@")
}
migrate() { # [WORKDIR]
	"$PM_ROOT/pipelines/migrate" -s "dbname=$PGDATABASE" -t "dbname=$PGDATABASE" -w "${1:-work}"
}
rollback() {
	"$PM_ROOT/pipelines/rollback" -s "dbname=$PGDATABASE" -t "dbname=$PGDATABASE" -w "${1:-work}" --yes
}
# The seed's structure step on a site that runs the old code (Django's own apps and portal migrated),
# the new apps' first migrations only.
site_of_old_code() {
	site migrate auth >/dev/null
	site migrate portal 0001 >/dev/null
}
structure() {
	site_of_old_code
	site migrate accounts 0001 >/dev/null
	site migrate printers 0001 >/dev/null
}
recorded() { # the replaced migrations in django_migrations, one a line
	sql "SELECT app || '.' || name FROM django_migrations WHERE name LIKE '0002\\_migrate\\_%' ORDER BY app"
}
# Everything a refused run must leave as it was: every table's content and django_migrations.
state() {
	local t
	for t in portal_profile portal_printer accounts_profile printers_printer django_migrations auth_user; do
		if [ "$(sql "SELECT to_regclass('$t') IS NULL")" = t ]; then
			echo "$t: absent"
		else
			echo "$t: $(table_digest "$t")"
		fi
	done
	echo "schema pm: $(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'pm'")"
}

@test "structure by Django, pm's move, then Django's own migrate: nothing re-run, the ORM finds every owner, new rows save" {
	structure
	run -0 site site_write_old
	assert_output 'old code wrote 6 profiles, 8 printers'
	assert_equal "$(recorded)" ''
	run -0 migrate
	assert_line 'migrate: django ...'
	assert_equal "$(cat work/django.log)" 'migrate: recorded in django_migrations as applied, as manage.py migrate --fake would: accounts.0002_migrate_profile_data printers.0002_migrate_printer_data'
	assert_line 'django_migrations: recorded as applied: accounts.0002_migrate_profile_data printers.0002_migrate_printer_data'
	assert_line 'verification: no differences'
	assert_equal "$(recorded)" "$(printf '%s\n' accounts.0002_migrate_profile_data printers.0002_migrate_printer_data)"
	assert_equal "$(cat work/django.recorded)" "$(printf '%s\n' accounts.0002_migrate_profile_data printers.0002_migrate_printer_data)"
	assert_portal_moved
	# A second run (before any new write) of the same WORKDIR records nothing twice.
	run -0 migrate
	assert_equal "$(sql "SELECT count(*) FROM django_migrations WHERE name LIKE '0002\\_migrate\\_%'")" 2
	# The deploy's next step: a plain migrate finds nothing to do.
	run -0 site migrate
	assert_line '  No migrations to apply.'
	run -0 site showmigrations portal accounts printers
	refute_output --partial '[ ]'
	assert_equal "$(grep -c '\[X\]' <<<"$output")" 5
	run -0 site site_check_moved
	assert_output 'the ORM finds 6 profiles and 8 printers, each printer with its owner'
	# The new code saves through the ORM: the sequences are past the moved ids.
	run -0 site site_write_new newcomer
	assert_output --regexp '^new code saved profile [0-9]+ and printer 9$'
}

@test "without pm's record, Django's migrate runs the replaced data migration on the moved rows and fails (what the record prevents)" {
	structure
	site site_write_old >/dev/null
	run -0 migrate
	sql "DELETE FROM django_migrations WHERE name LIKE '0002\\_migrate\\_%'"
	run -1 site migrate
	assert_output --partial 'accounts_profile_user_id_key'
}

@test "rollback after the deploy's migrate: the data migrations unrecorded, the targets as before; the deploy runs again" {
	structure
	site site_write_old >/dev/null
	before=$(state)
	run -0 migrate
	run -0 site migrate
	run -0 rollback
	assert_line 'rollback: django_migrations: remove the 2 rows the migration recorded (accounts.0002_migrate_profile_data printers.0002_migrate_printer_data): Django will take them for not applied'
	assert_line 'rollback: done: the source is as backed up and the target as before the migration'
	assert_equal "$(recorded)" ''
	assert_equal "$(state)" "$before"
	# The deploy again, from the start.
	run -0 migrate work2
	assert_line 'verification: no differences'
	run -0 site migrate
	assert_line '  No migrations to apply.'
	run -0 site site_check_moved
	assert_output 'the ORM finds 6 profiles and 8 printers, each printer with its owner'
}

@test "Django ran the replaced data migrations already (the targets hold their rows): refused, exit 2, nothing changed" {
	structure
	site site_write_old >/dev/null
	run -0 site migrate # the origin project's data migrations, one save() a row
	before=$(state)
	run -2 migrate
	assert_output 'migrate: Django has applied accounts.0002_migrate_profile_data already (django_migrations): the data migration the plan replaces has run, so its rows are in the targets; pm does not move them again. Nothing done'
	assert_equal "$(state)" "$before"
	[ ! -e work/backup.source.dump ]
	run -2 "$PM_ROOT/pipelines/staged" -s "dbname=$PGDATABASE" -t "dbname=$PGDATABASE" -w staged
	assert_output --partial 'staged: Django has applied accounts.0002_migrate_profile_data already'
	assert_equal "$(state)" "$before"
	[ ! -e staged/backup.source.dump ]
}

@test "Django has not made the new apps' tables (their 0001 not applied): refused with the command that does, exit 2, nothing changed" {
	site_of_old_code
	site site_write_old >/dev/null
	before=$(state)
	run -2 migrate
	assert_output 'migrate: Django has not applied accounts 0001, which accounts.0002_migrate_profile_data depends on (it makes the accounts tables pm moves into): run `python manage.py migrate accounts 0001` first. Nothing done'
	assert_equal "$(state)" "$before"
	# accounts' first migration applied, printers' not: printers is named.
	site migrate accounts 0001 >/dev/null
	before=$(state)
	run -2 migrate
	assert_output --partial 'run `python manage.py migrate printers 0001` first. Nothing done'
	assert_equal "$(state)" "$before"
}

@test "a target without django_migrations (structure from pm's schemas/) is moved as before, with a note" {
	"$PM_ROOT/scripts/generate-portal" --profiles 50 --printers 200 2>/dev/null
	run -0 migrate
	assert_line 'migrate: note: the target has no django_migrations table (no Django, or its structure is pm'\''s schemas/): the Django migrations the plan replaces (accounts.0002_migrate_profile_data printers.0002_migrate_printer_data) are not recorded'
	assert_line 'django_migrations: none in the target; nothing recorded'
	assert_line 'verification: no differences'
	assert_portal_moved
	[ ! -e work/django.recorded ]
	assert_equal "$(sql "SELECT to_regclass('django_migrations') IS NULL")" t
}

@test "a tampered django.recorded is refused by rollback, exit 2, nothing changed" {
	structure
	site site_write_old >/dev/null
	run -0 migrate
	printf '%s\n' "auth.0001_initial" >>work/django.recorded
	before=$(state)
	run -2 rollback
	assert_output --partial "work/django.recorded: unexpected line \"auth.0001_initial\": not a migration the plan replaces (another --plan?); nothing done"
	assert_equal "$(state)" "$before"
}

@test "staged records the replaced migrations when it says done; Django's migrate then has nothing to run; rollback unrecords them" {
	structure
	site site_write_old >/dev/null
	before=$(state)
	for i in 1 2 3 4; do
		"$PM_ROOT/pipelines/staged" -s "dbname=$PGDATABASE" -t "dbname=$PGDATABASE" -w work --chunk 4 >>staged.out
		assert_equal "$(recorded)" ''
	done
	run -0 "$PM_ROOT/pipelines/staged" -s "dbname=$PGDATABASE" -t "dbname=$PGDATABASE" -w work --chunk 4
	assert_line 'staged: django_migrations: recorded as applied: accounts.0002_migrate_profile_data printers.0002_migrate_printer_data'
	assert_line --partial 'staged: done: every row is moved and verified'
	assert_equal "$(recorded)" "$(printf '%s\n' accounts.0002_migrate_profile_data printers.0002_migrate_printer_data)"
	run -0 site migrate
	assert_line '  No migrations to apply.'
	run -0 site site_check_moved
	run -0 rollback
	assert_line --partial 'rollback: django_migrations: remove the 2 rows'
	assert_equal "$(state)" "$before"
}

@test "old and new code side by side through Django's ORM with the compatibility layer: each finds what the other wrote" {
	structure
	site site_write_old >/dev/null
	run -0 migrate
	run -0 "$PM_ROOT/pipelines/compat" install -d "dbname=$PGDATABASE"
	run -0 site migrate
	assert_line '  No migrations to apply.'
	# The new code, deployed on some workers, saves; the old code, on the others, saves too.
	run -0 site site_write_new newcode
	assert_output --regexp '^new code saved profile [0-9]+ and printer 9$'
	run -0 site site_write_old --tag old2-
	run -0 site site_check_moved
	assert_output 'the ORM finds 13 profiles and 17 printers, each printer with its owner'
	# Updates and deletes through either side's models reach the other.
	site shell -c "from printers.models import Printer; p = Printer.objects.get(id=9); p.ping = True; p.ip_address = '10.9.9.9'; p.save()"
	site shell -c "from portal.models import Printer, Profile; Printer.objects.filter(api_key='no profile').delete(); p = Profile.objects.get(user__username='ada'); p.name = 'Ada, renamed'; p.save()"
	run -0 site site_check_moved
	assert_output 'the ORM finds 13 profiles and 16 printers, each printer with its owner'
	assert_equal "$(sql "SELECT ip_address, ping FROM portal_printer WHERE id = 9")" '10.9.9.9|t'
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile WHERE name = 'Ada, renamed'")" 1
	# The layer removed, the new code alone goes on saving.
	run -0 "$PM_ROOT/pipelines/compat" remove -d "dbname=$PGDATABASE"
	run -0 site site_write_new later
	assert_output --regexp '^new code saved profile [0-9]+ and printer 18$'
}

# ORM writers, old code and new code in turn, each save a process of its own, until stop_orm_writers;
# a failed save is kept in orm-writers.failed.
start_orm_writers() {
	(
		i=0
		while [[ ! -e $BATS_TEST_TMPDIR/stop ]]; do
			i=$((i + 1))
			site site_write_new "new$i" >>orm-writers.log 2>&1 || echo "new$i" >>orm-writers.failed
			site site_write_old --tag "old$i-" >>orm-writers.log 2>&1 || echo "old$i" >>orm-writers.failed
		done
	) &
	orm_writers=$!
}
stop_orm_writers() {
	touch "$BATS_TEST_TMPDIR/stop"
	wait "$orm_writers"
	[ ! -e orm-writers.failed ] || { cat orm-writers.log >&2; false; }
}

@test "Django's ORM as old and new code at once while staged steps run, killed at random moments: both sides equal" {
	structure
	for t in a b c d; do site site_write_old --tag "$t-" >/dev/null; done
	db="dbname=$PGDATABASE" work=$BATS_TEST_TMPDIR/work
	run -0 "$PM_ROOT/pipelines/compat" install -d "$db"
	start_orm_writers
	kill_staged_steps 6 5
	for ((i = 0; i < 60; i++)); do
		run -0 "$PM_ROOT/pipelines/staged" -s "$db" -t "$db" -w "$work" --chunk 5
		[[ $output != *"staged: done"* ]] || break
	done
	assert_output --partial "staged: done"
	stop_orm_writers
	# Each writer did its part while the steps ran.
	[ "$(sql "SELECT count(*) FROM accounts_profile WHERE name LIKE 'new%'")" -ge 2 ]
	[ "$(sql "SELECT count(*) FROM auth_user WHERE username LIKE 'old%'")" -ge 2 ]
	# The ORM's own view (site_check_moved), and an independent one in SQL: no orphan owner.
	run -0 site site_check_moved
	assert_output --regexp '^the ORM finds [0-9]+ profiles and [0-9]+ printers, each printer with its owner$'
	assert_equal "$(sql "SELECT count(*) FROM printers_printer n WHERE n.profile_id IS NOT NULL
		AND NOT EXISTS (SELECT FROM accounts_profile a WHERE a.id = n.profile_id)")" 0
	run -0 "$PM_ROOT/pipelines/verify" -s "$db" -t "$db"
	# The layer removed: every sequence past its table's ids.
	run -0 "$PM_ROOT/pipelines/compat" remove -d "$db"
	for t in portal_profile portal_printer accounts_profile printers_printer; do
		assert_equal "$t: $(sql "SELECT last_value >= (SELECT max(id) FROM $t) FROM ${t}_id_seq")" "$t: t"
	done
	assert_equal "$(recorded)" "$(printf '%s\n' accounts.0002_migrate_profile_data printers.0002_migrate_printer_data)"
}
