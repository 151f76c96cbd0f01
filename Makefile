# postfix-tls-setup — build, install, test.
# Honours CC, CFLAGS, CPPFLAGS, LDFLAGS, PKG_CONFIG, PREFIX, DESTDIR as a
# Gentoo ebuild expects.  CI=true adds -Werror.

# The release this tree leads to (the committed ebuild's, the man page's).
BASE_VERSION	= 0.1.0
# Every commit's own version, which Portage orders above every earlier
# commit's: BASE_VERSION_pYYYYMMDDhhmmss, the commit time in UTC, so that
# "git pull && make overlay" offers a new commit to "emerge -u".  The
# tarball has no .git: make dist writes the version into it (VERSION),
# which wins.  Outside both, the bare BASE_VERSION.  Computed once, and
# only when a target asks for it (a deferred :=).
VERSION		= $(eval VERSION := $(shell \
		  if [ -f VERSION ]; then cat VERSION; \
		  elif t=$$(TZ=UTC git log -1 --format=%cd \
			--date=format-local:%Y%m%d%H%M%S 2>/dev/null) && \
			[ -n "$$t" ]; then echo $(BASE_VERSION)_p$$t; \
		  else echo $(BASE_VERSION); fi))$(VERSION)
PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
# Not a setting of its own: the helper looks for its lookup program in
# ../libexec from its own directory.
LIBEXECDIR	= $(PREFIX)/libexec
MANDIR		?= $(PREFIX)/share/man
DATADIR		?= $(PREFIX)/share/postfix-tls-setup
SYSCONFDIR	?= /etc
# Where an unprivileged ACME client's user leaves its renewal requests
# (src/handoff.h): made root's, 1730, by make install; the admin gives it
# the client's group.
SPOOLDIR	?= /var/spool/postfix-tls-setup
PKG_CONFIG	?= pkg-config
POSTCONF	?= /usr/sbin/postconf
POSTMAP		?= /usr/sbin/postmap
CC		?= cc
CFLAGS		?= -O2 -g
WARNINGS	= -Wall -Wextra
ifeq ($(CI),true)
WARNINGS	+= -Werror
endif

# Asked only when a rule that compiles or links expands them (a deferred
# :=, once): make dist, overlay, version run where libbsd is not installed
# yet, and must not print pkg-config's complaints there.
LIBS_CFLAGS	= $(eval LIBS_CFLAGS := $(shell $(PKG_CONFIG) --cflags libssl libcrypto libbsd-overlay))$(LIBS_CFLAGS)
LIBS_LDLIBS	= $(eval LIBS_LDLIBS := $(shell $(PKG_CONFIG) --libs libssl libcrypto libbsd-overlay) -lresolv)$(LIBS_LDLIBS)
# The TLSA lookup program needs no OpenSSL, nor libbsd (src/lookup.c says
# why).
LOOKUP_LDLIBS	= -lresolv

PROG		= postfix-tls-setup
# The OpenRC service: not $(PROG), whose conf.d file OpenRC would source.
SERVICE		= postfix-tls
# The DNS lookup process dns.c starts: a program of its own (src/lookup.c),
# beside the helper in the build tree, in LIBEXECDIR/PROG once installed
# (the helper looks in ../libexec/PROG from its own directory).
LOOKUP		= postfix-tls-lookup
# One file per concern (see each header): the commands, the inventory
# and its judge, the findings and their rendering, the service layer.
SRCS		= src/main.c src/help.c src/util.c src/finding.c src/render.c src/conf.c \
		  src/postconf.c src/child.c src/cache.c src/vdb.c src/secure.c \
		  src/write.c src/pem.c src/chain.c src/verify.c src/inspect.c \
		  src/json.c src/maincf.c src/topology.c src/inventory.c \
		  src/snimap.c src/mapbuild.c src/material.c src/judge.c \
		  src/workers.c src/bundle.c src/deploy.c src/handshake.c \
		  src/probe.c src/dns.c src/dane.c src/acmeconf.c src/service.c \
		  src/renew.c src/handoff.c
