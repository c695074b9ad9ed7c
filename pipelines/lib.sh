# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # the names below are for the sourcing scripts; they set me
# What the operator's commands in pipelines/ share; sourced, never run.  Each sets `me` (its name in
# messages) before sourcing.

# The advisory lock a chunk of pipelines/staged holds while it moves (pm-load --lock) and the
# compatibility layer's triggers hold shared (psql variable lock_key); the next key serialises the
# triggers' sequence updates.  "pm" in ASCII, times 2^32: no other tool's.
PM_LOCK_KEY=123613453746176

die() { # status message
	echo "$me: $2" | pm_named >&2
	exit "$1"
}
# The pipelines as the operator runs them, in messages and help: `pm NAME` when run through the pm
# command (it sets PM_FRONT), else pipelines/NAME.
pm_named() { # <text
	if [[ -n ${PM_FRONT:-} ]]; then
		sed -E 's#(^|[ (`])pipelines/(migrate|verify|rollback|compat|staged)\>#\1pm \2#g'
	else
		cat
	fi
}

# The usage text: the script's header comment from "# usage:" to the line before `set -`.
pm_help() {
	sed -n '/^# usage:/,/^set -/p' "$0" | sed -n 's/^# \{0,1\}//p' | pm_named
	exit 0
}

# shellcheck source=pipelines/conninfo.bash
. "$(dirname "${BASH_SOURCE[0]}")/conninfo.bash"

# Where pm's parts are.  pm_pipelines: this folder, the pipelines and this file.  In a checkout,
# pm_root is the checkout, the tools are built into build/bin and the plan's files are in schemas/.
# Installed (make install), a file `layout` beside this one says where the tools and the plan's
# files went, each relative to this folder, and pm_root is empty.  pm_schemas: the plan's files.
pm_pipelines=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -f $pm_pipelines/layout ]]; then
	pm_layout_bin='' pm_layout_data=''
	# shellcheck source=/dev/null # written by make install: pm_layout_bin= and pm_layout_data=
	. "$pm_pipelines/layout"
	pm_root=''
	pm_tools=$(cd "$pm_pipelines/$pm_layout_bin" 2>/dev/null && pwd) || pm_tools=$pm_pipelines/$pm_layout_bin
	pm_schemas=$(cd "$pm_pipelines/$pm_layout_data" 2>/dev/null && pwd) || pm_schemas=$pm_pipelines/$pm_layout_data
else
	pm_root=$(cd "$pm_pipelines/.." && pwd)
	pm_tools=$pm_root/build/bin
	pm_schemas=$pm_root/schemas
fi
# The pm tools: PM_BIN, else this installation's or checkout's, else PATH.
pm_bin=${PM_BIN:-$pm_tools}
[[ -x $pm_bin/pm-extract ]] || pm_bin=$(dirname "$(command -v pm-extract || echo /nonexistent/x)")
pm_need_tools() { # tool...
	local tool
	for tool in "$@"; do
		if [[ $tool == pm-* ]]; then
			[[ -x $pm_bin/$tool ]] || die 2 "no $tool: run make, or put the pm tools on PATH"
		else
			command -v "$tool" >/dev/null || die 2 "needs $tool"
		fi
	done
}

