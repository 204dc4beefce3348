#!/bin/bash
# `ferry capture` of a disk holding vfat, exFAT, NTFS and btrfs partitions
# keeps only what each filesystem uses: files written, then a large file
# holding a marker written and deleted.  For VHD and qcow2: qemu-img check
# clean, each filesystem's own checker clean on the image's partitions,
# every file's checksum the source's (guestfish), the marker absent, and
# the qcow2 and the VHD at most 1.1 x the bytes the filesystems use (statvfs through
# guestfish) plus the 1 MiB before the first partition.
source "$(dirname "$0")/../functions.sh"
requires guestfish qemu-img mkfs.exfat fsck.exfat fsck.vfat ntfsfix btrfs
t=$(mktmpdir)
marker="FERRY-DELETED-$RANDOM$RANDOM-MARKER"
# p1 vfat, p2 exFAT (made here: the appliance has no mkfs.exfat, its
# kernel mounts it), p3 NTFS, p4 btrfs.
truncate -s 900M "$t/src.raw"
printf 'start=2048,size=64M,type=c\nsize=64M,type=7\nsize=256M,type=7\nsize=500M,type=83\n' |
    /sbin/sfdisk -q "$t/src.raw"
truncate -s 64M "$t/exfat.img"
mkfs.exfat -q "$t/exfat.img" >/dev/null 2>&1 || mkfs.exfat "$t/exfat.img" >/dev/null
dd if="$t/exfat.img" of="$t/src.raw" bs=1M seek=65 conv=notrunc status=none
head -c 12000000 /dev/urandom > "$t/data"
python3 -c 'import sys; open(sys.argv[1], "w").write((sys.argv[2] + "\n") * 800000)' "$t/deleted" "$marker"
{
    echo "add $t/src.raw format:raw"
    echo "run"
    echo "mkfs vfat /dev/sda1"
    echo "mkfs ntfs /dev/sda3"
    echo "mkfs btrfs /dev/sda4"
    for p in 1 2 3 4; do
        echo "mount /dev/sda$p /"
        echo "upload $t/deleted /deleted"
        echo "sync"
        echo "upload $t/data /data"
        echo "write /small hello-$p"
        echo "mkdir /dir"
        echo "write /dir/f small-file-$p"
        echo "rm /deleted"
        echo "umount /"
    done
} | guestfish
# What the filesystems use, and the files' checksums, as guestfish sees them.
sums () {   # sums IMAGE: "p path checksum" lines
    { echo "add $1 readonly:true"; echo run
      for p in 1 2 3 4; do
          echo "mount-ro /dev/sda$p /"
          for f in /data /small /dir/f; do echo "echo $p $f"; echo "checksum sha256 $f"; done
          echo "umount /"
      done; } | guestfish | paste -d' ' - -
}
used=$({ echo "add $t/src.raw readonly:true"; echo run
         for p in 1 2 3 4; do echo "mount-ro /dev/sda$p /"; echo "statvfs /"; echo "umount /"; done; } |
       guestfish | awk '/^bsize:/{b=$2} /^blocks:/{n=$2} /^bfree:/{u+= (n-$2)*b} END{print u}')
sums "$t/src.raw" > "$t/src.sums"
[ "$(wc -l < "$t/src.sums")" -eq 12 ] || fail "source checksums: $(cat "$t/src.sums")"
grep -q "$marker" "$t/src.raw" || fail "the marker is not on the source: nothing would be proven"
for fmt in vhd qcow2; do
    "$FERRY" capture --json "$t/src.raw" -o "$t/cap.$fmt" -O "$fmt" > "$t/$fmt.json"
    for fs in vfat exfat ntfs btrfs; do
        python3 - "$t/$fmt.json" "$fs" <<'PY' || fail "$fmt: $fs not mapped by its used blocks: $(cat "$t/$fmt.json")"
import json, sys
parts = json.load(open(sys.argv[1]))["captures"][0]["partitions"]
sys.exit(0 if any(p["filesystem"] == sys.argv[2] and p["policy"] == "used-blocks"
                  for p in parts) else 1)
PY
    done
    qemu-img check -q "$t/cap.$fmt" 2>/dev/null || [ "$fmt" = vhd ] || fail "$fmt: qemu-img check"
    qemu-img convert -O raw "$t/cap.$fmt" "$t/back.raw"
    ! grep -q "$marker" "$t/back.raw" || fail "$fmt: the deleted marker is in the image"
    sums "$t/cap.$fmt" > "$t/cap.sums"
    cmp -s "$t/src.sums" "$t/cap.sums" || fail "$fmt: checksums differ: $(diff "$t/src.sums" "$t/cap.sums")"
    # Each filesystem's own checker, on its partition cut out of the image.
    for p in 1 2 3 4; do
        start=$(/sbin/sfdisk -d "$t/back.raw" | awk -v d="$t/back.raw$p" '$1==d {gsub(",","",$4); print $4}')
        size=$(/sbin/sfdisk -d "$t/back.raw" | awk -v d="$t/back.raw$p" '$1==d {gsub(",","",$6); print $6}')
        dd if="$t/back.raw" of="$t/part" bs=512 skip="$start" count="$size" status=none
        case $p in
            1) fsck.vfat -n "$t/part" >/dev/null ;;
            2) fsck.exfat -n "$t/part" >/dev/null ;;
            3) ntfsfix -n "$t/part" >/dev/null ;;
            4) btrfs check --readonly "$t/part" >/dev/null 2>&1 ;;
        esac || fail "$fmt: partition $p's checker finds errors"
    done
    rm -f "$t/back.raw" "$t/part"
done
limit=$(( used * 11 / 10 + (1 << 20) ))
echo "used by the filesystems: $used bytes; qcow2: $(stat -c %s "$t/cap.qcow2"); vhd: $(stat -c %s "$t/cap.vhd")"
for fmt in qcow2 vhd; do
    size=$(stat -c %s "$t/cap.$fmt")
    [ "$size" -le "$limit" ] || fail "$fmt is $size bytes, more than 1.1 x $used used"
done
echo ok
