#!/usr/bin/env bats
# The migration plan (pm-plan(5)) and its reader, pm-plan: what the pipelines are told, and every
# malformed plan refused with its file and line before anything is done.
load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	mkdir plan
	cp "$PM_ROOT"/schemas/*.map "$PM_ROOT"/schemas/*.sql plan/
}

# bad_plan LINES... : plan/bad.plan holds the lines
bad_plan() {
	printf '%s\n' "$@" >plan/bad.plan
}

@test "the shipped plan: profiles with new ids and their key map, then printers reading it" {
	run -0 pm-plan -p "$PM_ROOT/schemas/portal.plan" moves
	s=$PM_ROOT/schemas
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 "$(printf '%s\t' profiles portal_profile accounts_profile "$s/profile.map" id new profile - \
		accounts.0002_migrate_profile_data)$s/accounts_profile.sql"
	assert_line --index 1 "$(printf '%s\t' printers portal_printer printers_printer "$s/printer.map" id kept - profile_id:profile \
		printers.0002_migrate_printer_data)$s/printers_printer.sql"
	run -0 pm-plan -p "$PM_ROOT/schemas/portal.plan" columns printers
	assert_line --index 1 "$(printf '%s\t' profile_id bigint null profile_id -)profile"
	assert_line --index 2 "$(printf '%s\t' ip_address 'varchar(255)' not-null ip_address -)-"
	run -0 pm-plan -p "$PM_ROOT/schemas/portal.plan" check
	assert_output ''
}

@test "mapping files are found beside the plan; a relative plan path keeps them relative" {
	bad_plan 'move profiles portal_profile profile.map key id new-ids keymap profile'
	run -0 pm-plan -p plan/bad.plan moves
	assert_output "$(printf '%s\t' profiles portal_profile accounts_profile plan/profile.map id new profile - -)plan/accounts_profile.sql"
}

@test "a malformed plan is a usage error naming its file and line" {
	check_bad() { # message plan-lines...
		local message=$1
		shift
		bad_plan "$@"
		run -2 pm-plan -p plan/bad.plan moves
		assert_output "pm-plan: $message"
	}
	p='move profiles portal_profile profile.map key id new-ids keymap profile'
	check_bad 'plan/bad.plan:1: unknown directive "table"' 'table x'
	check_bad 'plan/bad.plan: no move lines' '# nothing'
	check_bad 'plan/bad.plan:1: new-ids needs keymap NAME' 'move profiles portal_profile profile.map key id new-ids'
	check_bad 'plan/bad.plan:1: expected new-ids or kept-ids, not "fresh"' 'move profiles portal_profile profile.map key id fresh'
	check_bad 'plan/bad.plan:1: expected key COLUMN after the mapping file, not "id"' 'move profiles portal_profile profile.map id id kept-ids'
	check_bad 'plan/bad.plan:1: the key is no column of the mapping file: "pk"' 'move profiles portal_profile profile.map key pk kept-ids'
	check_bad 'plan/bad.plan:1: the key must be a not-null integer column: "name"' 'move profiles portal_profile profile.map key name kept-ids'
	check_bad 'plan/bad.plan:2: a second move named "profiles"' "$p" 'move profiles portal_printer printer.map key id kept-ids'
	check_bad 'plan/bad.plan:2: a second move from "portal_profile"' "$p" 'move again portal_profile printer.map key id kept-ids'
	check_bad 'plan/bad.plan:2: a second move into "accounts_profile"' "$p" 'move again portal_printer profile.map key id kept-ids'
	check_bad 'plan/bad.plan:2: a second move records the key map "profile"' "$p" 'move printers portal_printer printer.map key id new-ids keymap profile'
	# Dependency order: a key map is read only after the move that records it.
	check_bad 'plan/bad.plan:1: no earlier move records the key map its mapping file reads: "profile"' \
		'move printers portal_printer printer.map key id kept-ids' "$p"
	check_bad 'plan/bad.plan:1: a move'"'"'s name must be a plain name (a-z, 0-9, _) of at most 52 bytes: "Profiles"' \
		'move Profiles portal_profile profile.map key id kept-ids'
	check_bad 'plan/bad.plan:1: the source must be a plain table name (a-z, 0-9, _): "x;drop"' \
		'move profiles x;drop profile.map key id kept-ids'
	check_bad 'plan/bad.plan:1: not a Django migration APP.NAME: "0002"' "$p replaces 0002"
	# A reserved key word would break the pipelines' SQL.
	check_bad 'plan/bad.plan:1: the source must be a plain table name (a-z, 0-9, _): "user"' \
		'move profiles user profile.map key id kept-ids'
	check_bad 'plan/bad.plan:1: a move'"'"'s name must be a plain name (a-z, 0-9, _) of at most 52 bytes: "order"' \
		'move order portal_profile profile.map key id kept-ids'

	check_bad 'plan/bad.plan:1: unknown word "because"' "$p because"
	check_bad 'plan/nosuch.map: No such file or directory' 'move profiles portal_profile nosuch.map key id kept-ids'
	sed -i 's/^target accounts_profile$/target "Accounts Profile"/' plan/profile.map
	check_bad 'plan/bad.plan:1: the mapping file'"'"'s target must be a plain table name (a-z, 0-9, _): "Accounts Profile"' "$p"
	run -2 pm-plan -p plan/nosuch.plan moves
	assert_output 'pm-plan: plan/nosuch.plan: No such file or directory'
	run -2 pm-plan -p "$PM_ROOT/schemas/portal.plan" columns nosuch
	assert_output "pm-plan: $PM_ROOT/schemas/portal.plan: no move named \"nosuch\""
	run -2 pm-plan moves
	assert_line --index 0 'usage: pm-plan -p plan check'
}

@test "every pipeline refuses a malformed plan before it touches anything" {
	fresh_db
	"$PM_ROOT/scripts/generate-portal" --profiles 5 --printers 5 >/dev/null 2>&1
	before=$(table_digest portal_profile)$(table_digest portal_printer)
	bad_plan 'move printers portal_printer printer.map key id kept-ids'
	db="dbname=$PGDATABASE"
	for cmd in "migrate -s $db -t $db -w work" "verify -s $db -t $db -w out"; do
		# shellcheck disable=SC2086 # the words of cmd
		run -2 "$PM_ROOT/pipelines/${cmd%% *}" ${cmd#* } --plan plan/bad.plan
		assert_output 'pm-plan: plan/bad.plan:1: no earlier move records the key map its mapping file reads: "profile"'
	done
	[ ! -e work ] && [ ! -e out ]
	assert_equal "$(table_digest portal_profile)$(table_digest portal_printer)" "$before"
	assert_equal "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'pm'")" 0
}

@test "valgrind: pm-plan reads, prints and refuses plans with no invalid access and no leak" {
	run -0 "$PM_ROOT/tests/valgrind" "$PM_ROOT/build/bin/pm-plan" -p "$PM_ROOT/schemas/portal.plan" moves
	assert_equal "${#lines[@]}" 2
	run -0 "$PM_ROOT/tests/valgrind" "$PM_ROOT/build/bin/pm-plan" -p "$PM_ROOT/schemas/portal.plan" columns printers
	assert_equal "${#lines[@]}" 6
	run -0 "$PM_ROOT/tests/valgrind" "$PM_ROOT/build/bin/pm-plan" -p "$PM_ROOT/schemas/portal.plan" compat install \
		--reference printers.ip_address=printers
	assert_line '        PERFORM pm.compat_ref_printers(NEW.ip_address);'
	run -0 "$PM_ROOT/tests/valgrind" "$PM_ROOT/build/bin/pm-plan" -p "$PM_ROOT/schemas/portal.plan" compat remove
	run -2 "$PM_ROOT/tests/valgrind" "$PM_ROOT/build/bin/pm-plan" -p "$PM_ROOT/schemas/portal.plan" compat install \
		--reference printers.nosuch=printers
	assert_output 'pm-plan: --reference: "printers.nosuch=printers": no column "nosuch" of move printers that comes from a source column as it is'
	bad_plan 'move printers portal_printer printer.map key id kept-ids'
	run -2 "$PM_ROOT/tests/valgrind" "$PM_ROOT/build/bin/pm-plan" -p plan/bad.plan moves
	assert_output --partial 'no earlier move records the key map'
}

@test "a plan the pipelines could not carry out is refused too: reserved names, long key maps, odd paths, a constant key" {
	p='move profiles portal_profile profile.map key id new-ids keymap profile'
	bad_plan 'move verify portal_profile profile.map key id kept-ids'
	run -2 pm-plan -p plan/bad.plan check
	assert_output 'pm-plan: plan/bad.plan:1: a move cannot take the name of a pipeline'"'"'s own stage: "verify"'
	long=$(printf 'k%.0s' {1..53})
	bad_plan "move profiles portal_profile profile.map key id new-ids keymap $long"
	run -2 pm-plan -p plan/bad.plan check
	assert_output "pm-plan: plan/bad.plan:1: a key map's name must be a plain name (a-z, 0-9, _) of at most 52 bytes: \"$long\""
	bad_plan "move profiles portal_profile profile.map key id new-ids keymap ${long%k}"
	run -0 pm-plan -p plan/bad.plan check
	bad_plan 'move profiles portal_profile "" key id kept-ids'
	run -2 pm-plan -p plan/bad.plan check
	assert_output 'pm-plan: plan/bad.plan:1: a mapping file'"'"'s name cannot be empty or hold a tab or a line break: ""'
	cp plan/bad.plan "plan/a	b.plan"
	run -2 pm-plan -p "plan/a	b.plan" check
	assert_output "pm-plan: a plan's path cannot be empty or hold a tab or a line break"
	sed -i 's/^column id  *bigint  *not-null$/column id bigint not-null const 5/' plan/profile.map
	bad_plan "$p"
	run -2 pm-plan -p plan/bad.plan check
	assert_output 'pm-plan: plan/bad.plan:1: the key must keep its name in the mapping file (no from, no const): "id"'
	# The command is checked before the plan is read.
	run -2 pm-plan -p plan/nosuch.plan frobnicate
	assert_line --index 0 'usage: pm-plan -p plan check'
}

@test "compat install --reference: each MOVE.COLUMN=MOVE checked against the plan" {
	p=$PM_ROOT/schemas/portal.plan
	run -2 pm-plan -p "$p" compat install --reference printers
	assert_output 'pm-plan: --reference: "printers" is not MOVE.COLUMN=MOVE'
	run -2 pm-plan -p "$p" compat install --reference jobs.printer_id=printers
	assert_output 'pm-plan: --reference: "jobs.printer_id=printers": the plan has no move "jobs"'
	run -2 pm-plan -p "$p" compat install --reference printers.profile_id=printers
	assert_output 'pm-plan: --reference: "printers.profile_id=printers": column "profile_id" goes through key map profile, which moves what it points at'
	run -2 pm-plan -p "$p" compat install --reference printers.id=printers
	assert_output 'pm-plan: --reference: "printers.id=printers": the key of move printers points at no other row'
	run -2 pm-plan -p "$p" compat install --reference printers.ip_address=profiles
	assert_output 'pm-plan: --reference: "printers.ip_address=profiles": move profiles takes new ids: its references go through its key map'
	run -2 pm-plan -p "$p" compat install --refs printers.ip_address=printers
	assert_line --index 0 'usage: pm-plan -p plan check'
	run -2 pm-plan -p "$p" compat remove --reference printers.ip_address=printers
}
