#!/usr/bin/env bash
# write-disk.sh - write the bootstack disk image to a USB stick or disk,
# refusing every target that looks like a mistake.
#
#   ./build.sh write DEVICE [--yes] [--force]        (builds first, then runs this)
#   image/write-disk.sh IMAGE DEVICE [--yes] [--force]
#
#   DEVICE    the whole disk to overwrite, e.g. /dev/sdb (not /dev/sdb1)
#   --yes     do not ask; without it you must type the device name (e.g. sdb)
#   --force   allow a disk larger than 256 GiB (most likely not a USB stick)
#
# Exit status: 0 written and verified; 1 refused, nothing written; 2 usage
# error, nothing written; 3 writing or verifying failed (the device may now
# hold part of the image).
#
# The people running this are often learning what /dev/sdX means, and `dd`
# to the wrong name erases a laptop's own disk. So the script refuses
# anything that is not a plain, whole, unused, writable disk of a plausible
# size, shows what it is about to erase, and makes the user type its name.
#
# Test-only: BOOTSTACK_WRITE_ALLOW_FILE=1 lets a regular file stand in for
# the device, so the tests can run the whole path without a disk. Never
# needed for real use: to get the image into a file, copy it.
set -euo pipefail

# Beyond this a device is more likely an internal or external hard disk
# than a USB stick or SD card; --force overrides.
readonly MAX_BYTES=$((256 * 1024 * 1024 * 1024))
readonly MAX_TEXT="256 GiB"

readonly PROG=write-disk.sh
readonly SELF=${BASH_SOURCE[0]}

say() { printf '%s\n' "$*"; }

# refuse MESSAGE: nothing has been written yet, so say so.
refuse() {
    printf '%s: refusing: %s\nNothing was written.\n' "$PROG" "$*" >&2
    exit 1
}

usage() {
    sed -n '2,/^# Exit status/p' "$SELF" | sed -e '/^# Exit status/d' -e 's/^# \{0,1\}//'
}

