#!/bin/bash
# `ferry capture --convert kvm -O qcow2` of the reference physical machine
# (AHCI-only initramfs) with a static IP pinned to a MAC (systemd-networkd):
# the source stays byte-identical, OUT boots on virtio-blk + virtio-net to
# the login prompt, keeps the static address without the MAC pin, and the
# guest's own lsinitramfs lists the virtio drivers the fast path added
# (no update-initramfs run).  Ferry's own --verify-boot booted it before
# writing it and reports the login prompt on virtio with its seconds; the
# test's boot then confirms it independently.  A source with no OS fails
# with one line and leaves no OUT.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
source "$TESTS_DIR/initramfs.sh"
requires guestfish qemu-img sha256sum
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)
export LIBGUESTFS_BACKEND_SETTINGS=force_tcg

# The "physical disk": a sparse copy of the reference guest with a static
# address pinned to the old NIC's MAC.
cp --sparse=always "$ref" "$t/disk.img"
cat > "$t/10-static.network" <<'NET'
[Match]
MACAddress=52:54:00:aa:bb:cc

[Network]
Address=192.0.2.10/24
Gateway=192.0.2.1
NET
guestfish --rw --format=raw -a "$t/disk.img" -i \
    upload "$t/10-static.network" /etc/systemd/network/10-static.network
before=$(sha256sum < "$t/disk.img")

verify=--verify-boot
[ -z "${FERRY_NO_BOOT:-}" ] || verify=
s=$(date +%s)
"$FERRY" capture "$t/disk.img" --convert kvm $verify -O qcow2 \
    -o "$t/out.qcow2" --json > "$t/report.json"
echo "capture --convert took $(( $(date +%s) - s ))s"
cat "$t/report.json"
[ "$(sha256sum < "$t/disk.img")" = "$before" ] || fail "the source was written"
compgen -G "$t/.*ferry-tmp*" >/dev/null && fail "temporary overlay left behind"
qemu-img check -q "$t/out.qcow2" || fail "qemu-img check failed"
qemu-img info "$t/out.qcow2" | grep -q '^backing file' && fail "out has a backing file"
grep -q '"what":"network","path":"/etc/systemd/network/10-static.network"' \
    "$t/report.json" || fail "report does not list the network change"
grep -q 'added without the builder' "$t/report.json" ||
    fail "the initramfs was not done by the fast path"
grep -q '"kept_bytes"' "$t/report.json" || fail "no used-block capture"
grep -q '"ok":true' "$t/report.json" || fail "the report does not say ok"
if [ -n "$verify" ]; then
    grep -Eq '"verify_boot":\[\{"bus":"virtio","outcome":"booted","seconds":[0-9.]+,"accelerator":"(kvm|tcg)","evidence":"[^"]*login: *"' \
        "$t/report.json" || fail "--verify-boot did not report a boot to the login prompt on virtio"
fi

# Look inside with the guest's own tools, on a throwaway overlay.
qemu-img create -q -f qcow2 -b "$t/out.qcow2" -F qcow2 "$t/check.qcow2"
guestfish --rw -a "$t/check.qcow2" -i > "$t/gf.out" <<'GF'
echo ==network
cat /etc/systemd/network/10-static.network
echo ==initrd
sh "for i in /boot/initrd.img-*; do case $i in *.pre-ferry) ;; *) lsinitramfs $i ;; esac; done | grep -E '/(virtio_(blk|net|pci)|ahci)[.]ko' | sed s,.*/,, | sort -u"
sh "ls /boot/initrd.img-*.pre-ferry"
GF
sed -n '/^==network/,/^==initrd/p' "$t/gf.out" > "$t/network"
grep -q '^Address=192.0.2.10/24$' "$t/network" || fail "static address lost: $(cat "$t/network")"
grep -q 'MACAddress' "$t/network" && fail "MAC pin still there: $(cat "$t/network")"
for m in virtio_blk virtio_net virtio_pci ahci; do
    grep -q "^$m.ko" "$t/gf.out" || fail "lsinitramfs lacks $m: $(cat "$t/gf.out")"
done
grep -q 'pre-ferry$' "$t/gf.out" || fail "old initramfs not kept"
initrd_prove "$ref" "$t/out.qcow2" "$t/ir" virtio_blk virtio_net virtio_pci

# Failure: a disk with no OS leaves no OUT and is not written.
truncate -s 64M "$t/blank.img"
blank=$(sha256sum < "$t/blank.img")
expect_fail "no operating system" "$FERRY" capture "$t/blank.img" --convert kvm -o "$t/bad.qcow2" -q
[ ! -e "$t/bad.qcow2" ] || fail "failed capture left an output"
compgen -G "$t/.*ferry-tmp*" >/dev/null && fail "failed capture left a temporary"
[ "$(sha256sum < "$t/blank.img")" = "$blank" ] || fail "blank source written"

if [ -n "${FERRY_NO_BOOT:-}" ]; then echo "boot skipped (FERRY_NO_BOOT)"; exit 0; fi
boot_guest "$t/out.qcow2" virtio || fail "converted capture does not boot on virtio"
echo ok
