# pipelines/migrate on a generated portal database: the whole plan, checked by plain SQL (not by
# pm-verify), resumed after a failure and after kill -9, with no duplicates.
load helpers

setup() {
	fresh_db
	cd "$BATS_TEST_TMPDIR"
	"$PM_ROOT/scripts/generate-portal" --profiles 300 --printers 1500 2>/dev/null
	db="dbname=$PGDATABASE"
}

teardown() {
	! mountpoint -q "$BATS_TEST_TMPDIR/disk" || umount "$BATS_TEST_TMPDIR/disk"
}

migrate() {
	"$PM_ROOT/pipelines/migrate" -s "$db" -t "$db" -w work "$@"
}

# Kill -9 this process's ancestors that run pipelines/migrate (the command and its subshells), as a
# crash would; nothing else on the machine.  Used inside fake tools.
KILL_MIGRATE='p=$PPID; while [ "$p" -gt 1 ]; do if grep -q pipelines/migrate "/proc/$p/cmdline"; then kill -9 "$p"; fi; p=$(cut -d" " -f4 "/proc/$p/stat"); done'

# A directory of the pm tools with one of them replaced by a script.
fake_tool() { # name script
	mkdir -p fake
	for t in "$PM_BIN"/pm-*; do
		ln -sf "$t" "fake/${t##*/}"
	done
	rm -f "fake/$1"
	printf '#!/usr/bin/env bash\nreal=%q\n%s\n' "$PM_BIN/$1" "$2" >"fake/$1"
	chmod +x "fake/$1"
}

@test "migrate moves everything, verified; the source is unchanged; every stream is in the manifest" {
	before=$(table_digest portal_profile)$(table_digest portal_printer)
	run -0 migrate
	assert_portal_moved
	assert_equal "$(table_digest portal_profile)$(table_digest portal_printer)" "$before"
	assert_line 'verification: no differences'
	assert_line --regexp '^printers +1500 +1500 +0 +[0-9]+$'
	assert_equal "$(stat -c %a work)" 700
	for f in backup.source.dump profiles.extract.csv.gz profiles.csv.gz profiles.keys.csv.gz printers.extract.csv.gz printers.csv.gz; do
		[ -s "work/$f" ]
		assert_equal "$(stat -c %a "work/$f")" 600
		# Each file's sha256 in the manifest is the file's.
		assert_equal "$(awk -F '\t' -v f="$f" '$2 == f { print $4 }' work/manifest.tsv)" "$(sha256sum "work/$f" | cut -d' ' -f1)"
	done
	assert_equal "$(awk -F '\t' '$2 == "printers.csv.gz" { print $1, $3 }' work/manifest.tsv)" 'printers 1500'
	assert_equal "$(cut -f1,2 work/manifest.tsv | tr '\t\n' ': ')" \
		'stage:file backup:backup.source.dump backup:source.digest structure:created profiles:profiles.extract.csv.gz profiles:profiles.csv.gz profiles:profiles.rejects.csv.gz profiles.keys:profiles.keys.csv.gz printers:printers.extract.csv.gz printers:printers.csv.gz printers:printers.rejects.csv.gz '
	# The site's next printer gets a new id.
	run -0 sql "INSERT INTO printers_printer (ip_address, api_key, ping, printing) VALUES ('10.9.9.9', 'new', false, false) RETURNING id > (SELECT max(id) FROM portal_printer)"
	assert_output t
}

@test "targets that already hold rows are refused, nothing touched" {
	"$PM_ROOT/scripts/generate-portal" --no-source --targets --replace 2>/dev/null || true
	sql "INSERT INTO accounts_profile (id, name) VALUES (1, 'already here')"
	before=$(table_digest accounts_profile)
	run -2 migrate
	assert_output 'migrate: target accounts_profile is not empty (1 rows): pm moves into empty tables; to resume a run, give its WORKDIR'
	assert_equal "$(table_digest accounts_profile)" "$before"
	[ ! -e work/manifest.tsv ]
}

@test "a command that fails in the middle of a pipe fails the command, named with its status; the rerun ends clean" {
	fake_tool pm-transform 'case "$*" in *printer.map*) cat >/dev/null; echo "pm-transform: forced failure" >&2; exit 5 ;; esac; exec "$real" "$@"'
	PM_BIN=$PWD/fake run -5 migrate
	assert_line 'pm-transform: forced failure'
	assert_line 'migrate: printers: pm-transform failed (exit status 5)'
	assert_line 'migrate: printers failed (exit status 5); its messages are in work/printers.log'
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 0
	# Nothing that looks complete is left of the failed pipe.
	[ ! -e work/printers.csv.gz ] && [ ! -e work/printers.extract.csv.gz ]
	run -0 migrate
	assert_line 'migrate: profiles: done in an earlier run'
	assert_line 'verification: no differences'
	assert_portal_moved
}

