# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # PM_LOCK_KEY is for the sourcing scripts; they set me
# What the operator's commands in pipelines/ share; sourced, never run.  Each sets `me` (its name in
# messages) before sourcing.

# The advisory lock a chunk of pipelines/staged holds while it moves (pm-load --lock) and the
# compatibility layer's triggers hold shared (schemas/compat.sql, psql variable lock_key); the
# next key serialises the triggers' sequence updates.  "pm" in ASCII, times 2^32: no other tool's.
PM_LOCK_KEY=123613453746176

die() { # status message
	echo "$me: $2" >&2
	exit "$1"
}

# shellcheck source=pipelines/conninfo.bash
. "$(dirname "${BASH_SOURCE[0]}")/conninfo.bash"

# The pm tools: PM_BIN, else this checkout's build, else PATH.
pm_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pm_bin=${PM_BIN:-$pm_root/build/bin}
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

psql_at() { # conninfo sql: its values, unaligned
	psql -X -q -v ON_ERROR_STOP=1 -A -t -d "$1" -c "$2"
}
exists() { # conninfo table
	[[ $(psql_at "$1" "SELECT to_regclass('$2') IS NOT NULL") == t ]]
}
