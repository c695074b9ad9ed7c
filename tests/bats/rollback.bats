# pipelines/rollback: both databases back as they were before pipelines/migrate, or nothing changed.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
}

migrate() {
	"$PM_ROOT/pipelines/migrate" -s "dbname=$PGDATABASE" -t "dbname=$PGDATABASE" -w "${1:-work}" >migrate.out 2>&1
}

rollback() {
	"$PM_ROOT/pipelines/rollback" -s "dbname=$PGDATABASE" -t "dbname=$PGDATABASE" "$@"
}

# Everything rollback may touch, one line each: every table's content (or its absence), every
# sequence's state, schema pm.
state() {
	local t s
	for t in portal_profile portal_printer accounts_profile printers_printer pm.keymap_profile; do
		if [ "$(sql "SELECT to_regclass('$t') IS NULL")" = t ]; then
			echo "$t: absent"
		else
			echo "$t: $(sql "SELECT count(*) FROM $t") rows, digest $(table_digest "$t")"
		fi
	done
	for s in portal_profile_id_seq portal_printer_id_seq accounts_profile_id_seq printers_printer_id_seq; do
		if [ "$(sql "SELECT to_regclass('$s') IS NULL")" = t ]; then
			echo "$s: absent"
		else
			echo "$s: $(sql "SELECT last_value || ' ' || is_called FROM $s")"
		fi
	done
	echo "schema pm: $(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'pm'")"
}

# Where each source row physically is and which transaction wrote it: changes if a table is rewritten.
physical() {
	sql "SELECT md5(string_agg(ctid::text || xmin::text, ',' ORDER BY id)) FROM portal_profile"
	sql "SELECT md5(string_agg(ctid::text || xmin::text, ',' ORDER BY id)) FROM portal_printer"
}