@test "kill -9 in mid-printers, before and after the load commits: the rerun ends clean, no duplicates" {
	# Killed while printers are transformed: nothing of them is loaded yet.
	fake_tool pm-transform 'case "$*" in *printer.map*) '"$KILL_MIGRATE"'; exit 1 ;; esac; exec "$real" "$@"'
	PM_BIN=$PWD/fake run migrate
	[ "$status" -ne 0 ]
	refute_output --partial 'verification'
	run -0 migrate
	assert_portal_moved
	# Killed right after the printers' load committed, before the run could say so.
	sql 'TRUNCATE printers_printer'
	sed -i '/^printers\t/d' work/manifest.tsv
	fake_tool pm-load 'case "$*" in *printers_printer*) "$real" "$@"; '"$KILL_MIGRATE"'; exit 1 ;; esac; exec "$real" "$@"'
	PM_BIN=$PWD/fake run migrate
	[ "$status" -ne 0 ]
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 1500
	run -0 migrate
	assert_equal "$(cat work/printers.log)" 'migrate: printers_printer already holds the stream'"'"'s 1500 rows: loaded by an earlier run'
	assert_portal_moved
}

@test "refused starts: another run's WORKDIR, a key map left behind, a source without the plan's tables" {
	run -0 migrate
	other="${PGDATABASE}_other"
	dropdb --if-exists "$other" 2>/dev/null
	createdb "$other"
	run -2 "$PM_ROOT/pipelines/migrate" -s "$db" -t "dbname=$other" -w work
	assert_output 'migrate: work belongs to a run between other databases: give each run a WORKDIR of its own'
	# A key map left by an earlier attempt: refused before anything is done.
	sql 'DROP TABLE printers_printer, accounts_profile'
	run -2 migrate -w fresh
	assert_output --partial 'migrate: target pm.keymap_profile is not empty (300 rows)'
	[ ! -e fresh/manifest.tsv ]
	# The source has no portal tables: refused before the backup, which leaves no dump (errors.bats
	# has a backup that fails).
	run -2 "$PM_ROOT/pipelines/migrate" -s "dbname=$other" -t "dbname=$other" -w empty
	assert_output "migrate: no table public.portal_profile in SRC: the plan's move profiles reads it (another SRC, or another --plan?); nothing done"
	[ ! -e empty/backup.source.dump ]
	refute [ -e empty/manifest.tsv ]
	dropdb "$other"
}

# --jobs N: the same move as N shards side by side under one snapshot.

# A digest of everything the move wrote to the target: rows, new ids and key map alike.
target_digest() {
	echo "$(table_digest accounts_profile) $(table_digest printers_printer) $(table_digest pm.keymap_profile)"
}

@test "--jobs 2 and 3 move the same content as --jobs 1; the streams are one each, counted in the manifest" {
	run -0 migrate --jobs 1
	assert_portal_moved
	one=$(target_digest)
	for n in 2 3; do
		sql 'DROP TABLE accounts_profile, printers_printer CASCADE; DROP SCHEMA pm CASCADE'
		run -0 migrate --jobs "$n" -w "work$n"
		assert_line 'verification: no differences'
		assert_portal_moved
		assert_equal "$(target_digest)" "$one"
		assert_equal "$(awk -F '\t' 'NR > 1 && $3 != "-" { print $2, $3 }' "work$n/manifest.tsv" | tr '\n' ' ')" \
			'profiles.extract.csv.gz 300 profiles.csv.gz 300 profiles.rejects.csv.gz 0 profiles.keys.csv.gz 300 printers.extract.csv.gz 1500 printers.csv.gz 1500 printers.rejects.csv.gz 0 '
		# Each saved stream is whole: the shards' parts appended (a header each), nothing of them left.
		header=id,profile_id,ip_address,api_key,ping,printing
		assert_equal "$(zcat "work$n/printers.csv.gz" | grep -cx "$header")" "$n"
		assert_equal "$(pm-transform -m "$PM_ROOT/schemas/printer.map" --keymap "profile=work$n/profiles.keys.csv.gz" \
			-i "work$n/printers.extract.csv.gz" 2>/dev/null | zcat | grep -vx "$header" | sort | sha256sum)" \
			"$(zcat "work$n/printers.csv.gz" | grep -vx "$header" | sort | sha256sum)"
		run -0 ls "work$n"
		refute_output --partial shard
	done
}

