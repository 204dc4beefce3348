#!/bin/bash
# An MBR disk whose filesystems sit in logical partitions (an extended
# partition, its EBR chain starting 50 MiB into the disk): capture reads
# the table through the chain, maps each logical ext4 by its bitmap and
# the swap by its header, so deleted data is left behind; the EBRs and
# the table come out as they were.
source "$(dirname "$0")/../functions.sh"
requires qemu-img mkfs.ext4 debugfs e2fsck mkswap sfdisk
t=$(mktmpdir)
MiB=1048576

truncate -s 200M "$t/src.raw"
printf 'label: dos\nstart=2048,size=40M,type=83\nstart=83968,type=5\nsize=70M,type=83\nsize=30M,type=82\ntype=83\n' |
    sfdisk -q "$t/src.raw"
start_of () { sfdisk -d "$t/src.raw" | awk -v d="$t/src.raw$1" '$1 == d { gsub(",", "", $4); print $4 }'; }
size_of () { sfdisk -d "$t/src.raw" | awk -v d="$t/src.raw$1" '$1 == d { gsub(",", "", $6); print $6 }'; }
[ "$(start_of 5)" -gt 83968 ] || fail "sfdisk did not make logical partitions"

# Each logical ext4: 2 MiB kept, a 12 MiB file holding a marker deleted.
head -c $((2 * MiB)) /dev/urandom > "$t/keep"
{ for i in $(seq 1 12); do printf 'FERRY-LOGICAL-DELETED%01047000d' 0 | head -c $MiB; done; } > "$t/gone"
for n in 5 7; do
    s=$(( $(size_of $n) * 512 ))
    rm -f "$t/fs.img"; truncate -s "$s" "$t/fs.img"
    mkfs.ext4 -q -F "$t/fs.img"
    debugfs -w -R "write $t/keep keep" "$t/fs.img" >/dev/null 2>&1
    debugfs -w -R "write $t/gone gone" "$t/fs.img" >/dev/null 2>&1
    debugfs -w -R "rm gone" "$t/fs.img" >/dev/null 2>&1
    grep -q FERRY-LOGICAL-DELETED "$t/fs.img" || fail "p$n: the deleted marker is not in the filesystem"
    dd if="$t/fs.img" of="$t/src.raw" bs=512 seek="$(start_of $n)" conv=notrunc status=none
done
rm -f "$t/fs.img"; truncate -s $(( $(size_of 6) * 512 )) "$t/swap.img"
mkswap -q "$t/swap.img" >/dev/null
dd if="$t/swap.img" of="$t/src.raw" bs=512 seek="$(start_of 6)" conv=notrunc status=none
sfdisk -d "$t/src.raw" | sed "s|$t/src.raw|D|" > "$t/table.want"

for fmt in qcow2 vhd; do
    "$FERRY" capture --json "$t/src.raw" -o "$t/cap.$fmt" -O "$fmt" > "$t/report.json" ||
        fail "$fmt: capture failed"
    python3 - "$t/report.json" <<'PY' || fail "$fmt: the report does not map the logical partitions: $(cat "$t/report.json")"
import json, sys
c = json.load(open(sys.argv[1]))["captures"][0]
assert c["partition_table"] == "msdos", c["partition_table"]
parts = {p["number"]: p for p in c["partitions"]}
assert sorted(parts) == [1, 5, 6, 7], sorted(parts)
for n in (5, 7):
    assert parts[n]["filesystem"] == "ext4" and parts[n]["method"] == "ext-bitmap", parts[n]
    assert parts[n]["kept_bytes"] < 8 << 20, parts[n]
assert parts[6]["kept_bytes"] <= 64 << 10, parts[6]
PY
    qemu-img convert -O raw "$t/cap.$fmt" "$t/back.raw"
    sfdisk -d "$t/back.raw" | sed "s|$t/back.raw|D|" | cmp -s - "$t/table.want" ||
        fail "$fmt: the partition table (EBR chain) differs"
    ! grep -q FERRY-LOGICAL-DELETED "$t/back.raw" || fail "$fmt: deleted data was captured"
    for n in 5 7; do
        dd if="$t/back.raw" of="$t/p.img" bs=512 skip="$(start_of $n)" count="$(size_of $n)" status=none
        e2fsck -fn "$t/p.img" >/dev/null 2>&1 || fail "$fmt: p$n is not clean"
        debugfs -R "dump keep $t/keep.out" "$t/p.img" >/dev/null 2>&1
        cmp -s "$t/keep" "$t/keep.out" || fail "$fmt: p$n's file differs"
        rm -f "$t/keep.out" "$t/p.img"
    done
    blkid -p -O $(( $(start_of 6) * 512 )) "$t/back.raw" | grep -q 'TYPE="swap"' ||
        fail "$fmt: the swap header was lost"
    # ~5.4 MiB of data in some 20 islands (each ext4's superblock, bitmaps,
    # inode table, journal header, directories, file; the EBRs; the swap
    # header), each rounded up to a 64 KiB cluster or a 512 KiB VHD block;
    # the 24 MiB deleted would show.
    size=$(stat -c %s "$t/cap.$fmt")
    limit=$(( $([ "$fmt" = vhd ] && echo 16 || echo 8) * MiB ))
    [ "$size" -le "$limit" ] || fail "$fmt: $size bytes for ~5.4 MiB of data"
    echo "$fmt: $size bytes"
    rm -f "$t/back.raw"
done
echo ok
