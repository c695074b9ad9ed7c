# pm: the portal migration toolkit.  `make check` and `make demo` are the two commands.
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

# Where make install puts things: the GNU directory variables, under PREFIX unless given.
prefix      ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir      ?= $(exec_prefix)/bin
libexecdir  ?= $(exec_prefix)/libexec
datarootdir ?= $(prefix)/share
datadir     ?= $(datarootdir)
mandir      ?= $(datarootdir)/man
# pm's own folders: the pipelines and their lib.sh; the shipped plan, mapping files and SQL.
pkglibexecdir  ?= $(libexecdir)/pm
pkgdatadir     ?= $(datadir)/pm
bashcompletiondir ?= $(datarootdir)/bash-completion/completions

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
# libpq's include folder as its own packaging says (pkg-config, else pg_config: both come with
# libpq-dev); recursive, so that it is asked only once ensure-deps has installed them.
PQ_CFLAGS = $(shell pkg-config --cflags libpq 2>/dev/null || echo "-I$$(pg_config --includedir)")
CPPFLAGS += -D_GNU_SOURCE -DPM_VERSION='"$(VERSION)"' -Ilib $(PQ_CFLAGS)
LDLIBS  += -lpq -lcsv -ldeflate -lz -pthread
# Each object's header dependencies, as the compiler found them.
DEPFLAGS = -MMD -MP

# BUILD is the output folder; SAN=1 builds with AddressSanitizer and UBSan into build/asan, after the
# user's CFLAGS (its -O1 last, so it wins).
BUILD ?= build
ifeq ($(SAN),1)
SANFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