psql_at() { # conninfo sql: its values, unaligned; its messages masked (mask_secrets), which runs
	# only when there are any: staged polls with this every 20 ms.
	local err rc=0
	{ err=$(psql -X -q -v ON_ERROR_STOP=1 -A -t -d "$1" -c "$2" 2>&1 1>&3 3>&-); } 3>&1 || rc=$?
	[[ -z $err ]] || printf '%s\n' "$err" | db_causes | sed "s/^/$me: /" >&2
	return "$rc"
}
# The lines of psql's, pg_dump's or libpq's messages that name the cause, each once and plain:
# without the program's prefix, a refused connection's address, the echo of the SQL (LINE n: and
# its caret, QUERY, "Query was:"), DETAIL and CONTEXT (they can quote rows, and rows hold api keys),
# HINT or blank lines.  Secrets masked.
db_causes() { # <messages
	sed -E -e '/^[[:space:]]*$/d' -e '/^[[:space:]]*\^[[:space:]]*$/d' \
		-e '/^(psql:[^ ]* )?(LINE [0-9]+|QUERY|CONTEXT|STATEMENT|DETAIL|HINT):/d' \
		-e '/^(pg_dump|pg_restore): (detail|hint):/d' \
		-e 's/^(psql|pg_dump|pg_restore)(:[^ ]*)?: (error: )?//' \
		-e 's/^query failed: //' -e 's/^connection to server (at|on) .* failed: FATAL: +//' \
		-e 's/^(ERROR|FATAL): +//' -e 's/^[[:space:]]+//' \
		-e 's/^relation "([^"]+)" does not exist$/table \1 does not exist/' |
		awk '!seen[$0]++' | mask_secrets
}
db_cause() { # <messages: db_causes's first three lines, as one
	db_causes | head -n 3 | paste -sd ' ' -
}
# log_causes LOG: a failed step's log, its cause lines (db_causes, warnings left out, the last five),
# to stderr.
log_causes() {
	grep -v ': warning: ' -- "$1" | db_causes | tail -n 5 >&2 || true
}
# db_reach SIDE CONNINFO: exit 4, with the cause (database "x" does not exist, password
# authentication failed, ...), unless the database answers.
db_reach() {
	local err
	err=$(psql -X -q -A -t -d "$2" -c 'SELECT 1' 2>&1 >/dev/null) ||
		die 4 "cannot connect to $1: $(printf '%s\n' "$err" | db_cause)"
}
exists() { # conninfo table
	[[ $(psql_at "$1" "SELECT to_regclass('$2') IS NOT NULL") == t ]]
}

# ---------------------------------------------------------------------------------------------------
# A WORKDIR belongs to one run between one SRC and one DST, kept in two files: run.id, the connection
# strings as a hash (a conninfo may hold a password), and databases, each database as its server
# knows it, so that another cluster, or a database dropped and created again under the same name,
# is told apart from the one the run began with.
run_id() { # src dst
	printf '%s\n%s\n' "$1" "$2" | sha256sum | cut -d' ' -f1
}
db_identity() { # conninfo: "system identifier of the cluster:oid of the database"
	psql_at "$1" "SELECT (SELECT system_identifier FROM pg_control_system()) || ':' || oid
		FROM pg_database WHERE datname = current_database()"
}
# workdir_identify SRC DST: the databases' identities, into src_identity and dst_identity (exit 4
# when one cannot be reached).
workdir_identify() {
	db_reach SRC "$1"
	src_identity=$(db_identity "$1") || die 4 "cannot read the identity of SRC"
	if [[ $2 == "$1" ]]; then
		dst_identity=$src_identity # the usual case: one connection, not two
	else
		db_reach DST "$2"
		dst_identity=$(db_identity "$2") || die 4 "cannot read the identity of DST"
	fi
}
# The plan a run follows, as its content: the plan file and its mapping files (plan.sha256).  A run
# resumed, or rolled back, under another plan would take other tables for its own.
plan_digest() {
	cat -- "${plan_files[@]}" | sha256sum | cut -d' ' -f1
}
# dir_make DIR: DIR made, private (0700), unless it is there already; exit 5 with mkdir's reason.
# Two first steps may start at once: the one that does not make it finds it made.
dir_make() {
	local why
	why=$(mkdir -m 0700 -- "$1" 2>&1) || [[ -d $1 ]] || die 5 "cannot create $1: ${why##*: }"
}
# A WORKDIR holds api keys: private to its owner (0700), or the run does not start (exit 5).
workdir_private() { # workdir
	local why
	why=$(chmod 700 -- "$1" 2>&1) || die 5 "cannot make $1 private (chmod 700): ${why##*: }"
	[[ -w $1 ]] || die 5 "cannot write in $1"
}
workdir_databases() { # the databases file's lines, of workdir_identify's identities
	printf 'source\t%s\ntarget\t%s\n' "$src_identity" "$dst_identity"
}
# file_put FILE TEXT: FILE holds TEXT and a line end, whole or not at all: a step killed while it
# writes leaves the file as it was, never empty (the next step would take the WORKDIR for another
# run's); exit 5 when it cannot be written.
file_put() {
	{ printf '%s\n' "$2" >"$1.partial" && mv -- "$1.partial" "$1"; } || die 5 "cannot write $1"
}
workdir_claim() { # workdir src dst: the run's files, for a WORKDIR that has none yet; run.id last,
	# as a step takes a WORKDIR with run.id for claimed
	file_put "$1/databases" "$(workdir_databases)"
	file_put "$1/plan.sha256" "$(plan_digest)"
	file_put "$1/run.id" "$(run_id "$2" "$3")"
}
# workdir_check WORKDIR SRC DST: exit 2 unless the WORKDIR is the run's between these databases,
# under this plan.  One made by an earlier pm lacks databases or plan.sha256: it gets them now.
workdir_check() {
	local side identity was
	[[ -f $1/run.id && $(cat -- "$1/run.id") == "$(run_id "$2" "$3")" ]] ||
		die 2 "$1 belongs to a run between other databases: give each run a WORKDIR of its own"
	if [[ ! -f $1/plan.sha256 ]]; then
		file_put "$1/plan.sha256" "$(plan_digest)"
	elif [[ $(cat -- "$1/plan.sha256") != "$(plan_digest)" ]]; then
		die 2 "$1 belongs to a run that followed another plan (the plan file or a mapping file differs): give the --plan it had"
	fi
	if [[ ! -f $1/databases ]]; then
		file_put "$1/databases" "$(workdir_databases)"
		return 0
	fi
	for side in source target; do
		identity=$src_identity
		[[ $side == source ]] || identity=$dst_identity
		was=$(awk -F '\t' -v s="$side" '$1 == s { print $2 }' "$1/databases")
		[[ $was == "$identity" ]] ||
			die 2 "$1 belongs to a run with another $side database (another cluster, or a database dropped and created again under its name: ${was:-none} then, $identity now): give each run a WORKDIR of its own"
	done
}

