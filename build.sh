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
#                        disk-read floors, Linux under QEMU's loader and GRUB 2, a clean
#                        build and the tests (tests/bench/)
#   ./build.sh write DEVICE [--yes] [--force]
#                        build, then write the image to a USB stick or disk such as
#                        /dev/sdb, after safety checks and a typed confirmation
#   ./build.sh lab [NAME]
#                        without NAME, list the course's labs; with NAME, start lab NAME:
#                        a git branch lab/NAME in which the code the lab asks for is
#                        replaced by its TODO (docs/course/labs/)
#   ./build.sh grade [NAME]
#                        build, then grade the build on lab NAME (default: the lab of the
#                        current lab/NAME branch, else every lab); exits 1 below full marks
#   ./build.sh docs      build, then write this build's values (sizes, addresses, line
#                        numbers, listing excerpts, QEMU, Bochs and GDB transcripts) into
#                        the docs where they mark them (tests/docs/refresh.py), and
#                        make the docs' pictures again (as `pictures` does)
#   ./build.sh pictures [NAME ...]
#                        build, then make the docs' pictures (default: all of them)
#                        into docs/pictures/: screenshots of real boots in QEMU and
#                        diagrams from the sources' constants (tests/pictures/make.py)
#   ./build.sh fuzz [TARGET] [SECONDS]
#                        build the fuzz harnesses (tests/fuzz/) and run TARGET (default:
#                        all of them) for SECONDS each (default 60); fails on any crash,
#                        hang or sanitizer report, kept in build/fuzz/TARGET/
#   ./build.sh deps      install everything the build, the tests and the debuggers use
#   ./build.sh fresh-test
#                        run `./build.sh test` and `./build.sh run` in a minimal Debian
#                        root made by debootstrap, as on a new machine (needs root)
#   ./build.sh clean     remove the build directory
#   ./build.sh help      this text
#
# Settings (environment variables):
#   KERNEL_CMDLINE  command line given to the kernel (default: empty)
#   ACCEL           QEMU accelerator for `run`: tcg (default) or kvm
#   MEMORY          guest RAM for `run` (default 128M)
#   BUILD_DIR       where everything is built (default: build/ in the source tree,
#                   or build/TOOLCHAIN when TOOLCHAIN is set)
#   TOOLCHAIN       what compiles the kernel and libk: gnu (the host's gcc and
#                   binutils), llvm (clang, ld.lld and llvm tools only) or cross
#                   (x86_64-elf-gcc); default: the first installed of cross, gnu, llvm
#   DEBUG_BREAKS    1: for build, run and bochs, build into BUILD_DIR/breaks with a
#                   Bochs magic breakpoint at each stage boundary; `bochs` then
#                   runs to the first (docs/debugging-bochs.md)
#   PYTEST_ARGS     extra arguments for pytest in `test`, e.g. "-k boot -x"
#   GDB_PORT        port of QEMU's GDB server for `debug` (default: a free one
#                   derived from your user id)
#   DEBUG_GDB_BATCH a file of GDB commands: `debug` runs GDB on it in batch mode
set -euo pipefail

say() { printf '%s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLCHAIN=${TOOLCHAIN:-}
case "$TOOLCHAIN" in
    "" | cross | gnu | llvm) ;;
    *) die "TOOLCHAIN=$TOOLCHAIN: use cross (x86_64-elf-gcc), gnu (gcc and binutils) or llvm (clang and lld)" ;;
esac
# Absolute, so that the Makefiles (each run in its own directory) agree on
# where a relative BUILD_DIR is: relative to where build.sh was started.
# A toolchain chosen by name gets a build directory of its own, so that
# switching back and forth never mixes objects of two compilers.
BUILD=$(realpath -m "${BUILD_DIR:-$ROOT/build${TOOLCHAIN:+/$TOOLCHAIN}}")
# The debug build lives in a directory of its own, so that the normal
# image, which the tests use, never contains a breakpoint.
DEBUG_BREAKS=${DEBUG_BREAKS:-}
[ "$DEBUG_BREAKS" != 1 ] || BUILD=$BUILD/breaks
IMAGE=$BUILD/disk.img

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

# ---- Packages ---------------------------------------------------------------
# Each command first installs the Debian packages it is missing, all of them
# in one apt-get call. Whether a package is there is judged by the command
# or file it provides, not by dpkg's database, so that tools from elsewhere
# count too (a cross compiler you built, QEMU from source, a Python with
# pytest of its own).

