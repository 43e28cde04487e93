#!/usr/bin/env bash
# inspect.sh - show what a build produced: the kernel ELF file, its
# symbols, the first instructions it runs, the disk image's layout, and how
# full the two loader stages are.
#
#   ./build.sh inspect            (builds first, then runs this)
#   image/inspect.sh [BUILD_DIR]  (default: build/ in the source tree)
#
# The output is plain text with one "==== heading" per part, meant to be
# read with a pager or searched with grep: `./build.sh inspect | less`.
# Headings are bold only when stdout is a terminal (and NO_COLOR is unset).
#
# Exit status: 0, or 1 when a file is missing or `mkimage info` finds a
# problem with the image (the rest is still printed).
set -euo pipefail

die() { printf 'inspect.sh: error: %s\n' "$*" >&2; exit 1; }

[ $# -le 1 ] || die "usage: image/inspect.sh [BUILD_DIR]"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-${BUILD_DIR:-$ROOT/build}}" 2>/dev/null && pwd) || die "no build directory ${1:-${BUILD_DIR:-$ROOT/build}}: run ./build.sh build first"

KERNEL_ELF=$BUILD/kernel/kernel.elf
STAGE1_BIN=$BUILD/bootloader/stage1.bin
STAGE1_LST=$BUILD/bootloader/stage1.lst
STAGE2_BIN=$BUILD/bootloader/stage2.bin
IMAGE=$BUILD/disk.img
MKIMAGE=$BUILD/image/mkimage
LOADER_FIELDS=$ROOT/bootloader/loader_fields.inc

# How many instructions of kernel_main to show: enough to see the prologue
# and the first calls, short enough to keep the entry readable.
KERNEL_MAIN_INSTRUCTIONS=16

status=0

# Paths inside the source tree are shown relative to it, as the docs name them.
show_path() { printf '%s\n' "${1#"$ROOT"/}"; }

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-dumb}" != dumb ]; then
    BOLD=$'\e[1m' PLAIN=$'\e[0m'
else
    BOLD='' PLAIN=''
fi

first_heading=yes
heading() {
    [ -n "$first_heading" ] || printf '\n'
    first_heading=
    printf '%s==== %s%s\n\n' "$BOLD" "$*" "$PLAIN"
}

# The kernel may have been built by a cross toolchain (x86_64-elf-gcc) or by
# the host's or LLVM's; the host binutils read x86-64 ELF only on x86-64
# hosts, so prefer the cross tools, then the plain ones, then LLVM's.
find_tool() {   # find_tool NAME: print the command to run for binutils' NAME
    local candidate
    for candidate in "x86_64-elf-$1" "$1" "llvm-$1"; do
        if command -v "$candidate" >/dev/null 2>&1; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    die "no $1 found: install binutils (./build.sh deps)"
}

for file in "$KERNEL_ELF" "$STAGE1_BIN" "$STAGE2_BIN" "$IMAGE" "$MKIMAGE" "$LOADER_FIELDS"; do
    [ -e "$file" ] || die "$(show_path "$file") is missing: run ./build.sh build first"
done

READELF=$(find_tool readelf)
NM=$(find_tool nm)
OBJDUMP=$(find_tool objdump)

# The awk programs reading nm's or objdump's output below read it to the end
# rather than `exit` at the first match: a writer whose reader has gone is
# killed by SIGPIPE, which pipefail would turn into a failure.

