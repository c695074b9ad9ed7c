# Shared by every bats suite: the tools under test, a fresh database per test, SQL helpers.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

PM_ROOT=${PM_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
PM_BIN=${PM_BIN:-$PM_ROOT/build/bin}
PATH=$PM_BIN:$PATH
FIXTURES=$PM_ROOT/tests/fixtures

# Every test gets its own empty database, named after the test file and number.
fresh_db() {
	local name
	name="pm_$(basename "$BATS_TEST_FILENAME" .bats)_${BATS_TEST_NUMBER}"
	export PGDATABASE=${name//-/_}
	dropdb --if-exists "$PGDATABASE" 2>/dev/null
	createdb "$PGDATABASE"
}

# Run SQL; fails the test on any error.  Output unaligned, tuples only.
sql() {
	psql -X -q -v ON_ERROR_STOP=1 -A -t -c "$1"
}

sql_file() {
	psql -X -q -v ON_ERROR_STOP=1 -f "$1" >/dev/null
}

# An order-independent fingerprint of a table's whole content.
table_digest() {
	sql "SELECT md5(string_agg(r::text, E'\\n' ORDER BY r::text)) || ' ' || count(*) FROM $1 r"
}

# The plan's move, checked in plain SQL, independent of pm: every profile arrived with its content
# under its new id, every printer with its values and the new id of the same old profile as owner;
# owners whose profile has no user are kept, and printers without a profile stay so.
assert_portal_moved() {
	assert_equal "$(sql 'SELECT count(*) FROM accounts_profile')" "$(sql 'SELECT count(*) FROM portal_profile')"
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" "$(sql 'SELECT count(*) FROM portal_printer')"
	# Profiles: same content under their new ids.
	assert_equal "$(sql "SELECT count(*) FROM portal_profile p JOIN pm.keymap_profile k ON k.old_key = p.id
		JOIN accounts_profile a ON a.id = k.new_key
		WHERE (p.user_id, p.name, p.email, p.username, p.organization)
		      IS NOT DISTINCT FROM (a.user_id, a.name, a.email, a.username, a.organization)")" \
		"$(sql 'SELECT count(*) FROM portal_profile')"
	# Printers: same ids and values; the owner is the new id of the same old profile.
	assert_equal "$(sql "SELECT count(*) FROM portal_printer o LEFT JOIN pm.keymap_profile k ON k.old_key = o.profile_id
		JOIN printers_printer n ON n.id = o.id
		WHERE (o.ip_address, o.api_key, o.ping, o.printing, k.new_key)
		      IS NOT DISTINCT FROM (n.ip_address, n.api_key, n.ping, n.printing, n.profile_id)")" \
		"$(sql 'SELECT count(*) FROM portal_printer')"
	# The origin project's bug: owners whose profile has no user are kept, and NULL owners stay NULL.
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer n JOIN accounts_profile a ON a.id = n.profile_id WHERE a.user_id IS NULL')" \
		"$(sql 'SELECT count(*) FROM portal_printer o JOIN portal_profile p ON p.id = o.profile_id WHERE p.user_id IS NULL')"
	[ "$(sql 'SELECT count(*) FROM printers_printer n JOIN accounts_profile a ON a.id = n.profile_id WHERE a.user_id IS NULL')" -gt 0 ]
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer WHERE profile_id IS NULL')" \
		"$(sql 'SELECT count(*) FROM portal_printer WHERE profile_id IS NULL')"
}

# wait_for SQL VALUE: until SQL gives VALUE; a minute at most, so that a hang fails the test.
wait_for() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[[ $(sql "$1") == "$2" ]] && return 0
		sleep 0.02
	done
	echo "waited in vain for $1 to be $2" >&2
	return 1
}

# kill_staged_steps N CHUNK: N steps of pipelines/staged on one database ($db, WORKDIR $work), each
# killed with SIGKILL at a random moment: every other one as a whole process group (a crash), else
# the step's shell alone (its pipe runs on without it).
kill_staged_steps() {
	local i pid
	for ((i = 0; i < $1; i++)); do
		setsid "$PM_ROOT/pipelines/staged" -s "$db" -t "$db" -w "$work" --chunk "$2" >/dev/null 2>&1 &
		pid=$!
		sleep "0.$((RANDOM % 60))"
		if ((i % 2)); then kill -9 -- "-$pid" 2>/dev/null || true; else kill -9 "$pid" 2>/dev/null || true; fi
		wait "$pid" || true
		# A load that outlives its shell keeps the step lock until it ends.
		[[ ! -e $work/staged.lock ]] || flock -w 60 "$work/staged.lock" true
	done
}
