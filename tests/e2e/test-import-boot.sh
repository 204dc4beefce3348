#!/bin/bash
# The restore is proven by a boot: the reference guest (tests/guests.sh
# debian12-ahci) exported to a VMware OVA with the default used-block
# export and imported --to libvirt
# - goes through a second export (XVA) -> import (raw) round trip
#   bit-identical to the first import (qemu-img compare),
# - holds the same files as the source: the ext4 root of both, dumped on
#   the host with debugfs (virt-diff needs a TCG appliance and takes over
#   ten minutes here), compared with diff -r; and e2fsck finds it clean,
# - boots in qemu on its SATA/AHCI bus to the login prompt (skipped when
#   FERRY_NO_BOOT is set).
# The reference guest is used once, read only.
# shellcheck source=tests/functions.sh
source "$(dirname "$0")/../functions.sh"
# shellcheck source=tests/boot.sh
source "$(dirname "$0")/../boot.sh"
requires qemu-img debugfs e2fsck python3 virt-xml-validate
t=$(mktmpdir)
img=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci) || fail "could not build the reference guest"
before=$(stat -c '%s %Y' "$img")

s=$(date +%s)
"$FERRY" export -q "$img" -o "$t/ref.ova" --name ref
"$FERRY" import -q "$t/ref.ova" --to libvirt -o "$t/vm"
q=$t/vm/ref-disk1.qcow2
echo "export + import: $(( $(date +%s) - s ))s, OVA $(( $(stat -c %s "$t/ref.ova") >> 20 )) MiB"
qemu-img check -q "$q" || fail "qemu-img check of the imported disk"
virt-xml-validate "$t/vm/ref.xml" domain >/dev/null || fail "invalid domain XML"
grep -q "source file='$q'" "$t/vm/ref.xml" || fail "the domain does not name the disk"

# A second round trip (used blocks again, as an XVA) is bit-identical.
s=$(date +%s)
"$FERRY" export -q "$q" -o "$t/second.xva" --name ref
"$FERRY" import -q "$t/second.xva" --to raw -o "$t/second"
qemu_compare "$q" "$t/second/ref-disk1.img"
echo "second round trip: $(( $(date +%s) - s ))s"

# The same files (the deleted data the used-block export dropped is not
# in any file).  debugfs and e2fsck open the partition by its offset.
s=$(date +%s)
off () { python3 -c 'import struct,sys; print(512 * struct.unpack_from("<I", open(sys.argv[1], "rb").read(512), 454)[0])' "$1"; }
r=$t/second/ref-disk1.img
[ "$(off "$r")" = "$(off "$img")" ] || fail "the partition moved"
e2fsck -fn "$r?offset=$(off "$r")" >/dev/null 2>&1 || fail "the imported ext4 is not clean"
mkdir "$t/src" "$t/dst"
debugfs -R "rdump / $t/src" "$img?offset=$(off "$img")" >/dev/null 2>&1
debugfs -R "rdump / $t/dst" "$r?offset=$(off "$r")" >/dev/null 2>&1
[ "$(find "$t/src" | wc -l)" -gt 10000 ] || fail "debugfs dumped too little of the source"
diff -r --no-dereference "$t/src" "$t/dst" > "$t/diff" 2>&1 ||
    { head -20 "$t/diff" >&2; fail "files differ after the round trip"; }
echo "files compared: $(find "$t/src" -type f | wc -l) in $(( $(date +%s) - s ))s"
rm -rf "$t/src" "$t/dst"
[ "$(stat -c '%s %Y' "$img")" = "$before" ] || fail "the reference guest was modified"

if [ -n "${FERRY_NO_BOOT:-}" ]; then echo "PASS (boot skipped: FERRY_NO_BOOT)"; exit 0; fi
s=$(date +%s)
boot_guest "$q" ahci 300 || fail "the imported guest does not boot on AHCI"
grep -q 'ferry-ref login:' "$(boot_guest_log)" || fail "login prompt without hostname ferry-ref"
echo "boot: $(( $(date +%s) - s ))s"
echo "PASS: test-import-boot"