TOOLS    := pm-extract pm-load pm-mark-nulls pm-plan pm-transform pm-verify
LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
MAN      := $(wildcard man/*.[1-7])
PIPELINES := migrate verify rollback compat staged
PIPELINE_LIBS := lib.sh conninfo.bash
SCHEMAS  := $(wildcard schemas/*)

.PHONY: all tools asan deps check memcheck demo bench fuzz install uninstall deb clean
all: tools

tools: $(TOOLS:%=$(BUILD)/bin/%) $(UNIT_BIN)

asan:
	$(MAKE) BUILD=build/asan SAN=1 tools

$(BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -c -o $@ $<

$(BUILD)/lib/libpm.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/%: bin/%.c $(BUILD)/lib/libpm.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/lib/libpm.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/lib/libpm.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/unit $(DEPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/lib/libpm.a $(LDLIBS)

-include $(LIB_OBJ:.o=.d) $(TOOLS:%=$(BUILD)/bin/%.d) $(UNIT_BIN:=.d)

deps:
	@scripts/ensure-deps

# Everything, twice: the plain build and the sanitizer build, against a throwaway PostgreSQL.
check: deps
	$(MAKE) tools
	$(MAKE) asan
	tests/run

# The tools under valgrind (tests/valgrind) in tests/bats/memcheck.bats alone, plain build, against
# a throwaway PostgreSQL as check starts it; fails on any leak or invalid access.  check runs it too.
memcheck: deps
	$(MAKE) tools
	PM_BUILDS=build PM_SUITES=tests/bats/memcheck.bats tests/run

demo: deps
	$(MAKE) tools
	scripts/demo

# SIZE: small, full or a number of printers, or several (SIZE="1000000 5000000": one run each, then
# the growth table); PEERS=0 leaves out pgloader, pgcopydb and Django's bulk_create (and their install).
bench: deps
	@[ "$(PEERS)" = 0 ] || scripts/ensure-deps bench
	$(MAKE) tools
	PM_BENCH_PEERS=$(or $(PEERS),1) tests/bench/run $(SIZE)
	tests/bench/compat

# libFuzzer targets (tests/fuzz/README), each for FUZZ_SECONDS (default 60); not part of check.
fuzz: deps
	@scripts/ensure-deps fuzz
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) tests/fuzz/run

# The tools and pm into bindir, the pipelines into pkglibexecdir, the plan's files into pkgdatadir,
# the man pages, the completion.  Installed pipelines find the rest through pkglibexecdir/layout,
# installed pm finds them through its pm_libexec line: paths relative to their own folder (as they
# are once DESTDIR is gone), so a tree moved whole still works.
rel = $(shell realpath -m --relative-to='$(1)' '$(2)')
install: tools
	install -d '$(DESTDIR)$(bindir)' '$(DESTDIR)$(pkglibexecdir)' '$(DESTDIR)$(pkgdatadir)' \
		'$(DESTDIR)$(bashcompletiondir)' $(sort $(foreach m,$(MAN),'$(DESTDIR)$(mandir)/man$(subst .,,$(suffix $(m)))'))
	install -m 755 $(TOOLS:%=$(BUILD)/bin/%) '$(DESTDIR)$(bindir)'
	sed -e 's|^pm_libexec=.*|pm_libexec=$(call rel,$(bindir),$(pkglibexecdir))|' \
		-e 's|^pm_version=.*|pm_version=$(VERSION)|' bin/pm >'$(DESTDIR)$(bindir)/pm'
	chmod 755 '$(DESTDIR)$(bindir)/pm'
	install -m 755 $(PIPELINES:%=pipelines/%) '$(DESTDIR)$(pkglibexecdir)'
	install -m 644 $(PIPELINE_LIBS:%=pipelines/%) '$(DESTDIR)$(pkglibexecdir)'
	printf '# shellcheck shell=bash\n# Written by make install: where pm put its tools and its plan, relative to this folder.\npm_layout_bin=%s\npm_layout_data=%s\n' \
		'$(call rel,$(pkglibexecdir),$(bindir))' '$(call rel,$(pkglibexecdir),$(pkgdatadir))' >'$(DESTDIR)$(pkglibexecdir)/layout'
	chmod 644 '$(DESTDIR)$(pkglibexecdir)/layout'
	install -m 644 $(SCHEMAS) '$(DESTDIR)$(pkgdatadir)'
	for m in $(MAN); do install -m 644 $$m '$(DESTDIR)$(mandir)'/man$${m##*.}; done
	install -m 644 bin/pm.bash-completion '$(DESTDIR)$(bashcompletiondir)/pm'

# Exactly what install put there, and pm's own two folders.
uninstall:
	rm -f $(foreach t,$(TOOLS) pm,'$(DESTDIR)$(bindir)/$(t)') \
		$(foreach f,$(PIPELINES) $(PIPELINE_LIBS) layout,'$(DESTDIR)$(pkglibexecdir)/$(f)') \
		$(foreach f,$(SCHEMAS),'$(DESTDIR)$(pkgdatadir)/$(notdir $(f))') \
		'$(DESTDIR)$(bashcompletiondir)/pm'
	for m in $(MAN); do rm -f '$(DESTDIR)$(mandir)'/man$${m##*.}/$${m##*/}; done
	rmdir '$(DESTDIR)$(pkglibexecdir)' '$(DESTDIR)$(pkgdatadir)' 2>/dev/null || true

# A Debian package, made by Debian's own tools (debhelper's dh runs the build and make install
# under /usr, debian/rules): dpkg-buildpackage writes beside the tree it builds, so it builds a copy
# in build/deb/pm-VERSION and the package lands in build/deb (pm_VERSION_ARCH.deb).  The copy is
# of the working tree as it is, without build/ and git's folder; the outer make's variables stay out.
DEB_DIR := build/deb
deb: deps
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version); [ "$$v" = '$(VERSION)' ] || \
		{ echo "make deb: debian/changelog is at $$v, the Makefile's VERSION $(VERSION)" >&2; exit 1; }
	rm -rf '$(DEB_DIR)'
	mkdir -p '$(DEB_DIR)/pm-$(VERSION)'
	tar -c --exclude=./build --exclude=./.git --exclude=./demo-work . | tar -x -C '$(DEB_DIR)/pm-$(VERSION)'
	cd '$(DEB_DIR)/pm-$(VERSION)' && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b
	rm -rf '$(DEB_DIR)/pm-$(VERSION)'

clean:
	rm -rf build
