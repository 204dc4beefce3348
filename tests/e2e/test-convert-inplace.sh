#!/bin/bash
# `ferry convert --in-place` edits an overlay and writes it back only after
# success:
# - refused: a raw copy of the reference guest whose kernel lacks
#   virtio_blk, and a qcow2 overlay of that copy, are both refused for
#   --to kvm with a one-line error; the sha256 of each file (and of the
#   overlay's backing file) is unchanged and no temporary overlay is left
#   beside it;
# - accepted: the qcow2 overlay converted --to xen in place (written back
#   through qemu-nbd, no second appliance): qemu-img check is clean, its
#   backing file is untouched, the guest in it has the old initramfs kept
#   as *.pre-ferry and fstab by UUID, and nothing temporary is left.
# A successful raw in-place conversion is in test-convert-roots.sh (--root
# ask --in-place, check-slow).
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/initramfs.sh"
requires guestfish qemu-img
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)

cp --sparse=always "$ref" "$t/raw.img"
guestfish --rw --format=raw -a "$t/raw.img" <<'GF'
run
mount /dev/sda1 /
glob rm-f /lib/modules/*/kernel/drivers/block/virtio_blk.ko*
GF
qemu-img create -q -f qcow2 -b "$t/raw.img" -F raw "$t/overlay.qcow2"

# refuse IMG: in-place --to kvm fails with the missing driver named, and
# neither IMG nor the raw copy (the overlay's backing file) is written.
refuse () {
    local img=$1 before raw_before s
    before=$(sha256sum < "$img")
    raw_before=$(sha256sum < "$t/raw.img")
    s=$(date +%s)
    expect_fail "no installed kernel has the kvm drivers .*lacks virtio_blk" \
        "$FERRY" convert "$img" --to kvm --in-place
    # The conversion works on an overlay beside IMG and the checks run on
    # the root mounted read-only: a refusal writes nothing into IMG.
    [ "$(sha256sum < "$img")" = "$before" ] ||
        fail "refused in-place conversion wrote $img"
    [ "$img" = "$t/raw.img" ] || [ "$(sha256sum < "$t/raw.img")" = "$raw_before" ] ||
        fail "refused in-place conversion of $img wrote its backing file raw.img"
    ls -A "$t" | grep -q ferry-tmp && fail "temporary left behind for $img"
    echo "refused in place: $(basename "$img") ($(( $(date +%s) - s ))s)"
}
refuse "$t/raw.img"
refuse "$t/overlay.qcow2"

raw_before=$(sha256sum < "$t/raw.img")
ov_before=$(sha256sum < "$t/overlay.qcow2")
s=$(date +%s)
"$FERRY" convert "$t/overlay.qcow2" --to xen --in-place --json > "$t/report.json" ||
    fail "in-place --to xen of the qcow2 overlay failed"
echo "converted in place: overlay.qcow2 ($(( $(date +%s) - s ))s)"
python3 - "$t/report.json" <<'PY' || fail "report: $(cat "$t/report.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["target"] == "xen" and len(r["changes"]) > 0, r
assert r["output"] == r["image"], r
PY
[ "$(sha256sum < "$t/raw.img")" = "$raw_before" ] || fail "in-place conversion wrote the backing file"
[ "$(sha256sum < "$t/overlay.qcow2")" != "$ov_before" ] || fail "in-place conversion changed nothing"
qemu-img check -q "$t/overlay.qcow2" || fail "qemu-img check fails after the write-back"
qemu-img info "$t/overlay.qcow2" | grep -q "^backing file: $t/raw.img" ||
    fail "the backing file changed: $(qemu-img info "$t/overlay.qcow2")"
ls -A "$t" | grep -q ferry-tmp && fail "temporary left behind after the write-back"
guestfish --ro -a "$t/overlay.qcow2" -i > "$t/gf.out" <<'GF'
find /boot
echo ==fstab
cat /etc/fstab
GF
grep -q '^/initrd.img-.*\.pre-ferry$' "$t/gf.out" || fail "no *.pre-ferry initramfs in /boot"
sed -n '/^==fstab/,$p' "$t/gf.out" | grep -E '^[^#=]' | grep -v '^UUID=' &&
    fail "fstab has entries not by UUID"
initrd_prove "$t/raw.img" "$t/overlay.qcow2" "$t/ir" xen_blkfront xen_netfront
echo ok
