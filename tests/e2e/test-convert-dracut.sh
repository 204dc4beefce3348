#!/bin/bash
# dracut: Fedora/RHEL guests are not in Debian's archive, so a Debian guest
# that uses dracut instead of initramfs-tools stands in (built from the
# reference guest with Debian's dracut packages, cached under
# $BUILDDIR/guests/).  `ferry convert --to kvm` must rebuild its initramfs
# with dracut (virtio_blk in it, by the guest's own lsinitrd) and the
# result must boot on virtio-blk.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
source "$TESTS_DIR/initramfs.sh"
requires guestfish qemu-img apt-get
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)

cache=$BUILDDIR/guests/debian12-dracut.qcow2
key="$(sha256sum < "$0" | cut -d' ' -f1) $(cat "$ref.key")"
# The backing file is named relative to the overlay (both in guests/).
if [ ! -s "$cache" ] || [ "$(cat "$cache.key" 2>/dev/null)" != "$key" ] ||
   ! qemu-img info -U --backing-chain "$cache" >/dev/null 2>&1; then
    echo "building $cache (dracut under TCG, a few minutes)"
    mkdir -p "$t/debs"
    (cd "$t/debs" && apt-get download dracut dracut-core kpartx >/dev/null 2>&1) ||
        { echo "SKIP: cannot download dracut packages"; exit 77; }
    tmp=$cache.tmp.$$
    cleanup_fn "rm -f '$tmp'"
    qemu-img create -q -f qcow2 -b "$(basename "$ref")" -F raw "$tmp"
    guestfish --rw -a "$tmp" -i <<GF
copy-in $t/debs /tmp
sh "dpkg --purge --force-depends initramfs-tools initramfs-tools-core >/dev/null 2>&1; dpkg -i /tmp/debs/*.deb >/dev/null 2>&1; rm -rf /tmp/debs; command -v dracut"
GF
    mv "$tmp" "$cache"
    echo "$key" > "$cache.key"
fi
before=$(sha256sum < "$cache")

s=$(date +%s)
"$FERRY" convert "$cache" --to kvm -o "$t/out.qcow2" > "$t/report.txt"
echo "convert took $(( $(date +%s) - s ))s"
cat "$t/report.txt"
[ "$(sha256sum < "$cache")" = "$before" ] || fail "the input image was modified"
grep -q 'initramfs by dracut' "$t/report.txt" || fail "dracut was not used"

qemu-img create -q -f qcow2 -b "$t/out.qcow2" -F qcow2 "$t/check.qcow2"
guestfish --rw -a "$t/check.qcow2" -i > "$t/gf.out" <<'GF'
cat /etc/dracut.conf.d/90-ferry.conf
sh "for i in /boot/initrd.img-*[0-9a-z]; do lsinitrd $i | grep -E '/virtio_(blk|net)[.]ko' | sed 's,.*/,,'; done | sort -u"
GF
cat "$t/gf.out"
grep -q '^add_drivers+=.*virtio_blk' "$t/gf.out" || fail "dracut.conf.d lacks the drivers"
grep -q '^virtio_blk.ko' "$t/gf.out" || fail "initramfs lacks virtio_blk"
initrd_prove "$cache" "$t/out.qcow2" "$t/ir" virtio_blk virtio_net

if [ -n "${FERRY_NO_BOOT:-}" ]; then echo "boot skipped (FERRY_NO_BOOT)"; exit 0; fi
boot_guest "$t/out.qcow2" virtio || fail "dracut guest does not boot on virtio"
echo ok
