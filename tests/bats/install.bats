# make install, then the installed pm from / with only the install's bin and the system's on PATH;
# make uninstall leaves no file.
load helpers

setup() {
	prefix=$BATS_TEST_TMPDIR/prefix
	fresh_db
	db="dbname=$PGDATABASE"
	(cd "$BATS_TEST_TMPDIR" && "$PM_ROOT/scripts/generate-portal" --profiles 50 --printers 200 2>/dev/null)
	# The build under test (PM_BIN: build/bin, or build/asan/bin with SAN=1).
	build=${PM_BIN%/bin}
	build=${build#"$PM_ROOT"/}
	san=()
	[[ $build != build/asan ]] || san=(SAN=1)
}

installed() { # command...: from /, PATH the install's bin and the system's, no PM_BIN
	(cd / && env -u PM_BIN -u PM_ROOT PATH="$prefix/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$@")
}

@test "make install PREFIX: the installed pm migrates from /, verified; its page is found; make uninstall leaves no file" {
	run -0 make -s -C "$PM_ROOT" BUILD="$build" "${san[@]}" install PREFIX="$prefix"
	run -0 installed pm --version
	assert_output "pm $(sed -n 's/^VERSION *:= *//p' "$PM_ROOT/Makefile")"
	before=$(table_digest portal_profile)$(table_digest portal_printer)
	run -0 installed pm migrate -s "$db" -t "$db" -w "$BATS_TEST_TMPDIR/work"
	assert_line 'verification: no differences'
	assert_portal_moved
	assert_equal "$(table_digest portal_profile)$(table_digest portal_printer)" "$before"
	# A page for the front command and each of its pipelines.
	for page in pm pm-migrate pm-verify-migration pm-rollback pm-compat pm-staged; do
		run -0 man -M "$prefix/share/man" -w "$page"
		assert_output "$prefix/share/man/man1/$page.1"
	done
	run -0 make -s -C "$PM_ROOT" BUILD="$build" "${san[@]}" uninstall PREFIX="$prefix"
	run -0 find "$prefix" ! -type d
	assert_output ''
}

@test "an unknown command is a usage error, exit 2, said once" {
	run -2 "$PM_ROOT/bin/pm" nosuch
	assert_output 'pm: no command nosuch (pm --help lists them)'
}