@test "--jobs 3: a failing shard is named, nothing is loaded; the rerun ends clean" {
	fake_tool pm-extract 'case "$*" in *portal_printer*"--shard 2/3"*) echo "pm-extract: forced failure" >&2; exit 4 ;; esac; exec "$real" "$@"'
	PM_BIN=$PWD/fake run -4 migrate --jobs 3
	grep -qx 'pm-extract: forced failure' work/printers.log
	# The shard's transform, left without a stream, fails too: named after its extract.
	assert_line 'migrate: printers: shard 2/3: pm-extract failed (exit status 4)'
	refute_line --partial 'shard 1/3'
	refute_line --partial 'shard 3/3'
	assert_line 'migrate: printers failed (exit status 4); its messages are in work/printers.log'
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 0
	run -0 ls work
	refute_output --partial printers.csv.gz
	refute_output --partial printers.extract.csv.gz
	refute_output --partial shard
	# A transform that fails in one shard is named the same way.
	fake_tool pm-transform 'case "$*" in *printers.shard2-of-3*) cat >/dev/null; echo "pm-transform: forced failure" >&2; exit 5 ;; esac; exec "$real" "$@"'
	PM_BIN=$PWD/fake run -5 migrate --jobs 3
	assert_line 'migrate: printers: shard 2/3: pm-transform failed (exit status 5)'
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 0
	run -0 migrate --jobs 3
	assert_line 'migrate: profiles: done in an earlier run'
	assert_line 'verification: no differences'
	assert_portal_moved
}

@test "--jobs 3: killed after the load committed, the rerun finds it loaded and loads nothing twice" {
	fake_tool pm-load 'case "$*" in *printers_printer*) "$real" "$@"; '"$KILL_MIGRATE"'; exit 1 ;; esac; exec "$real" "$@"'
	PM_BIN=$PWD/fake run migrate --jobs 3
	[ "$status" -ne 0 ]
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 1500
	run -0 migrate --jobs 3
	assert_equal "$(cat work/printers.log)" 'migrate: printers_printer already holds the stream'"'"'s 1500 rows: loaded by an earlier run'
	assert_line 'verification: no differences'
	assert_portal_moved
}

@test "--jobs takes a number from 1 to 64; anything else is a usage error, nothing done" {
	for bad in 0 65 100 -1 x 2x '' ' 2'; do
		run -2 migrate --jobs "$bad"
		assert_line "migrate: --jobs: \"$bad\" is not a number from 1 to 64"
		assert_line 'usage: pipelines/migrate -s SRC -t DST -w WORKDIR [--max-rejects N] [--jobs N] [--backup-level N] [--stream-level N] [--plan FILE]'
	done
	run -2 migrate --jobs
	assert_line 'migrate: --jobs: "" is not a number from 1 to 64'
	[ ! -e work ]
}

# refuses_levels OPTION: anything but one digit is a usage error, and nothing is done.
refuses_levels() {
	for bad in 10 -1 x '' ' 1'; do
		run -2 migrate "$1" "$bad"
		assert_line "migrate: $1: \"$bad\" is not a level from 0 to 9"
		assert_line 'usage: pipelines/migrate -s SRC -t DST -w WORKDIR [--max-rejects N] [--jobs N] [--backup-level N] [--stream-level N] [--plan FILE]'
	done
	[ ! -e work ]
}

@test "the source backup is uncompressed unless --backup-level says otherwise; a bad level is refused, nothing done" {
	refuses_levels --backup-level
	run -0 migrate
	assert_line 'verification: no differences'
	run -0 pg_restore -l work/backup.source.dump
	assert_line --regexp '^; +Compression: 0$'
	assert_line --regexp ' TABLE DATA public portal_printer '
	plain=$(stat -c %s work/backup.source.dump)
	sql 'TRUNCATE printers_printer, accounts_profile; DROP SCHEMA pm CASCADE' 2>/dev/null
	rm -rf work
	run -0 migrate --backup-level 6
	assert_line 'verification: no differences'
	run -0 pg_restore -l work/backup.source.dump
	assert_line --regexp '^; +Compression: 6$'
	(( $(stat -c %s work/backup.source.dump) < plain / 2 ))
}