usage_error() {
    [ $# -eq 0 ] || printf '%s: %s\n\n' "$PROG" "$*" >&2
    usage >&2
    list_candidates >&2
    exit 2
}

# ---- Tools --------------------------------------------------------------------
# Everything used below ships with a minimal Debian; say which package when
# one is missing rather than failing half-way with "command not found".
check_tools() {
    local missing=() tool package
    for tool in dd:coreutils sync:coreutils stat:coreutils readlink:coreutils \
        sed:sed cmp:diffutils lsblk:util-linux findmnt:util-linux blockdev:util-linux; do
        package=${tool#*:}
        tool=${tool%%:*}
        # Captured rather than sent to /dev/null: the check must not depend
        # on anything but the shell itself.
        [ -n "$(command -v "$tool" || true)" ] || missing+=("$tool (Debian package $package)")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        printf '%s: error: missing tools: %s\n' "$PROG" "${missing[*]}" >&2
        printf 'Install them, e.g.: sudo apt-get install coreutils sed diffutils util-linux\n' >&2
        exit 1
    fi
}

# ---- Small helpers --------------------------------------------------------------

# human BYTES: a size as people read it on the stick's label (binary units).
human() {
    local bytes=$1 unit=0 tenths
    local units=(bytes KiB MiB GiB TiB PiB)
    tenths=$((bytes * 10))
    while [ $tenths -ge 10240 ] && [ $unit -lt 5 ]; do
        tenths=$((tenths / 1024))
        unit=$((unit + 1))
    done
    if [ $unit -eq 0 ]; then
        printf '%d bytes' "$bytes"
    else
        printf '%d.%d %s' $((tenths / 10)) $((tenths % 10)) "${units[unit]}"
    fi
}

# lsblk_field FIELD DEVICE: one lsblk column of one device, trimmed; empty
# when lsblk does not know the device.
lsblk_field() {
    local value
    value=$(lsblk -dno "$1" "$2" 2>/dev/null) || value=""
    value=${value%"${value##*[![:space:]]}"}
    printf '%s' "${value#"${value%%[![:space:]]*}"}"
}

# sysfs FILE [DEFAULT]: one value from /sys, or DEFAULT when it is not there.
sysfs() {
    local value
    if [ -r "$1" ] && value=$(<"$1"); then
        printf '%s' "$value"
    else
        printf '%s' "${2:-}"
    fi
}

indent() {
    local line
    while IFS= read -r line; do
        printf '  %s\n' "$line"
    done
}

# kname_of NODE: the kernel's name (sdb, sdb1, dm-0, loop3) of a block device
# node, found through its device number. Names under /dev can be links or
# odd aliases (/dev/root, /dev/mapper/...); the number cannot lie.
kname_of() {
    local major minor link
    read -r major minor < <(stat -Lc '%t %T' -- "$1" 2>/dev/null) || return 1
    link=/sys/dev/block/$((16#$major)):$((16#$minor))
    [ -e "$link" ] || return 1
    link=$(readlink -f "$link")
    printf '%s\n' "${link##*/}"
}

# kname_of_majmin MAJ:MIN: the same, from a device number as /proc shows it.
kname_of_majmin() {
    local link=/sys/dev/block/$1
    [ -e "$link" ] || return 1
    link=$(readlink -f "$link")
    printf '%s\n' "${link##*/}"
}

# kname_of_source SOURCE: a mount source as findmnt or /proc/mounts prints
# it. btrfs adds the subvolume in brackets ("/dev/sda2[/@]"); sources that
# are not devices (overlay, tmpfs, a ZFS dataset) give nothing.
kname_of_source() {
    local source=${1%%\[*}
    [ -b "$source" ] || return 1
    kname_of "$source"
}

# parent_of KNAME: the whole disk a partition belongs to.
parent_of() {
    local dir
    dir=$(readlink -f "/sys/class/block/$1")
    dir=${dir%/*}
    printf '%s\n' "${dir##*/}"
}

is_partition() {
    [ -e "/sys/class/block/$1/partition" ]
}

# below KNAME: the device and everything stacked on it: its partitions and
# whatever holds them (device mapper for LVM and encryption, software RAID).
below() {
    local dev
    printf '%s\n' "$1"
    for dev in "/sys/class/block/$1"/*/partition; do
        [ -e "$dev" ] || continue
        dev=${dev%/partition}
        below "${dev##*/}"
    done
    for dev in "/sys/class/block/$1"/holders/*; do
        [ -e "$dev" ] || continue
        below "${dev##*/}"
    done
    return 0
}

# above KNAME: the device and everything it is built from, down to the
# disks: a partition's disk, an LVM volume's or RAID array's members.
above() {
    local dev
    printf '%s\n' "$1"
    if is_partition "$1"; then
        above "$(parent_of "$1")"
    fi
    for dev in "/sys/class/block/$1"/slaves/*; do
        [ -e "$dev" ] || continue
        above "${dev##*/}"
    done
    return 0
}

# has WORD LIST...: is WORD one of the LIST? (No `| grep -q`: under pipefail
# an early grep exit can fail the pipeline and turn a match into a miss.)
has() {
    local word=$1 item
    shift
    for item in "$@"; do
        [ "$item" = "$word" ] && return 0
    done
    return 1
}

# unescape TEXT: /proc and lsblk -r write spaces and the like as \040 or
# \x20; printf %b turns both back.
unescape() {
    printf '%b' "$1"
}

# swap_devices: the kernel names behind every active swap area; a swap file
# counts through the filesystem that holds it.
swap_devices() {
    local file type
    # /proc/swaps: "Filename Type Size Used Priority", one line per area.
    while read -r file type _; do
        [ "$file" = Filename ] && continue
        file=$(unescape "$file")
        if [ "$type" = partition ] || [ -b "$file" ]; then
            kname_of "$file" || true
        else
            kname_of_source "$(findmnt -n -o SOURCE -T "$file" 2>/dev/null || true)" || true
        fi
    done </proc/swaps
    return 0
}

# system_users KNAME: one line for each part of the running system on that
# disk: /, /boot, /boot/efi, /usr, active swap.
system_users() {
    local target=$1 place source majmin kname
    local -a disks
    # Fail closed: if we cannot even ask where / comes from, we cannot
    # promise this is not the system disk.
    if [ -z "$(findmnt -n -o SOURCE --mountpoint / 2>/dev/null || true)" ]; then
        say "cannot tell which device / is mounted from (findmnt gave no answer)"
    fi
    for place in / /boot /boot/efi /usr; do
        # findmnt resolves /dev/root and the like; its device number covers
        # sources whose name is not a node we can open.
        while read -r source majmin; do
            for kname in $(kname_of_source "$source" || true) $(kname_of_majmin "$majmin" || true); do
                mapfile -t disks < <(above "$kname")
                if has "$target" "${disks[@]}"; then
                    say "$place is mounted from $source"
                    break
                fi
            done
        done < <(findmnt -n -o SOURCE,MAJ:MIN --mountpoint "$place" 2>/dev/null || true)
    done
    for kname in $(swap_devices); do
        mapfile -t disks < <(above "$kname")
        if has "$target" "${disks[@]}"; then
            say "active swap is on /dev/$kname"
        fi
    done
    return 0
}

# in_use KNAME: one line per reason the disk is busy: a mounted filesystem,
# active swap, or a device stacked on it (LVM, encryption, RAID).
in_use() {
    local target=$1 kname source point majmin rest file type holder
    local -a stack
    local -A mounts=()
    mapfile -t stack < <(below "$target")
    # Three views of what is mounted, since kernels, namespaces and
    # filesystems (btrfs reports no real device number) fill them in
    # differently. /proc/self/mountinfo:
    # "ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER"
    while read -r _ _ majmin _ point rest; do
        source=${rest#* - }
        source=${source#* }
        source=$(unescape "${source%% *}")
        for kname in $(kname_of_majmin "$majmin" || true) $(kname_of_source "$source" || true); do
            ! has "$kname" "${stack[@]}" || mounts["$kname $(unescape "$point")"]=1
        done
    done </proc/self/mountinfo
    while read -r source point _; do
        kname=$(kname_of_source "$(unescape "$source")" || true)
        [ -z "$kname" ] || ! has "$kname" "${stack[@]}" || mounts["$kname $(unescape "$point")"]=1
    done </proc/mounts
    while read -r kname point; do
        point=$(unescape "$point")
        case $point in "" | "[SWAP]") continue ;; esac     # swap: see below
        mounts["$kname $point"]=1
    done < <(lsblk -nro KNAME,MOUNTPOINT "/dev/$target" 2>/dev/null || true)
    for rest in "${!mounts[@]}"; do
        say "/dev/${rest%% *} is mounted on ${rest#* }: unmount it first (sudo umount '${rest#* }')"
    done
    for kname in $(swap_devices); do
        if has "$kname" "${stack[@]}"; then
            say "/dev/$kname is in use as swap: switch it off first (sudo swapoff /dev/$kname)"
        fi
    done
    for kname in "${stack[@]}"; do
        for holder in "/sys/class/block/$kname"/holders/*; do
            [ -e "$holder" ] || continue
            say "/dev/$kname is held by /dev/${holder##*/} ($(holder_kind "${holder##*/}")): close that first"
        done
    done
    return 0
}

holder_kind() {
    case $1 in
        dm-*) printf 'device mapper: LVM or an encrypted volume' ;;
        md*) printf 'software RAID' ;;
        *) printf 'another block device' ;;
    esac
}