OBJS		= $(SRCS:.c=.o)
# The library: every object but the command line's (the fuzzers and the
# unit tier link against it).
LIB_SRCS	= $(filter-out src/main.c src/help.c,$(SRCS))
LIB_OBJS	= $(LIB_SRCS:.c=.o)
ALL_CPPFLAGS	= -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -DSYSCONFDIR='"$(SYSCONFDIR)"' \
		  -DSPOOLDIR='"$(SPOOLDIR)"' \
		  -DPOSTCONF_PATH='"$(POSTCONF)"' -DPOSTMAP_PATH='"$(POSTMAP)"' $(LIBS_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS	= -std=c11 $(WARNINGS) $(CFLAGS)

all: $(PROG) $(LOOKUP)

$(PROG): $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS_LDLIBS) $(LDLIBS)

$(LOOKUP): src/lookup.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ src/lookup.o $(LOOKUP_LDLIBS) $(LDLIBS)

# --version names the commit: main.c's objects rebuild when the version
# changes (a new commit), and only then (the stamp is rewritten only when
# it differs).
src/version.stamp: FORCE
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
src/main.o build/asan/src/main.o: src/version.stamp
FORCE:

# Each object rebuilds on the headers it includes (-MMD: src/*.d).
src/%.o: src/%.c
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(SRCS:.c=.d) src/lookup.d

# The installed files name each other by their installed paths: SUBST
# turns the paths they carry for PREFIX=/usr SYSCONFDIR=/etc into this
# build's (make install-openrc PREFIX="$EPREFIX/usr" SYSCONFDIR="$EPREFIX/etc"
# from the ebuild).  The helper and the OpenRC files are installed this
# one way, by the ebuild too.
SUBST		= sed -e 's|/usr/sbin/$(PROG)|$(SBINDIR)/$(PROG)|g' \
		      -e 's|/usr/share/$(PROG)|$(DATADIR)|g' \
		      -e 's|/var/spool/$(PROG)|$(SPOOLDIR)|g' \
		      -e 's|/etc/|$(SYSCONFDIR)/|g'

# The ACME clients' deploy hooks (files/hooks/): each calls "renew".
HOOKS		= certbot dehydrated lego uacme
# Root's side of the hand-off from an unprivileged client (files/handoff/):
# a cron line and systemd units, installed for the admin to copy.
HANDOFF		= postfix-tls-setup.cron postfix-tls-setup-renew.path \
		  postfix-tls-setup-renew.service

install: $(PROG) $(LOOKUP)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(LIBEXECDIR)/$(PROG)
	install -m 0755 $(PROG) $(DESTDIR)$(SBINDIR)/$(PROG)
	install -m 0755 $(LOOKUP) $(DESTDIR)$(LIBEXECDIR)/$(PROG)/$(LOOKUP)
	install -m 0644 $(PROG).8 $(DESTDIR)$(MANDIR)/man8/$(PROG).8
	install -d $(DESTDIR)$(DATADIR)
	$(SUBST) files/openrc-hook.sh >$(DESTDIR)$(DATADIR)/openrc-hook.sh
	chmod 0644 $(DESTDIR)$(DATADIR)/openrc-hook.sh
	install -d $(DESTDIR)$(DATADIR)/hooks
	for h in $(HOOKS); do \
		$(SUBST) files/hooks/$$h >$(DESTDIR)$(DATADIR)/hooks/$$h && \
		chmod 0755 $(DESTDIR)$(DATADIR)/hooks/$$h || exit 1; \
	done
	install -d $(DESTDIR)$(DATADIR)/handoff
	for f in $(HANDOFF); do \
		$(SUBST) files/handoff/$$f >$(DESTDIR)$(DATADIR)/handoff/$$f && \
		chmod 0644 $(DESTDIR)$(DATADIR)/handoff/$$f || exit 1; \
	done
	install -d -m 1730 $(DESTDIR)$(SPOOLDIR)

# The OpenRC files: the service, its settings (installed as they are: the
# paths in them are examples) and the hook for postfix.
install-openrc:
	install -d $(DESTDIR)$(SYSCONFDIR)/init.d $(DESTDIR)$(SYSCONFDIR)/conf.d \
		$(DESTDIR)$(SYSCONFDIR)/rc.conf.d
	$(SUBST) init.d/$(SERVICE) >$(DESTDIR)$(SYSCONFDIR)/init.d/$(SERVICE)
	chmod 0755 $(DESTDIR)$(SYSCONFDIR)/init.d/$(SERVICE)
	install -m 0644 conf.d/$(PROG) $(DESTDIR)$(SYSCONFDIR)/conf.d/$(PROG)
	$(SUBST) files/$(PROG).rc.conf \
		>$(DESTDIR)$(SYSCONFDIR)/rc.conf.d/$(PROG).conf
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/rc.conf.d/$(PROG).conf

