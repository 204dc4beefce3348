#!/bin/bash
# Foreign guest tools: the reference guest with stand-ins for open-vm-tools,
# virtualbox-guest-utils and xe-guest-utilities installed as dpkg packages
# (tests/data/make-convert-tools.sh).
#   - `--to kvm -o OUT`: all three are purged and the report says so;
#   - `--to xen --in-place` on a qcow2 copy (the in-place qcow2 proof): the
#     VMware and VirtualBox tools are purged, xe-guest-utilities stays, the
#     conversion lands in the qcow2 file itself and its backing file is not
#     written.
# guestfish reads both results back with the guest's own dpkg-query and
# lsinitramfs.  The two conversions run side by side.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/initramfs.sh"
requires guestfish qemu-img dpkg-deb
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)
pkgs="open-vm-tools virtualbox-guest-utils xe-guest-utilities"

# The input: an overlay of the reference guest with the three packages.
"$TESTS_DIR/data/make-convert-tools.sh" "$t/debs" > /dev/null
# query.sh [initrd]: run in the guest; dpkg's view of each package, whether
# its marker file is there, and (with `initrd`) the Xen front-ends in the
# initramfs, read by the guest's own lsinitramfs.
cat > "$t/query.sh" <<EOS
for p in $pkgs; do
    dpkg-query -W -f='\${Package} \${Status}\n' "\$p" 2>/dev/null || echo "\$p absent"
    ! test -e "/usr/sbin/ferry-fake-\$p" || echo "\$p file"
done
[ "\${1:-}" != initrd ] || for i in /boot/initrd.img-*[0-9a-z]; do
    lsinitramfs "\$i" | grep -E '/xen-(blk|net)front[.]ko' | sed 's,.*/,,'
done | sort -u
EOS
qemu-img create -q -f qcow2 -b "$ref" -F raw "$t/in.qcow2"
guestfish --rw -a "$t/in.qcow2" -i > "$t/prep.out" <<GF
mkdir /tmp/ferry-debs
copy-in $t/debs/open-vm-tools.deb $t/debs/virtualbox-guest-utils.deb $t/debs/xe-guest-utilities.deb /tmp/ferry-debs
command "dpkg -i /tmp/ferry-debs/open-vm-tools.deb /tmp/ferry-debs/virtualbox-guest-utils.deb /tmp/ferry-debs/xe-guest-utilities.deb"
rm-rf /tmp/ferry-debs
upload $t/query.sh /tmp/ferry-query.sh
sh "/bin/sh /tmp/ferry-query.sh"
rm /tmp/ferry-query.sh
GF
cat "$t/prep.out"
for p in $pkgs; do
    grep -q "^$p install ok installed$" "$t/prep.out" || fail "$p not installed in the input"
done
qemu-img create -q -f qcow2 -b "$t/in.qcow2" -F qcow2 "$t/xen.qcow2"
ref_sum=$(sha256sum < "$ref")
in_sum=$(sha256sum < "$t/in.qcow2")
xen_sum=$(sha256sum < "$t/xen.qcow2")

s=$(date +%s)
"$FERRY" convert "$t/in.qcow2" --to kvm -o "$t/kvm.qcow2" --json > "$t/kvm.json" &
kvm_pid=$!
"$FERRY" convert "$t/xen.qcow2" --to xen --in-place --json > "$t/xen.json" || fail "--to xen --in-place failed"
wait "$kvm_pid" || fail "--to kvm failed"
echo "both conversions took $(( $(date +%s) - s ))s"
cat "$t/kvm.json" "$t/xen.json"

removed () { grep -q "\"what\":\"package\",\"path\":\"$2\",\"detail\":\"foreign guest tools removed\"" "$1"; }
for p in $pkgs; do
    removed "$t/kvm.json" "$p" || fail "--to kvm: report does not say $p was removed"
done
removed "$t/xen.json" open-vm-tools || fail "--to xen: report does not say open-vm-tools was removed"
removed "$t/xen.json" virtualbox-guest-utils || fail "--to xen: report does not say virtualbox-guest-utils was removed"
grep -q xe-guest-utilities "$t/xen.json" && fail "--to xen touched xe-guest-utilities"
[ "$(sha256sum < "$t/in.qcow2")" = "$in_sum" ] || fail "the input (and xen.qcow2's backing file) was modified"
[ "$(sha256sum < "$ref")" = "$ref_sum" ] || fail "the reference image was modified"
[ "$(sha256sum < "$t/xen.qcow2")" != "$xen_sum" ] || fail "--in-place did not write xen.qcow2"

# Read back: dpkg's view and the marker files, plus the initramfs of the
# in-place result (through throwaway overlays: lsinitramfs writes /tmp).
qemu-img create -q -f qcow2 -b "$t/kvm.qcow2" -F qcow2 "$t/kvm-check.qcow2"
qemu-img create -q -f qcow2 -b "$t/xen.qcow2" -F qcow2 "$t/xen-check.qcow2"
guestfish --rw -a "$t/kvm-check.qcow2" -a "$t/xen-check.qcow2" > "$t/gf.out" <<GF
run
mount /dev/sda1 /
echo ==kvm
upload $t/query.sh /tmp/ferry-query.sh
sh "/bin/sh /tmp/ferry-query.sh"
umount /
mount /dev/sdb1 /
echo ==xen
upload $t/query.sh /tmp/ferry-query.sh
sh "/bin/sh /tmp/ferry-query.sh initrd"
GF
cat "$t/gf.out"
sed -n '/^==kvm$/,/^==xen$/p' "$t/gf.out" > "$t/kvm.pkgs"
sed -n '/^==xen$/,$p' "$t/gf.out" > "$t/xen.pkgs"
# gone: dpkg no longer has it installed and its file is gone.
gone () {
    grep -q "^$2 install ok installed" "$1" && fail "$2 still installed ($1)"
    grep -q "^$2 file$" "$1" && fail "$2's files still there ($1)"
    return 0
}
for p in $pkgs; do gone "$t/kvm.pkgs" "$p"; done
gone "$t/xen.pkgs" open-vm-tools
gone "$t/xen.pkgs" virtualbox-guest-utils
grep -q '^xe-guest-utilities install ok installed$' "$t/xen.pkgs" ||
    fail "--to xen removed xe-guest-utilities"
grep -q '^xe-guest-utilities file$' "$t/xen.pkgs" || fail "--to xen removed xe-guest-utilities' files"
grep -q '^xen-blkfront\.ko' "$t/xen.pkgs" && grep -q '^xen-netfront\.ko' "$t/xen.pkgs" ||
    fail "in-place --to xen: the initramfs lacks xen-blkfront/netfront"
initrd_prove "$t/in.qcow2" "$t/kvm.qcow2" "$t/ir" virtio_blk virtio_net virtio_pci
initrd_prove "$t/in.qcow2" "$t/xen.qcow2" "$t/irx" xen_blkfront xen_netfront
echo ok