# pair KEY LINE: the value of KEY="value" in lsblk -P output (which writes
# quotes and odd characters inside values as \x escapes, so [^"]* is safe).
pair() {
    if [[ $2 =~ (^| )$1=\"([^\"]*)\" ]]; then
        unescape "${BASH_REMATCH[2]}"
    fi
    return 0
}

# list_candidates: disks that look like USB sticks or cards, to help the
# user pick one. Only a hint: the checks do not trust it.
list_candidates() {
    local line name size model tran rm type found=0
    while read -r line; do
        name=$(pair NAME "$line")
        size=$(pair SIZE "$line")
        model=$(pair MODEL "$line")
        tran=$(pair TRAN "$line")
        rm=$(pair RM "$line")
        type=$(pair TYPE "$line")
        [ -n "$name" ] || continue
        [ "$type" = disk ] || continue
        [ "$rm" = 1 ] || [ "$tran" = usb ] || continue
        [ "$(sysfs "/sys/class/block/$name/size" 0)" != 0 ] || continue   # empty card reader
        [ $found -eq 1 ] || say "Removable disks found now (check the model and size before choosing):"
        found=1
        printf '  /dev/%-10s %8s  %s%s\n' "$name" "$size" "${model:-(no model name)}" "${tran:+  ($tran)}"
    done < <(lsblk -dnP -o NAME,SIZE,MODEL,TRAN,RM,TYPE 2>/dev/null || true)
    if [ $found -eq 0 ]; then
        say "No removable disk found. Plug the USB stick in and run lsblk: the entry that"
        say "appears is the stick (TRAN shows usb)."
    fi
}

# ---- Checks ---------------------------------------------------------------------

# check_block KNAME: refuse unless this is a whole, plain, idle disk that
# does not carry the running system. Run again right before writing, in
# case something mounted the stick while we waited for the user.
check_block() {
    local kname=$1 type problems
    if is_partition "$kname" || [ "$(lsblk_field TYPE "/dev/$kname")" = part ]; then
        local disk
        if is_partition "$kname"; then
            disk=$(parent_of "$kname")
        else
            disk=$(lsblk_field PKNAME "/dev/$kname")
        fi
        refuse "/dev/$kname is a partition, not a whole disk: write to the whole disk /dev/$disk, not to a partition.
The image holds its own partition table and boot sector, which belong at the very start of the disk."
    fi
    type=$(lsblk_field TYPE "/dev/$kname")
    [ -n "$type" ] || case $kname in loop*) type=loop ;; esac
    case $type in
        disk | loop) ;;
        rom) refuse "/dev/$kname is a CD/DVD drive, not a disk." ;;
        "") refuse "lsblk does not know /dev/$kname; cannot tell what kind of device it is." ;;
        *) refuse "/dev/$kname is a '$type' device (LVM, encryption, RAID and the like), not a whole disk.
