#!/bin/bash
# A refused `ferry convert --in-place` leaves the file byte-identical: a raw
# copy of the reference guest whose kernel lacks virtio_blk, and a qcow2
# overlay of that copy, are both refused for --to kvm with a one-line error;
# the sha256 of each file (and of the overlay's backing file) is unchanged
# and no temporary overlay is left beside it.
# Successful in-place conversions are proven elsewhere, where they share an
# appliance with other checks: raw in test-convert-roots.sh (--root ask
# --in-place), qcow2 in test-convert-tools.sh (--to xen --in-place).
source "$(dirname "$0")/../functions.sh"
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
echo ok
