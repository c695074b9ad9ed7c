# pm-transform: values checked as PostgreSQL would take them, rejects with reasons, key maps, determinism.
load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf 'old_key,new_key\n10,1\n20,2\n30,3\n' | gzip -1 >keys.gz
}

# A one-column mapping of type $1, and a stream of the values given one per line.
one_column() {
	printf 'target t\ncolumn v %s null\n' "$1" >one.map
	shift
	{ echo v; printf '%s\n' "$@"; } >one.csv
}

@test "valid values of every type pass and are normalised" {
	one_column integer ' 42 ' '-2147483648' '+7' '0012'
	run -0 pm-transform -m one.map -i one.csv -o out.gz
	assert_equal "$(zcat out.gz | tr '\n' ' ')" 'v 42 -2147483648 7 12 '
	one_column smallint 32767 -32768
	run -0 pm-transform -m one.map -i one.csv -o out.gz
	one_column bigint 9223372036854775807 -9223372036854775808
	run -0 pm-transform -m one.map -i one.csv -o out.gz
	assert_equal "$(zcat out.gz | tr '\n' ' ')" 'v 9223372036854775807 -9223372036854775808 '
	one_column boolean t f TRUE False 1 0 yes NO on Off ' y '
	run -0 pm-transform -m one.map -i one.csv -o out.gz
	assert_equal "$(zcat out.gz | tr '\n' ' ')" 'v t f t f t f t f t f t '
}

@test "invalid values of every type are rejected with the reason" {
	while IFS='|' read -r type good bad reason; do
		one_column "$type" "$good" "$bad"
		run -0 pm-transform -m one.map -i one.csv -o out.gz --rejects rej.gz --max-rejects 1
		assert_equal "$(zcat out.gz | wc -l)" 2
		run -0 zcat rej.gz
		assert_line --index 0 'v,pm_record,pm_column,pm_reason'
		assert_line --index 1 --partial ",2,v,$reason"
	done <<-CASES
		integer|1|2147483648|out of range for integer
		integer|-1|12a|not a whole number
		integer|0| |not a whole number
		smallint|-32768|32768|out of range for smallint
		bigint|1|9223372036854775808|out of range for bigint
		integer|1|--5|not a whole number
		integer|1| 99999999999 |out of range for integer
		boolean|t|maybe|not a boolean
		boolean|f|tru|not a boolean
		varchar(3)|abc|abcd|too long
		text|fine|$(printf '\xff')|invalid UTF-8
	CASES
}

@test "varchar counts characters of UTF-8: 200 two-byte letters pass varchar(200), 201 fail" {
	one_column 'varchar(200)' "$(printf 'é%.0s' $(seq 200))" "$(printf 'é%.0s' $(seq 201))"
	run -0 pm-transform -m one.map -i one.csv -o out.gz --rejects rej.gz --max-rejects 1
	assert_equal "$(zcat out.gz | tail -n 1)" "$(printf 'é%.0s' $(seq 200))"
	assert_equal "$(zcat rej.gz | tail -n 1 | cut -d, -f2-)" '2,v,too long'
}

@test "NULL and the empty string stay apart; NOT NULL rejects NULL" {
	printf 'target t\ncolumn a text null\ncolumn b text not-null\n' >m.map
	printf 'a,b\n,""\n"",x\n"",\n' >in.csv
	run -0 pm-transform -m m.map -i in.csv -o out.gz --rejects rej.gz --max-rejects 1
	assert_equal "$(zcat out.gz)" "$(printf 'a,b\n,""\n"",x')"
	assert_equal "$(zcat rej.gz | tail -n 1)" '"",,3,b,NULL in a NOT NULL column'
}

@test "printers: profile_id re-pointed through the key map; NULL stays NULL; a missing key is a reject" {
	printf 'ip_address,api_key,id,ping,printing,profile_id\n10.0.0.1,k1,1,t,f,10\n::1,k2,2,f,f,\nhttp://farm.local:5000,k3,3,t,t,30\n10.0.0.4,k4,4,f,f,99\n' >p.csv
	run -0 pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap profile=keys.gz -i p.csv -o out.gz \
		--rejects rej.gz --max-rejects 1
	assert_equal "$(zcat out.gz)" "$(printf 'id,profile_id,ip_address,api_key,ping,printing\n1,1,10.0.0.1,k1,t,f\n2,,::1,k2,f,f\n3,3,http://farm.local:5000,k3,t,t')"
	assert_equal "$(zcat rej.gz | tail -n 1)" '10.0.0.4,k4,4,f,f,99,4,profile_id,99 is not in key map profile'
	assert_output --partial 'printers_printer: 4 records: 3 written, 1 rejected, 0 warnings'
}

@test "ip_address that is neither an IP nor a URL moves with a warning naming record and column" {
	printf 'ip_address,api_key,id,ping,printing,profile_id\nfarm-printer-7,secretkey,1,t,f,\n[::1]:80,k,2,f,f,\nhttp://[2001:db8::1]:5000/x,k2,3,f,f,\nftp:/x,k3,4,f,f,\nfe80::1%%eth0,k4,5,f,f,\n' >p.csv
	run -0 pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap profile=keys.gz -i p.csv -o out.gz
	assert_line 'pm-transform: p.csv: record 1: column "ip_address": warning: not an IP address or a URL with a scheme and a host'
	assert_line --partial 'record 2: column "ip_address": warning'
	refute_line --partial 'record 3:'
	assert_line --partial 'record 4: column "ip_address": warning'
	refute_output --partial secretkey
	refute_line --partial 'record 5:'
	assert_equal "$(zcat out.gz | wc -l)" 6
}

