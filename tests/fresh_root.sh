#!/usr/bin/env bash
# fresh_root.sh - the README's two commands on a new machine: a minimal
# Debian 12 root made by debootstrap, a clone of this repository in it, and
# `./build.sh test` and `KERNEL_CMDLINE=qemu-exit ./build.sh run` run inside
# with nothing installed by hand. `./build.sh fresh-test` runs it; so does
# CI, after `./build.sh test`.
#
#   tests/fresh_root.sh --build DIR [--keep]
#
#   --build DIR  the build directory; the root, its logs and (unless
#                FRESH_ROOT_CACHE names another place) the cache go to
#                DIR/fresh-root
#   --keep       keep the root afterwards, also when everything passed
#
# Settings (environment variables):
#   FRESH_ROOT_CACHE   where the pristine root's tarball and apt's downloaded
#                      packages are kept between runs (default DIR/fresh-root/cache)
#   FRESH_ROOT_MIRROR  the Debian mirror (default: the first of this machine's
#                      apt sources)
#
# Needs root: debootstrap, mount and chroot. Every mount it makes is undone
# on every way out (success, failure, Ctrl-C). Prints one line per step with
# its time, and exits non-zero when a step fails, when the boot did not
# complete, or when build.sh installed a package the README's Requirements
# do not name.
set -euo pipefail

SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUITE=bookworm
# What the issue that asked for this test tried: the smallest root
# debootstrap makes, plus what a user needs to fetch the repository.
DEBOOTSTRAP_EXTRA=git,ca-certificates,sudo
TEST_TIMEOUT=1800   # seconds for ./build.sh test, installs included
RUN_TIMEOUT=300     # seconds for ./build.sh run, installs included
SHELL_TIMEOUT=120   # seconds to wait for the shell prompt

say() { printf 'fresh-root: %s\n' "$*"; }
die() { printf 'fresh-root: error: %s\n' "$*" >&2; exit 1; }

build=
keep=no
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=${2:?--build needs a directory}; shift 2 ;;
        --keep) keep=yes; shift ;;
        *) die "unknown argument $1 (use --build DIR [--keep])" ;;
    esac
done
[ -n "$build" ] || die "--build DIR is required"
[ "$(id -u)" -eq 0 ] ||
    die "needs root for debootstrap, mount and chroot: run sudo ./build.sh fresh-test"
for tool in debootstrap git chroot mount umount tar; do
    command -v "$tool" >/dev/null || die "$tool is missing (./build.sh fresh-test installs it)"
done

work=$(realpath -m "$build/fresh-root")
root=$work/root
logs=$work/logs
cache=$(realpath -m "${FRESH_ROOT_CACHE:-$work/cache}")
tarball=$cache/$SUITE-minbase.tar
archives=$cache/apt-archives
mkdir -p "$work" "$logs" "$cache" "$archives/partial"

# ---- Mounts ---------------------------------------------------------------
# The root is removed with rm -rf before each run: with /dev bound inside
# it, that would delete the host's device files. So every mount under the
# root is undone first, and a root that still has one is never removed.
mounts_under_root() {
    awk -v root="$root" '$2 == root || index($2, root "/") == 1 { print $2 }' /proc/self/mounts
}

# Every process still running inside the root (a QEMU a step left
# behind, say) is killed first: it would keep the mounts busy, and outlive
# the run on the host.
kill_processes_in_root() {
    local proc
    for proc in /proc/[0-9]*; do
        [ "$(readlink "$proc/root" 2>/dev/null)" = "$root" ] && kill -9 "${proc#/proc/}" 2>/dev/null
    done
    return 0
}

unmount_all() {
    local mount_point
    kill_processes_in_root
    # Deepest first; a lazy unmount for anything still busy.
    for mount_point in $(mounts_under_root | sort -r); do
        umount "$mount_point" 2>/dev/null || umount -l "$mount_point" 2>/dev/null || true
    done
}

remove_root() {
    unmount_all
    [ -z "$(mounts_under_root)" ] || die "cannot unmount $(mounts_under_root | tr '\n' ' '); remove $root by hand"
    rm -rf "$root"
}

trap unmount_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# seconds_since START: whole seconds since START (from `date +%s`).
seconds_since() { echo $(($(date +%s) - $1)); }

# ---- The pristine root, made once -------------------------------------------
mirror=${FRESH_ROOT_MIRROR:-}
if [ -z "$mirror" ]; then
    mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
fi
if [ -z "$mirror" ]; then
    mirror=$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list*: set FRESH_ROOT_MIRROR"

total_start=$(date +%s)
remove_root
if [ -f "$tarball" ]; then
    say "pristine root: from the cache ($tarball)"
else
    start=$(date +%s)
    debootstrap --variant=minbase --include="$DEBOOTSTRAP_EXTRA" "$SUITE" "$root" "$mirror" \
        >"$logs/debootstrap.log" 2>&1 ||
        die "debootstrap failed: see $logs/debootstrap.log"
    # Written under another name and renamed: an interrupted run leaves no
    # half tarball that later runs would take for the real one.
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    remove_root
    say "pristine root: debootstrap --variant=minbase $SUITE from $mirror ($(seconds_since "$start") s; cached in $tarball)"
fi

