#!/bin/sh
# Create a root filesystem for Orbital containers.
#
# Usage: scripts/mkrootfs.sh [DIR]        (DIR defaults to /tmp/orbital-rootfs)
#        ROOTFS_TAR=FILE scripts/mkrootfs.sh [DIR]
#
# Sources, first that works wins: ROOTFS_TAR, a local Docker 'alpine' image,
# a statically linked busybox.  An existing non-empty DIR is left untouched so
# that repeated `make` runs are cheap and never clobber a hand-made rootfs.

set -u

# A restrictive umask would make the tree unreadable to container users.
umask 022

prog=mkrootfs
DIR=${1-/tmp/orbital-rootfs}

info() { echo "$prog: $*" >&2; }
die() { echo "$prog: $*" >&2; exit 1; }

# Trailing slashes would turn the sibling build dir into a child of DIR.
while :; do
    case $DIR in
        */) DIR=${DIR%/} ;;
        *) break ;;
    esac
done
[ -n "$DIR" ] || die "refusing to build a rootfs at '/' or an empty path"

if [ -d "$DIR" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
    echo "rootfs $DIR already exists"
    exit 0
fi
if [ -e "$DIR" ] && [ ! -d "$DIR" ]; then
    die "$DIR exists and is not a directory"
fi

# Building beside DIR and renaming at the end means an interrupted run can
# never leave a half-populated DIR that a later run would accept as done.
TMP="$DIR.tmp.$$"
FAILMARK="$TMP.failed"
CID=

cleanup() {
    if [ -n "$CID" ]; then
        docker rm -f "$CID" >/dev/null 2>&1
    fi
    rm -rf "$TMP" "$FAILMARK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' HUP TERM

fresh_tmp() {
    rm -rf "$TMP" || die "cannot remove $TMP"
    mkdir -p "$TMP" || die "cannot create $TMP"
}

# Neither an unresponsive daemon nor a hung socket may stall a make run.
with_timeout() {
    secs=$1
    shift
    if command -v timeout >/dev/null 2>&1; then
        timeout "$secs" "$@"
    else
        "$@"
    fi
}

# GNU tar would otherwise remap owners through the host's passwd database,
# which is wrong for a foreign root filesystem.
tar_extract() {
    if tar --version 2>/dev/null | grep -q 'GNU tar'; then
        tar --numeric-owner -xf "$1" -C "$2"
    else
        tar -xf "$1" -C "$2"
    fi
}

finish() {
    if [ -d "$DIR" ]; then
        rmdir "$DIR" 2>/dev/null || die "$DIR appeared while building; leaving it alone"
    fi
    mv "$TMP" "$DIR" || die "cannot rename $TMP to $DIR"
    echo "$prog: rootfs from $1 at $DIR"
    exit 0
}

mkdir -p "$(dirname "$DIR")" || die "cannot create parent directory of $DIR"

# ---- 1. explicit tarball -------------------------------------------------
if [ -n "${ROOTFS_TAR:-}" ]; then
    # tar -C may change directory before opening the archive in some tars.
    case $ROOTFS_TAR in
        /*) tarball=$ROOTFS_TAR ;;
        *) tarball=$PWD/$ROOTFS_TAR ;;
    esac
    [ -f "$tarball" ] || die "ROOTFS_TAR=$ROOTFS_TAR: no such file"
    fresh_tmp
    tar_extract "$tarball" "$TMP" || die "ROOTFS_TAR=$ROOTFS_TAR: extraction failed"
    [ -n "$(ls -A "$TMP")" ] || die "ROOTFS_TAR=$ROOTFS_TAR: archive is empty"
    finish "tarball $ROOTFS_TAR"
fi

# ---- 2. local Docker alpine image ----------------------------------------
try_docker() {
    if ! command -v docker >/dev/null 2>&1; then
        info "docker not installed, skipping"
        return 1
    fi
    if ! with_timeout 5 docker info >/dev/null 2>&1; then
        info "docker engine not running, skipping"
        return 1
    fi
    # Pulling would make the build depend on the network and a registry.
    if ! with_timeout 10 docker image inspect alpine >/dev/null 2>&1; then
        info "docker image 'alpine' not present locally, skipping"
        return 1
    fi
    CID=$(with_timeout 30 docker create alpine 2>/dev/null) || CID=
    if [ -z "$CID" ]; then
        info "docker create alpine failed, skipping"
        return 1
    fi
    fresh_tmp
    rm -f "$FAILMARK"
    # POSIX sh has no pipefail, so the export status travels via a file.
    { docker export "$CID" || : >"$FAILMARK"; } | tar -xf - -C "$TMP"
    tar_rc=$?
    docker rm -f "$CID" >/dev/null 2>&1
    CID=
    if [ -e "$FAILMARK" ] || [ "$tar_rc" -ne 0 ] || [ -z "$(ls -A "$TMP")" ]; then
        rm -f "$FAILMARK"
        info "docker export of alpine failed, skipping"
        return 1
    fi
    return 0
}

if try_docker; then
    finish "docker image alpine"
fi

# ---- 3. static busybox ---------------------------------------------------
# A dynamically linked busybox would need the host's loader and libc inside
# the container, so only a static one is usable.
is_static() {
    if command -v file >/dev/null 2>&1; then
        file -L "$1" 2>/dev/null | grep -Eq 'statically linked|static-pie linked'
    elif command -v readelf >/dev/null 2>&1; then
        readelf -l "$1" 2>/dev/null | grep -q 'Elf file type' &&
            ! readelf -l "$1" 2>/dev/null | grep -q 'INTERP'
    else
        # A static glibc busybox still carries the loader name in .rodata;
        # only a dynamic one has it in .interp, right after the ELF headers.
        ! head -c 4096 "$1" | grep -aEq 'ld-linux|ld-musl'
    fi
}

REQUIRED="sh ls ps hostname cat mount sleep true false env id echo kill stat"

has_required_applets() {
    list=$("$1" --list 2>/dev/null) || return 1
    missing=
    for a in $REQUIRED; do
        printf '%s\n' "$list" | grep -qx "$a" || missing="$missing $a"
    done
    if [ -n "$missing" ]; then
        info "$1 lacks applets:$missing"
        return 1
    fi
    return 0
}

find_busybox() {
    seen=
    for c in "$(command -v busybox 2>/dev/null)" /bin/busybox /usr/bin/busybox; do
        [ -n "$c" ] && [ -f "$c" ] && [ -x "$c" ] || continue
        case " $seen " in *" $c "*) continue ;; esac
        seen="$seen $c"
        if ! is_static "$c"; then
            info "$c is not statically linked, ignoring it"
            continue
        fi
        has_required_applets "$c" || continue
        echo "$c"
        return 0
    done
    return 1
}

build_busybox_tree() {
    bb=$1
    fresh_tmp
    for d in bin sbin usr/bin usr/sbin etc proc sys dev tmp root var; do
        mkdir -p "$TMP/$d" || return 1
    done
    chmod 1777 "$TMP/tmp" && chmod 0700 "$TMP/root" || return 1
    cp "$bb" "$TMP/bin/busybox" && chmod 0755 "$TMP/bin/busybox" || return 1

    # Older busyboxes lack --list-full; putting everything in bin still works.
    if applets=$("$bb" --list-full 2>/dev/null) && [ -n "$applets" ]; then :; else
        applets=$("$bb" --list | sed 's|^|bin/|')
    fi
    # The target is absolute so the links resolve inside the container,
    # not relative to wherever the tree sits on the host.
    for p in $applets; do
        case $p in
            */busybox | "") continue ;;
        esac
        mkdir -p "$TMP/$(dirname "$p")" || return 1
        [ -e "$TMP/$p" ] || [ -L "$TMP/$p" ] || ln -s /bin/busybox "$TMP/$p" || return 1
    done

    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
        'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$TMP/etc/passwd" || return 1
    printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$TMP/etc/group" || return 1
    return 0
}

bb=$(find_busybox)
if [ -z "$bb" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    info "installing busybox-static with apt-get"
    # A stale package index is the usual reason the first install fails.
    DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static >&2 ||
        { DEBIAN_FRONTEND=noninteractive apt-get update >&2 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static >&2; } ||
        info "apt-get install busybox-static failed"
    bb=$(find_busybox)
fi
if [ -n "$bb" ]; then
    if build_busybox_tree "$bb"; then
        finish "static busybox $bb"
    fi
    info "building the busybox tree from $bb failed"
fi

# ---- 4. nothing worked ---------------------------------------------------
die "no source for a root filesystem: install busybox-static (apt-get install busybox-static), or pass ROOTFS_TAR=FILE (for example from 'docker export'), or start Docker with an 'alpine' image"
