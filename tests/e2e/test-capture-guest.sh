#!/bin/bash
# The reference physical machine (Debian 12, MBR + ext4 + swap, ~200 MiB of
# deleted data in free space): `ferry capture -O vhd` gives an image no
# bigger than 1.1 x the filesystem's used bytes, whose files match the
# source's (guestfish checksums), without the deleted data, and which still
# boots in qemu on the same AHCI controller.  The source is not modified.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
requires guestfish qemu-img
src=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)
before=$(sha256sum < "$src")

"$FERRY" capture --json "$src" -o "$t/ref.vhd" > "$t/report.json"
[ "$(sha256sum < "$src")" = "$before" ] || fail "the source disk was modified"
qemu-img info -f vpc "$t/ref.vhd" | grep -q "virtual size: .*($(stat -c %s "$src") bytes)" ||
    fail "virtual size differs from the source"

# One appliance reads both disks: checksums of known files and the
# filesystem's used bytes (statvfs).
files="/root/ferry-test/SHA256SUMS /etc/passwd /etc/fstab /usr/bin/bash /boot/grub/grub.cfg"
for f in $(cut -c67- "${src%.img}.sha256"); do files="$files /$f"; done
script=$t/gf
{
    echo "add $src format:raw readonly:true"
    echo "add $t/ref.vhd format:vpc readonly:true"
    echo "run"
    for dev in /dev/sda1 /dev/sdb1; do
        echo "mount-ro $dev /"
        for f in $files; do echo "checksum sha256 $f"; done
        echo "statvfs /"
        echo "umount /"
    done
} > "$script"
guestfish --ro < "$script" > "$t/gf.out"
n=$(echo $files | wc -w)
head -n "$n" "$t/gf.out" > "$t/src.sums"
sed -n "/^bavail/,\$p" "$t/gf.out" | grep -E '^[0-9a-f]{64}$' > "$t/cap.sums" || true
[ "$(wc -l < "$t/src.sums")" -eq "$n" ] || fail "guestfish output unexpected: $(head "$t/gf.out")"
cmp "$t/src.sums" "$t/cap.sums" || fail "file checksums differ between source and capture"

bsize=$(awk '/^bsize:/ { print $2; exit }' "$t/gf.out")
blocks=$(awk '/^blocks:/ { print $2; exit }' "$t/gf.out")
bfree=$(awk '/^bfree:/ { print $2; exit }' "$t/gf.out")
used=$(( (blocks - bfree) * bsize ))
size=$(stat -c %s "$t/ref.vhd")
echo "filesystem used: $used bytes; vhd: $size bytes"
[ "$size" -le $(( used * 11 / 10 )) ] || fail "vhd ($size) > 1.1 x used ($used)"

# The deleted junk is random data: compare the raw bytes of the capture
# with the source only where the source's filesystem uses blocks, i.e.
# the capture must be much smaller than the source's allocated data.
src_alloc=$(( $(du -k "$src" | cut -f1) * 1024 ))
[ "$size" -lt $(( src_alloc - 150 * 1048576 )) ] ||
    fail "capture ($size) did not drop the ~200 MiB of deleted data (source allocates $src_alloc)"

if [ -n "${FERRY_NO_BOOT:-}" ]; then echo "boot skipped (FERRY_NO_BOOT)"; exit 0; fi
boot_guest "$t/ref.vhd" ahci || fail "captured guest does not boot on AHCI"
echo ok
