#!/bin/bash
# `ferry convert --to xen -o OUT` of the reference physical machine: the
# guest's own lsinitramfs lists xen-blkfront and xen-netfront, fstab and
# grub.cfg name the root by UUID, grub.cfg has console=hvc0 (after the
# serial console ttyS0, which Xen HVM and qemu still use), the input is not
# modified, and OUT still boots on AHCI in qemu.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
source "$TESTS_DIR/initramfs.sh"
requires guestfish qemu-img
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)
before=$(sha256sum < "$ref")

s=$(date +%s)
"$FERRY" convert "$ref" --to xen -o "$t/out.qcow2" > "$t/report.txt"
echo "convert took $(( $(date +%s) - s ))s"
cat "$t/report.txt"
[ "$(sha256sum < "$ref")" = "$before" ] || fail "the input image was modified"
grep -q 'initramfs-tools' "$t/report.txt" || fail "report lacks the initramfs tool"

qemu-img create -q -f qcow2 -b "$t/out.qcow2" -F qcow2 "$t/check.qcow2"
guestfish --rw -a "$t/check.qcow2" -i > "$t/gf.out" <<'GF'
echo ==fstab
cat /etc/fstab
echo ==grub
sh "grep -E '^[[:space:]]*linux[[:space:]]' /boot/grub/grub.cfg"
echo ==initrd
sh "for i in /boot/initrd.img-*[0-9a-z]; do lsinitramfs $i | grep -E '/xen-(blk|net)front[.]ko' | sed s,.*/,,; done | sort -u"
GF
cat "$t/gf.out"
sed -n '/^==fstab/,/^==grub/p' "$t/gf.out" | grep -E '^[^#=]' | grep -v '^UUID=' &&
    fail "fstab has entries not by UUID"
sed -n '/^==grub/,/^==initrd/p' "$t/gf.out" | grep -E 'linux' > "$t/linux-lines"
[ -s "$t/linux-lines" ] || fail "no linux lines in grub.cfg"
grep -v 'root=UUID=' "$t/linux-lines" && fail "grub.cfg boots a root not by UUID"
grep -v 'console=hvc0' "$t/linux-lines" && fail "grub.cfg lacks console=hvc0"
grep -q '^xen-blkfront.ko' "$t/gf.out" || fail "initramfs lacks xen-blkfront"
grep -q '^xen-netfront.ko' "$t/gf.out" || fail "initramfs lacks xen-netfront"
initrd_prove "$ref" "$t/out.qcow2" "$t/ir" xen_blkfront xen_netfront

if [ -n "${FERRY_NO_BOOT:-}" ]; then echo "boot skipped (FERRY_NO_BOOT)"; exit 0; fi
boot_guest "$t/out.qcow2" ahci || fail "xen-converted guest does not boot on AHCI"
echo ok