# The source's content, whatever the row order and however large (backup, rollback, auditors):
# "rows<TAB>sum of a 64-bit hash of each row's text", computed in the server.
digest_sql() { # table (of schema public)
	printf '%s' "SELECT count(*) || E'\\t' || coalesce(sum(hashtextextended(r::text, 0)::numeric), 0) FROM public.$1 r"
}

# ---------------------------------------------------------------------------------------------------
# The plan (pm-plan(5)): every pipeline takes --plan FILE, the shipped one by default.  pm-plan reads
# and checks it with its mapping files; its moves land here, in order, keyed by a move's name.
pm_plan=$pm_schemas/portal.plan
plan_load() { # plan file
	local out name source target map key ids keymap reads replaces ddl
	pm_need_tools pm-plan
	out=$("$pm_bin/pm-plan" -p "$1" moves) || exit 2 # pm-plan said why, naming the line
	plan_moves=()
	declare -gA move_source=() move_target=() move_map=() move_key=() move_ids=() move_keymap=() \
		move_reads=() move_replaces=() move_ddl=()
	plan_files=("$1")
	while IFS=$'\t' read -r name source target map key ids keymap reads replaces ddl; do
		plan_moves+=("$name")
		plan_files+=("$map")
		move_source[$name]=$source move_target[$name]=$target move_map[$name]=$map move_key[$name]=$key
		move_ids[$name]=$ids move_keymap[$name]=${keymap#-} move_reads[$name]=${reads#-}
		move_replaces[$name]=${replaces#-} move_ddl[$name]=$ddl
	done <<<"$out"
}
# plan_tables_exist source|target: exit 2 unless SRC has each move's source table (DST each target).
plan_tables_exist() {
	local name t
	for name in "${plan_moves[@]}"; do
		if [[ $1 == source ]]; then
			t=${move_source[$name]}
			exists "$src" "public.$t" ||
				die 2 "no table public.$t in SRC: the plan's move $name reads it (another SRC, or another --plan?); nothing done"
		else
			t=${move_target[$name]}
			exists "$dst" "public.$t" ||
				die 2 "no table public.$t in DST: create the new tables first (Django's migrate); nothing done"
		fi
	done
}
# The key maps' tables, as pm-load --keymap NAME makes them.
keymap_table() { # keymap name
	printf 'pm.keymap_%s' "$1"
}
# The plan's source tables as pg_dump's arguments (-t public.SOURCE each), one a line, in plan order.
plan_dump_sources() {
	local name
	for name in "${plan_moves[@]}"; do
		printf '%s\n' -t "public.${move_source[$name]}"
	done
}
# Every key map the plan records, in plan order.
plan_keymaps() {
	local name
	for name in "${plan_moves[@]}"; do
		[[ -z ${move_keymap[$name]} ]] || printf '%s\n' "${move_keymap[$name]}"
	done
}
# The "column:keymap" pairs of a move's columns re-pointed through a key map, one a line.
move_reads_list() { # move
	[[ -z ${move_reads[$1]} ]] || tr ',' '\n' <<<"${move_reads[$1]}"
}
# The move that records a key map.
keymap_move() { # keymap
	local name
	for name in "${plan_moves[@]}"; do
		[[ ${move_keymap[$name]} != "$1" ]] || { printf '%s' "$name"; return 0; }
	done
	return 1
}

# ---------------------------------------------------------------------------------------------------
# The tools' figures for programs (--stats FILE: one "key value" a line, written only by a run that
# went to its end): never their messages.
stats_value() { # file key: the value, or nothing when the file or the key is absent
	[[ -f $1 ]] || return 0
	awk -v k="$2" '$1 == k { print $2; exit }' "$1"
}
stats_sum() { # key file...: the sum over the files, or nothing unless every one holds the key
	local key=$1 f v sum=0
	shift
	for f in "$@"; do
		v=$(stats_value "$f" "$key")
		[[ $v =~ ^[0-9]+$ ]] || return 0
		sum=$((sum + v))
	done
	echo "$sum"
}

# The cause of a failed pipe, not its echo: of its commands (names and statuses, two arrays passed
# by name), the first whose status is neither 0 nor 141.  141 is SIGPIPE: a command whose reader
# stopped first, the echo of the reader's own failure (the pm tools end so on a closed pipe, as
# filters do).  Only when every failure is 141 is the first of them the cause.  Sets cause_name and
# cause_status; false when every command succeeded.
pipe_cause() { # names-array statuses-array
	local -n pipe_names=$1 pipe_statuses=$2
	local i
	cause_name='' cause_status=0
	for i in "${!pipe_statuses[@]}"; do
		if ((pipe_statuses[i] != 0 && pipe_statuses[i] != 141)); then
			cause_name=${pipe_names[i]} cause_status=${pipe_statuses[i]}
			# tee has no statuses of pm's: any failure of it is a write that failed, an I/O error.
			[[ $cause_name != tee* ]] || cause_status=5
			return 0
		fi
	done
	for i in "${!pipe_statuses[@]}"; do
		if ((pipe_statuses[i] == 141)); then
			cause_name=${pipe_names[i]} cause_status=141
			return 0
		fi
	done
	return 1
}

# The target's tables a run writes: each move's target and the key maps the moves record.
plan_dst_tables() {
	local name keymap
	for name in "${plan_moves[@]}"; do
		echo "public.${move_target[$name]}"
	done
	while read -r keymap; do
		keymap_table "$keymap"
	done < <(plan_keymaps)
}

# snapshot_open CONNINFO: a session of its own exports a snapshot and keeps it open (coproc SNAP) until
# snapshot_close; its id goes to $snapshot.  Readers that join it see one moment of the source.
snapshot_open() {
	coproc SNAP { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1"; }
	printf '%s\n' 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;' 'SELECT pg_export_snapshot();' >&"${SNAP[1]}"
	snapshot=''
	read -r -t 60 snapshot <&"${SNAP[0]}" || true
	[[ $snapshot =~ ^[0-9A-F-]+$ ]] || { echo "$me: could not export a snapshot of the source" >&2; return 4; }
}
snapshot_close() {
	local pid=$SNAP_PID
	printf '%s\n' 'COMMIT;' '\q' >&"${SNAP[1]}"
	wait "$pid"
}

# dump_status WORKDIR: a failed pg_dump (or psql) is a database error, 4, whatever status it exits
# with; unless what it could not do was write its file (a full disk), an I/O error, 5.  Its messages
# are in WORKDIR/backup.log.
dump_status() {
	if grep -qE 'could not (write|open|close) (to )?output file|No space left on device|File too large' "$1/backup.log"; then
		echo 5
	else
		echo 4
	fi
}

# backup WORKDIR LEVEL: what a run starts from, for pipelines/rollback: backup.target.dump (whatever
# of the target's tables exists), backup.source.dump (pg_dump -Z LEVEL) and source.digest, of SRC and
# DST (the globals src and dst); its messages to stderr, which the caller keeps in WORKDIR/backup.log.
backup() {
	# The target first: whatever of it exists is saved before anything can change it.
	local work=$1 backup_level=$2 args=() t name dst_tables
	mapfile -t dst_tables < <(plan_dst_tables)
	for t in "${dst_tables[@]}"; do
		exists "$dst" "$t" && args+=(-t "$t")
	done
	rm -f -- "$work/backup.target.dump"
	if ((${#args[@]})); then
		# A failed pg_dump or psql is a database error, 4, whatever status it exits with.
		pg_dump -d "$dst" -Fc "${args[@]}" -f "$work/backup.target.dump.partial" || return "$(dump_status "$work")"
		mv -- "$work/backup.target.dump.partial" "$work/backup.target.dump"
	fi
	# The source: the dump and the digest read one exported snapshot, so the digest is exactly the
	# dump's content (rollback checks a restore against it), and they run side by side, the digest
	# hashing rows in the server.  For migrate the site is down while this runs, and pg_dump
	# compresses on one core: by default (-Z0) the dump only copies, for a larger file;
	# --backup-level N trades time for size (the figures: the README's benchmark).
	snapshot_open "$src" || return 4
	mapfile -t args < <(plan_dump_sources)
	pg_dump -d "$src" -Fc -Z"$backup_level" --snapshot="$snapshot" "${args[@]}" -f "$work/backup.source.dump.partial" &
	local dump=$! status=0
	# The source's content, for rollback and the auditors: a line a table, "table<TAB>digest".
	local digest=(-c 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY' -c "SET TRANSACTION SNAPSHOT '$snapshot'")
	for name in "${plan_moves[@]}"; do
		t=${move_source[$name]}
		digest+=(-c "SELECT '$t' || E'\\t' || ($(digest_sql "$t"))")
	done
	psql -X -q -v ON_ERROR_STOP=1 -A -t -d "$src" "${digest[@]}" -c COMMIT >"$work/source.digest.partial" || status=4
	wait "$dump" || status=$(dump_status "$work")
	snapshot_close || status=4
	((status == 0)) || return "$status"
	mv -- "$work/backup.source.dump.partial" "$work/backup.source.dump"
	mv -- "$work/source.digest.partial" "$work/source.digest"
}


# ---------------------------------------------------------------------------------------------------
# Django's record of its migrations (django_migrations in DST).  The plan's moves take the place of
# Django data migrations (replaces APP.NAME), which Django does not know: its next `manage.py migrate`
# would run them on the moved rows.  So before anything moves, django_check makes sure Django made
# the structure they run on and has not run them; once the move is verified, django_record records
# them as applied, as `manage.py migrate --fake` would.  WORKDIR/django.recorded names them, written
# before they are recorded: rollback removes exactly those rows.
plan_replaced() { # every APP.NAME the plan's moves replace, one a line, in plan order
	local name
	for name in "${plan_moves[@]}"; do
		[[ -z ${move_replaces[$name]} ]] || tr ',' '\n' <<<"${move_replaces[$name]}"
	done
}
django_count() { # app name-pattern (LIKE): how many of APP's applied migrations match (pm-plan let
	# only plain names through); exit 4 when DST cannot tell
	local n
	n=$(psql_at "$dst" "SELECT count(*) FROM public.django_migrations WHERE app = '$1' AND name LIKE '$2'") ||
		die 4 "cannot read django_migrations in the target"
	printf '%s' "$n"
}
# django_recorded WORKDIR: the migrations django.recorded names, one a line; exit 2 on a line that is
# not one the plan replaces (the file is read into SQL).
django_recorded() {
	local m replaced
	[[ -f $1/django.recorded ]] || return 0
	replaced=$(plan_replaced)
	while IFS= read -r m; do
		grep -qxF -- "$m" <<<"$replaced" ||
			die 2 "$1/django.recorded: unexpected line \"$m\": not a migration the plan replaces (another --plan?); nothing done"
		printf '%s\n' "$m"
	done <"$1/django.recorded"
}
# django_before APP NAME: the migration of APP numbered one less than NAME (0002_x: 0001), which
# Django's makemigrations makes NAME depend on; nothing when NAME has no number or is the first.
django_before() {
	local number=${2%%_*}
	[[ $number =~ ^[0-9]+$ ]] && ((10#$number > 1)) || return 0
	printf '%0*d' "${#number}" $((10#$number - 1))
}
# django_check WORKDIR: exit 2 (nothing done) unless every replaced migration is unapplied (or
# recorded by this run: django.recorded) and the one before it applied.  A target without
# django_migrations is moved as it is; django.recorded is made only where there is one.
django_check() {
	local work=$1 replaced=() m app name before n
	mapfile -t replaced < <(plan_replaced)
	((${#replaced[@]})) || return 0
	exists "$dst" public.django_migrations || return 0 # django_note says so once the move is verified
	for m in "${replaced[@]}"; do
		app=${m%%.*} name=${m#*.}
		n=$(django_count "$app" "${name//_/\\_}")
		if ((n)); then
			[[ -f $work/django.recorded ]] && grep -qxF -- "$m" "$work/django.recorded" && continue
			die 2 "Django has applied $m already (django_migrations): the data migration the plan replaces has run, so its rows are in the targets; pm does not move them again. Nothing done"
		fi
		before=$(django_before "$app" "$name")
		[[ -z $before ]] && continue
		n=$(django_count "$app" "${before}\\_%")
		((n)) ||
			die 2 "Django has not applied $app $before, which $m depends on (it makes the $app tables pm moves into): run \`python manage.py migrate $app $before\` first. Nothing done"
	done
	[[ -f $work/django.recorded ]] && return 0
	file_put "$work/django.recorded" "$(printf '%s\n' "${replaced[@]}")"
}
# django_note WORKDIR: for a verified move with nothing to record, why (nothing when it had some).
django_note() {
	local replaced
	[[ ! -f $1/django.recorded ]] || return 0
	replaced=$(plan_replaced)
	[[ -z $replaced ]] ||
		echo "note: the target has no django_migrations table (no Django, or its structure is pm's schemas/): the Django migrations the plan replaces ($(paste -sd ' ' <<<"$replaced")) are not recorded"
}
# django_rows LIST: the migrations of LIST (django_recorded's lines) as SQL rows, "('app', 'name'), ...".
django_rows() {
	local m rows=''
	while IFS= read -r m; do
		[[ -z $m ]] || rows+="${rows:+, }('${m%%.*}', '${m#*.}')"
	done <<<"$1"
	printf '%s' "$rows"
}
# django_record WORKDIR: the migrations django.recorded names, recorded as applied in one statement
# (so one transaction); those already there are left as they are (a run resumed).  Says what it did.
django_record() {
	local work=$1 list values
	list=$(django_recorded "$work") || return 2
	values=$(django_rows "$list")
	[[ -n $values ]] || return 0
	psql_at "$dst" "INSERT INTO public.django_migrations (app, name, applied) SELECT v.app, v.name, now()
		FROM (VALUES $values) v (app, name)
		WHERE NOT EXISTS (SELECT FROM public.django_migrations d WHERE d.app = v.app AND d.name = v.name)" >/dev/null || return 4
	echo "$me: recorded in django_migrations as applied, as manage.py migrate --fake would: $(paste -sd ' ' <<<"$list")" >&2
}