# systemd's drop-ins (files/systemd/): one for Gentoo's postfix.service,
# one for Debian's postfix@.service, the unit that runs each instance
# there.  Debian's postfix.service is a oneshot: a drop-in on it would not
# gate the start and would reload twice, so where Debian's postfix@.service
# is installed the first is left out; SYSTEMD_DROPINS= chooses by hand
# (the ebuild names both).  The unit directory: SYSTEMDUNITDIR= when given
# (the ebuild gives systemd_get_systemunitdir), else systemd's own
# (pkg-config, asked here and not when the Makefile is read: a build needs
# no systemd), else PREFIX/lib/systemd/system, which systemd reads for
# PREFIX=/usr and /usr/local alike (/lib/systemd/system would be outside
# PREFIX).
install-systemd:
	d='$(SYSTEMDUNITDIR)'; \
	[ -n "$$d" ] || d=$$($(PKG_CONFIG) --variable=systemdsystemunitdir \
		systemd 2>/dev/null) || d=; \
	[ -n "$$d" ] || d='$(PREFIX)/lib/systemd/system'; \
	units='$(SYSTEMD_DROPINS)'; \
	if [ -z "$$units" ]; then \
		units=postfix@.service.d; \
		[ -e "$$d/postfix@.service" ] || \
		[ -e "$(DESTDIR)$$d/postfix@.service" ] || \
			units="postfix.service.d $$units"; \
	fi; \
	for u in $$units; do \
		install -d "$(DESTDIR)$$d/$$u" && \
		$(SUBST) "files/systemd/$$u/$(PROG).conf" \
			>"$(DESTDIR)$$d/$$u/$(PROG).conf" && \
		chmod 0644 "$(DESTDIR)$$d/$$u/$(PROG).conf" || exit 1; \
	done

# The mutation run: every one-line change in tests/mutants.list must make
# the bats files named for it fail (tests/mutants.sh; both cores).
mutants:
	bash tests/mutants.sh

# DEMO_INIT=systemd: under a real systemd with Debian's units instead.
demo: $(PROG)
	DEMO_INIT="$(DEMO_INIT)" bash tests/demo.sh

# The release tarball the versioned ebuild's SRC_URI names: the committed
# tree, byte-reproducible (git archive keeps the commit's times; gzip -n),
# and the version in VERSION (the tarball has no .git to ask).
TARBALL		= $(PROG)-$(VERSION).tar.gz
dist:
	mkdir -p dist
	echo '$(VERSION)' >dist/VERSION
	git archive --format=tar --prefix=$(PROG)-$(VERSION)/ \
		--add-file=dist/VERSION HEAD | gzip -n -9 >dist/$(TARBALL)

# The overlay's ebuild and Manifest for that tarball: the committed ebuild
# (BASE_VERSION's) under this commit's version, older snapshots' ebuilds
# removed, and a thin Manifest (DIST lines) that also says, as a comment
# Portage skips, which commit it was made from.  EBUILD_DIR: where (a
# test's copy of the overlay).
EBUILD_DIR	= ebuild/net-mail/$(PROG)
EBUILD_SRC	= ebuild/net-mail/$(PROG)/$(PROG)-$(BASE_VERSION).ebuild
manifest: dist
	rm -f $(EBUILD_DIR)/$(PROG)-*_p*.ebuild
	cp $(EBUILD_SRC) $(EBUILD_DIR)/$(PROG)-$(VERSION).ebuild
	f=dist/$(TARBALL); \
	{ printf 'DIST %s %s BLAKE2B %s SHA512 %s\n' "$${f##*/}" \
		"$$(stat -c %s $$f)" "$$(b2sum $$f | cut -d' ' -f1)" \
		"$$(sha512sum $$f | cut -d' ' -f1)" && \
	  printf '# made by make overlay from commit %s\n' \
		"$$(git rev-parse HEAD)"; } >$(EBUILD_DIR)/Manifest