@test "more rejects than --max-rejects stop the run with exit 1 and leave no output" {
	one_column integer 1 x y
	run -1 pm-transform -m one.map -i one.csv -o out.gz --rejects rej.gz --max-rejects 1
	assert_output --partial 'one.csv: record 3: column "v": not a whole number; more than 1 rejects, stopping'
	# The output is gone; the rejects so far stay, the one that crossed the limit included.
	assert_equal "$(ls)" "$(printf 'keys.gz\none.csv\none.map\nrej.gz' | sort)"
	assert_equal "$(zcat rej.gz | cut -d, -f2- | tr '\n' ' ')" 'pm_record,pm_column,pm_reason 2,v,not a whole number 3,v,not a whole number '
	run -2 pm-transform -m one.map -i one.csv --rejects -
	assert_output --partial '--rejects needs a file of its own'
	run -1 pm-transform -m one.map -i one.csv -o out.gz
	assert_output --partial 'record 2: column "v"'
}

@test "the same input twice gives the same bytes" {
	printf 'ip_address,api_key,id,ping,printing,profile_id\n10.0.0.1,k1,1,t,f,10\n::1,"a,b",2,f,f,\n' >p.csv
	pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap profile=keys.gz -i p.csv -o a.gz
	pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap profile=keys.gz <p.csv >b.gz
	cmp a.gz b.gz
}

@test "a malformed mapping file names its line; an unknown source column names the column" {
	printf 'target t\ncolumn a integer null\ncolumn b nosuchtype null\n' >bad.map
	run -2 pm-transform -m bad.map -i /dev/null
	assert_output 'pm-transform: bad.map:3: unknown type "nosuchtype"'
	printf 'column a integer\n' >bad2.map
	run -2 pm-transform -m bad2.map
	assert_output 'pm-transform: bad2.map:1: column needs null or not-null'
	printf 'target t\ncolumn a integer null from "unterminated\n' >bad3.map
	run -2 pm-transform -m bad3.map
	assert_output 'pm-transform: bad3.map:2: unterminated quote'
	printf 'target t\ncolumn a integer null from nosuch\n' >ok.map
	printf 'a\n1\n' >in.csv
	run -3 pm-transform -m ok.map -i in.csv -o out.gz
	assert_output 'pm-transform: in.csv: header: no column "nosuch" (ok.map:2, column a)'
	[ ! -e out.gz ]
	printf 'ip_address,api_key,id,ping,printing,profile_id\n' >p.csv
	run -2 pm-transform -m "$PM_ROOT/schemas/printer.map" -i p.csv
	assert_output 'pm-transform: '"$PM_ROOT"'/schemas/printer.map:9: column profile_id needs --keymap profile=FILE'
}

@test "a key map with a repeated old key or a bad header is refused" {
	printf 'old_key,new_key\n1,2\n1,3\n' >dup.csv
	one_column integer 1
	run -3 pm-transform -m one.map --keymap k=dup.csv -i one.csv
	assert_output --partial 'key map k: old key 1 appears twice'
	printf 'old,new\n1,2\n' >hdr.csv
	run -3 pm-transform -m one.map --keymap k=hdr.csv -i one.csv
	assert_output --partial 'the header must be old_key,new_key'
}

@test "a key map that gives a value out of the column's range is a reject" {
	printf 'old_key,new_key\n1,99999\n' >big.csv
	printf 'target t\ncolumn p smallint null keymap k\n' >s.map
	printf 'p\n1\n' >in.csv
	run -1 pm-transform -m s.map --keymap k=big.csv -i in.csv -o out.gz
	assert_output --partial 'record 1: column "p": key map k gives 99999, out of range for the column'
	run -2 pm-transform -m s.map --keymap k=big.csv --keymap k=big.csv -i in.csv
	assert_output --partial '--keymap: k given twice'
}

@test "constants are checked when the mapping is read; empty names are refused" {
	printf 'target t\ncolumn a integer null const x\n' >c.map
	run -2 pm-transform -m c.map
	assert_output 'pm-transform: c.map:2: not a whole number "x"'
	printf 'target t\ncolumn a integer not-null const-null\n' >n.map
	run -2 pm-transform -m n.map
	assert_output 'pm-transform: n.map:2: const-null in a not-null column: "a"'
	printf 'target t\ncolumn "" integer null\n' >e.map
	run -2 pm-transform -m e.map
	assert_output 'pm-transform: e.map:2: a column name cannot be empty'
	printf 'target t\ncolumn a integer null const 7\ncolumn b text null\n' >ok.map
	printf 'b\nx\n' >in.csv
	run -0 pm-transform -m ok.map -i in.csv -o out.gz
	assert_equal "$(zcat out.gz | tail -n 1)" '7,x'
}

@test "an input header naming a column twice is refused" {
	printf 'target t\ncolumn a integer null\n' >a.map
	printf 'a,a\n1,2\n' >in.csv
	run -3 pm-transform -m a.map -i in.csv -o out.gz
	assert_output 'pm-transform: in.csv: header: column "a" appears twice'
}
