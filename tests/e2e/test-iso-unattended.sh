#!/bin/bash
# An unattended capture and conversion on the ISO: the ISO's kernel and
# initramfs booted directly (qemu -kernel/-initrd, the ISO as CD-ROM so
# live-boot finds the squashfs) with ferry.* settings on the kernel command
# line, the reference "physical" machine (tests/guests.sh debian12-ahci,
# AHCI-only initramfs) attached read-only as /dev/vda and an empty disk with
# one ext4 partition as the target (/dev/vdb1).  With ferry.convert=kvm the
# agent must capture vda to TARGET/NAME/NAME-vda.qcow2 converting it on the
# way (the libguestfs appliance of the ISO itself: on KVM where the machine
# offers it -- qemu's TCG emulates AMD-V, so the live system has /dev/kvm
# here too -- else TCG), without asking, write its status and report beside
# it and power the machine off; the image must pass qemu-img check, hold
# the guest's known files and boot on virtio-blk, and the source must be
# unchanged.  FERRY_ISO_CONVERT=none tests a plain capture instead.
source "$(dirname "$0")/../functions.sh"
source "$(dirname "$0")/../iso.sh"
source "$(dirname "$0")/../boot.sh"
iso_requirements
requires losetup mount qemu-img sfdisk mkfs.ext4
agent_landed || { echo "SKIP: ferry agent does not exist yet"; exit 77; }

src=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
iso=$(iso_build) || fail "the ISO does not build (boot-iso/build.sh)"
t=$(mktmpdir)
convert=${FERRY_ISO_CONVERT:-kvm}
name=ref1


# The target: 4 GiB sparse, MBR, one ext4 partition.
tgt=$t/target.img
truncate -s 4G "$tgt"
echo 'start=2048, type=83' | sfdisk -q "$tgt"
mkfs.ext4 -q -F -L ferry-target -E offset=1048576 "$tgt" $(( 4096 - 1 ))M
src_sum=$(sha256sum "$src" | cut -d' ' -f1)

cmdline="ferry.disks=vda ferry.target=disk:/dev/vdb1 ferry.format=qcow2 ferry.name=$name"
cmdline+=" ferry.convert=$convert ferry.ip=none ferry.post=poweroff ferry.yes"
log=$BUILDDIR/boot-logs/iso-unattended.log
t0=$(date +%s)
iso_boot_direct "$iso" "$log" "$cmdline" \
    -drive "file=$src,format=raw,if=none,id=src,readonly=on" -device virtio-blk-pci,drive=src \
    -drive "file=$tgt,format=raw,if=none,id=tgt" -device virtio-blk-pci,drive=tgt
# (TCG here: about 2 min to the agent, 2 for the conversion and copy, and
# a shutdown, 340 s in all.  Should the nested KVM fail, the appliance
# would fall back to TCG inside TCG, far too slow for CI: a failure.)
# The agent powers the machine off when done: qemu exits.
iso_wait_poweroff "$log" 1200
iso_kill
echo "unattended run: $(( $(date +%s) - t0 ))s"
iso_log_has "$log" 'ferry-iso: starting ferry agent on ttyS0' || fail "the agent did not start"
iso_log_has "$log" "ferry agent: done: 1 image" || fail "the agent did not finish the capture"
if [ "$convert" != none ]; then
    iso_log_has "$log" "ferry agent: converted /dev/sda1 \\(debian 12[.0-9]*\\) for $convert" ||
        fail "the agent did not convert the capture"
fi
# Each line once: ferry.console is the agent's own terminal here.
[ "$(iso_clean_log "$log" | grep -c 'ferry agent: done: 1 image')" = 1 ] ||
    fail "progress lines printed twice on the agent's own console"
! iso_log_has "$log" "Failed to connect to bus" || fail "poweroff complains about D-Bus"
# (agent-start is stopped with the machine, or says it is going down.)
! iso_log_has "$log" "ferry agent exited with status .*; root shell" ||
    fail "agent-start offered a shell while the machine powers off"
[ "$(sha256sum "$src" | cut -d' ' -f1)" = "$src_sum" ] || fail "the source disk changed"

# The result, read through a read-only loop device.
mnt=$t/mnt
mkdir -p "$mnt"
loop=$(losetup --find --show --read-only --offset 1048576 "$tgt")
cleanup_fn "losetup -d $loop"
mount -o ro "$loop" "$mnt"
cleanup_fn "umount '$mnt'"
ls -lR "$mnt" >&2
out=$mnt/$name
[ -f "$out/ferry-status" ] || fail "no status file in the result"
read -r status _ <"$out/ferry-status"
[ "$status" = 0 ] || fail "the agent reports failure: $(cat "$out/ferry-status")"
[ -s "$out/$name.json" ] || fail "no report $name.json"
[ -s "$out/ferry-agent.log" ] || fail "no ferry-agent.log"
img=$out/$name-vda.qcow2
[ -f "$img" ] || fail "no image $img"
qemu-img check "$img" || fail "qemu-img check fails on the captured image"
[ "$(qemu-img info --output=json "$img" | sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p')" = \
  "$(stat -c %s "$src")" ] || fail "the image's size is not the source's"

# The guest's known files, in the captured filesystem.
raw=$t/captured.raw
qemu-img convert -O raw "$img" "$raw"
gmnt=$t/guest
mkdir -p "$gmnt"
# (by offset: partition device nodes need udev, which a container may lack)
p1=$(sfdisk -d "$raw" | awk -F'[=,]' '/start=/ { print $2 + 0; exit }')
[ -n "$p1" ] && [ "$p1" -gt 0 ] || fail "no partition in the captured disk"
gloop=$(losetup --find --show --read-only --offset $(( p1 * 512 )) "$raw")
cleanup_fn "losetup -d $gloop"
mount -o ro "$gloop" "$gmnt"
cleanup_fn "umount '$gmnt'"
(cd "$gmnt" && sha256sum -c --quiet "${src%.img}.sha256") || fail "the captured files differ"

if [ "$convert" = kvm ]; then
    boot_guest "$img" virtio || fail "the converted capture does not boot on virtio-blk"
fi
echo "PASS"