@test "the moves' streams are stored (gzip level 0) unless --stream-level says otherwise; a bad level is refused, nothing done" {
	refuses_levels --stream-level
	run -0 migrate
	assert_line 'verification: no differences'
	# Stored: the file a little larger than the CSV it holds.
	local name f c u stored=() csv=()
	for name in profiles printers; do
		for f in "work/$name.extract.csv.gz" "work/$name.csv.gz"; do
			gzip -t "$f"
			c=$(stat -c %s "$f") u=$(zcat "$f" | wc -c)
			(( c > u ))
			stored+=("$c")
			csv+=("$(zcat "$f" | sha256sum)")
		done
	done
	# The same new ids again: the sequences restart too.
	sql 'TRUNCATE printers_printer, accounts_profile RESTART IDENTITY; DROP SCHEMA pm CASCADE' 2>/dev/null
	rm -rf work
	run -0 migrate --stream-level 6
	assert_line 'verification: no differences'
	local i=0
	for name in profiles printers; do
		for f in "work/$name.extract.csv.gz" "work/$name.csv.gz"; do
			c=$(stat -c %s "$f")
			(( c < stored[i] / 2 ))
			# The same CSV either way: only the framing differs.
			[ "$(zcat "$f" | sha256sum)" = "${csv[i]}" ]
			i=$((i + 1))
		done
	done
}

@test "a load the target refuses is named as the cause, with its status and message; nothing upstream is blamed" {
	# Enough printers that the pipe's buffers fill: the commands before pm-load are still writing
	# when it stops, and end by SIGPIPE (the echo, not the cause).
	"$PM_ROOT/scripts/generate-portal" --replace --profiles 300 --printers 40000 --targets 2>/dev/null
	sql "ALTER TABLE printers_printer DROP COLUMN ping"
	run -3 migrate
	assert_line 'pm-load: stdin: header: column "ping" is not in table printers_printer (declare it with --source-only to skip it)'
	assert_line 'migrate: printers: pm-load failed (exit status 3)'
	assert_line 'migrate: printers failed (exit status 3); its messages are in work/printers.log'
	refute_output --partial 'pm-transform failed'
	refute_output --partial 'pm-extract failed'
	refute_output --partial 'tee '
	run grep -ci 'broken pipe' work/printers.log
	assert_output 0
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 0
	[ ! -e work/printers.csv.gz ]
}

@test "a WORKDIR whose database was dropped and created again is refused, exit 2, nothing changed" {
	run -0 migrate
	dropdb "$PGDATABASE"
	createdb "$PGDATABASE"
	"$PM_ROOT/scripts/generate-portal" --profiles 300 --printers 1500 2>/dev/null
	before=$(table_digest portal_profile)$(table_digest portal_printer)
	cp work/manifest.tsv manifest.before
	run -2 migrate
	assert_output --regexp '^migrate: work belongs to a run with another source database \(another cluster, or a database dropped and created again under its name: [0-9]+:[0-9]+ then, [0-9]+:[0-9]+ now\): give each run a WORKDIR of its own$'
	assert_equal "$(table_digest portal_profile)$(table_digest portal_printer)" "$before"
	assert_equal "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'pm'")" 0
	assert_equal "$(sql "SELECT count(*) FROM pg_class WHERE relname IN ('accounts_profile', 'printers_printer')")" 0
	cmp work/manifest.tsv manifest.before
	# A WORKDIR made before pm kept the databases' identities: it gets them at its next run.
	run -0 migrate -w older
	rm older/databases
	run -0 migrate -w older
	assert_line 'verification: no differences'
	[ -s older/databases ]
}

# swap_keys FILE: two new keys of a key map stream swapped; still a valid stream.
swap_keys() {
	zcat "$1" | awk -F, -v OFS=, 'NR == 2 { a = $2; l2 = $0; next } NR == 3 { $2 = a; print; split(l2, f, ","); print f[1] "," b; next } { print }' b="$(zcat "$1" | sed -n 3p | cut -d, -f2)" |
		gzip -1 >"$1.new"
	mv "$1.new" "$1"
}

