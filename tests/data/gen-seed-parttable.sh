#!/bin/bash
# gen-seed-parttable.sh DIR: seeds for tests/fuzz/fuzz-parttable.c — small
# disks partitioned by sfdisk (MBR with an extended partition, GPT, a GPT
# whose primary header is damaged so the backup is read) and an empty one.
set -euo pipefail
dir=$1
mkdir -p "$dir"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
part () {   # part NAME SIZE SFDISK-SCRIPT
    truncate -s "$2" "$t/$1"
    printf '%b' "$3" | sfdisk -q "$t/$1" >/dev/null
    cp "$t/$1" "$dir/seed-$1"
}
part mbr 96K 'start=8,size=64,type=83,bootable\nstart=72,size=40,type=82\nstart=112,type=5\nstart=120,size=16,type=83\n'
part gpt 96K 'label: gpt\nfirst-lba: 34\nstart=40,size=64,type=uefi\nstart=104,size=40,type=linux\n'
part gpt-small 48K 'label: gpt\ntable-length: 4\nfirst-lba: 6\nstart=8,size=16,type=linux\n'
cp "$dir/seed-gpt" "$dir/seed-gpt-backup"
printf 'X' | dd of="$dir/seed-gpt-backup" bs=1 seek=600 conv=notrunc status=none
truncate -s 4K "$dir/seed-empty"