@test "targets the run created: rollback drops them and the key map, leaves the source alone; a second one has nothing to undo" {
	"$PM_ROOT/scripts/generate-portal" --profiles 200 --printers 800 2>/dev/null
	before=$(state)
	migrate
	untouched=$(physical)
	[ "$(sql "SELECT count(*) FROM printers_printer")" -eq 800 ]
	assert_equal "$(cat work/created)" "$(printf 'public.accounts_profile\npublic.printers_printer')"
	run -0 rollback -w work --yes
	assert_equal "$output" "$(printf '%s\n' 'rollback: portal_profile: unchanged' 'rollback: portal_printer: unchanged' \
		'rollback: printers_printer: drop it (the migration created it)' \
		'rollback: accounts_profile: drop it (the migration created it)' \
		"rollback: pm.keymap_profile: drop it (the migration's key map)" \
		'rollback: schema pm: drop it (the migration made it for its key map; nothing else is in it)' \
		'rollback: done: the source is as backed up and the target as before the migration')"
	assert_equal "$(state)" "$before"
	assert_equal "$(sql "SELECT to_regclass('accounts_profile'), to_regclass('printers_printer'), to_regclass('pm.keymap_profile')")" '||'
	# Left alone: not rewritten, not even with the same rows.
	assert_equal "$(physical)" "$untouched"
	run -0 rollback -w work --yes
	assert_line 'rollback: printers_printer: already dropped'
	assert_line 'rollback: accounts_profile: already dropped'
	assert_line 'rollback: pm.keymap_profile: already dropped'
	assert_line 'rollback: nothing left to undo: the source is as backed up and the target as before the migration'
	assert_equal "$(state)" "$before"
	# And the migration can run again.
	run -0 migrate work2
}

@test "targets that existed before (Django's, empty): rollback empties them, their sequences as before; the key map goes" {
	"$PM_ROOT/scripts/generate-portal" --profiles 200 --printers 800 --targets 2>/dev/null
	before=$(state)
	grep -qx 'accounts_profile_id_seq: 1 false' <<<"$before"
	migrate
	[ ! -s work/created ]
	[ -f work/backup.target.dump ]
	[ "$(sql "SELECT is_called FROM printers_printer_id_seq")" = t ]
	run -0 rollback -w work --yes
	assert_line 'rollback: portal_profile: unchanged'
	assert_line 'rollback: printers_printer: empty it and reset its sequence from backup.target.dump (it existed before the migration, empty; 800 rows now)'
	assert_line 'rollback: accounts_profile: empty it and reset its sequence from backup.target.dump (it existed before the migration, empty; 200 rows now)'
	assert_line "rollback: pm.keymap_profile: drop it (the migration's key map)"
	assert_line 'rollback: done: the source is as backed up and the target as before the migration'
	assert_equal "$(state)" "$before"
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile") $(sql "SELECT count(*) FROM printers_printer")" '0 0'
	assert_equal "$(sql "SELECT last_value || ' ' || is_called FROM accounts_profile_id_seq")" '1 false'
	assert_equal "$(sql "SELECT last_value || ' ' || is_called FROM printers_printer_id_seq")" '1 false'
	assert_equal "$(sql "SELECT to_regclass('pm.keymap_profile') IS NULL")" t
	run -0 rollback -w work --yes
	assert_line 'rollback: accounts_profile: as before the migration (0 rows, sequence as backed up)'
	assert_line 'rollback: nothing left to undo: the source is as backed up and the target as before the migration'
	assert_equal "$(state)" "$before"
	run -0 migrate work2
}

@test "a source changed after the migration is restored exactly, rows and sequences, and only the tables that changed" {
	"$PM_ROOT/scripts/generate-portal" --profiles 200 --printers 800 2>/dev/null
	before=$(state)
	migrate
	sql "UPDATE portal_profile SET name = 'changed' WHERE id = (SELECT min(id) FROM portal_profile)"
	sql "DELETE FROM portal_printer WHERE id = (SELECT max(id) FROM portal_printer)"
	sql "SELECT setval('portal_printer_id_seq', 5000)" >/dev/null
	sql "SELECT nextval('portal_profile_id_seq')" >/dev/null
	[ "$(state)" != "$before" ]
	run -0 rollback -w work --yes
	assert_line 'rollback: portal_profile: changed since the backup (200 rows then, 200 now): restore its rows and sequence from backup.source.dump (what changed since is lost)'
	assert_line 'rollback: portal_printer: changed since the backup (800 rows then, 799 now): restore its rows and sequence from backup.source.dump (what changed since is lost)'
	assert_line 'rollback: printers_printer: drop it (the migration created it)'
	assert_line 'rollback: done: the source is as backed up and the target as before the migration'
	assert_equal "$(state)" "$before"
	# The restored source still holds together (the foreign key is checked at COMMIT, and passed).
	assert_equal "$(sql "SELECT count(*) FROM portal_printer p LEFT JOIN portal_profile f ON f.id = p.profile_id
		WHERE p.profile_id IS NOT NULL AND f.id IS NULL")" 0
	# One table changed, the other not: only the changed one is rewritten.
	untouched=$(physical | sed -n 1p)
	sql "UPDATE portal_printer SET ping = NOT ping WHERE id = (SELECT min(id) FROM portal_printer)"
	run -0 rollback -w work --yes
	assert_line 'rollback: portal_profile: unchanged'
	assert_line --partial 'rollback: portal_printer: changed since the backup (800 rows then, 800 now)'
	assert_line 'rollback: printers_printer: already dropped'
	assert_equal "$(state)" "$before"
	assert_equal "$(physical | sed -n 1p)" "$untouched"
	# Only a sequence moved (a row inserted and deleted again): the sequence is put back.
	sql "INSERT INTO portal_printer (ip_address, api_key, ping, printing) VALUES ('10.0.0.1', 'k', true, true)"
	sql "DELETE FROM portal_printer WHERE api_key = 'k'"
	run -0 rollback -w work --yes
	assert_line --regexp "^rollback: portal_printer: rows unchanged, but sequence public.portal_printer_id_seq is at [0-9]+ \\([0-9]+ in the backup\\): reset it from backup.source.dump$"
	assert_equal "$(state)" "$before"
	run -0 rollback -w work --yes
	assert_line 'rollback: nothing left to undo: the source is as backed up and the target as before the migration'
}

@test "without --yes: lists every action, changes nothing, exits 2" {
	"$PM_ROOT/scripts/generate-portal" --profiles 200 --printers 800 2>/dev/null
	migrate
	sql "DELETE FROM portal_printer WHERE id = (SELECT max(id) FROM portal_printer)"
	before=$(state)
	untouched=$(physical)
	run -2 rollback -w work
	assert_equal "$output" "$(printf '%s\n' 'rollback: portal_profile: unchanged' \
		'rollback: portal_printer: changed since the backup (800 rows then, 799 now): restore its rows and sequence from backup.source.dump (what changed since is lost)' \
		'rollback: printers_printer: drop it (the migration created it)' \
		'rollback: accounts_profile: drop it (the migration created it)' \
		"rollback: pm.keymap_profile: drop it (the migration's key map)" \
		'rollback: schema pm: drop it (the migration made it for its key map; nothing else is in it)' \
		'rollback: nothing done; run again with --yes to do it')"
	assert_equal "$(state)" "$before"
	assert_equal "$(physical)" "$untouched"
	[ "$(sql "SELECT count(*) FROM printers_printer")" -eq 800 ]
}

@test "a WORKDIR that is not a migration's, or whose run stopped before its structure stage: exit 2, named, nothing changed" {
	"$PM_ROOT/scripts/generate-portal" --profiles 200 --printers 800 2>/dev/null
	migrate
	before=$(state)
	mkdir other
	run -2 rollback -w other --yes
	assert_output 'rollback: other has no backup.source.dump: not a pipelines/migrate WORKDIR, or its run never finished the backup stage; nothing done'
	run -2 rollback -w nosuch --yes
	assert_output 'rollback: nosuch: no such directory'
	# A run that got through its backup only: what it created is not known.
	mkdir early
	cp work/backup.source.dump work/source.digest early/
	run -2 rollback -w early --yes
	assert_output 'rollback: early has no file created: its run never finished the structure stage, so what it created in the target is not known; nothing done'
	echo 'public.something_else' >>early/created
	run -2 rollback -w early --yes
	assert_output --partial 'early/created: unexpected line "public.something_else"'
	run -2 rollback --yes
	assert_output 'usage: pipelines/rollback -s SRC -t DST -w WORKDIR [--yes] [--plan FILE]'
	# The run's WORKDIR, but other databases than the run's.
	run -2 "$PM_ROOT/pipelines/rollback" -s "dbname=$PGDATABASE" -t "dbname=${PGDATABASE}_other" -w work --yes
	assert_output 'rollback: work is the WORKDIR of a run between other databases: give the -s and -t that run had, spelled as it had them; nothing done'
	assert_equal "$(state)" "$before"
}

@test "a target table neither in created nor in the backup (a structure stage stopped and run again) is emptied, not dropped" {
	"$PM_ROOT/scripts/generate-portal" --profiles 200 --printers 800 2>/dev/null
	migrate
	# As a structure stage killed after creating accounts_profile, then run again, would leave it.
	echo public.printers_printer >work/created
	run -0 rollback -w work --yes
	assert_line 'rollback: printers_printer: drop it (the migration created it)'
	assert_line 'rollback: accounts_profile: empty it and restart its sequence (200 rows now; neither in created nor in backup.target.dump: it was made after the backup)'
	assert_equal "$(sql "SELECT count(*) || ' ' || (SELECT last_value || ' ' || is_called FROM accounts_profile_id_seq) FROM accounts_profile")" '0 1 false'
	assert_equal "$(sql "SELECT to_regclass('printers_printer') IS NULL AND to_regclass('pm.keymap_profile') IS NULL")" t
	run -0 rollback -w work --yes
	assert_line 'rollback: accounts_profile: empty, its sequence unused (neither in created nor in backup.target.dump)'
	assert_line 'rollback: nothing left to undo: the source is as backed up and the target as before the migration'
}

@test "a rollback that fails changes nothing, in either database: a database error exits 4, a mismatched restore 1" {
	"$PM_ROOT/scripts/generate-portal" --profiles 200 --printers 800 2>/dev/null
	migrate
	sql "DELETE FROM portal_printer WHERE id = (SELECT max(id) FROM portal_printer)"
	# Something of the site's own now depends on a table the run created.
	sql "CREATE VIEW printer_count AS SELECT count(*) FROM printers_printer"
	before=$(state)
	run -4 rollback -w work --yes
	assert_line --partial 'rollback: portal_printer: changed since the backup'
	assert_line 'rollback: source and target: cannot drop table public.printers_printer because other objects depend on it; nothing changed'
	assert_equal "$(state)" "$before"
	sql "DROP VIEW printer_count"
	# A digest that the backup does not give: the restore is undone.
	sed -i 's/^\(portal_printer\t800\t\).*/\1123/' work/source.digest
	before=$(state)
	run -1 rollback -w work --yes
	assert_line 'rollback: source and target: portal_printer: restored from backup.source.dump, its content does not match source.digest; nothing changed'
	assert_equal "$(state)" "$before"
	# A database that takes no connections.
	psql -X -q -d postgres -c "ALTER DATABASE \"$PGDATABASE\" ALLOW_CONNECTIONS false"
	run -4 rollback -w work --yes
	psql -X -q -d postgres -c "ALTER DATABASE \"$PGDATABASE\" ALLOW_CONNECTIONS true"
	# Found when the WORKDIR's databases are checked, before anything else.
	# In one line, the cause with it.
	assert_output "rollback: cannot connect to SRC: database \"$PGDATABASE\" is not currently accepting connections"
	assert_equal "$(state)" "$before"
}

@test "source and target in two databases: each is put back" {
	"$PM_ROOT/scripts/generate-portal" --profiles 200 --printers 800 2>/dev/null
	other="${PGDATABASE}_target"
	dropdb --if-exists "$other" 2>/dev/null
	createdb "$other"
	# The target's own auth_user, which accounts_profile points at.
	pg_dump -t auth_user "$PGDATABASE" | psql -X -q -v ON_ERROR_STOP=1 -d "$other" >/dev/null
	before=$(state)
	before_target=$(PGDATABASE=$other state)
	run -0 "$PM_ROOT/pipelines/migrate" -s "dbname=$PGDATABASE" -t "dbname=$other" -w work
	[ "$(PGDATABASE=$other sql "SELECT count(*) FROM printers_printer")" -eq 800 ]
	sql "UPDATE portal_profile SET email = NULL WHERE id = (SELECT max(id) FROM portal_profile)"
	run -0 "$PM_ROOT/pipelines/rollback" -s "dbname=$PGDATABASE" -t "dbname=$other" -w work --yes
	assert_line --partial 'rollback: portal_profile: changed since the backup (200 rows then, 200 now)'
	assert_line 'rollback: accounts_profile: drop it (the migration created it)'
	assert_line 'rollback: done: the source is as backed up and the target as before the migration'
	assert_equal "$(state)" "$before"
	assert_equal "$(PGDATABASE=$other state)" "$before_target"
	dropdb "$other"
}
