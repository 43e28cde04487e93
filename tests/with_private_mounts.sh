#!/usr/bin/env bash
# with_private_mounts.sh COMMAND [ARG...] - run COMMAND with pseudo-terminals
# and /sys, on a machine that has neither: a bare chroot made by
# debootstrap, with /dev bind-mounted without /dev/pts and no /sys.
#
# The tests need pseudo-terminals (pexpect drives QEMU's serial console,
# Bochs's terminal display runs under script(1)) and /sys (the disk checks
# of image/write-disk.sh read it). `./build.sh test` runs the suite through
# this script, as root, when the machine lacks them. The script first moves
# itself into a mount namespace of its own (unshare --mount, propagation
# private), so that the mounts below are seen by COMMAND alone: the host's
# /dev/pts, /dev/ptmx and /sys are never touched.
#
# devpts with newinstance is a set of pseudo-terminals of its own; binding
# its ptmx over /dev/ptmx makes openpty(3), which opens /dev/ptmx, use it
# (Linux Documentation/filesystems/devpts.rst).
set -euo pipefail

die() { printf 'with_private_mounts.sh: %s\n' "$*" >&2; exit 2; }

[ $# -gt 0 ] || die "usage: with_private_mounts.sh COMMAND [ARG...]"
[ "$(id -u)" = 0 ] || die "needs root (it mounts devpts and sysfs)"
command -v unshare >/dev/null || die "needs unshare (package util-linux)"
if [ "${WITH_PRIVATE_MOUNTS_NAMESPACE:-}" != "$$" ]; then
    # unshare execs this script in a new mount namespace, as the same process.
    WITH_PRIVATE_MOUNTS_NAMESPACE=$$ exec unshare --mount --propagation private "$0" "$@"
fi
# Fail closed: mount nothing unless this namespace is not our parent's.
own=$(readlink /proc/self/ns/mnt || true)
parent=$(readlink "/proc/$PPID/ns/mnt" || true)
if [ -z "$own" ] || [ -z "$parent" ] || [ "$own" = "$parent" ]; then
    die "not in a mount namespace of its own (unshare failed?): nothing mounted"
fi
unset WITH_PRIVATE_MOUNTS_NAMESPACE

mkdir -p /dev/pts
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
[ -e /dev/ptmx ] || touch /dev/ptmx
mount --bind /dev/pts/ptmx /dev/ptmx
[ -d /sys/block ] || mount -t sysfs sysfs /sys
exec "$@"