@test "a saved key map stream changed, cut short or gone is made again from the target before a move reads it" {
	fake_tool pm-load 'case "$*" in *printers_printer*) cat >/dev/null; echo "pm-load: forced failure" >&2; exit 4 ;; esac; exec "$real" "$@"'
	PM_BIN=$PWD/fake run -4 migrate
	recorded=$(awk -F '\t' '$2 == "profiles.keys.csv.gz" { print $4 }' work/manifest.tsv)
	for fault in swap cut delete; do
		case $fault in
		swap) swap_keys work/profiles.keys.csv.gz ;;
		cut) head -c 500 work/profiles.keys.csv.gz >cut.gz && mv cut.gz work/profiles.keys.csv.gz ;;
		delete) rm work/profiles.keys.csv.gz ;;
		esac
		[ "$(sha256sum <work/profiles.keys.csv.gz 2>/dev/null | cut -d' ' -f1)" != "$recorded" ]
		PM_BIN=$PWD/fake run -4 migrate
		assert_line 'migrate: printers: profiles.keys.csv.gz is not the stream the manifest recorded (changed, cut short or gone): made again from pm.keymap_profile'
		assert_equal "$(sha256sum work/profiles.keys.csv.gz | cut -d' ' -f1)" "$recorded"
	done
	# With the real load: every owner right (a swapped pair would have moved two printers' owners).
	swap_keys work/profiles.keys.csv.gz
	run -0 migrate
	assert_line --partial 'made again from pm.keymap_profile'
	assert_line 'verification: no differences'
	assert_portal_moved
}

@test "a key map changed in the target after its stream was recorded stops the run before anything is loaded" {
	fake_tool pm-load 'case "$*" in *printers_printer*) cat >/dev/null; exit 4 ;; esac; exec "$real" "$@"'
	PM_BIN=$PWD/fake run -4 migrate
	rm work/profiles.keys.csv.gz
	sql "UPDATE pm.keymap_profile SET new_key = -new_key WHERE old_key = (SELECT min(old_key) FROM pm.keymap_profile)"
	run -3 migrate
	assert_line 'migrate: printers: pm.keymap_profile in the target no longer gives the stream the manifest recorded: it changed after profiles was moved; roll the run back (pipelines/rollback) and run it again'
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 0
}

@test "two runs on one WORKDIR at once: the second says so and leaves it be" {
	fake_tool pm-transform 'case "$*" in *printer.map*) sleep 20 ;; esac; exec "$real" "$@"'
	PM_BIN=$PWD/fake migrate >first.out 2>&1 &
	first=$!
	wait_for "SELECT count(*) FROM accounts_profile" 300
	run -2 migrate
	assert_output 'migrate: another pipelines/migrate is running in work; leaving it be'
	wait "$first"
	assert_equal "$(grep -c '^structure	' work/manifest.tsv)" 1
	assert_portal_moved
}

@test "a full disk is an I/O error, exit 5, named on the terminal, in the backup and in mid-table; a read-only WORKDIR too" {
	mkdir disk
	mount -t tmpfs -o size=64k tmpfs disk
	run -5 "$PM_ROOT/pipelines/migrate" -s "$db" -t "$db" -w disk/work
	assert_line --regexp '^migrate: backup: no space left in disk/work \([0-9]+ KiB free\): its files and its messages could not be written$'
	assert_line 'migrate: backup failed (exit status 5); its messages are in disk/work/backup.log'
	[ ! -e disk/work/backup.source.dump ]
	umount disk
	# Backup and profiles done; then the disk fills up before the printers' streams are written.
	mount -t tmpfs -o size=4m tmpfs disk
	fake_tool pm-load 'case "$*" in *printers_printer*) cat >/dev/null; exit 4 ;; esac; exec "$real" "$@"'
	PM_BIN=$PWD/fake run -4 "$PM_ROOT/pipelines/migrate" -s "$db" -t "$db" -w disk/work
	rm -f disk/work/*.partial # the failed load's, which a rerun would overwrite
	dd if=/dev/zero of=disk/filler bs=4k 2>/dev/null || true
	run -5 "$PM_ROOT/pipelines/migrate" -s "$db" -t "$db" -w disk/work
	assert_line --regexp '^migrate: printers: no space left in disk/work \([0-9]+ KiB free\): its files and its messages could not be written$'
	assert_line 'migrate: printers failed (exit status 5); its messages are in disk/work/printers.log'
	assert_equal "$(sql 'SELECT count(*) FROM printers_printer')" 0
	umount disk
	# An existing WORKDIR on a read-only file system: exit 5, said.
	mount -t tmpfs -o size=1m tmpfs disk
	mkdir -m 755 disk/work
	mount -o remount,ro disk
	run -5 "$PM_ROOT/pipelines/migrate" -s "$db" -t "$db" -w disk/work
	assert_output 'migrate: cannot make disk/work private (chmod 700): Read-only file system'
	umount disk
}
