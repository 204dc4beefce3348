#!/bin/bash
# gen-hostile-fsmap.sh FS DIR: seeds for the used-block map fuzzers
# (tests/fuzz/fuzz-FSmap.c, FS = fat, exfat, ntfs, btrfs): small valid
# filesystems made by their own mkfs holding a few files, and hostile
# variations of each (fields that lie about sizes, counts, offsets and
# levels), encoded as sparse disks by fsmap-sparse.py.
set -euo pipefail
fs=$1 dir=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir "$t/files"
head -c 300000 /dev/urandom > "$t/files/a"
printf 'ferry seed\n' > "$t/files/b"

# poke IMG OFFSET HEXBYTES: overwrite bytes of an image in place.
poke () {
    printf "$(echo "$3" | sed 's/../\\x&/g')" |
        dd of="$1" bs=1 seek="$(($2))" conv=notrunc status=none
}
seed () {   # seed NAME: encode $t/img as DIR/seed-NAME
    "$here/fsmap-sparse.py" "$t/img" "$dir/seed-$1"
}
variant () {   # variant NAME OFFSET HEX: a copy of $t/base, poked, encoded
    cp "$t/base" "$t/img"
    poke "$t/img" "$2" "$3"
    seed "$1"
}

case $fs in
fat)
    for bits in 12 16 32; do
        size=$(case $bits in 12) echo 4M;; 16) echo 16M;; *) echo 40M;; esac)
        rm -f "$t/img"; truncate -s "$size" "$t/img"
        mkfs.vfat -F "$bits" "$t/img" >/dev/null
        mcopy -i "$t/img" "$t/files/a" "$t/files/b" ::/
        seed "fat$bits"; cp "$t/img" "$t/base"
    done
    variant bps-zero 11 0000
    variant spc-three 13 03
    variant fats-many 16 09
    variant total-huge 32 ffffffff
    variant fatsz-huge 36 ffffff0f
    variant rsvd-huge 14 ffff ;;
exfat)
    truncate -s 32M "$t/img"
    mkfs.exfat "$t/img" >/dev/null
    seed exfat; cp "$t/img" "$t/base"
    variant dirty 106 0200
    variant count-huge 92 ffffffff
    variant heap-past 88 ffffff00
    variant root-bad 96 ffffffff
    variant root-loop 96 02000000
    variant cluster-shift 109 19 ;;
ntfs)
    truncate -s 8M "$t/img"
    mkntfs -q -F -f "$t/img" >/dev/null 2>&1
    ntfscp -q "$t/img" "$t/files/a" a >/dev/null 2>&1
    seed ntfs; cp "$t/img" "$t/base"
    variant clusters-huge 40 ffffffffffffff7f
    variant mft-past 48 ffffffffffff0000
    variant spc-odd 13 03 ;;
btrfs)
    truncate -s 128M "$t/img"
    mkfs.btrfs -q -f -r "$t/files" "$t/img" >/dev/null 2>&1
    seed btrfs; cp "$t/img" "$t/base"
    # superblock fields (the harness fixes the CRCs on its second pass)
    variant log-root $((0x10000 + 96)) 0000100000000000
    variant nodesize-128k $((0x10000 + 148)) 00000200
    variant sys-array-big $((0x10000 + 160)) 00100000
    variant chunk-root-level $((0x10000 + 199)) 09
    variant root-level $((0x10000 + 198)) 07
    variant devices-two $((0x10000 + 136)) 0200000000000000
    variant stripes-many $((0x10000 + 811 + 17 + 44)) ff00 ;;
*)
    echo "gen-hostile-fsmap.sh: unknown filesystem '$fs'" >&2; exit 2 ;;
esac
