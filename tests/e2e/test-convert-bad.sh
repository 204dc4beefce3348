#!/bin/bash
# Bad input for `ferry convert`: no OS (empty disk; a disk with only a FAT
# filesystem), an encrypted (LUKS) disk without a key, a guest whose kernel
# lacks the target's drivers, a full root filesystem, an in-place request on
# a format qemu cannot write safely.  Each is refused with a one-line error;
# no output appears and the input is unchanged.
source "$(dirname "$0")/../functions.sh"
requires guestfish qemu-img mkfs.vfat blkid
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)

truncate -s 64M "$t/empty.img" "$t/fat.img" "$t/luks.img"
mkfs.vfat -I -n NOTANOS "$t/fat.img" >/dev/null
blkid -p "$t/fat.img" | grep -q 'TYPE="vfat"' || fail "FAT disk not made"
qemu-img create -q -f qcow2 -b "$ref" -F raw "$t/nodrivers.qcow2"
qemu-img create -q -f qcow2 -b "$ref" -F raw "$t/full.qcow2"

# Two appliances prepare the bad disks (LUKS alone: right after
# luks-format the appliance's udev is busy and mounts of other disks race).
guestfish -a "$t/nodrivers.qcow2" -a "$t/full.qcow2" > "$t/prep.out" <<'GF'
run
mount /dev/sda1 /
glob rm-f /lib/modules/*/kernel/drivers/block/virtio_blk.ko*
umount /
mount /dev/sdb1 /
sh "fallocate -l $(( $(stat -f -c '%a*%S' /) - 16*1048576 )) /ferry-fill"
umount /
GF
echo ferry-key | guestfish --keys-from-stdin --format=raw -a "$t/luks.img" \
    run : part-disk /dev/sda mbr : luks-format /dev/sda1 0
LC_ALL=C grep -qa $'LUKS\xba\xbe' "$t/luks.img" || fail "LUKS disk not made"

# refuse IMAGE REGEXP ARGS...: one-line error, no output, input unchanged.
refuse () {
    local img=$1 re=$2 before; shift 2
    before=$(sha256sum < "$img")
    expect_fail "$re" "$FERRY" convert "$img" "$@" -o "$t/out.qcow2"
    [ ! -e "$t/out.qcow2" ] || fail "output left behind for $img"
    ls -A "$t" | grep -q ferry-tmp && fail "temporary left behind for $img"
    [ "$(sha256sum < "$img")" = "$before" ] || fail "input $img modified"
    echo "refused $(basename "$img"): ok"
}

refuse "$t/empty.img" "no operating system found" --to kvm
refuse "$t/fat.img" "no operating system found" --to kvm
refuse "$t/luks.img" "encrypted \(LUKS\)" --to kvm
refuse "$t/nodrivers.qcow2" \
    "no installed kernel has the kvm drivers .*lacks virtio_blk.*install linux-image-amd64" --to kvm
refuse "$t/full.qcow2" "not enough free space in the guest: '/' has [0-9]+ MiB free" --to xen

# Usage errors and formats that cannot be edited in place.
qemu-img convert -O vmdk -o subformat=streamOptimized "$t/empty.img" "$t/s.vmdk"
before=$(sha256sum < "$t/s.vmdk")
expect_fail "in-place conversion of vmdk images is not supported" \
    "$FERRY" convert "$t/s.vmdk" --to kvm --in-place
[ "$(sha256sum < "$t/s.vmdk")" = "$before" ] || fail "vmdk modified"
expect_fail "unknown target 'vmware'" "$FERRY" convert "$t/empty.img" --to vmware -o "$t/x"
expect_fail "either --in-place or -o" "$FERRY" convert "$t/empty.img" --to kvm
echo ok
