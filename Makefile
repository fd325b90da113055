# Orbital: build, rootfs, run, test, install.
#
#   make                 build orbital and orbital-init (release, static)
#   make rootfs          create the default root filesystem at $(ROOTFS) unless it exists
#   make run             build, create the rootfs if needed, run a shell in a container
#   make test            build, lint, and run every unit and integration test (as root)
#   make install         install both programs into $(DESTDIR)$(PREFIX)/bin
#   make bench           compare with crun, runc, bwrap and unshare; write BENCHMARKS.md

ROOTFS ?= /tmp/orbital-rootfs
PREFIX ?= /usr/local
DESTDIR ?=
CARGO ?= cargo
BIN := target/release
PROGRAMS := $(BIN)/orbital $(BIN)/orbital-init
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: all build rootfs run test unit integration lint fmt install uninstall clean bench

all: build

build:
	$(CARGO) build --release -p orbital -p orbital-init

rootfs:
	ROOTFS_TAR="$(ROOTFS_TAR)" sh scripts/mkrootfs.sh "$(ROOTFS)"

run: build
	@test -d "$(ROOTFS)" || $(SUDO) $(MAKE) --no-print-directory rootfs ROOTFS="$(ROOTFS)"
	$(SUDO) $(BIN)/orbital run --rootfs "$(ROOTFS)" /bin/sh

test: build lint unit integration

unit:
	$(CARGO) test --release -p orbital -p orbital-init

# The integration tests start real containers: they need root and the release binaries.
integration: build
	ORBITAL_BIN_DIR="$(CURDIR)/$(BIN)" $(CARGO) test --release -p orbital-tests

lint:
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	$(CARGO) fmt --all -- --check

fmt:
	$(CARGO) fmt --all

# The peers are installed with apt-get when missing; one that cannot run here is reported as
# skipped, with the reason.
bench: build
	python3 bench/bench.py --install

install: build
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 $(PROGRAMS) "$(DESTDIR)$(PREFIX)/bin/"

uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/orbital" "$(DESTDIR)$(PREFIX)/bin/orbital-init"

clean:
	$(CARGO) clean
