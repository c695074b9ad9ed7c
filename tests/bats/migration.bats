# The plan's move end to end on a generated portal database: profiles with new ids and a key map,
# printers re-pointed through it; checked by plain SQL, not by pm.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	"$PM_ROOT/scripts/generate-portal" --profiles 300 --printers 1500 --targets 2>/dev/null
}

move_all() {
	set -o pipefail
	pm-extract -t portal_profile | pm-transform -m "$PM_ROOT/schemas/profile.map" |
		pm-load -t accounts_profile --new-ids id --keymap profile --keymap-out keys.gz
	pm-extract -t portal_printer |
		pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap profile=keys.gz 2>warnings |
		pm-load -t printers_printer
}

@test "every profile and printer arrives, each printer owned by the same profile" {
	before=$(table_digest portal_profile)$(table_digest portal_printer)
	move_all
	assert_portal_moved
	# Sequences ahead of the data: the site's next printer and profile get new ids.
	run -0 sql "INSERT INTO printers_printer (ip_address, api_key, ping, printing) VALUES ('10.9.9.9', 'new', false, false) RETURNING id > (SELECT max(id) FROM portal_printer)"
	assert_output t
	# The source is untouched.
	assert_equal "$(table_digest portal_profile)$(table_digest portal_printer)" "$before"
}

@test "a printer whose profile is missing from the key map stops the move, and nothing of it is loaded" {
	pm-extract -t portal_profile | pm-transform -m "$PM_ROOT/schemas/profile.map" |
		pm-load -t accounts_profile --new-ids id --keymap profile --keymap-out keys.gz
	# Drop one owner from the key map stream.
	owner=$(sql 'SELECT min(profile_id) FROM portal_printer')
	zcat keys.gz | grep -v "^$owner," | gzip -1 >partial.gz
	run -1 bash -c "set -o pipefail; pm-extract -t portal_printer |
		pm-transform -m '$PM_ROOT/schemas/printer.map' --keymap profile=partial.gz 2>&1 >/dev/null |
		grep -v warning"
	assert_output --partial "$owner is not in key map profile; more than 0 rejects, stopping"
	run -3 bash -c "set -o pipefail; pm-extract -t portal_printer |
		pm-transform -m '$PM_ROOT/schemas/printer.map' --keymap profile=partial.gz 2>/dev/null |
		pm-load -t printers_printer"
	assert_output --regexp 'pm-load: stdin: (.*truncated stream|empty stream)'
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 0
}