start=$(date +%s)
mkdir -p "$root"
tar -C "$root" -xf "$tarball"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# Clones what is committed: that is what a new user gets.
git clone -q "$SOURCE" "$root/home/student/bootstack"
if [ -n "$(git -C "$SOURCE" status --porcelain 2>/dev/null)" ]; then
    say "note: $SOURCE has uncommitted changes; the root has only what is committed"
fi
# /proc, /dev and /sys as on a real machine: /dev recursively (pexpect's
# pseudo-terminals are in /dev/pts, Python's semaphores in /dev/shm), /sys
# for the disk checks of image/write-disk.sh; rslave, so that unmounting
# them here never unmounts the host's. And apt's downloads, kept between
# runs.
# The root a mount point of its own, as / is on a real machine (findmnt /
# answers; image/write-disk.sh asks it which disk holds the system).
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
for tree in dev sys; do
    mount --rbind "/$tree" "$root/$tree"
    mount --make-rslave "$root/$tree"
done
mount --bind "$archives" "$root/var/cache/apt/archives"
# apt downloads as its own user, _apt: give it the directory it writes to.
apt_uid=$(awk -F: '$1 == "_apt" { print $3 }' "$root/etc/passwd")
[ -z "$apt_uid" ] || chown "$apt_uid" "$archives/partial"
say "root: unpacked, repository cloned, /proc, /dev and /sys mounted ($(seconds_since "$start") s)"

# inside LOG TIMEOUT COMMAND: run COMMAND (bash) in the project's clone in
# the root, as root, with a clean environment and no display; its output
# goes to logs/LOG.log. Prints the exit status.
inside() {
    local status=0
    timeout --kill-after=10 "$2" chroot "$root" /usr/bin/env -i \
        HOME=/root TERM=dumb LANG=C.UTF-8 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c "cd /home/student/bootstack && $3" </dev/null >"$logs/$1.log" 2>&1 || status=$?
    echo "$status"
}

failures=()

# 1. ./build.sh test: installs what it needs, builds, runs every test.
start=$(date +%s)
# -rs: the log says why each skipped test was skipped.
status=$(inside test "$TEST_TIMEOUT" 'PYTEST_ARGS=-rs ./build.sh test')
summary=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed)' "$logs/test.log" | tail -n 1 | tr -d '=' | sed 's/^ *//;s/ *$//' || true)
say "./build.sh test: exit $status, ${summary:-no test summary} ($(seconds_since "$start") s)"
[ "$status" = 0 ] || failures+=("./build.sh test exited with $status: see $logs/test.log")

# 2. ./build.sh run with qemu-exit: the kernel ends QEMU itself, with
#    status 33 after a complete boot (kernel/qemu_exit.h).
start=$(date +%s)
status=$(inside run "$RUN_TIMEOUT" 'KERNEL_CMDLINE=qemu-exit ./build.sh run')
booted=no
grep -q 'Kernel: boot complete' "$logs/run.log" && booted=yes
say "KERNEL_CMDLINE=qemu-exit ./build.sh run: exit $status, boot complete: $booted ($(seconds_since "$start") s)"
[ "$status" = 33 ] && [ "$booted" = yes ] ||
    failures+=("./build.sh run did not boot (exit $status, expected 33): see $logs/run.log")

# 3. ./build.sh run as a user starts it: to the shell's prompt. The kernel
#    then waits for input, so QEMU is stopped once the prompt is there
#    (build.sh execs QEMU: the job's process is QEMU).
start=$(date +%s)
inside shell "$SHELL_TIMEOUT" '
    ./build.sh run >/tmp/run-to-shell.log 2>&1 & qemu=$!
    while kill -0 $qemu 2>/dev/null && ! grep -q "bootstack>" /tmp/run-to-shell.log; do sleep 1; done
    kill $qemu 2>/dev/null; sleep 1; kill -9 $qemu 2>/dev/null; wait $qemu
    cat /tmp/run-to-shell.log' >/dev/null
prompt=no
grep -q 'bootstack>' "$logs/shell.log" && prompt=yes
say "./build.sh run: shell prompt reached: $prompt ($(seconds_since "$start") s)"
[ "$prompt" = yes ] || failures+=("./build.sh run did not reach the shell: see $logs/shell.log")

# 4. Everything build.sh installed is named in the README's Requirements
#    (the backquoted words of its bullet points).
installed=$(sed -n 's/^build\.sh: installing missing packages: //p' "$logs"/*.log | tr ' ' '\n' | sort -u | grep -v '^$' || true)
documented=$(awk '/^## Requirements$/ { on = 1; next } /^## / { on = 0 } on && /^(- |  )/' "$SOURCE/README.md" |
    grep -o '`[a-z0-9][a-z0-9.+-]*`' | tr -d '`' | sort -u)
undocumented=$(comm -23 <(echo "$installed") <(echo "$documented") | tr '\n' ' ')
say "packages build.sh installed: $(echo "$installed" | tr '\n' ' ')"
[ -z "$undocumented" ] || failures+=("build.sh installed packages the README's Requirements do not name: $undocumented")

if [ ${#failures[@]} -gt 0 ]; then
    for failure in "${failures[@]}"; do printf 'fresh-root: FAIL: %s\n' "$failure" >&2; done
    say "FAILED after $(seconds_since "$total_start") s; the root is kept in $root, logs in $logs"
    exit 1
fi
[ "$keep" = yes ] || remove_root
say "PASS in $(seconds_since "$total_start") s; logs in $logs"
