#!/bin/bash
# make-convert-roots.sh REF OUT: a raw disk with two Debian roots (a
# multi-boot machine) for `ferry convert --root` tests.  OUT is a sparse copy
# of REF (the reference guest: root on partition 1, swap on 2) with a third
# partition holding a copy of REF's root with its own filesystem UUID and
# label, hostname "ferry-second" and an fstab naming it.  Built on the host
# with e2fsprogs and sfdisk, without a libguestfs appliance.
# Prints "ROOT1_DEV ROOT2_DEV ROOT2_UUID" on stdout.
set -euo pipefail
ref=$1 out=$2
work=$(mktemp -d "${TMPDIR:-/var/tmp}/make-convert-roots.XXXXXX")
trap 'rm -rf "$work"' EXIT

read -r start size < <(sfdisk -d "$ref" | awk -F'[=,]' '
    /^[^ ]*1 : start=/ { gsub(/ /, ""); print $2, $4 }')
[ -n "${size:-}" ] || { echo "make-convert-roots: no partition 1 in $ref" >&2; exit 1; }
swap_uuid=$(blkid -p -o value -s UUID --offset $(( $(sfdisk -d "$ref" |
    awk -F'[=,]' '/^[^ ]*2 : start=/ { gsub(/ /, ""); print $2 }') * 512 )) "$ref")
ref_bytes=$(stat -c %s "$ref")

# The second root: REF's root filesystem, renamed.
dd if="$ref" of="$work/root2.img" bs=1M iflag=skip_bytes,count_bytes \
    skip=$(( start * 512 )) count=$(( size * 512 )) conv=sparse status=none
e2fsck -fy "$work/root2.img" >/dev/null 2>&1 || [ $? -le 1 ]
uuid=$(cat /proc/sys/kernel/random/uuid)
tune2fs -U "$uuid" -L ferry-second "$work/root2.img" >/dev/null 2>&1
cat > "$work/fstab" <<FSTAB
# second root of a multi-boot machine (tests/data/make-convert-roots.sh)
UUID=$uuid / ext4 errors=remount-ro 0 1
UUID=$swap_uuid none swap sw 0 0
FSTAB
echo ferry-second > "$work/hostname"
debugfs -w -f - "$work/root2.img" >/dev/null 2>&1 <<CMDS
rm /etc/fstab
write $work/fstab /etc/fstab
rm /etc/hostname
write $work/hostname /etc/hostname
CMDS
e2fsck -fn "$work/root2.img" >/dev/null 2>&1
[ "$(debugfs -R 'cat /etc/hostname' "$work/root2.img" 2>/dev/null)" = ferry-second ] ||
    { echo "make-convert-roots: debugfs did not write /etc/hostname" >&2; exit 1; }

# OUT: REF, then the second root in a new partition 3 after the swap.
cp --sparse=always "$ref" "$work/out.img"
truncate -s $(( ref_bytes + size * 512 + 1048576 )) "$work/out.img"
dd if="$work/root2.img" of="$work/out.img" bs=1M oflag=seek_bytes \
    seek="$ref_bytes" conv=sparse,notrunc status=none
echo "start=$(( ref_bytes / 512 )), size=$size, type=83" |
    sfdisk --append --no-reread --no-tell-kernel --wipe-partitions never -q \
        "$work/out.img" >/dev/null 2>"$work/sfdisk.err" ||
    { cat "$work/sfdisk.err" >&2; exit 1; }
mv "$work/out.img" "$out"
echo "/dev/sda1 /dev/sda3 $uuid"
