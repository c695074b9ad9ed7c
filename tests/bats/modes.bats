# Loads into tables that already hold rows: insert, upsert, skip; sequences; new ids and the key map.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	sql "CREATE TABLE t (id serial PRIMARY KEY, name text, flag boolean NOT NULL)"
	sql "INSERT INTO t (id, name, flag) VALUES (1, 'one', true), (2, 'two', false)"
	printf 'id,name,flag\n2,TWO,true\n3,three,false\n' >batch.csv
}

@test "insert mode fails whole on a duplicate key and names the record" {
	before=$(table_digest t)
	run -3 pm-load -t t -i batch.csv
	assert_output --partial 't: record 1: duplicate key value violates unique constraint "t_pkey"'
	refute_output --partial 'Key (id)'
	assert_equal "$(table_digest t)" "$before"
}

@test "upsert updates changed rows, inserts new ones, and the same upsert again changes nothing" {
	run -0 pm-load -v -t t -i batch.csv --mode upsert
	assert_output 'pm-load: t: 2 records: 1 inserted, 1 updated, 0 unchanged'
	assert_equal "$(sql "SELECT string_agg(id || ':' || name || ':' || flag, ' ' ORDER BY id) FROM t")" \
		'1:one:true 2:TWO:true 3:three:false'
	versions=$(sql "SELECT string_agg(id || ':' || xmin, ' ' ORDER BY id) FROM t")
	run -0 pm-load -v -t t -i batch.csv --mode upsert
	assert_output 'pm-load: t: 2 records: 0 inserted, 0 updated, 2 unchanged'
	# No row was rewritten: every row version is the same as before.
	assert_equal "$(sql "SELECT string_agg(id || ':' || xmin, ' ' ORDER BY id) FROM t")" "$versions"
}

@test "upsert on a key that is not the primary key" {
	sql "CREATE TABLE p (id int PRIMARY KEY, ip text, api_key text, ping boolean, UNIQUE (ip, api_key))"
	sql "INSERT INTO p VALUES (1, '10.0.0.1', 'k1', false)"
	printf 'id,ip,api_key,ping\n1,10.0.0.1,k1,true\n' >p.csv
	run -0 pm-load -v -t p -i p.csv --mode upsert --key ip,api_key
	assert_output --partial '0 inserted, 1 updated'
	assert_equal "$(sql 'SELECT ping FROM p')" t
	run -4 pm-load -t p -i p.csv --mode upsert --key ping
	assert_output --partial 'no unique or exclusion constraint matching the ON CONFLICT specification'
}

@test "upsert names the record that collides with another row on a second unique key" {
	sql "CREATE TABLE p (id int PRIMARY KEY, ip text, api_key text, UNIQUE (ip, api_key))"
	sql "INSERT INTO p VALUES (1, '10.0.0.1', 'k1'), (2, '10.0.0.2', 'k2')"
	before=$(table_digest p)
	printf 'id,ip,api_key\n1,10.0.0.1,k1\n3,10.0.0.3,k3\n4,10.0.0.2,k2\n' >p.csv
	run -3 pm-load -t p -i p.csv --mode upsert
	assert_output --partial 'p: record 3: duplicate key value violates unique constraint "p_ip_api_key_key"'
	refute_output --partial k2
	assert_equal "$(table_digest p)" "$before"
}

@test "upsert refuses a stream that holds the same key twice, and loads nothing" {
	before=$(table_digest t)
	printf 'id,name,flag\n5,a,true\n5,b,true\n' >twice.csv
	run -3 pm-load -t t -i twice.csv --mode upsert
	assert_output --partial 't: record 2: ON CONFLICT DO UPDATE command cannot affect row a second time'
	assert_equal "$(table_digest t)" "$before"
}

@test "skip mode keeps existing rows and adds the new ones" {
	run -0 pm-load -v -t t -i batch.csv --mode skip
	assert_output 'pm-load: t: 2 records: 1 inserted, 0 updated, 1 unchanged'
	assert_equal "$(sql "SELECT string_agg(id || ':' || name, ' ' ORDER BY id) FROM t")" '1:one 2:two 3:three'
}