Name the disk itself: lsblk lists disks with TYPE disk." ;;
    esac

    problems=$(system_users "$kname")
    if [ -n "$problems" ]; then
        refuse "/dev/$kname holds the running system:
$(indent <<<"$problems")
Writing to it would destroy the operating system of this computer.
Your USB stick is a different device: run lsblk before and after plugging it in."
    fi

    problems=$(in_use "$kname")
    if [ -n "$problems" ]; then
        refuse "/dev/$kname is in use:
$(indent <<<"$problems")
If this really is the stick to erase, release it as shown and try again."
    fi

    # The sysfs flag needs no permission; blockdev asks the driver (it can
    # know about a write-protect switch) but has to open the device.
    if [ "$(sysfs "/sys/class/block/$kname/ro" 0)" = 1 ] ||
        { [ -r "/dev/$kname" ] && [ "$(blockdev --getro "/dev/$kname" 2>/dev/null || echo 0)" = 1 ]; }; then
        refuse "/dev/$kname is read-only. Is the write-protect switch on the stick or SD card on?"
    fi
}

# ---- Arguments -------------------------------------------------------------------
check_tools

[ $# -ge 1 ] || usage_error "no image given"
case $1 in -h | --help) usage; exit 0 ;; esac
image=$1
shift
device="" yes=0 force=0
while [ $# -gt 0 ]; do
    case $1 in
        -y | --yes) yes=1 ;;
        --force) force=1 ;;
        -h | --help) usage; exit 0 ;;
        -*) usage_error "unknown option: $1" ;;
        *)
            [ -z "$device" ] || usage_error "more than one DEVICE: $device and $1"
            device=$1
            ;;
    esac
    shift
done
[ -n "$device" ] || usage_error "name the DEVICE to write to, e.g. ./build.sh write /dev/sdb"

if [ ! -f "$image" ] || [ ! -r "$image" ]; then
    refuse "the image $image is missing or unreadable: run ./build.sh build first."
fi
image_bytes=$(stat -Lc %s -- "$image")
[ "$image_bytes" -gt 0 ] || refuse "the image $image is empty: run ./build.sh build again."

# ---- What kind of thing is DEVICE? ------------------------------------------------
if [ ! -e "$device" ]; then
    printf '%s: refusing: %s does not exist.\n' "$PROG" "$device" >&2
    case $device in
        /*) ;;
        *) [ ! -e "/dev/$device" ] || printf 'Did you mean /dev/%s? Give the full path.\n' "$device" >&2 ;;
    esac
    list_candidates >&2
    printf 'Nothing was written.\n' >&2
    exit 1
fi
real=$(readlink -f -- "$device")
[ ! "$real" -ef "$image" ] || refuse "$device is the image itself."

if [ -d "$real" ]; then
    refuse "$device is a directory, not a disk. Name the disk device, e.g. /dev/sdb."
elif [ -f "$real" ]; then
    if [ "${BOOTSTACK_WRITE_ALLOW_FILE:-}" != 1 ]; then
        hint="To put the image into a file, just copy it: cp $image FILE."
        # dd to /dev/sdX with no stick plugged in quietly creates a regular
        # file there, which then hides the real device later.
        case $real in /dev/*) hint="No such disk is attached: $real is an ordinary file, probably left by an
earlier dd run made while no stick was plugged in. Remove it (sudo rm $real) and
plug the stick in." ;; esac
        refuse "$device is a regular file, not a disk device.
$hint"
    fi
    kind=plain
    name=${real##*/}
    target_bytes=$(stat -Lc %s -- "$real")
elif [ -c "$real" ]; then
    refuse "$device is a character device, not a block device (a disk). Disks are block devices such as /dev/sdb or /dev/mmcblk0."
elif [ ! -b "$real" ]; then
    refuse "$device is not a block device (a disk such as /dev/sdb)."
else
    kind=block
    name=$(kname_of "$real") || refuse "$device is a block device the kernel does not list in /sys; cannot check it."
    check_block "$name"
    # sysfs counts in 512-byte units whatever the device's sector size.
    target_bytes=$(($(sysfs "/sys/class/block/$name/size" 0) * 512))
