#!/usr/bin/env bats
# Adding a table to the migration takes one mapping file, one plan line (and the target's DDL, for a
# target that Django has not made): a printer's job log, its printer kept and the profile that sent
# it re-pointed through the key map, moved by every pipeline with nothing else changed.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	db="dbname=$PGDATABASE"
	# The shipped plan's copy, and the job log's files beside it: the only change.
	mkdir plan
	cp "$PM_ROOT"/schemas/* plan/
	cp "$FIXTURES"/jobs/printjob.map "$FIXTURES"/jobs/printers_printjob.sql plan/
	echo 'move printjobs portal_printjob printjob.map key id kept-ids' >>plan/portal.plan
}

teardown() {
	[[ -z ${writer:-} ]] || kill "$writer" 2>/dev/null || true
}

portal() { # generate-portal args...: a portal database with its job log
	"$PM_ROOT/scripts/generate-portal" "$@" >/dev/null 2>&1
	sql_file "$FIXTURES/jobs/portal_printjob.sql"
}

# The job log's move, checked in plain SQL: every job with its values and printer, and as sender
# the new id of the same old profile (none stays none).
assert_jobs_moved() {
	assert_equal "$(sql 'SELECT count(*) FROM printers_printjob')" "$(sql 'SELECT count(*) FROM portal_printjob')"
	assert_equal "$(sql "SELECT count(*) FROM portal_printjob o LEFT JOIN pm.keymap_profile k ON k.old_key = o.profile_id
		JOIN printers_printjob n ON n.id = o.id
		WHERE (o.printer_id, o.file_name, o.succeeded, k.new_key)
		      IS NOT DISTINCT FROM (n.printer_id, n.file_name, n.succeeded, n.profile_id)")" \
		"$(sql 'SELECT count(*) FROM portal_printjob')"
	[ "$(sql 'SELECT count(*) FROM printers_printjob WHERE profile_id IS NULL')" -gt 0 ]
	[ "$(sql "SELECT count(*) FROM printers_printjob WHERE file_name = ''")" -gt 0 ]
}

@test "migrate, verify and rollback carry the third table through the plan alone" {
	portal --profiles 300 --printers 1500
	before=$(table_digest portal_profile)$(table_digest portal_printer)$(table_digest portal_printjob)
	run -0 "$PM_ROOT/pipelines/migrate" -s "$db" -t "$db" -w work --plan plan/portal.plan
	assert_line 'verification: no differences'
	assert_line --regexp '^printjobs +3000 +3000 +0 +0$'
	assert_portal_moved
	assert_jobs_moved
	# Its stage, streams and manifest lines, as any move's; the target made from its DDL.
	assert_equal "$(awk -F '\t' '$1 == "printjobs" { print $2 }' work/manifest.tsv | paste -sd ' ')" \
		'printjobs.extract.csv.gz printjobs.csv.gz printjobs.rejects.csv.gz'
	assert_equal "$(awk -F '\t' '$2 == "printjobs.csv.gz" { print $3 }' work/manifest.tsv)" 3000
	grep -qx public.printers_printjob work/created
	# The site's next job gets a new id.
	assert_equal "$(sql "SELECT nextval('printers_printjob_id_seq') > (SELECT max(id) FROM portal_printjob)")" t
	# verify reads the same plan: a changed sender is found, in the job log's own report.
	run -0 "$PM_ROOT/pipelines/verify" -s "$db" -t "$db" -w v --plan plan/portal.plan
	assert_line 'verify: no differences (reports in v)'
	assert_line --partial 'printjobs: pm-verify: no differences'
	sql "UPDATE printers_printjob SET profile_id = NULL WHERE id = (SELECT min(id) FROM printers_printjob WHERE profile_id IS NOT NULL)"
	run -1 "$PM_ROOT/pipelines/verify" -s "$db" -t "$db" -w v --plan plan/portal.plan
	assert_line 'verify: printjobs: DIFFERENCES, report v/printjobs.csv.gz'
	refute_line --partial 'verify: printers: DIFFERENCES'
	# The shipped plan knows nothing of the job log: the WORKDIR's run followed another, and a rerun
	# or a rollback without its --plan is refused, nothing done.
	run -2 "$PM_ROOT/pipelines/migrate" -s "$db" -t "$db" -w work
	assert_output "migrate: work belongs to a run that followed another plan (the plan file or a mapping file differs): give the --plan it had"
	run -2 "$PM_ROOT/pipelines/rollback" -s "$db" -t "$db" -w work --yes
	assert_output "rollback: work belongs to a run that followed another plan (the plan file or a mapping file differs): give the --plan it had"
	# So is its own plan once a mapping file has changed.
	cp plan/printjob.map printjob.map.was
	sed -i 's/^column file_name .*/column file_name varchar(200) not-null/' plan/printjob.map
	run -2 "$PM_ROOT/pipelines/migrate" -s "$db" -t "$db" -w work --plan plan/portal.plan
	assert_output --partial 'followed another plan'
	cp printjob.map.was plan/printjob.map
	assert_equal "$(sql 'SELECT count(*) FROM printers_printjob')" 3000
	# rollback walks the plan backwards: the job log first, then the rest; the source as it was.
	run -0 "$PM_ROOT/pipelines/rollback" -s "$db" -t "$db" -w work --plan plan/portal.plan --yes
	assert_line --index 3 'rollback: printers_printjob: drop it (the migration created it)'
	assert_line 'rollback: printers_printer: drop it (the migration created it)'
	assert_equal "$(sql "SELECT count(*) FROM pg_class WHERE relname IN ('printers_printjob', 'printers_printer', 'accounts_profile')")" 0
	assert_equal "$(table_digest portal_profile)$(table_digest portal_printer)$(table_digest portal_printjob)" "$before"
}

