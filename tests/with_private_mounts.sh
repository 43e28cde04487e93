#!/usr/bin/env bash
# with_private_mounts.sh COMMAND [ARG...] - run COMMAND with pseudo-terminals
# on a machine that has none: a bare chroot made by debootstrap, with /dev
# bind-mounted without /dev/pts.
#
# The tests need pseudo-terminals: pexpect drives QEMU's serial console,
# Bochs's terminal display runs under script(1). `./build.sh test` runs the
# suite through this script, as root, when the machine has none. The script
# first moves itself into a mount namespace of its own (unshare --mount)
# and makes /dev and everything under it private there, so that the mounts
# below are seen by COMMAND alone: the host's /dev/pts and /dev/ptmx are
# never touched. (unshare's default, making / private, fails in a chroot,
# whose / is not a mount point; /dev, bound in, is one.)
#
# devpts with newinstance is a set of pseudo-terminals of its own; binding
# its ptmx over /dev/ptmx makes openpty(3), which opens /dev/ptmx, use it
# (Linux Documentation/filesystems/devpts.rst).
set -euo pipefail

die() { printf 'with_private_mounts.sh: %s\n' "$*" >&2; exit 2; }

[ $# -gt 0 ] || die "usage: with_private_mounts.sh COMMAND [ARG...]"
[ "$(id -u)" = 0 ] || die "needs root (it mounts devpts)"
command -v unshare >/dev/null || die "needs unshare (package util-linux)"
if [ "${WITH_PRIVATE_MOUNTS_NAMESPACE:-}" != "$$" ]; then
    # unshare execs this script in a new mount namespace, as the same process.
    WITH_PRIVATE_MOUNTS_NAMESPACE=$$ exec unshare --mount --propagation unchanged "$0" "$@"
fi
# Fail closed: mount nothing unless this namespace is not our parent's.
own=$(readlink /proc/self/ns/mnt || true)
parent=$(readlink "/proc/$PPID/ns/mnt" || true)
if [ -z "$own" ] || [ -z "$parent" ] || [ "$own" = "$parent" ]; then
    die "not in a mount namespace of its own (unshare failed?): nothing mounted"
fi
unset WITH_PRIVATE_MOUNTS_NAMESPACE

mountpoint -q /dev ||
    die "/dev is not a mount point here, so it cannot be made private: mount devpts at /dev/pts by hand"
mount --make-rprivate /dev
mkdir -p /dev/pts
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
[ -e /dev/ptmx ] || touch /dev/ptmx
mount --bind /dev/pts/ptmx /dev/ptmx
exec "$@"
