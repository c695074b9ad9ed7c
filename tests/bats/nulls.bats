# Reading a stream outside pm with NULL kept apart from '': pm-mark-nulls for readers that cannot
# (Python's csv, checked here as the real reader), and the rejects stream's column order.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	sql "CREATE TABLE awkward (id integer PRIMARY KEY, a text, b text, c varchar(20))"
	sql "INSERT INTO awkward VALUES (1, NULL, '', 'x'), (2, '', NULL, NULL), (3, 'say \"hi\", then', E'two\\nlines', ''),
		(4, 'Zoë ☃', ' spaced ', NULL), (5, NULL, NULL, NULL), (6, '', '', '')"
}

# Python's csv module reads the marked stream; each value as JSON, NULL (the marker) as null.
python_read() { # file marker
	python3 -c '
import csv, gzip, json, sys
with gzip.open(sys.argv[1], "rt", newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        print(json.dumps({k: None if v == sys.argv[2] else v for k, v in row.items()}, ensure_ascii=False))' "$1" "$2"
}
# The same values from the database, each row as JSON.
sql_rows() {
	sql "SELECT json_build_object('id', id::text, 'a', a, 'b', b, 'c', c) FROM awkward ORDER BY id"
}

@test "a table's stream marked reads back in Python's csv exactly as the table: NULL as None, '' as ''" {
	pm-extract -t awkward -o awkward.csv.gz
	run -0 pm-mark-nulls --null '\N' -i awkward.csv.gz -o marked.csv.gz -v
	assert_output 'pm-mark-nulls: 6 records'
	run -0 python_read marked.csv.gz '\N'
	assert_equal "$output" "$(python3 -c '
import json, sys
for line in sys.stdin:
    print(json.dumps(json.loads(line), ensure_ascii=False))' < <(sql_rows))"
	# Without the marker, Python reads NULL and '' alike: what the tool is for.
	run -0 python_read awkward.csv.gz '\N'
	refute_output --partial null
	# Only NULLs change: the fields that are not NULL are byte for byte as they were.
	assert_equal "$(zcat marked.csv.gz | sed 's/\\N//g' | md5sum)" "$(zcat awkward.csv.gz | md5sum)"
}

@test "a value that is the marker stops the copy, exit 3, and leaves no output" {
	sql "INSERT INTO awkward VALUES (7, 'ok', 'NULL', NULL)"
	pm-extract -t awkward -o awkward.csv.gz
	run -3 pm-mark-nulls --null NULL -i awkward.csv.gz -o marked.csv.gz
	assert_output 'pm-mark-nulls: awkward.csv.gz: record 7: column "b" holds the marker "NULL" as its value, which would read as NULL: choose another --null'
	[ ! -e marked.csv.gz ]
	run -0 find . -name 'marked.csv.gz*'
	assert_output ''
	# Another marker copies it.
	run -0 pm-mark-nulls --null '\N' -i awkward.csv.gz -o marked.csv.gz
	assert_equal "$(zcat marked.csv.gz | tail -n 1)" '7,ok,NULL,\N'
}

@test "pm-mark-nulls: usage errors are exit 2 with a message; through pm it is pm mark-nulls" {
	pm-extract -t awkward -o awkward.csv.gz
	run -2 pm-mark-nulls -i awkward.csv.gz
	assert_output --partial 'usage: pm-mark-nulls --null marker'
	run -2 pm-mark-nulls --null '' -i awkward.csv.gz
	assert_output 'pm-mark-nulls: --null: the marker is empty; give a text no value holds, such as \N'
	run -3 pm-mark-nulls --null x -i /dev/null
	assert_output --partial 'empty stream: no header'
	run -0 "$PM_ROOT/bin/pm" mark-nulls --null '\N' -i awkward.csv.gz
	assert_equal "$("$PM_ROOT/bin/pm" mark-nulls --null '\N' -i awkward.csv.gz | zcat | sed -n 2p)" '1,\N,"",x'
	run -0 "$PM_ROOT/bin/pm" --help
	assert_line --regexp '^  mark-nulls +pm-mark-nulls: '
}

@test "the rejects stream has the input's columns in their order, then pm_record, pm_column, pm_reason" {
	"$PM_ROOT/scripts/generate-portal" --profiles 20 --printers 50 2>/dev/null
	pm-extract -t portal_printer -o printers.csv.gz
	# A key map without the first owner: its printers are rejects.
	owner=$(sql 'SELECT min(profile_id) FROM portal_printer')
	sql "SELECT 'old_key,new_key' UNION ALL (SELECT id || ',' || id FROM portal_profile WHERE id <> $owner ORDER BY id)" | gzip >keys.gz
	run -0 pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap profile=keys.gz -i printers.csv.gz -o out.gz \
		--rejects rejects.gz --max-rejects 1000
	assert_equal "$(zcat rejects.gz | head -n 1)" "$(zcat printers.csv.gz | head -n 1),pm_record,pm_column,pm_reason"
	# Each reject is its input record as read, then its number, column and reason (Python's csv
	# reads both streams: a value may hold a line break).
	run -0 python3 -c '
import csv, gzip, sys
data = list(csv.reader(gzip.open("printers.csv.gz", "rt", newline="")))
rejects = list(csv.reader(gzip.open("rejects.gz", "rt", newline="")))[1:]
assert rejects, "no rejects"
for r in rejects:
    assert r[:-3] == data[int(r[-3])], r
    assert r[-2:] == ["profile_id", sys.argv[1] + " is not in key map profile"], r
print(len(rejects))' "$owner"
	assert_output "$(sql "SELECT count(*) FROM portal_printer WHERE profile_id = $owner")"
}