# The overlay in ebuild/ made installable from this clone, where no release
# is published: the tarball into Portage's DISTDIR (emerge then has nothing
# to fetch), this commit's ebuild and the Manifest that vouches for the
# tarball (README, "On Gentoo").  DISTDIR: Portage's (portageq), unless
# given.  Checked first, so that a failure leaves the overlay as it was.
overlay: dist
	@d='$(DISTDIR)'; \
	if [ -z "$$d" ] && ! d=$$(portageq distdir 2>/dev/null); then \
		echo "make overlay: Portage's portageq did not name its DISTDIR (is" \
			"Portage installed?); name the directory: make overlay DISTDIR=DIR" >&2; \
		exit 1; \
	fi; \
	if [ ! -d "$$d" ]; then \
		echo "make overlay: Portage's DISTDIR $$d is not a directory: create it" \
			"(mkdir -p $$d) or set DISTDIR in /etc/portage/make.conf" >&2; \
		exit 1; \
	fi; \
	$(MAKE) -s --no-print-directory manifest && \
	install -m 0644 dist/$(TARBALL) "$$d/" && \
	echo "make overlay: $(EBUILD_DIR) offers $(PROG)-$(VERSION) (commit" \
		"$$(git rev-parse --short HEAD)); after every git pull, make overlay again"

# Fuzzing (clang with libFuzzer, ASan and UBSan): harnesses in tests/fuzz,
# linked against the library objects built once for all of them.
FUZZ_CC		?= clang
FUZZ_SAN	= -g -O1 -fsanitize=address,undefined \
		  -fno-sanitize-recover=undefined
FUZZ_FLAGS	= $(FUZZ_SAN) -fsanitize=fuzzer
FUZZERS		= build/fuzz_pem build/fuzz_conf build/fuzz_dns
FUZZ_LIB_OBJS	= $(LIB_SRCS:src/%.c=build/fuzz/src/%.o)

fuzzers: $(FUZZERS)

build/fuzz/src/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p build/fuzz/src
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
		-c -o $@ $<
build/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB_OBJS) \
		$(LIBS_LDLIBS)

# The helper for the sanitizer and valgrind passes of the test suite.
# The ASan+UBSan objects are built once, for the helper and the unit tier.
SAN_FLAGS	= -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
		  -fno-sanitize-recover=all
