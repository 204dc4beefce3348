#!/bin/bash
# usedblocks.sh: Ferry's used-block capture against partclone, per
# filesystem, from one run.  One test disk (guestfish) holds xfs, btrfs,
# NTFS, vfat, exFAT and an LVM PV with ext4 and xfs LVs, each with ~60 MB
# of files and a deleted 40 MB file.  Per filesystem: `ferry capture` of
# its partition (for LVM: of the PV) to qcow2 against `partclone.<fs> -c`
# of the same partition (LV), time and size ratios, Ferry's size against
# the used bytes (statvfs) and its peak memory, the same for a VHD
# capture of the partition (size only); and `qemu-img convert` of
# the whole disk against Ferry's capture of it.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FERRY:=$PWD/build/ferry}"
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}"
t=$(mktemp -d "${TMPDIR:-/var/tmp}/ferry-bench.XXXXXX")
trap 'rm -rf "$t"' EXIT

run () {   # run NAME CMD...: wall seconds and peak RSS (KiB) into $t/NAME.time
    local name=$1; shift
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    /usr/bin/time -f '%e %M' -o "$t/$name.time" "$@" > "$t/$name.out" 2>&1 || echo "0 0" > "$t/$name.time"
}
wall () { cut -d' ' -f1 "$t/$1.time"; }
rss () { cut -d' ' -f2 "$t/$1.time"; }
ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
size () { stat -c %s "$1" 2>/dev/null || echo 0; }

# The disk (GPT): p1 xfs, p2 btrfs, p3 NTFS, p4 vfat, p5 exFAT (made on
# the host: the appliance has no mkfs.exfat), p6 LVM PV.
truncate -s 3G "$t/disk.raw"
printf 'label: gpt\nstart=2048,size=400M\nsize=400M\nsize=400M\nsize=300M\nsize=300M\nsize=1000M,type=lvm\n' |
    /sbin/sfdisk -q "$t/disk.raw"
exfat_start=$(/sbin/sfdisk -d "$t/disk.raw" | awk -v d="$t/disk.raw5" '$1==d {gsub(",","",$4); print $4}')
truncate -s 300M "$t/exfat.img"; mkfs.exfat "$t/exfat.img" >/dev/null
dd if="$t/exfat.img" of="$t/disk.raw" bs=512 seek="$exfat_start" conv=notrunc status=none
rm -f "$t/exfat.img"
mkdir "$t/files"
for i in 1 2 3 4 5 6; do head -c 10000000 /dev/urandom > "$t/files/f$i"; done
head -c 40000000 /dev/urandom > "$t/deleted"
tar -C "$t/files" -cf "$t/files.tar" .
devs="/dev/sda1 /dev/sda2 /dev/sda3 /dev/sda4 /dev/sda5 /dev/vg/ext4 /dev/vg/xfs"
{
    echo "add $t/disk.raw format:raw"; echo run
    echo "mkfs xfs /dev/sda1"; echo "mkfs btrfs /dev/sda2"; echo "mkfs ntfs /dev/sda3"
    echo "mkfs vfat /dev/sda4"
    echo "pvcreate /dev/sda6"; echo "vgcreate vg /dev/sda6"
    echo "lvcreate ext4 vg 400"; echo "lvcreate xfs vg 400"
    echo "mkfs ext4 /dev/vg/ext4"; echo "mkfs xfs /dev/vg/xfs"
    for d in $devs; do
        echo "mount $d /"; echo "upload $t/deleted /deleted"; echo sync
        echo "tar-in $t/files.tar /"; echo "rm /deleted"; echo "umount /"
    done
    for d in $devs; do echo "mount-ro $d /"; echo "echo USED $d"; echo "statvfs /"; echo "umount /"; done
    echo "download /dev/vg/ext4 $t/lv-ext4"; echo "download /dev/vg/xfs $t/lv-xfs"
} | guestfish > "$t/gf.out"
used_of () {   # statvfs used bytes of device $1
    awk -v d="$1" '$1=="USED" {on = ($2 == d)} on && /^bsize:/{b=$2} on && /^blocks:/{n=$2}
                   on && /^bfree:/{print (n-$2)*b; on=0}' "$t/gf.out"
}
part () {   # part N FILE: cut partition N out of the disk
    local s n
    s=$(/sbin/sfdisk -d "$t/disk.raw" | awk -v d="$t/disk.raw$1" '$1==d {gsub(",","",$4); print $4}')
    n=$(/sbin/sfdisk -d "$t/disk.raw" | awk -v d="$t/disk.raw$1" '$1==d {gsub(",","",$6); print $6}')
    dd if="$t/disk.raw" of="$2" bs=512 skip="$s" count="$n" status=none
}

printf '%-10s %9s %9s %8s %10s %10s %10s %9s %9s %9s\n' fs ferry_s pclone_s \
    wall_rat ferry_MB pclone_MB size_rat used_rat vhd_rat ferry_MiB