fi

# ---- Size and permission ------------------------------------------------------------
if [ "$target_bytes" -eq 0 ]; then
    refuse "$device has a size of 0: no card in the reader, or nothing attached to it."
elif [ "$target_bytes" -lt "$image_bytes" ]; then
    refuse "$device is too small: it holds $(human "$target_bytes") ($target_bytes bytes), the image needs $(human "$image_bytes") ($image_bytes bytes)."
fi
if [ "$target_bytes" -gt "$MAX_BYTES" ] && [ "$force" -ne 1 ]; then
    refuse "$device is $(human "$target_bytes"), larger than $MAX_TEXT: that is more likely a hard disk than a USB stick.
If you are certain it is the right device, add --force."
fi
if [ ! -w "$real" ]; then
    cmd=$(printf '%q ' "${SELF#"$PWD"/}" "${image#"$PWD"/}" "$device")
    [ "$force" -ne 1 ] || cmd+="--force "
    refuse "you may not write to $device. Run the writer as root:
  sudo ${cmd% }
(This runs only the writer as root; sudo ./build.sh write would run the build as root too.)"
fi

# ---- Show it, and ask -----------------------------------------------------------------
say "Image:  $image ($(human "$image_bytes"))"
if [ "$kind" = block ]; then
    if [ "$device" = "/dev/$name" ]; then
        say "Target: /dev/$name"
    else
        say "Target: /dev/$name (named as $device)"
    fi
    model=$(lsblk_field MODEL "/dev/$name")
    vendor=$(lsblk_field VENDOR "/dev/$name")
    tran=$(lsblk_field TRAN "/dev/$name")
    say "  model:      ${model:-(not reported)}"
    say "  vendor:     ${vendor:-(not reported)}"
    say "  size:       $(human "$target_bytes") ($target_bytes bytes)"
    say "  connection: ${tran:-(not reported)}"
    removable=no
    [ "$(sysfs "/sys/class/block/$name/removable" 0)" != 1 ] || removable=yes
    say "  removable:  $removable"
    backing=$(sysfs "/sys/class/block/$name/loop/backing_file")
    [ -z "$backing" ] || say "  loop file:  $backing"
    say "What is on it now (all of it will be lost):"
    lsblk -o NAME,SIZE,TYPE,FSTYPE,LABEL,MOUNTPOINT "/dev/$name" 2>/dev/null | indent || true
else
    say "Target: $real, a regular file standing in for a disk (BOOTSTACK_WRITE_ALLOW_FILE=1), $target_bytes bytes"
fi

if [ "$yes" -ne 1 ]; then
    # Typed confirmation only: a piped "yes" or a stray Enter must not erase
    # a disk.
    [ -t 0 ] || refuse "there is no terminal to confirm on. Run it in a terminal, or add --yes if you are certain."
    say ""
    say "Everything on $real will be erased and replaced by the image."
    printf 'To go ahead, type the device name, %s, and press Enter (anything else cancels): ' "$name"
    answer=""
    read -r answer || true
    answer=${answer#"${answer%%[![:space:]]*}"}
    answer=${answer%"${answer##*[![:space:]]}"}
    if [ "$answer" != "$name" ] && [ "$answer" != "$real" ]; then
        refuse "cancelled: you typed '$answer', not '$name'."
    fi
fi

# The user may have taken a while: look again right before writing.
[ "$kind" != block ] || check_block "$name"

# ---- Write and verify ------------------------------------------------------------------
say "Writing $image_bytes bytes to $real ..."
# fsync: dd returns only once the data is on the device, not in the cache.
# notrunc: matters only for the test stand-in file, which keeps its size.
if ! dd if="$image" of="$real" bs=4M conv=fsync,notrunc status=progress; then
    printf '%s: error: writing to %s failed (see above). It may now hold part of the image.\n' "$PROG" "$real" >&2
    exit 3
fi
sync
# Drop the kernel's cached copy of the device, so the read-back below really
# comes from the stick (a fake or failing stick can lose what it accepted).
[ "$kind" != block ] || blockdev --flushbufs "$real" 2>/dev/null || true
if ! cmp -n "$image_bytes" -- "$image" "$real"; then
    printf '\n%s: ***** VERIFY FAILED *****\n' "$PROG" >&2
    printf '%s does not hold the image: reading it back gave different bytes.\n' "$real" >&2
    printf 'Do not boot from it. The stick may be failing or fake; try another one.\n' >&2
    exit 3
fi
say "verified: $image_bytes bytes match"
say "Done: $real holds the image. Boot it with the PC in legacy BIOS mode."
