# Table and column names with quotes, spaces and commas work; no name or value ever runs as SQL.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	sql 'CREATE SCHEMA "odd schema"'
	sql 'CREATE TABLE "odd schema"."my ""odd"" table" (id int PRIMARY KEY, "a ""b"", c" text, "sp ace" int)'
	sql $'INSERT INTO "odd schema"."my ""odd"" table" VALUES (1, \'x\', 1), (2, NULL, NULL)'
	sql 'CREATE TABLE victim (id int); INSERT INTO victim VALUES (42)'
}

victim_intact() {
	assert_equal "$(sql 'SELECT count(*) FROM victim')" 1
}

@test "names with quotes, spaces and commas round-trip" {
	run -0 pm-extract -n 'odd schema' -t 'my "odd" table' -c 'id,"a ""b"", c",sp ace' -o x.gz
	run -0 zcat x.gz
	assert_line --index 0 'id,"a ""b"", c",sp ace'
	sql 'CREATE TABLE "copy ""of"" it" (LIKE "odd schema"."my ""odd"" table")'
	run -0 pm-load -t 'copy "of" it' -i x.gz
	assert_equal "$(sql 'SELECT count(*) FROM (SELECT * FROM "odd schema"."my ""odd"" table" EXCEPT SELECT * FROM "copy ""of"" it") x')" 0
	assert_equal "$(sql 'SELECT count(*) FROM "copy ""of"" it"')" 2
}

@test "injection through -t, -n, -c, --order-by and --after runs no SQL" {
	run -4 pm-extract -t 'victim; DROP TABLE victim; --'
	assert_output --partial 'does not exist'
	run -4 pm-extract -n 'public; DROP TABLE victim; --' -t victim
	assert_output --partial 'does not exist'
	run -2 pm-extract -t victim -c 'id) FROM victim; DROP TABLE victim; --'
	assert_output --partial 'no column'
	run -2 pm-extract -t victim --order-by 'id; DROP TABLE victim'
	assert_output --partial 'no column'
	run -4 pm-extract -t victim --order-by id --after "1'); DROP TABLE victim; --"
	assert_output --partial 'invalid input syntax for type integer'
	victim_intact
}

@test "--where is one statement: a second one never runs" {
	run -4 pm-extract -t victim --where 'true) TO STDOUT; DROP TABLE victim; COPY (SELECT 1'
	victim_intact
}

@test "injection through pm-load's table, header, key and key map names runs no SQL" {
	printf 'id\n1\n' >ok.csv
	run -4 pm-load -t 'victim; DROP TABLE victim; --' -i ok.csv
	printf 'id,"x""); DROP TABLE victim; --"\n1,2\n' >evil.csv
	run -3 pm-load -t victim -i evil.csv
	assert_output --partial 'is not in table victim'
	run -2 pm-load -t victim -i ok.csv --mode upsert --key 'id); DROP TABLE victim; --'
	sql 'CREATE TABLE prof (id bigserial PRIMARY KEY, name text)'
	printf 'id,name\n7,x\n' >prof.csv
	run -0 pm-load -t prof -i prof.csv --new-ids id --keymap 'x"; DROP TABLE victim; --'
	assert_equal "$(sql 'SELECT count(*) FROM pm."keymap_x""; DROP TABLE victim; --"')" 1
	victim_intact
}