row () {   # row NAME PARTITION-NUMBER PARTCLONE-TOOL DEVICE [LV-FILE]
    local name=$1 n=$2 tool=$3 dev=$4 lv=${5:-} src="$t/p.raw" used
    part "$n" "$src"
    run "f-$name" "$FERRY" capture -q "$src" -o "$t/f-$name.qcow2" -O qcow2
    "$FERRY" capture -q "$src" -o "$t/f-$name.vhd" -O vhd
    if command -v "partclone.$tool" >/dev/null; then
        run "p-$name" "partclone.$tool" -c -q -s "${lv:-$src}" -o "$t/p-$name.img"
    else
        echo "0 0" > "$t/p-$name.time"
    fi
    used=$(used_of "$dev")
    printf '%-10s %9s %9s %8s %10s %10s %10s %9s %9s %9s\n' "$name" "$(wall "f-$name")" \
        "$(wall "p-$name")" "$(ratio "$(wall "f-$name")" "$(wall "p-$name")")" \
        "$(( $(size "$t/f-$name.qcow2") / 1000000 ))" "$(( $(size "$t/p-$name.img") / 1000000 ))" \
        "$(ratio "$(size "$t/f-$name.qcow2")" "$(size "$t/p-$name.img")")" \
        "$(ratio "$(size "$t/f-$name.qcow2")" "$used")" \
        "$(ratio "$(size "$t/f-$name.vhd")" "$used")" "$(( $(rss "f-$name") / 1024 ))"
    rm -f "$t/f-$name.qcow2" "$t/f-$name.vhd" "$t/p-$name.img" "$src"
}
row xfs 1 xfs /dev/sda1
row btrfs 2 btrfs /dev/sda2
row ntfs 3 ntfs /dev/sda3
row vfat 4 vfat /dev/sda4
row exfat 5 exfat /dev/sda5
# The PV: Ferry captures it whole (both LVs through their filesystems'
# maps, the VG's free extents dropped); partclone has no LVM, so it is run
# on each LV and its times and sizes are added up, as are the LVs' used
# bytes.
lvm_row () {
    local src="$t/p.raw" used fs ps
    part 6 "$src"
    run f-lvm "$FERRY" capture -q "$src" -o "$t/f-lvm.qcow2" -O qcow2
    "$FERRY" capture -q "$src" -o "$t/f-lvm.vhd" -O vhd
    run p-lvm-ext4 partclone.extfs -c -q -s "$t/lv-ext4" -o "$t/p-lvm-ext4.img"
    run p-lvm-xfs partclone.xfs -c -q -s "$t/lv-xfs" -o "$t/p-lvm-xfs.img"
    used=$(( $(used_of /dev/vg/ext4) + $(used_of /dev/vg/xfs) ))
    ps=$(awk -v a="$(wall p-lvm-ext4)" -v b="$(wall p-lvm-xfs)" 'BEGIN { printf "%.2f", a + b }')
    fs=$(( $(size "$t/p-lvm-ext4.img") + $(size "$t/p-lvm-xfs.img") ))
    printf '%-10s %9s %9s %8s %10s %10s %10s %9s %9s %9s\n' "lvm" "$(wall f-lvm)" \
        "$ps" "$(ratio "$(wall f-lvm)" "$ps")" \
        "$(( $(size "$t/f-lvm.qcow2") / 1000000 ))" "$(( fs / 1000000 ))" \
        "$(ratio "$(size "$t/f-lvm.qcow2")" "$fs")" \
        "$(ratio "$(size "$t/f-lvm.qcow2")" "$used")" \
        "$(ratio "$(size "$t/f-lvm.vhd")" "$used")" "$(( $(rss f-lvm) / 1024 ))"
    rm -f "$t/f-lvm.qcow2" "$t/f-lvm.vhd" "$t"/p-lvm-*.img "$src"
}
command -v partclone.extfs >/dev/null && lvm_row
echo "(lvm: Ferry captures the PV, an ext4 and an xfs LV; partclone each LV, summed)"

run ferry-disk "$FERRY" capture -q "$t/disk.raw" -o "$t/f.qcow2" -O qcow2
run qemu-disk qemu-img convert -t writeback -f raw -O qcow2 "$t/disk.raw" "$t/q.qcow2"
echo "whole disk: ferry $(wall ferry-disk) s, $(( $(size "$t/f.qcow2") / 1000000 )) MB;" \
     "qemu-img convert $(wall qemu-disk) s, $(( $(size "$t/q.qcow2") / 1000000 )) MB;" \
     "wall ratio $(ratio "$(wall ferry-disk)" "$(wall qemu-disk)"), size ratio" \
     "$(ratio "$(size "$t/f.qcow2")" "$(size "$t/q.qcow2")"); ferry peak $(( $(rss ferry-disk) / 1024 )) MiB"
echo "(used_rat: the qcow2, vhd_rat: a VHD of the same partition, each against the used bytes)"
echo "targets: used_rat and vhd_rat <= 1.1 everywhere; wall_rat <= 1 (ferry no slower than partclone); memory < 100 MiB"