have_command() { command -v "$1" >/dev/null 2>&1; }
have_file() { compgen -G "$1" >/dev/null; }   # a glob that matches something

# packages_missing_for COMMAND: the Debian packages that COMMAND (build,
# run, test, debug, bochs, fresh-test, pictures, or deps for all of them)
# still needs, one per line, each once.
packages_missing_for() {
    {
        case "$1" in
            build) missing_for_build ;;
            run) missing_for_build; missing_for_qemu; missing_for_qemu_window ;;
            test)
                missing_for_build; missing_for_qemu; missing_for_gdb
                missing_for_bochs; missing_for_pytest; missing_for_unit_tests
                missing_for_write_tests; missing_for_format_check
                missing_for_grub_tests; missing_for_xxd; missing_for_fuzz
                missing_for_pictures
                ;;
            debug) missing_for_build; missing_for_qemu; missing_for_gdb ;;
            bochs) missing_for_build; missing_for_bochs; missing_for_bochs_window ;;
            fresh-test) missing_for_fresh_root ;;
            fuzz) missing_for_build; missing_for_fuzz ;;
            lab) missing_for_python; missing_for_git ;;
            grade) missing_for_build; missing_for_qemu; missing_for_python ;;
            docs)
                missing_for_build; missing_for_qemu; missing_for_gdb; missing_for_bochs
                missing_for_pytest; missing_for_xxd
                ;;
            pictures) missing_for_build; missing_for_qemu; missing_for_python; missing_for_pictures ;;
            deps)
                local command
                for command in run test debug bochs fresh-test lab grade docs pictures fuzz; do
                    packages_missing_for "$command"
                done
                ;;
            *) die "packages_missing_for: unknown command $1" ;;
        esac
    } | sort -u
}

# The disk image: NASM for the loader, a compiler and linker for the kernel
# (TOOLCHAIN, below), and a host C compiler with the C library's headers
# for mkimage.
missing_for_build() {
    have_command make || echo make
    have_command nasm || echo nasm
    have_command cc || have_command gcc || echo gcc
    have_file /usr/include/stdio.h || echo libc6-dev
    case "$(kernel_toolchain)" in
        cross) ;;   # built by hand (no Debian package); choose_toolchain says so
        gnu)
            have_command gcc || echo gcc
            for tool in ld objcopy ar nm; do have_command "$tool" || echo binutils; done
            ;;
        llvm)
            have_command clang || echo clang
            have_command ld.lld || echo lld
            for tool in llvm-objcopy llvm-ar llvm-nm; do have_command "$tool" || echo llvm; done
            # mkimage's tests and ./build.sh inspect read the kernel with
            # GNU binutils (readelf, objdump); the kernel build does not.
            have_command objdump || echo binutils
            ;;
    esac
}

missing_for_qemu() {
    have_command qemu-system-x86_64 || echo qemu-system-x86
}

# The QEMU window, when there is a display to show it on (Debian packages
# QEMU's GTK display separately).
missing_for_qemu_window() {
    have_display || return 0
    if ! have_command qemu-system-x86_64 ||
        ! qemu-system-x86_64 -display help 2>/dev/null | grep -qx gtk; then
        echo qemu-system-gui
    fi
}

have_display() {
    [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]
}

# GDB (Debian's has the Python support tests/debug/bootstack_gdb.py uses)
# and the Python that drives the session.
missing_for_gdb() {
    have_command gdb || echo gdb
    have_command python3 || echo python3
}

# The second emulator the tests boot in, with its own BIOS and VGA BIOS,
# and the "term" display that runs it without a window (Debian packages
# each Bochs display separately).
missing_for_bochs() {
    have_command bochs || echo bochs
    have_command python3 || echo python3   # tests/support/bochs.py writes the bochsrc
    have_file /usr/share/bochs/BIOS-bochs-latest || echo bochsbios
    have_file /usr/share/bochs/VGABIOS-lgpl-latest || have_file /usr/share/vgabios/vgabios.bin || echo vgabios
    have_file '/usr/lib/*/bochs/plugins/libbx_term_gui.so' || echo bochs-term
}

missing_for_bochs_window() {
    [ -n "${DISPLAY:-}" ] || return 0
    have_file '/usr/lib/*/bochs/plugins/libbx_x_gui.so' || echo bochs-x
}

