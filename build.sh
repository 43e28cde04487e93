#!/usr/bin/env bash
# build.sh - the one entry point: build the disk image, boot it, test it.
#
#   ./build.sh [build]   build everything; the bootable image is build/disk.img
#   ./build.sh run       build, then boot the image in QEMU
#   ./build.sh test      build, then run every test (host unit tests and real boots)
#   ./build.sh bochs     build, then boot the image in Bochs, stopped in its debugger
#   ./build.sh debug     build, then boot the image in QEMU stopped at the first
#                        instruction, with GDB attached (docs/debugging.md)
#   ./build.sh inspect   build, then show what was built: the kernel's ELF headers,
#                        functions and entry code, the image layout, the loader sizes
#   ./build.sh bench [--runs N] [--no-tests] [--json PATH]
#                        build, then time boots of the loader against the firmware and
#                        disk-read floors, a clean build and the tests (tests/bench/)
#   ./build.sh write DEVICE [--yes] [--force]
#                        build, then write the image to a USB stick or disk such as
#                        /dev/sdb, after safety checks and a typed confirmation
#   ./build.sh deps      install everything the build and the tests use
#   ./build.sh clean     remove the build directory
#   ./build.sh help      this text
#
# Settings (environment variables):
#   KERNEL_CMDLINE  command line given to the kernel (default: empty)
#   ACCEL           QEMU accelerator for `run`: tcg (default) or kvm
#   MEMORY          guest RAM for `run` (default 128M)
#   BUILD_DIR       where everything is built (default: build/ in the source tree)
#   DEBUG_BREAKS    1: for build, run and bochs, build into BUILD_DIR/breaks with a
#                   Bochs magic breakpoint at each stage boundary; `bochs` then
#                   runs to the first (docs/debugging-bochs.md)
#   PYTEST_ARGS     extra arguments for pytest in `test`, e.g. "-k boot -x"
#   GDB_PORT        port of QEMU's GDB server for `debug` (default: a free one
#                   derived from your user id)
#   DEBUG_GDB_BATCH a file of GDB commands: `debug` runs GDB on it in batch mode
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Absolute, so that the Makefiles (each run in its own directory) agree on
# where a relative BUILD_DIR is: relative to where build.sh was started.
BUILD=$(realpath -m "${BUILD_DIR:-$ROOT/build}")
# The debug build lives in a directory of its own, so that the normal
# image, which the tests use, never contains a breakpoint.
DEBUG_BREAKS=${DEBUG_BREAKS:-}
[ "$DEBUG_BREAKS" != 1 ] || BUILD=$BUILD/breaks
IMAGE=$BUILD/disk.img