# symbol_address NAME: the address of a kernel symbol, as 0x... ("" if none).
symbol_address() {
    local address
    address=$("$NM" --defined-only "$KERNEL_ELF" | awk -v name="$1" '$3 == name && !seen++ { print $1 }')
    [ -z "$address" ] || printf '0x%x\n' $((16#$address))
}

# ---- The kernel ELF file -----------------------------------------------------
# -W keeps each header and section on one line, so the columns line up in a
# pager and grep finds whole rows.
heading "kernel ELF header, program headers and sections: $READELF -W -hlS $(show_path "$KERNEL_ELF")"
"$READELF" -W -hlS "$KERNEL_ELF"

# ---- Symbols ---------------------------------------------------------------------
# Only code (nm types T and t), in address order: that is the map a student
# needs to match an address from a fault report or a debugger with a
# function. Two generated families would bury the rest, so they are counted
# instead of listed: one stub per interrupt vector, and one body per
# in-kernel test.
heading "kernel functions by address: $NM -n $(show_path "$KERNEL_ELF") (code only, abridged)"
"$NM" -n --defined-only "$KERNEL_ELF" | awk '
    $2 != "T" && $2 != "t" { others++; next }
    $3 ~ /^interrupt_stub_[0-9]+$/ { stubs++; next }
    $3 ~ /^ktest_body_/ { tests++; next }
    { print; shown++ }
    END {
        printf "\n%d functions and code labels listed (T global, t local to one file); not listed:\n", shown
        printf "  %d interrupt stubs (interrupt_stub_N, one per vector)\n", stubs
        printf "  %d in-kernel test bodies (ktest_body_*)\n", tests
        printf "  %d data, read-only data and absolute symbols\n", others
    }'
printf 'Every symbol: %s -n %s\n' "$NM" "$(show_path "$KERNEL_ELF")"

# ---- The entry code --------------------------------------------------------------
# kernel_entry is assembly with local labels (kernel_entry.halt) but no ELF
# size, so its end is the first symbol past it that is not one of its own
# local labels.
entry=$(symbol_address kernel_entry)
[ -n "$entry" ] || die "kernel_entry is not in $(show_path "$KERNEL_ELF")"
entry_end=$("$NM" -n --defined-only "$KERNEL_ELF" | awk '
    found == 1 && $3 !~ /^kernel_entry\./ && $1 != address { print $1; found = 2 }
    $3 == "kernel_entry" && !found { found = 1; address = $1 }')
if [ -n "$entry_end" ]; then
    entry_end=$(printf '0x%x' $((16#$entry_end)))
else
    entry_end=$(printf '0x%x' $((entry + 64)))
fi

# Intel syntax, as NASM writes it in kernel/entry.asm.
heading "kernel entry: $OBJDUMP -d -M intel --start-address=$entry --stop-address=$entry_end (kernel_entry)"
"$OBJDUMP" -d -M intel --start-address="$entry" --stop-address="$entry_end" "$KERNEL_ELF" |
    sed -e '/^$/d' -e '/file format/d'

main=$(symbol_address kernel_main)
[ -n "$main" ] || die "kernel_main is not in $(show_path "$KERNEL_ELF")"
main_size=$("$NM" -S --defined-only "$KERNEL_ELF" | awk '$4 == "kernel_main" && !seen++ { print "0x" $2 }')
main_end=$(printf '0x%x' $((main + ${main_size:-0x40})))
heading "start of kernel_main: $OBJDUMP -d -M intel --start-address=$main --stop-address=$main_end (first $KERNEL_MAIN_INSTRUCTIONS instructions)"
"$OBJDUMP" -d -M intel --start-address="$main" --stop-address="$main_end" "$KERNEL_ELF" |
    sed -e '/^$/d' -e '/file format/d' |
    awk -v limit="$KERNEL_MAIN_INSTRUCTIONS" '
        /^ *[0-9a-f]+:\t/ { count++; if (count > limit) { more++; next } }
        { print }
        END { if (more) printf "... %d more instructions to the end of kernel_main\n", more }'

# ---- The disk image ----------------------------------------------------------------
# Run from the source tree so that mkimage prints the path as typed here.
heading "disk image layout: mkimage info $(show_path "$IMAGE")"
(cd "$ROOT" && "$MKIMAGE" info "$(show_path "$IMAGE")") || status=1

# ---- Loader sizes ----------------------------------------------------------------------
heading "loader sizes"

# Stage 1's code and messages must end before the disk address packet at
# STAGE1_DAP_OFFSET (0x1A8): stage1.asm pads the gap with zeros using a
# `times` line that fails to assemble once the code grows past it. The
# listing shows where that padding starts. The binary alone cannot: the
# variables just before the padding are zero bytes too.
dap_offset=$(awk '$1 == "STAGE1_DAP_OFFSET" && $2 == "equ" { print $3; exit }' "$LOADER_FIELDS")
[ -n "$dap_offset" ] || die "STAGE1_DAP_OFFSET not found in $(show_path "$LOADER_FIELDS")"
dap_offset=$((dap_offset))
stage1_used=
stage1_how="from the listing $(show_path "$STAGE1_LST")"
if [ -f "$STAGE1_LST" ]; then
    # A listing line: number, offset (8 hex digits), bytes, source. Zero
    # padding is "00<rep Nh>" for long runs, "0000..." for short ones.
    padding='^ *[0-9]+ ([0-9A-F]{8}) ((00)+)(<rep ([0-9A-F]+)h>)? +times '
    while IFS= read -r line; do
        if [[ $line =~ $padding ]]; then
            start=$((16#${BASH_REMATCH[1]}))
            length=$((${#BASH_REMATCH[2]} / 2))
            [ -z "${BASH_REMATCH[5]}" ] || length=$((16#${BASH_REMATCH[5]}))
            if [ $((start + length)) -eq "$dap_offset" ]; then
                stage1_used=$start
            fi
        fi
    done <"$STAGE1_LST"
    # No padding line: the code fills the space right up to the packet.
    [ -n "$stage1_used" ] || stage1_used=$dap_offset
else
    # Without a listing, count back over the zeros before the packet; any
    # zero-valued variables at the end of the code count as free.
    stage1_how="from the binary (no listing: trailing zero bytes count as free)"
    stage1_used=$(od -An -v -tu1 -N "$dap_offset" "$STAGE1_BIN" |
        tr -s ' ' '\n' | grep -v '^$' | awk '$1 != 0 { last = NR } END { print last + 0 }')
fi
stage1_bytes=$(wc -c <"$STAGE1_BIN")
printf 'stage 1: %d of %d bytes before the disk address packet (446-byte MBR code area)\n' \
    "$stage1_used" "$dap_offset"
printf '  %s, %d bytes free; %s is %d bytes\n' \
    "$stage1_how" $((dap_offset - stage1_used)) "$(show_path "$STAGE1_BIN")" "$stage1_bytes"

# Stage 1 reads at most STAGE2_MAX_SECTORS sectors of stage 2 (they must
# end below the disk buffer at 0x10000).
stage2_max=$(awk '$1 == "STAGE2_MAX_SECTORS" && $2 == "equ" { print $3; exit }' "$LOADER_FIELDS")
[ -n "$stage2_max" ] || die "STAGE2_MAX_SECTORS not found in $(show_path "$LOADER_FIELDS")"
stage2_bytes=$(wc -c <"$STAGE2_BIN")
stage2_sectors=$(((stage2_bytes + 511) / 512))
printf 'stage 2: %d bytes, %d of %d sectors (STAGE2_MAX_SECTORS in %s)\n' \
    "$stage2_bytes" "$stage2_sectors" "$stage2_max" "$(show_path "$LOADER_FIELDS")"
printf '  %s, %d bytes free\n' "$(show_path "$STAGE2_BIN")" $((stage2_max * 512 - stage2_bytes))

exit "$status"