missing_for_pytest() {
    find_python >/dev/null || printf '%s\n' python3 python3-pytest python3-pexpect python3-pytest-xdist
}

missing_for_unit_tests() {
    have_file /usr/include/cmocka.h || echo libcmocka-dev
    # mkimage-asan and the sanitized unit tests (tests/Makefile) link GCC's
    # AddressSanitizer and UBSan runtimes; Debian's gcc brings them
    # (libgcc-N-dev).
    { have_file '/usr/lib/gcc/*/*/libasan.so' && have_file '/usr/lib/gcc/*/*/libubsan.so'; } || echo gcc
}

# The tests of ./build.sh write put a file system on a loop device to
# check that a mounted disk is refused.
missing_for_write_tests() {
    have_command mkfs.ext2 || echo e2fsprogs
}

# The fuzz harnesses (tests/fuzz/) are built by clang with libFuzzer and
# the sanitizers, whose runtime libraries Debian packages apart from clang
# (libclang-rt-dev, for the default clang version).
missing_for_fuzz() {
    have_command clang || echo clang
    have_file '/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a' || echo libclang-rt-dev
    have_command objcopy || echo binutils   # renames libk's symbols (tests/fuzz/Makefile)
}

# tests/test_format.py checks the C sources against .clang-format.
missing_for_format_check() {
    have_command clang-format || echo clang-format
}

# tests/test_grub.py boots kernels under GRUB 2, from a disk it makes with
# grub-mkimage (in grub-common, which grub-pc-bin brings) and GRUB's BIOS
# images. The Linux they boot comes with apt-get download, already there.
missing_for_grub_tests() {
    have_command grub-mkimage || echo grub-pc-bin
    have_file /usr/lib/grub/i386-pc/boot.img || echo grub-pc-bin
}

# The docs show `xxd` dumps of the image; tests/test_docs_values.py and
# `./build.sh docs` run it to check and refresh them.
missing_for_xxd() {
    have_command xxd || echo xxd
}

# The screenshots (tests/pictures/screenshots.py) turn QEMU's screendump,
# a PPM file, into a PNG with netpbm's pnmtopng; tests/test_screenshots.py
# makes them too.
missing_for_pictures() {
    have_command pnmtopng || echo netpbm
}

# tests/fresh_root.sh: a minimal Debian root, and git to clone into it.
missing_for_python() {
    have_command python3 || echo python3
}

missing_for_git() {
    have_command git || echo git
}

missing_for_fresh_root() {
    have_command debootstrap || echo debootstrap
    have_command git || echo git
}