@test "staged and the compatibility layer carry the third table while the site writes all three" {
	portal --profiles 1000 --printers 3000 --targets
	sql_file plan/printers_printjob.sql
	run -0 "$PM_ROOT/pipelines/compat" install -d "$db" --plan plan/portal.plan
	assert_output 'compat: installed: portal_profile, portal_printer, portal_printjob write on to accounts_profile, printers_printer, printers_printjob'
	# The layer learnt from the database that a job points at its printer: the printer comes first.
	run -0 "$PM_ROOT/pipelines/compat" sql install -d "$db" --plan plan/portal.plan
	assert_line '        PERFORM pm.compat_ref_printers(NEW.printer_id);'
	pgbench -n -c 1 -R 100 -T 600 -D profiles=1000 -D printers=3000 -f "$FIXTURES/portal-writer.sql" \
		-f "$FIXTURES/jobs/writer.sql" "$PGDATABASE" \
		>writer.log 2>&1 &
	writer=$!
	wait_for "SELECT count(*) > 5 FROM portal_printjob WHERE file_name LIKE 'new %'" t
	# A job the site sends now for a printer no chunk has reached: the printer is moved with it.
	sql "INSERT INTO portal_printjob (printer_id, profile_id, file_name, succeeded)
	     VALUES ((SELECT max(id) FROM portal_printer WHERE id < 100), NULL, 'early.gcode', true)"
	assert_equal "$(sql "SELECT count(*) FROM printers_printer WHERE id = (SELECT printer_id FROM portal_printjob WHERE file_name = 'early.gcode')")" 1
	for ((i = 0; i < 60; i++)); do
		run "$PM_ROOT/pipelines/staged" -s "$db" -t "$db" -w work --chunk 1000 --plan plan/portal.plan
		assert_success
		[[ $output != *"staged: done"* ]] || break
	done
	assert_output --partial 'staged: done'
	grep -q 'printjobs: moved ids' work/staged.log
	sleep 0.5 # the writer keeps writing after done: the triggers carry it
	kill -TERM "$writer"
	wait "$writer" || true
	writer=''
	# No transaction of the site's failed: each would be a write lost.
	run grep -iE 'error|abort' writer.log
	assert_failure
	[ "$(sql "SELECT count(*) FROM portal_printjob WHERE file_name LIKE 'new %'")" -gt 20 ]
	run -0 "$PM_ROOT/pipelines/verify" -s "$db" -t "$db" -w v --plan plan/portal.plan
	assert_line 'verify: no differences (reports in v)'
	assert_portal_moved
	assert_jobs_moved
	run -0 "$PM_ROOT/pipelines/compat" remove -d "$db" --plan plan/portal.plan
	assert_equal "$(sql "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pm_compat%'")" 0
	assert_equal "$(sql "SELECT count(*) FROM pg_proc WHERE proname LIKE 'compat_%'")" 0
}
