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