# find_python: a Python 3 that can import pytest, pexpect and xdist.
# Debian's packages go to /usr/bin/python3, which may not be the python3
# first on PATH (pyenv, conda), so try that one first.
find_python() {
    local candidate
    for candidate in ${PYTHON:-} /usr/bin/python3 python3; do
        case "$candidate" in
            /*) have_file "$candidate" || continue ;;
            *) have_command "$candidate" || continue ;;
        esac
        if "$candidate" -c 'import pytest, pexpect, xdist' >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# install_packages PKG...: one apt-get install (through sudo when not
# root), or say exactly what to install on systems without apt-get.
install_packages() {
    [ $# -gt 0 ] || return 0
    if have_command apt-get; then
        local sudo=()
        if [ "$(id -u)" -ne 0 ]; then
            have_command sudo ||
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
  Fedora:   sudo dnf install make nasm gcc glibc-devel binutils qemu-system-x86 gdb bochs python3-pytest python3-pexpect python3-pytest-xdist libcmocka-devel clang-tools-extra
  Arch:     sudo pacman -S make nasm gcc binutils qemu-system-x86 gdb bochs python-pytest python-pexpect python-pytest-xdist cmocka clang
  macOS:    brew install make nasm x86_64-elf-gcc x86_64-elf-binutils qemu x86_64-elf-gdb bochs cmocka clang-format && pip3 install pytest pexpect pytest-xdist"
    fi
}

ensure() {   # ensure COMMAND: install what COMMAND is missing
    local packages=()
    mapfile -t packages < <(packages_missing_for "$1")
    install_packages "${packages[@]}"
}

# ---- Toolchain --------------------------------------------------------------
# The kernel is freestanding x86-64 code, built by one of three toolchains:
#   cross  x86_64-elf-gcc and x86_64-elf-binutils (the OSDev cross compiler)
#   gnu    the host's gcc and binutils, on an x86-64 host (the freestanding
#          flags in kernel/Makefile switch off everything host-specific)
#   llvm   clang --target=x86_64-elf, ld.lld, llvm-objcopy, llvm-ar, llvm-nm,
#          as macOS and Windows users have them: no GNU tool for the kernel
# TOOLCHAIN names one. By default: the one the build directory was built
# with, else the first of these that is installed (cross, then gnu on an
# x86-64 host, then llvm), and gnu on a machine that has none yet, so that
# the packages installed are Debian's gcc.
kernel_toolchain() {
    case "$TOOLCHAIN" in
        cross | gnu | llvm) echo "$TOOLCHAIN" ;;
        *)
            if [ -f "$BUILD/toolchain.txt" ]; then
                cat "$BUILD/toolchain.txt"   # the one this build directory was built with
            elif have_command x86_64-elf-gcc; then
                echo cross
            elif [ "$(uname -m)" = x86_64 ] && have_command gcc; then
                echo gnu
            elif have_command clang; then
                echo llvm
            else
                echo gnu
            fi
            ;;
    esac
}

choose_toolchain() {
    KERNEL_TOOLCHAIN=$(kernel_toolchain)
    case "$KERNEL_TOOLCHAIN" in
        cross)
            have_command x86_64-elf-gcc ||
                die "TOOLCHAIN=cross needs x86_64-elf-gcc and x86_64-elf-binutils on PATH (Debian has no package: build them, see the OSDev wiki's GCC Cross-Compiler page)"
            KERNEL_CC=x86_64-elf-gcc KERNEL_TARGET_FLAGS=""
            KERNEL_LD=x86_64-elf-ld KERNEL_OBJCOPY=x86_64-elf-objcopy
            KERNEL_AR=x86_64-elf-ar KERNEL_NM=x86_64-elf-nm
            ;;
        gnu)
            [ "$(uname -m)" = x86_64 ] ||
                die "TOOLCHAIN=gnu builds the kernel with the host's gcc, which only works on an x86-64 host; use TOOLCHAIN=llvm"
            KERNEL_CC=gcc KERNEL_TARGET_FLAGS=""
            KERNEL_LD=ld KERNEL_OBJCOPY=objcopy KERNEL_AR=ar KERNEL_NM=nm
            ;;
        llvm)
            KERNEL_CC=clang KERNEL_TARGET_FLAGS="--target=x86_64-elf"
            KERNEL_LD=ld.lld KERNEL_OBJCOPY=llvm-objcopy KERNEL_AR=llvm-ar KERNEL_NM=llvm-nm
            ;;
    esac
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
        KERNEL_LD="$KERNEL_LD" KERNEL_OBJCOPY="$KERNEL_OBJCOPY" KERNEL_AR="$KERNEL_AR" KERNEL_NM="$KERNEL_NM" \
        -j"$(nproc 2>/dev/null || echo 2)" "$@"
}

# ---- Commands -----------------------------------------------------------------
cmd_build() {
    ensure build
    choose_toolchain
    mkdir -p "$BUILD"
    # Objects do not record which compiler made them (see libk/Makefile):
    # refuse to mix two toolchains in one build directory.
    local toolchain_file=$BUILD/toolchain.txt
    if [ -f "$toolchain_file" ] && [ "$(cat "$toolchain_file")" != "$KERNEL_TOOLCHAIN" ]; then
        die "$BUILD was built with TOOLCHAIN=$(cat "$toolchain_file"), not $KERNEL_TOOLCHAIN: set BUILD_DIR to another directory, or run ./build.sh clean first"
    fi
    printf '%s\n' "$KERNEL_TOOLCHAIN" >"$toolchain_file"
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
    local runner=()
    if ! pseudo_terminals_work "$python"; then
        # A bare chroot (debootstrap, /dev bound without /dev/pts): as root,
        # give the tests their own in a private mount namespace.
        if [ "$(id -u)" != 0 ] || ! have_command unshare; then
            die "this machine has no pseudo-terminals, which the tests need (pexpect, Bochs's terminal display): mount them (sudo mount -t devpts devpts /dev/pts) or run ./build.sh test as root"
        fi
        say "build.sh: no pseudo-terminals here (a bare chroot?): the tests run in a private mount namespace with their own (tests/with_private_mounts.sh)"
        runner=("$ROOT/tests/with_private_mounts.sh")
    fi
    # shellcheck disable=SC2086 # PYTEST_ARGS is a list of words on purpose
    BUILD_DIR=$BUILD "${runner[@]}" "$python" -m pytest -p no:cacheprovider -n "$jobs" -q tests ${PYTEST_ARGS:-}
}

# True when a pseudo-terminal can be opened, as on any real machine or
# container.
pseudo_terminals_work() {
    "$1" -c 'import os; os.close(os.openpty()[0])' 2>/dev/null
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

# The bochsrc comes from tests/support/bochs.py, the same one the Bochs tests use.
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
    exec python3 "$ROOT/tests/support/bochs.py" --interactive "$IMAGE" "${options[@]}" "$@"
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

# The labs (tests/labs/lab.py): the markers in the sources say what a
# student writes; `lab NAME` makes the starting point, `grade` scores it.
cmd_lab() {
    [ $# -le 1 ] || die "lab takes one lab name at most (./build.sh lab lists them)"
    ensure lab
    if [ $# -eq 0 ]; then
        exec python3 "$ROOT/tests/labs/lab.py" list
    fi
    exec python3 "$ROOT/tests/labs/lab.py" start "$1"
}

cmd_grade() {
    [ $# -le 1 ] || die "grade takes one lab name at most (./build.sh lab lists them)"
    ensure grade
    cmd_build
    cd "$ROOT"
    BUILD_DIR=$BUILD exec python3 "$ROOT/tests/labs/lab.py" grade "$@"
}

# The values the docs quote from the build (tests/docs/refresh.py computes
# each one: mkimage info, readelf, the listings, boots in QEMU, Bochs and
# GDB sessions) are rewritten in place; tests/test_docs_values.py fails
# until this has run after a change that moves them.
cmd_docs() {
    [ $# -eq 0 ] || die "docs takes no arguments"
    ensure docs
    ensure pictures
    cmd_build
    local python
    python=$(find_python) || die "no Python with pytest, pexpect and pytest-xdist: run ./build.sh deps"
    cd "$ROOT"
    BUILD_DIR=$BUILD "$python" "$ROOT/tests/docs/refresh.py"
    # The pictures come from the same build: one command after a change
    # to the loader or the kernel keeps values and pictures current.
    BUILD_DIR=$BUILD exec "$python" "$ROOT/tests/pictures/make.py"
}

# The docs' pictures (tests/pictures/make.py): screenshots of boots of this
# build and diagrams of its constants, written into docs/pictures/;
# tests/test_screenshots.py and tests/test_diagrams.py fail until this has
# run after a change that shows in them. The names are checked before the
# build, so a misspelt one is refused at once, with the list of pictures.
cmd_pictures() {
    ensure pictures
    local python
    python=$(find_python) || die "no Python with pytest, pexpect and pytest-xdist: run ./build.sh deps"
    "$python" "$ROOT/tests/pictures/make.py" --check-names "$@" || exit 2
    cmd_build
    cd "$ROOT"
    BUILD_DIR=$BUILD exec "$python" "$ROOT/tests/pictures/make.py" "$@"
}

# The fuzz targets (tests/fuzz/fuzz_TARGET.c) that `fuzz` runs by default;
# `selftest`, whose bug is planted, runs only when named.
FUZZ_TARGETS=(mkimage_build mkimage_info vsnprintf memory_map line_editor)
# libFuzzer's limit for one input: longer counts as a hang (seconds).
FUZZ_INPUT_TIMEOUT=10
# Slack on top of a run's SECONDS before `timeout` stops a fuzzer that
# no longer answers (startup, loading the corpus, writing the findings).
FUZZ_WALL_SLACK=60

# fuzz [TARGET] [SECONDS]: run each target for SECONDS on its corpus
# (tests/fuzz/corpus/TARGET/ as seeds, build/fuzz/TARGET/corpus/ for what
# it finds on the way) and report executions and findings per target.
cmd_fuzz() {
    local targets=("${FUZZ_TARGETS[@]}") seconds=60
    if [ $# -gt 0 ] && [ "$1" != all ]; then
        [ -f "$ROOT/tests/fuzz/fuzz_$1.c" ] || die "fuzz: no target '$1' (one of: ${FUZZ_TARGETS[*]} selftest, or all)"
        targets=("$1")
    fi
    [ $# -lt 2 ] || seconds=$2
    [ $# -le 2 ] || die "fuzz takes at most TARGET and SECONDS"
    case "$seconds" in '' | *[!0-9]* | 0) die "fuzz: SECONDS must be a whole number above 0, not '$seconds'" ;; esac
    ensure fuzz
    cmd_build
    make --no-print-directory -C "$ROOT/tests/fuzz" BUILD="$BUILD" -j"$(nproc 2>/dev/null || echo 2)"
    local target failed=()
    for target in "${targets[@]}"; do
        run_fuzz_target "$target" "$seconds" || failed+=("$target")
    done
    if [ ${#failed[@]} -gt 0 ]; then
        die "fuzz: findings in ${failed[*]} (the inputs are kept in ${BUILD#"$PWD"/}/fuzz/TARGET/)"
    fi
    say "build.sh: fuzz: no findings in ${targets[*]}"
}

run_fuzz_target() {   # run_fuzz_target TARGET SECONDS; fails on a finding
    local target=$1 seconds=$2
    local dir=$BUILD/fuzz/$target
    local log=$dir/fuzz.log stamp=$dir/.run-started
    mkdir -p "$dir/corpus"
    touch "$stamp"
    # mkimage prints a line per problem and `info` a layout per image:
    # close the targets' stdout and stderr (libFuzzer keeps its own copy of
    # stderr for its reports and the sanitizers').
    local quiet=1
    case "$target" in mkimage_*) quiet=3 ;; esac
    local status=0
    timeout --kill-after=10 $((seconds + FUZZ_WALL_SLACK)) \
        "$BUILD/fuzz/bin/fuzz_$target" -max_total_time="$seconds" -timeout="$FUZZ_INPUT_TIMEOUT" \
        -close_fd_mask="$quiet" -print_final_stats=1 -artifact_prefix="$dir/" \
        "$dir/corpus" "$ROOT/tests/fuzz/corpus/$target" >"$log" 2>&1 || status=$?
    local executions findings=()
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    mapfile -t findings < <(find "$dir" -maxdepth 1 -type f -newer "$stamp" \
        \( -name 'crash-*' -o -name 'timeout-*' -o -name 'leak-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) | sort)
    say "build.sh: fuzz: $target: ${executions:-?} executions in ${seconds} s, ${#findings[@]} findings"
    if [ "$status" -eq 0 ] && [ ${#findings[@]} -eq 0 ]; then
        return 0
    fi
    # A finding, or a fuzzer that stopped without one (a sanitizer report
    # outside an input, `timeout` ending a stuck run): show why.
    [ "$status" -ne 124 ] || say "build.sh: fuzz: $target: still running after $((seconds + FUZZ_WALL_SLACK)) s, stopped"
    grep -E -A 12 'ERROR|WARNING: |runtime error|^fuzz_[a-z_]+:' "$log" | head -n 40 >&2 || true
    local finding
    for finding in "${findings[@]}"; do
        say "build.sh: fuzz: $target: finding ${finding#"$PWD"/}; reproduce: ${BUILD#"$PWD"/}/fuzz/bin/fuzz_$target ${finding#"$PWD"/}" >&2
    done
    say "build.sh: fuzz: $target: failed (exit status $status); the whole log: ${log#"$PWD"/}" >&2
    return 1
}

cmd_deps() {
    [ $# -eq 0 ] || die "deps takes no arguments"
    ensure deps
    say "build.sh: all packages for building, running, testing and debugging are installed."
}

# The README's two commands in a minimal Debian root, as a new user meets
# them (tests/fresh_root.sh; needs root for debootstrap and chroot).
cmd_fresh_test() {
    ensure fresh-test
    exec "$ROOT/tests/fresh_root.sh" --build "$BUILD" "$@"
}

cmd_clean() {
    rm -rf "$BUILD"
    say "build.sh: removed ${BUILD#"$PWD"/}"
}

main() {
    local command=${1:-build}
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
        lab) cmd_lab "$@" ;;
        grade) cmd_grade "$@" ;;
        docs) cmd_docs "$@" ;;
        pictures) cmd_pictures "$@" ;;
        deps) cmd_deps "$@" ;;
        fresh-test) cmd_fresh_test "$@" ;;
        fuzz) cmd_fuzz "$@" ;;
        clean) cmd_clean "$@" ;;
        help | -h | --help) usage ;;
        *)
            printf 'build.sh: unknown command "%s"\n\n' "$command" >&2
            usage >&2
            exit 2
            ;;
    esac
}

# Sourced (tests/test_packages.py reads the package checks that way), it
# only defines the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
