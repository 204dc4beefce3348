#!/bin/bash
# A fast-path initramfs that loses a module is caught before it is used:
# with the test hook FERRY_TEST_INITRD_DROP=ext4 the fast path's repacked
# image lacks ext4 (the root filesystem's module), its check refuses it,
# nothing of it is uploaded, and the conversion falls back to the guest's
# own builder (update-initramfs in the appliance), whose result passes the
# same check.  The report says both; the guest's own lsinitramfs lists ext4
# and virtio_blk in the result.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/initramfs.sh"
requires guestfish qemu-img
export FERRY_KVM_TIMEOUT=${FERRY_KVM_TIMEOUT:-3}
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)
ref_sum=$(sha256sum < "$ref")

FERRY_TEST_INITRD_DROP=ext4 "$FERRY" convert "$ref" --to kvm \
    -o "$t/out.qcow2" --json > "$t/report.json" ||
    fail "the conversion failed instead of falling back: $(cat "$t/report.json")"
cat "$t/report.json"
[ "$(sha256sum < "$ref")" = "$ref_sum" ] || fail "the input was modified"
grep -q 'no fast path: the repacked image failed its check: [^"]*ext4' "$t/report.json" ||
    fail "the report does not say the fast path's image failed its check for ext4"
grep -q 'rebuilt by initramfs-tools[^"]*checked ([0-9]* modules still loadable' "$t/report.json" ||
    fail "the report does not say the builder's image was rebuilt and checked"

qemu-img create -q -f qcow2 -b "$t/out.qcow2" -F qcow2 "$t/check.qcow2"
guestfish --ro -a "$t/check.qcow2" -i > "$t/mods" <<'GF'
sh "for i in /boot/initrd.img-*[0-9a-z]; do lsinitramfs $i | grep -E '/(ext4|virtio_blk)[.]ko' | sed s,.*/,,; done | sort -u"
GF
grep -q '^ext4.ko' "$t/mods" || fail "the result's initramfs lacks ext4: $(cat "$t/mods")"
grep -q '^virtio_blk.ko' "$t/mods" || fail "the result's initramfs lacks virtio_blk: $(cat "$t/mods")"
initrd_prove "$ref" "$t/out.qcow2" "$t/ir" virtio_blk virtio_net ext4
echo ok