HDRS		= $(wildcard src/*.h)
ASAN_OBJS	= $(SRCS:src/%.c=build/asan/src/%.o)
ASAN_LIB_OBJS	= $(LIB_SRCS:src/%.c=build/asan/src/%.o)
asan: build/asan/$(PROG) build/asan/$(LOOKUP)
build/asan/src/%.o: src/%.c $(HDRS)
	@mkdir -p build/asan/src
	$(CC) $(ALL_CPPFLAGS) -std=c11 $(WARNINGS) $(SAN_FLAGS) -c -o $@ $<
build/asan/$(PROG): $(ASAN_OBJS)
	$(CC) $(SAN_FLAGS) -o $@ $(ASAN_OBJS) $(LIBS_LDLIBS)
build/asan/$(LOOKUP): build/asan/src/lookup.o
	$(CC) $(SAN_FLAGS) -o $@ build/asan/src/lookup.o $(LOOKUP_LDLIBS)

# The unit tier: tests/unit/NAME.c, one binary per module, each linked
# with the harness (tests/unit/harness) against the library objects as
# they are built (build/unit/NAME), and against the ASan+UBSan ones
# (build/asan/unit/NAME).  Needs no root, no Postfix, no openssl CLI.
# The lookup program beside them is tests/unit/dane.c's stand-in (a link
# to it); LOOKUP_REAL names the real one, for the tests that run it.
UNIT_SRCS	= $(wildcard tests/unit/*.c)
UNIT_HARNESS	= tests/unit/harness/unit.c tests/unit/harness/pki.c
UNIT_DEPS	= $(UNIT_HARNESS) tests/unit/harness/unit.h $(HDRS)
UNIT_BINS	= $(UNIT_SRCS:tests/unit/%.c=build/unit/%)
ASAN_UNIT_BINS	= $(UNIT_SRCS:tests/unit/%.c=build/asan/unit/%)
unit: $(UNIT_BINS) build/unit/$(LOOKUP)
build/unit/%: tests/unit/%.c $(UNIT_DEPS) $(LIB_OBJS) $(LOOKUP)
	@mkdir -p build/unit
	$(CC) $(ALL_CPPFLAGS) -DLOOKUP_REAL='"$(CURDIR)/$(LOOKUP)"' \
		$(ALL_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(UNIT_HARNESS) $(LIB_OBJS) $(LIBS_LDLIBS) $(LDLIBS)
build/asan/unit/%: tests/unit/%.c $(UNIT_DEPS) $(ASAN_LIB_OBJS) \
    build/asan/$(LOOKUP)
	@mkdir -p build/asan/unit
	$(CC) $(ALL_CPPFLAGS) -DLOOKUP_REAL='"$(CURDIR)/build/asan/$(LOOKUP)"' \
		-std=c11 $(WARNINGS) $(SAN_FLAGS) -o $@ $< \
		$(UNIT_HARNESS) $(ASAN_LIB_OBJS) $(LIBS_LDLIBS)
build/unit/$(LOOKUP) build/asan/unit/$(LOOKUP):
	@mkdir -p $(@D)
	ln -sf dane $@

valgrind-wrapper: build/valgrind/$(PROG)
build/valgrind/$(PROG): $(PROG)
	mkdir -p build/valgrind
	printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect %s/$(PROG) "$$@"\n' "$(CURDIR)" >$@
	chmod 0755 $@

# The suite in tiers (unit, cli, world, meta: a test's directory under
# tests/) and passes (plain, asan, valgrind); tests/run.sh says which tier
# runs in which pass.  check runs everything; check-fast is the edit loop
# (unit and cli, plain build); check-TIER one tier in its passes.
# PTS_PASSES narrows the passes (an ebuild's src_test: PTS_PASSES=plain
# check-unit), PTS_JOBS the files run at once (default: the CPUs and one).
PTS_PASSES	?= plain asan valgrind
CHECK_plain	= $(PROG) $(LOOKUP) $(UNIT_BINS) build/unit/$(LOOKUP)
CHECK_asan	= build/asan/$(PROG) build/asan/$(LOOKUP) $(ASAN_UNIT_BINS) \
		  build/asan/unit/$(LOOKUP)
CHECK_valgrind	= $(CHECK_plain) build/valgrind/$(PROG)
CHECK_BUILD	= $(foreach p,$(PTS_PASSES),$(CHECK_$(p)))
RUN_TESTS	= PTS_PASSES="$(PTS_PASSES)" bash tests/run.sh
NPROC		:= $(shell nproc 2>/dev/null || echo 2)

# check builds its four builds (plain, ASan, fuzzers, unit) on every CPU
# (unless make was given its own -j), then runs the suite.
check:
	$(MAKE) $(if $(filter -j%,$(MAKEFLAGS)),,-j$(NPROC)) $(CHECK_BUILD) fuzzers
	$(RUN_TESTS)
check-fast: $(CHECK_plain)
	PTS_TIERS="unit cli" PTS_PASSES=plain bash tests/run.sh
check-unit: $(CHECK_BUILD)
	PTS_TIERS=unit $(RUN_TESTS)
check-cli: $(CHECK_BUILD)
	PTS_TIERS=cli $(RUN_TESTS)
check-world: $(CHECK_BUILD)
	PTS_TIERS=world $(RUN_TESTS)
check-meta: $(PROG) fuzzers
	PTS_TIERS=meta $(RUN_TESTS)

# Benchmark (bench/run.sh; see BENCHMARKS.md). The floor is a minimal C
# program, built with the same flags.
bench: $(PROG) $(LOOKUP) bench/floor bench/sni-pki
	bash bench/run.sh

# The SNI part alone (bench/run.sh runs it too).
bench-sni: $(PROG) bench/floor bench/sni-pki
	bash bench/sni.sh

# The post-start handshake alone (bench/run.sh runs it too).
bench-probe: $(PROG)
	bash bench/probe.sh

# The DANE guard's lookup alone (bench/run.sh runs it too).
bench-dane: $(PROG) $(LOOKUP)
	bash bench/dane.sh

bench/floor: bench/floor.c
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ bench/floor.c \
		$(LIBS_LDLIBS)

bench/sni-pki: bench/sni-pki.c
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ bench/sni-pki.c \
		$(LIBS_LDLIBS)

version:
	@echo $(VERSION)

clean:
	rm -rf $(PROG) $(LOOKUP) $(OBJS) src/version.stamp src/lookup.o src/lookup.d $(SRCS:.c=.d) dist build bench/floor bench/sni-pki bench/out

.PHONY: all install install-openrc install-systemd check check-fast check-unit check-cli \
	check-world check-meta mutants demo bench bench-sni bench-probe \
	bench-dane dist manifest overlay fuzzers asan unit valgrind-wrapper \
	version clean
