#!/bin/bash
# A disk with data and holes but no partition table: `ferry capture -O F`
# and `ferry copy -O F` are identical to the source for every format.
source "$(dirname "$0")/../functions.sh"
requires qemu-img
t=$(mktmpdir)
make_test_disk "$t/src.raw" 70
for fmt in vhd vmdk qcow2 raw; do
    "$FERRY" capture -q "$t/src.raw" -o "$t/cap.$fmt" -O "$fmt"
    qemu_compare "$t/src.raw" "$t/cap.$fmt"
    "$FERRY" copy -q "$t/src.raw" "$t/copy.$fmt" -O "$fmt"
    qemu_compare "$t/src.raw" "$t/copy.$fmt"
    case $fmt in qcow2|vmdk) qemu-img check -q "$t/copy.$fmt" || fail "$fmt: qemu-img check" ;; esac
    # and back to raw through ferry itself
    "$FERRY" copy -q "$t/copy.$fmt" "$t/back-$fmt.raw"
    cmp "$t/src.raw" "$t/back-$fmt.raw" || fail "$fmt: round trip differs"
done
echo ok