@test "after loading explicit ids the sequence is past them: a plain INSERT succeeds" {
	printf 'id,name,flag\n10,ten,true\n7,seven,false\n' >ids.csv
	run -0 pm-load -t t -i ids.csv
	run -0 sql "INSERT INTO t (name, flag) VALUES ('next', true) RETURNING id"
	assert_output 11
}

@test "a fresh sequence is not moved by ids below its start" {
	printf 'id,name,flag\n0,zero,true\n' >zero.csv
	sql "DELETE FROM t; ALTER SEQUENCE t_id_seq RESTART"
	run -0 pm-load -t t -i zero.csv
	assert_equal "$(sql "SELECT nextval('t_id_seq')")" 1
}

@test "key map options without --new-ids, and a key map name too long, are usage errors" {
	run -2 pm-load -d 'host=127.0.0.1 port=1' -t t -i batch.csv --keymap x
	assert_output --partial '--keymap and --keymap-out go with --new-ids'
	run -2 pm-load -t t -i batch.csv -Z 9
	assert_output --partial '-Z goes with --keymap-out'
	sql "CREATE TABLE p (id bigserial PRIMARY KEY)"
	printf 'id\n1\n' >p.csv
	run -2 pm-load -t p -i p.csv --new-ids id --keymap "$(printf 'k%.0s' $(seq 60))"
	assert_output --partial 'is longer than 56 bytes'
}

@test "a restarted sequence is not moved back by lower ids" {
	sql "ALTER SEQUENCE t_id_seq RESTART WITH 100"
	printf 'id,name,flag\n50,fifty,true\n' >ids.csv
	run -0 pm-load -t t -i ids.csv
	assert_equal "$(sql "SELECT nextval('t_id_seq')")" 100
}

@test "a sequence already ahead of the data is never moved back" {
	sql "SELECT setval('t_id_seq', 100)"
	printf 'id,name,flag\n10,ten,true\n' >ids.csv
	run -0 pm-load -t t -i ids.csv
	assert_equal "$(sql "SELECT nextval('t_id_seq')")" 101
}

setup_profiles() {
	sql_file "$FIXTURES/django-schema.sql"
	# Old profiles: 300 has no user; the target already holds a profile of its own.
	printf 'id,user_id,name,email,username,organization\n300,,no user,"",,org\n100,1,alice,a@x,alice,\n200,2,bob,,bob,""\n' >profiles.csv
	sql "INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
	     SELECT i, '', false, 'u' || i, '', '', '', false, true, now() FROM generate_series(1, 3) i"
	sql "INSERT INTO accounts_profile (name, user_id) VALUES ('already here', 3)"
}

@test "new ids: each old id gets a new one in old-id order, recorded in the key map in the same transaction" {
	setup_profiles
	run -0 pm-load -t accounts_profile -i profiles.csv --new-ids id --keymap profile --keymap-out keys.gz
	assert_equal "$(sql "SELECT string_agg(old_key || '>' || new_key, ' ' ORDER BY old_key) FROM pm.keymap_profile")" \
		'100>2 200>3 300>4'
	assert_equal "$(sql "SELECT string_agg(id || ':' || coalesce(user_id::text, '-') || ':' || name, ' ' ORDER BY id) FROM accounts_profile")" \
		'1:3:already here 2:1:alice 3:2:bob 4:-:no user'
	# NULL and '' survive the move.
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile WHERE id = 4 AND email = '' AND username IS NULL")" 1
	run -0 zcat keys.gz
	assert_output "$(printf 'old_key,new_key\n100,2\n200,3\n300,4')"
	assert_equal "$(stat -c %a keys.gz)" 600
	# The key map stream is the key map table, byte for byte.
	cmp <(zcat keys.gz) <(pm-extract -n pm -t keymap_profile | zcat)
}

@test "new ids: loading the same profiles again fails in insert mode and is a no-op in skip mode" {
	setup_profiles
	run -0 pm-load -t accounts_profile -i profiles.csv --new-ids id --keymap profile
	before=$(table_digest accounts_profile)
	run -3 pm-load -t accounts_profile -i profiles.csv --new-ids id --keymap profile
	assert_output --partial 'accounts_profile: record 1: duplicate key value violates unique constraint "keymap_profile_pkey"'
	assert_equal "$(table_digest accounts_profile)" "$before"
	run -0 pm-load -v -t accounts_profile -i profiles.csv --new-ids id --keymap profile --mode skip
	assert_output 'pm-load: accounts_profile: 3 records: 0 inserted, 0 updated, 3 unchanged'
	assert_equal "$(table_digest accounts_profile)" "$before"
}

