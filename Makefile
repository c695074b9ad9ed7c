# pm: the portal migration toolkit.  `make check` and `make demo` are the two commands.
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

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

TOOLS    := pm-extract pm-load pm-plan pm-transform pm-verify
LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
MAN      := $(wildcard man/*.[1-7])

.PHONY: all tools asan deps check memcheck demo bench fuzz install uninstall clean
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

bench: deps
	$(MAKE) tools
	tests/bench/run $(SIZE)
	tests/bench/compat

# libFuzzer targets (tests/fuzz/README), each for FUZZ_SECONDS (default 60); not part of check.
fuzz: deps
	@scripts/ensure-fuzz-deps
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) tests/fuzz/run

install: tools
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(TOOLS:%=$(BUILD)/bin/%) $(DESTDIR)$(PREFIX)/bin
	for m in $(MAN); do install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}; done

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(PREFIX)/bin/%)
	for m in $(MAN); do rm -f $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/$${m##*/}; done

clean:
	rm -rf build
