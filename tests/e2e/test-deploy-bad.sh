#!/bin/bash
# test-deploy-bad: every check of `ferry deploy` refuses before anything is
# written, with one line naming the disk and the reason, and leaves the
# target byte-identical: no --yes without a terminal, the target being the
# source or holding it, a mounted target, a 4Kn disk for a 512-byte image,
# a disk too small under --no-grow, an empty file, a directory, a package
# whose disks do not match the targets; then the appliance's refusals: an
# image with no OS under --convert native, xfs asked to shrink, a target
# smaller than the data.
source "$(dirname "$0")/../functions.sh"
requires losetup mkfs.ext4 qemu-img
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)

# A target with old contents whose checksum must not change.
old_disk () {
    truncate -s "$2" "$1"
    printf 'OLD DISK CONTENTS' | dd of="$1" conv=notrunc status=none
    printf 'OLD TAIL' | dd of="$1" bs=1 seek=$(( $(stat -c %s "$1") - 8 )) \
        conv=notrunc status=none
}
# What a write would change: the contents of the first and last MiB (the
# deploy's first writes), the allocated bytes, the modification time.
state () {
    { head -c 1M "$1"; tail -c 1M "$1"; du -B1 "$1"; stat -c '%Y %s' "$1"; } |
        sha256sum
}
untouched () {
    [ "$(state "$1")" = "$2" ] || fail "$1 was written to"
}

old_disk "$t/t8.img" 8G
sum=$(state "$t/t8.img")

# No terminal, no --yes.
expect_fail "not a terminal and no --yes: refusing to erase .*t8.img" \
    "$FERRY" deploy "$ref" "$t/t8.img" < /dev/null
untouched "$t/t8.img" "$sum"

# The source itself.
make_test_disk "$t/small.img" 64
expect_fail "'.*small.img' is the source" \
    "$FERRY" deploy "$t/small.img" "$t/small.img" --yes

# A mounted disk, and a disk holding the source on a filesystem of its own.
truncate -s 256M "$t/fs.img"
mkfs.ext4 -q "$t/fs.img"
loop=$(losetup -f --show "$t/fs.img")
cleanup_fn "losetup -d $loop"
mkdir "$t/mnt"
mount "$loop" "$t/mnt"
cleanup_fn "umount '$t/mnt'"
cp "$t/small.img" "$t/mnt/src.img"
expect_fail "'$loop' holds the source" \
    "$FERRY" deploy "$t/mnt/src.img" "$loop" --yes
expect_fail "'$loop' is mounted \\(at $t/mnt\\): unmount it first" \
    "$FERRY" deploy "$t/small.img" "$loop" --yes

# 4096-byte sectors for an image made for 512.
truncate -s 2G "$t/4k.img"
loop4k=$(losetup -f --show --sector-size 4096 "$t/4k.img")
cleanup_fn "losetup -d $loop4k"
expect_fail "'$loop4k' has 4096-byte sectors and the image's partition table was made for 512-byte sectors" \
    "$FERRY" deploy "$ref" "$loop4k" --yes
[ "$(head -c 1M "$loop4k" | tr -d '\0' | wc -c)" = 0 ] || fail "4Kn disk written to"

# Too small with --no-grow; an empty file; a directory.
old_disk "$t/t1.img" 1G
sum1=$(state "$t/t1.img")
expect_fail "'.*t1.img' \\([0-9]+ bytes\\) is smaller than the image \\([0-9]+ bytes\\) and --no-grow keeps its layout" \
    "$FERRY" deploy "$ref" "$t/t1.img" --yes --no-grow
: > "$t/empty.img"
expect_fail "'.*empty.img' is an empty file" \
    "$FERRY" deploy "$ref" "$t/empty.img" --yes
expect_fail "'$t' is neither a block device nor a file" \
    "$FERRY" deploy "$ref" "$t" --yes

# A package of one disk and two targets.
"$FERRY" export -q "$t/small.img" -o "$t/one.ova"
old_disk "$t/t2.img" 1G
expect_fail "'.*one.ova' has 1 disk and 2 targets were given: one target per disk, in order" \
    "$FERRY" deploy "$t/one.ova" "$t/t1.img" "$t/t2.img" --yes
untouched "$t/t1.img" "$sum1"

# The appliance's refusals, before any write: no OS to make native, xfs
# cannot shrink, and data that does not fit.
expect_fail "small.img.*no operating system" \
    "$FERRY" deploy "$t/small.img" "$t/t1.img" --yes
untouched "$t/t1.img" "$sum1"
xfs=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian13-xfs-ahci)
expect_fail "target is smaller than the image and xfs on /dev/sda1 cannot shrink \\(xfs never shrinks\\)" \
    "$FERRY" deploy "$xfs" "$t/t1.img" --yes
untouched "$t/t1.img" "$sum1"
old_disk "$t/t600.img" 600M
sum600=$(state "$t/t600.img")
expect_fail "target too small for the data: ext4 on /dev/sda1 needs at least" \
    "$FERRY" deploy "$ref" "$t/t600.img" --yes
untouched "$t/t600.img" "$sum600"
untouched "$t/t8.img" "$sum"
echo ok
