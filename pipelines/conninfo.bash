# shellcheck shell=bash
# Sourced by the pipelines: a password given on their command line is refused.
# A command line is visible to every user of the machine (ps, /proc/PID/cmdline) for as long as
# the command runs, and the pipelines hand SRC and DST on to pm-extract, psql and pg_dump, each
# with a command line of its own.  libpq takes the password from ~/.pgpass, PGPASSFILE or
# PGPASSWORD instead, all of which reach the child processes through the environment.
#
# Whether a string holds a password is libpq's to say, not a pattern's: a URI's keywords may be
# percent-encoded (pass%77ord=) and a dbname may be a connection string itself, which libpq
# expands.  pm-extract --check-conninfo reads the string on its standard input (printf is a
# builtin: the string is on no command line) and decides with PQconninfoParse, as the tools do.

# The pm-extract that decides: lib.sh's pm_bin, else PM_BIN, else this checkout's build, else PATH.
conninfo_checker() {
	local bin=${pm_bin:-${PM_BIN:-$(dirname "${BASH_SOURCE[0]}")/../build/bin}}
	if [[ -x $bin/pm-extract ]]; then
		echo "$bin/pm-extract"
	else
		command -v pm-extract
	fi
}

# Does a libpq connection string (keyword=value or URI) hold a password?  0 yes, 1 no, 2 libpq
# cannot parse it (or there is no pm-extract to ask): it may hold one.
conninfo_has_password() {
	local checker rc=0
	checker=$(conninfo_checker) || return 2
	printf '%s' "$1" | "$checker" --check-conninfo 2>/dev/null || rc=$?
	case $rc in
	0) return 1 ;;
	1) return 0 ;;
	*) return 2 ;;
	esac
}

# refuse_password TOOL OPTION CONNINFO: exit 2, naming the option, never the connection string.
refuse_password() {
	local rc=0
	[[ -n $(conninfo_checker) ]] ||
		{ echo "$1: no pm-extract to check $2 with: run make, or put the pm tools on PATH" >&2; exit 2; }
	conninfo_has_password "$3" || rc=$?
	case $rc in
	0)
		echo "$1: $2 holds a password, which a command line shows to every user (ps): put it in ~/.pgpass, PGPASSFILE or PGPASSWORD and leave it out of $2" >&2
		exit 2 ;;
	1) ;;
	*)
		echo "$1: $2 is not a connection string libpq can parse (its message is not shown: it can quote a password)" >&2
		exit 2 ;;
	esac
}

# mask_secrets: a filter, standard input to standard output, each user:password@ and password=
# masked as the tools mask what a server echoes (pm-extract --mask-secrets): psql's and pg_dump's
# messages can quote a database name that holds one (from a service file, say).
mask_secrets() {
	local checker
	checker=$(conninfo_checker) || { echo "no pm-extract to mask messages with: run make, or put the pm tools on PATH"; return 2; }
	"$checker" --mask-secrets
}
