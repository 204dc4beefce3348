#!/bin/bash
# A guest whose initramfs holds only virtio drivers (made from the reference
# guest, cached under $BUILDDIR/guests/), after `ferry convert --to native`,
# has a generic initramfs (MODULES=most, ahci and nvme in it, the old one
# kept as .pre-ferry) and boots on an AHCI disk.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
source "$TESTS_DIR/initramfs.sh"
requires guestfish qemu-img
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)

# The virtio-only guest: a qcow2 overlay of the reference, keyed by this
# script and the reference's own key.
cache=$BUILDDIR/guests/debian12-virtio.qcow2
key="$(sha256sum < "$0" | cut -d' ' -f1) $(cat "$ref.key")"
# The backing file is named relative to the overlay (both live in
# guests/), so the cache survives a moved or copied build directory.
if [ ! -s "$cache" ] || [ "$(cat "$cache.key" 2>/dev/null)" != "$key" ] ||
   ! qemu-img info -U --backing-chain "$cache" >/dev/null 2>&1; then
    echo "building $cache (update-initramfs under TCG, a few minutes)"
    tmp=$cache.tmp.$$
    qemu-img create -q -f qcow2 -b "$(basename "$ref")" -F raw "$tmp"
    cat > "$t/virtio.sh" <<'SH'
set -e
printf '%s\n' virtio_pci virtio_blk virtio_scsi virtio_net sd_mod ext4 \
    crc32c_generic > /etc/initramfs-tools/modules
update-initramfs -u -k all >/dev/null 2>&1
for i in /boot/initrd.img-*[0-9a-z]; do
    lsinitramfs "$i" > /tmp/l
    grep -q '/virtio_blk[.]ko' /tmp/l || { echo "no virtio_blk in $i"; exit 1; }
    if grep -qE '/(ahci|libahci)[.]ko' /tmp/l; then echo "ahci in $i"; exit 1; fi
done
rm -f /tmp/l
SH
    guestfish --rw -a "$tmp" -i upload "$t/virtio.sh" /tmp/virtio.sh : \
        sh "/bin/sh /tmp/virtio.sh" : rm /tmp/virtio.sh
    mv "$tmp" "$cache"
    echo "$key" > "$cache.key"
fi
before=$(sha256sum < "$cache")

s=$(date +%s)
"$FERRY" convert "$cache" --to native -o "$t/out.qcow2" -v
echo "convert took $(( $(date +%s) - s ))s"
[ "$(sha256sum < "$cache")" = "$before" ] || fail "the input image was modified"

qemu-img create -q -f qcow2 -b "$t/out.qcow2" -F qcow2 "$t/check.qcow2"
guestfish --rw -a "$t/check.qcow2" -i > "$t/gf.out" <<'GF'
sh "grep '^MODULES=' /etc/initramfs-tools/initramfs.conf"
sh "ls /boot | grep pre-ferry"
sh "for i in /boot/initrd.img-*[0-9a-z]; do lsinitramfs $i | grep -E '/(ahci|nvme|sd_mod)[.]ko' | sed s,.*/,,; done | sort -u"
GF
cat "$t/gf.out"
grep -q '^MODULES=most$' "$t/gf.out" || fail "initramfs.conf: not MODULES=most"
grep -q 'pre-ferry$' "$t/gf.out" || fail "old initramfs not kept"
for m in ahci nvme sd_mod; do
    grep -q "^$m.ko" "$t/gf.out" || fail "initramfs lacks $m"
done
initrd_prove "$cache" "$t/out.qcow2" "$t/ir" ahci nvme sd_mod

if [ -n "${FERRY_NO_BOOT:-}" ]; then echo "boot skipped (FERRY_NO_BOOT)"; exit 0; fi
boot_guest "$t/out.qcow2" ahci || fail "native-converted guest does not boot on AHCI"
echo ok
