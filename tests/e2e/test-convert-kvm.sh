#!/bin/bash
# `ferry convert --to kvm -o OUT` of the reference physical machine (AHCI-only
# initramfs) plus a static IP pinned to a MAC (systemd-networkd): OUT boots
# on virtio-blk + virtio-net to the login prompt; the static address is kept
# without the MAC pin, fstab is by UUID, the guest's own lsinitramfs lists
# virtio_blk, and the input is not modified.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
source "$TESTS_DIR/initramfs.sh"
requires guestfish qemu-img
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)

# The input: an overlay of the reference guest with a pinned static address.
qemu-img create -q -f qcow2 -b "$ref" -F raw "$t/in.qcow2"
cat > "$t/10-static.network" <<'NET'
[Match]
MACAddress=52:54:00:aa:bb:cc

[Network]
Address=192.0.2.10/24
Gateway=192.0.2.1
NET
guestfish --rw -a "$t/in.qcow2" -i \
    upload "$t/10-static.network" /etc/systemd/network/10-static.network
ref_sum=$(sha256sum < "$ref")
in_sum=$(sha256sum < "$t/in.qcow2")

s=$(date +%s)
"$FERRY" convert "$t/in.qcow2" --to kvm -o "$t/out.qcow2" --json -v > "$t/report.json"
echo "convert took $(( $(date +%s) - s ))s"
cat "$t/report.json"
[ "$(sha256sum < "$t/in.qcow2")" = "$in_sum" ] || fail "the input image was modified"
[ "$(sha256sum < "$ref")" = "$ref_sum" ] || fail "the reference image was modified"
qemu-img info "$t/out.qcow2" | grep -q '^file format: qcow2' || fail "out is not qcow2"
qemu-img info "$t/out.qcow2" | grep -q '^backing file' && fail "out has a backing file"
grep -q '"what":"network","path":"/etc/systemd/network/10-static.network"' \
    "$t/report.json" || fail "report does not list the network change"
ls -A "$t" | grep -q ferry-tmp && fail "temporary overlay left behind"

# Look inside with the guest's own tools, on a throwaway overlay.
qemu-img create -q -f qcow2 -b "$t/out.qcow2" -F qcow2 "$t/check.qcow2"
guestfish --rw -a "$t/check.qcow2" -i > "$t/gf.out" <<'GF'
echo ==network
cat /etc/systemd/network/10-static.network
echo ==fstab
cat /etc/fstab
echo ==initrd
sh "for i in /boot/initrd.img-*[0-9a-z]; do lsinitramfs $i | grep -E '/virtio_(blk|net|pci)[.]ko' | sed s,.*/,,; done | sort -u"
GF
sed -n '/^==network/,/^==fstab/p' "$t/gf.out" > "$t/network"
grep -q '^Address=192.0.2.10/24$' "$t/network" || fail "static address lost: $(cat "$t/network")"
grep -q 'MACAddress' "$t/network" && fail "MAC pin still there: $(cat "$t/network")"
grep -q '^Name=en\* eth\*$' "$t/network" || fail "no name match: $(cat "$t/network")"
sed -n '/^==fstab/,/^==initrd/p' "$t/gf.out" | grep -E '^[^#=]' | grep -v '^UUID=' &&
    fail "fstab has entries not by UUID"
for m in virtio_blk virtio_net virtio_pci; do
    grep -q "^$m.ko" "$t/gf.out" || fail "initramfs lacks $m: $(cat "$t/gf.out")"
done
initrd_prove "$ref" "$t/out.qcow2" "$t/ir" virtio_blk virtio_net virtio_pci

if [ -n "${FERRY_NO_BOOT:-}" ]; then echo "boot skipped (FERRY_NO_BOOT)"; exit 0; fi
boot_guest "$t/out.qcow2" virtio || fail "converted guest does not boot on virtio"
echo ok