@test "new ids with upsert: mapped profiles are updated in place, new ones added" {
	setup_profiles
	run -0 pm-load -t accounts_profile -i profiles.csv --new-ids id --keymap profile
	printf 'id,user_id,name,email,username,organization\n100,1,alice2,a@x,alice,\n400,,new,,,\n' >more.csv
	run -0 pm-load -v -t accounts_profile -i more.csv --new-ids id --keymap profile --mode upsert
	assert_output --partial '2 records: 1 inserted, 1 updated, 0 unchanged'
	assert_equal "$(sql "SELECT name FROM accounts_profile WHERE id = 2")" alice2
	assert_equal "$(sql "SELECT new_key FROM pm.keymap_profile WHERE old_key = 400")" 5
}

@test "a failed load leaves no key map rows and no key map file" {
	setup_profiles
	printf 'id,user_id,name,email,username,organization\n100,1,alice,,,\n200,1,dup user,,,\n' >dup.csv
	run -3 pm-load -t accounts_profile -i dup.csv --new-ids id --keymap profile --keymap-out keys.gz
	assert_output --partial "accounts_profile: record 2: duplicate key value violates unique constraint \"accounts_profile_user_id_key\""
	[ ! -e keys.gz ]
	assert_equal "$(ls)" "$(printf 'batch.csv\ndup.csv\nprofiles.csv')"
	assert_equal "$(sql "SELECT count(*) FROM pm.keymap_profile" 2>/dev/null || echo none)" none
	assert_equal "$(sql "SELECT count(*) FROM accounts_profile")" 1
}

@test "a dangling deferred foreign key fails at commit, as bad data, and nothing is loaded" {
	sql_file "$FIXTURES/django-schema.sql"
	printf 'id,profile_id,ip_address,api_key,ping,printing\n1,,10.0.0.1,k1,f,f\n2,999,10.0.0.2,k2,t,f\n' >printers.csv
	run -3 pm-load -t printers_printer -i printers.csv --keep-indexes
	assert_output --partial 'printers_printer: commit: insert or update on table "printers_printer" violates foreign key constraint'
	assert_output --partial 'nothing loaded'
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 0
	# Into the empty table the keys are built after the rows: the same refusal, when they are.
	run -3 pm-load -t printers_printer -i printers.csv
	assert_output --partial 'printers_printer: building keys: insert or update on table "printers_printer" violates foreign key constraint'
	assert_output --partial 'nothing loaded'
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 0
}

@test "--progress reports rows on stderr" {
	run -0 --separate-stderr pm-load -t t -i batch.csv --mode skip --progress
	assert_equal "$output" ""
	[[ $stderr == *"pm-load: t: 2 rows"* ]]
	run -0 --separate-stderr pm-extract -t t --progress -o out.gz
	[[ $stderr == *"pm-extract: t: 3 rows"* ]]
}

@test "GENERATED ALWAYS identity columns take the stream's values in every mode" {
	sql "CREATE TABLE g (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)"
	printf 'id,v\n5,a\n' >g.csv
	run -0 pm-load -t g -i g.csv
	printf 'id,v\n5,b\n9,c\n' >g2.csv
	run -0 pm-load -t g -i g2.csv --mode upsert
	assert_equal "$(sql "SELECT string_agg(id || v, ' ' ORDER BY id) FROM g")" '5b 9c'
	run -0 sql "INSERT INTO g (v) VALUES ('next') RETURNING id"
	assert_output 10
}

@test "a NULL in a NOT NULL column of an upsert names the table loaded, not the staging table" {
	printf 'id,name,flag\n1,one,\n' >null.csv
	before=$(table_digest t)
	run -3 pm-load -t t -i null.csv --mode upsert
	assert_output 'pm-load: t: record 1: null value in column "flag" of relation "t" violates not-null constraint (SQLSTATE 23502); nothing loaded'
	refute_output --partial pm_staging
	assert_equal "$(table_digest t)" "$before"
}
