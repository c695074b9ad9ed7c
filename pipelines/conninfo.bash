# Sourced by the pipelines: a password given on their command line is refused.
# A command line is visible to every user of the machine (ps, /proc/PID/cmdline) for as long as
# the command runs, and the pipelines hand SRC and DST on to pm-extract, psql and pg_dump, each
# with a command line of its own.  libpq takes the password from ~/.pgpass, PGPASSFILE or
# PGPASSWORD instead, all of which reach the child processes through the environment.

# Does a libpq connection string (keyword=value or URI) hold a password?
conninfo_has_password() {
	local re_keyword='(^|[[:space:]])password[[:space:]]*='
	local re_userinfo='^postgres(ql)?://[^@/?#]*:[^@/?#]*@'
	local re_query='^postgres(ql)?://[^#]*[?&]password='
	[[ $1 =~ $re_keyword || $1 =~ $re_userinfo || $1 =~ $re_query ]]
}

# refuse_password TOOL OPTION CONNINFO: exit 2, naming the option, never the connection string.
refuse_password() {
	if conninfo_has_password "$3"; then
		echo "$1: $2 holds a password, which a command line shows to every user (ps): put it in ~/.pgpass, PGPASSFILE or PGPASSWORD and leave it out of $2" >&2
		exit 2
	fi
}
