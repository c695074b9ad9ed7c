# make deb, as Debian builds it (dpkg-buildpackage, debhelper), checked by lintian; then the package
# on this machine: dpkg -i, the installed pm migrates from /, its pages found, dpkg --purge leaves no
# file.  Run in both builds of tests/run: the package is built from the source tree, whatever
# PM_BIN is, and a run costs about 20 seconds.
load helpers

setup_file() {
	[[ $(id -u) -eq 0 ]] || skip "dpkg -i needs root (CI runs the suite as root)"
	command -v dpkg-buildpackage >/dev/null ||
		skip "no dpkg-buildpackage here: scripts/ensure-deps installs dpkg-dev and debhelper"
	# A pm installed before the test is someone's: the test would replace it and remove it.
	if dpkg-query -W pm >/dev/null 2>&1 && [[ $(dpkg-query -W -f='${db:Status-Abbrev}' pm) != un* ]]; then
		echo "a package pm is installed already (dpkg -l pm): remove it first, this test installs and removes its own" >&2
		return 1
	fi
	touch "$BATS_FILE_TMPDIR/ours"
	if ! make -s -C "$PM_ROOT" deb >"$BATS_FILE_TMPDIR/deb.log" 2>&1; then
		cat "$BATS_FILE_TMPDIR/deb.log" >&2
		return 1
	fi
}

# Whatever failed midway, the machine is left without the package.
teardown_file() {
	[[ -e $BATS_FILE_TMPDIR/ours ]] || return 0
	! dpkg-query -W pm >/dev/null 2>&1 || dpkg --purge pm >/dev/null
}

setup() {
	version=$(sed -n 's/^VERSION *:= *//p' "$PM_ROOT/Makefile")
	arch=$(dpkg --print-architecture)
	deb=$PM_ROOT/build/deb/pm_${version}_$arch.deb
}

installed() { # command...: from /, the system's PATH alone, nothing of the checkout
	(cd / && env -u PM_BIN -u PM_ROOT -u MANPATH PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@")
}

@test "make deb: build/deb/pm_VERSION_ARCH.deb by dpkg-buildpackage, its libraries and postgresql-client its dependencies, nothing for lintian" {
	run -0 dpkg-deb -f "$deb" Package Version Architecture Depends
	assert_line 'Package: pm'
	assert_line "Version: $version"
	assert_line "Architecture: $arch"
	# The libraries from ${shlibs:Depends}, as the binaries link them; psql and pg_dump for the pipelines.
	for p in libpq5 libcsv3 libdeflate0 zlib1g postgresql-client; do
		assert_line --regexp "^Depends: (.*, )?$p( \\(|,|$)"
	done
	run -0 dpkg-deb -c "$deb"
	for f in usr/bin/pm usr/bin/pm-extract usr/bin/pm-transform usr/bin/pm-load usr/bin/pm-verify usr/bin/pm-plan \
		usr/libexec/pm/migrate usr/libexec/pm/lib.sh usr/libexec/pm/layout usr/share/pm/portal.plan \
		usr/share/man/man1/pm-migrate.1.gz usr/share/man/man7/pm.7.gz usr/share/bash-completion/completions/pm \
		usr/share/doc/pm/copyright; do
		assert_line --regexp " \\./$f\$"
	done
	# Tags on stdout; lintian's own note that it runs as root goes to stderr.
	run -0 --separate-stderr lintian --fail-on error,warning "$PM_ROOT/build/deb/pm_${version}_$arch.changes"
	assert_output ''
}

@test "dpkg -i: the installed pm migrates a throwaway database from /, verified; man finds its pages" {
	fresh_db
	db="dbname=$PGDATABASE"
	(cd "$BATS_TEST_TMPDIR" && "$PM_ROOT/scripts/generate-portal" --profiles 50 --printers 200 2>/dev/null)
	run -0 dpkg -i "$deb"
	# shellcheck disable=SC2016 # dpkg-query's fields, not the shell's
	run -0 dpkg-query -W -f='${Version} ${db:Status-Abbrev}' pm
	assert_output "$version ii "
	run -0 installed pm --version
	assert_output "pm $version"
	before=$(table_digest portal_profile)$(table_digest portal_printer)
	run -0 installed pm migrate -s "$db" -t "$db" -w "$BATS_TEST_TMPDIR/work"
	assert_line 'verification: no differences'
	assert_portal_moved
	assert_equal "$(table_digest portal_profile)$(table_digest portal_printer)" "$before"
	for page in pm pm-migrate pm-verify-migration pm-rollback pm-compat pm-staged pm-extract; do
		run -0 installed man -w "$page"
		assert_output "/usr/share/man/man1/$page.1.gz"
	done
}

@test "dpkg --purge pm leaves none of its files and none of its folders" {
	run -0 dpkg -i "$deb"
	mapfile -t files < <(dpkg-query -L pm | while read -r f; do [[ -d $f ]] || echo "$f"; done)
	[ "${#files[@]}" -ge 35 ]
	run -0 dpkg --purge pm
	run -1 dpkg-query -W pm
	left=()
	for f in "${files[@]}" /usr/libexec/pm /usr/share/pm /usr/share/doc/pm; do
		[[ ! -e $f && ! -L $f ]] || left+=("$f")
	done
	assert_equal "${left[*]}" ''
}