say() { printf '%s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

# ---- Packages ---------------------------------------------------------------

# install_packages PKG...: apt-get install (through sudo when not root), or
# say exactly what to install on systems without apt-get.
install_packages() {
    [ $# -gt 0 ] || return 0
    if command -v apt-get >/dev/null 2>&1; then
        local sudo=()
        if [ "$(id -u)" -ne 0 ]; then
            command -v sudo >/dev/null 2>&1 ||
                die "missing packages: $*. Install them as root: apt-get install $*"
            sudo=(sudo)
        fi
        say "build.sh: installing missing packages: $*"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
            die "apt-get update failed; install these packages by hand: $*"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" ||
            die "apt-get install failed; install these packages by hand: $*"
    else
        die "missing packages (Debian names): $*
Without apt-get, install the equivalents yourself, for example:
  Fedora:   sudo dnf install make nasm gcc binutils qemu-system-x86 bochs python3-pytest python3-pexpect python3-pytest-xdist libcmocka-devel
  Arch:     sudo pacman -S make nasm gcc binutils qemu-system-x86 bochs python-pytest python-pexpect python-pytest-xdist cmocka
  macOS:    brew install make nasm x86_64-elf-gcc x86_64-elf-binutils qemu bochs cmocka && pip3 install pytest pexpect pytest-xdist"
    fi
}

# missing_for_build: print the packages the build still needs.
missing_for_build() {
    local missing=()
    command -v make >/dev/null 2>&1 || missing+=(make)
    command -v nasm >/dev/null 2>&1 || missing+=(nasm)
    if ! command -v x86_64-elf-gcc >/dev/null 2>&1; then
        command -v gcc >/dev/null 2>&1 || command -v clang >/dev/null 2>&1 || missing+=(gcc libc6-dev)
    fi
    command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
    command -v ld >/dev/null 2>&1 || missing+=(binutils)
    command -v objcopy >/dev/null 2>&1 || missing+=(binutils)
    printf '%s\n' "${missing[@]}" | sort -u | grep -v '^$' || true
}

missing_for_qemu() {
    command -v qemu-system-x86_64 >/dev/null 2>&1 || echo qemu-system-x86
}

# missing_for_run: QEMU, and its GTK window when there is a display to show it on.
missing_for_run() {
    missing_for_qemu
    if have_display && ! qemu-system-x86_64 -display help 2>/dev/null | grep -qx gtk; then
        echo qemu-system-gui
    fi
}

have_display() {
    [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]
}

missing_for_test() {
    missing_for_qemu
    missing_for_debug
    missing_for_bochs
    find_python >/dev/null || echo python3 python3-pytest python3-pexpect python3-pytest-xdist
    [ -f /usr/include/cmocka.h ] || pkg-config --exists cmocka 2>/dev/null || echo libcmocka-dev
}

# missing_for_bochs: the second emulator the tests boot in, with its own
# BIOS and VGA BIOS, and the "term" display that runs it without a window
# (Debian packages each Bochs display separately).
missing_for_bochs() {
    command -v bochs >/dev/null 2>&1 || echo bochs
    [ -f /usr/share/bochs/BIOS-bochs-latest ] || echo bochsbios
    [ -f /usr/share/bochs/VGABIOS-lgpl-latest ] || [ -f /usr/share/vgabios/vgabios.bin ] || echo vgabios
    compgen -G '/usr/lib/*/bochs/plugins/libbx_term_gui.so' >/dev/null || echo bochs-term
}

# find_python: a Python 3 that can import pytest, pexpect and xdist.
# Debian's packages go to /usr/bin/python3, which may not be the python3
# first on PATH (pyenv, conda), so try that one first.
find_python() {
    local candidate
    for candidate in ${PYTHON:-} /usr/bin/python3 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import pytest, pexpect, xdist' >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# missing_for_debug: GDB (Debian's gdb has the Python support the helper
# commands in tests/debug/bootstack_gdb.py use) and Python for the session.
missing_for_debug() {
    command -v gdb >/dev/null 2>&1 || echo gdb
    command -v python3 >/dev/null 2>&1 || echo python3
}

ensure() {   # ensure build|run|test|bochs|debug
    local packages=()
    read -r -a packages <<<"$(
        missing_for_build
        case "$1" in
            run) missing_for_run ;;
            test) missing_for_test ;;
            debug)
                missing_for_qemu
                missing_for_debug
                ;;
            bochs)
                missing_for_bochs
                command -v python3 >/dev/null 2>&1 || echo python3
                if [ -n "${DISPLAY:-}" ] && ! compgen -G '/usr/lib/*/bochs/plugins/libbx_x_gui.so' >/dev/null; then
                    echo bochs-x
                fi
                ;;
        esac | tr '\n' ' '
    )"
    [ ${#packages[@]} -eq 0 ] || install_packages $(printf '%s\n' "${packages[@]}" | sort -u)
}

# ---- Toolchain --------------------------------------------------------------
# The kernel is freestanding x86-64 code. Prefer a real cross compiler; the
# host gcc works too on an x86-64 host (the freestanding flags in
# kernel/Makefile switch off everything host-specific); else clang, which
# can target x86_64-elf from any host.
choose_toolchain() {
    if command -v x86_64-elf-gcc >/dev/null 2>&1; then
        KERNEL_CC=x86_64-elf-gcc KERNEL_TARGET_FLAGS=""
        KERNEL_LD=x86_64-elf-ld KERNEL_OBJCOPY=x86_64-elf-objcopy KERNEL_AR=x86_64-elf-ar
    elif [ "$(uname -m)" = x86_64 ] && command -v gcc >/dev/null 2>&1; then
        KERNEL_CC=gcc KERNEL_TARGET_FLAGS=""
        KERNEL_LD=ld KERNEL_OBJCOPY=objcopy KERNEL_AR=ar
    elif command -v clang >/dev/null 2>&1; then
        KERNEL_CC=clang KERNEL_TARGET_FLAGS="--target=x86_64-elf"
        KERNEL_LD=$(command -v ld.lld || echo ld)
        KERNEL_OBJCOPY=$(command -v llvm-objcopy || echo objcopy)
        KERNEL_AR=$(command -v llvm-ar || echo ar)
    else
        die "no compiler for the kernel: install x86_64-elf-gcc, or gcc on an x86-64 host, or clang"
    fi
    HOST_CC=$(command -v cc || command -v gcc || command -v clang) ||
        die "no host C compiler: install gcc"
}

make_in() {   # make_in DIR [TARGET...]
    local dir=$1
    shift
    # -DMAGIC_BREAKS turns on MAGIC_BREAK (bootloader/magic_break.inc,
    # kernel/magic_break.h) in the loader and the kernel.
    local debug=()
    [ "$DEBUG_BREAKS" != 1 ] || debug=(NASM_DEFINES=-DMAGIC_BREAKS KERNEL_EXTRA_CFLAGS=-DMAGIC_BREAKS)
    make --no-print-directory -C "$ROOT/$dir" BUILD="$BUILD" NASM=nasm HOST_CC="$HOST_CC" "${debug[@]}" \
        KERNEL_CC="$KERNEL_CC" KERNEL_TARGET_FLAGS="$KERNEL_TARGET_FLAGS" \
        KERNEL_LD="$KERNEL_LD" KERNEL_OBJCOPY="$KERNEL_OBJCOPY" KERNEL_AR="$KERNEL_AR" \
        -j"$(nproc 2>/dev/null || echo 2)" "$@"
}

# ---- Commands -----------------------------------------------------------------
cmd_build() {
    ensure build
    choose_toolchain
    mkdir -p "$BUILD"
    # The image depends on the command line: rewrite the file only when the
    # text changed, so an unchanged build does nothing.
    local cmdline_file=$BUILD/cmdline.txt
    if [ ! -f "$cmdline_file" ] || [ "$(cat "$cmdline_file")" != "${KERNEL_CMDLINE:-}" ]; then
        printf '%s' "${KERNEL_CMDLINE:-}" >"$cmdline_file"
    fi
    make_in bootloader
    make_in libk
    make_in kernel
    make_in image all disk
    say "build.sh: disk image ready: ${IMAGE#"$PWD"/}"
}

cmd_run() {
    ensure run
    cmd_build
    local accel=${ACCEL:-tcg}
    local qemu=(qemu-system-x86_64 -accel "$accel" -m "${MEMORY:-128M}"
        -drive "file=$IMAGE,format=raw,if=ide"
        -device isa-debug-exit,iobase=0xf4,iosize=0x04)
    if have_display; then
        say "build.sh: booting in a QEMU window; the serial console is also shown here."
        say "build.sh: to quit, close the window (or press Ctrl-C here)."
        qemu+=(-serial stdio)
    else
        say "build.sh: no display found, so QEMU runs on this terminal (serial console)."
        say "build.sh: to quit, press Ctrl-A then X."
        # Not -nographic: that also makes SeaBIOS copy the screen to the
        # serial port, and every line our loader prints would appear twice.
        qemu+=(-display none -serial mon:stdio)
    fi
    exec "${qemu[@]}" "$@"
}

cmd_test() {
    # The Bochs tests would stop at the first magic breakpoint and wait.
    [ "$DEBUG_BREAKS" != 1 ] || die "DEBUG_BREAKS=1 is for build, run and bochs; the tests build their own debug image"
    ensure test
    cmd_build
    make_in tests
    local python
    python=$(find_python) || die "no Python with pytest, pexpect and pytest-xdist: run ./build.sh deps"
    cd "$ROOT"
    local jobs
    jobs=$(nproc 2>/dev/null || echo 2)
    # shellcheck disable=SC2086 # PYTEST_ARGS is a list of words on purpose
    BUILD_DIR=$BUILD "$python" -m pytest -p no:cacheprovider -n "$jobs" -q tests ${PYTEST_ARGS:-}
}

# The boot benchmark (tests/bench/bench.py) boots images it makes from this
# build; its arguments pass through, e.g. --runs 15 or --no-tests.
cmd_bench() {
    ensure test
    cmd_build
    local python
    python=$(find_python) || die "no Python with pytest, pexpect and pytest-xdist: run ./build.sh deps"
    cd "$ROOT"
    BUILD_DIR=$BUILD "$python" "$ROOT/tests/bench/bench.py" "$@"
}

# The checks, the confirmation and the writing live in image/write-disk.sh,
# so the dangerous part can be read (and tested) on its own.
cmd_write() {
    cmd_build
    exec "$ROOT/image/write-disk.sh" "$IMAGE" "$@"
}

# The bochsrc comes from tests/bochs.py, the same one the Bochs tests use.
# The debugger loads the symbol files the build made; a debug build
# (DEBUG_BREAKS=1) runs straight on to its first magic breakpoint.
cmd_bochs() {
    ensure bochs
    cmd_build
    local options=() file
    for file in "$BUILD/bootloader/stage1.sym" "$BUILD/bootloader/stage2.sym" "$BUILD/kernel/kernel.sym"; do
        options+=(--symbols "$file")
    done
    [ "$DEBUG_BREAKS" != 1 ] || options+=(--continue)
    exec python3 "$ROOT/tests/bochs.py" --interactive "$IMAGE" "${options[@]}" "$@"
}

# QEMU stopped before the BIOS's first instruction, and GDB attached to
# it; tests/debug/gdb_session.py picks the port, writes the GDB setup and
# stops QEMU when GDB exits.
cmd_debug() {
    ensure debug
    cmd_build
    exec python3 "$ROOT/tests/debug/gdb_session.py" --build "$BUILD" "$@"
}

# The report lives in image/inspect.sh. The build's own output goes to
# stderr, so that stdout is only the report (for a pager, grep or a file).
cmd_inspect() {
    [ $# -eq 0 ] || die "inspect takes no arguments"
    cmd_build >&2
    exec "$ROOT/image/inspect.sh" "$BUILD"
}

cmd_deps() {
    install_packages $(
        {
            missing_for_build
            missing_for_run
            missing_for_test
        } | tr ' ' '\n' | sort -u
    )
    say "build.sh: all packages for building, running and testing are installed."
}

cmd_clean() {
    rm -rf "$BUILD"
    say "build.sh: removed ${BUILD#"$PWD"/}"
}

command=${1:-build}
[ $# -gt 0 ] && shift
case "$command" in
    build) cmd_build "$@" ;;
    run) cmd_run "$@" ;;
    test) cmd_test "$@" ;;
    bochs) cmd_bochs "$@" ;;
    debug) cmd_debug "$@" ;;
    inspect) cmd_inspect "$@" ;;
    bench) cmd_bench "$@" ;;
    write) cmd_write "$@" ;;
    deps) cmd_deps "$@" ;;
    clean) cmd_clean "$@" ;;
    help | -h | --help) usage ;;
    *)
        printf 'build.sh: unknown command "%s"\n\n' "$command" >&2
        usage >&2
        exit 2
        ;;
esac
