#!/bin/bash
# make-demo-disk.sh DISK: a small "physical" disk for the demo and the
# capture tests — MBR, an ext4 partition with a few files and 24 MiB of
# deleted (freed but not zeroed) data, a swap partition.  No root, no
# mounts: the filesystem is built with mke2fs -d and edited with debugfs.
set -euo pipefail
disk=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
PATH=$PATH:/sbin:/usr/sbin

mkdir -p "$work/root/etc" "$work/root/home/demo"
echo "ferry-demo" > "$work/root/etc/hostname"
printf 'Hello from a physical machine.\n' > "$work/root/home/demo/README"
head -c 3000000 /dev/urandom > "$work/root/home/demo/photo.bin"
seq 1 200000 > "$work/root/home/demo/numbers.txt"
# The secret is written, then deleted: its blocks are free but still hold it.
mkdir -p "$work/root/tmp"
head -c 25000000 < <(yes "FERRY-DELETED-SECRET") > "$work/root/tmp/secret.txt"

# Partition 1: 1 MiB .. 49 MiB ext4; partition 2: 49 MiB .. 63 MiB swap.
mke2fs -q -t ext4 -L demo-root -d "$work/root" "$work/p1.img" 48M >/dev/null
debugfs -w -R "rm /tmp/secret.txt" "$work/p1.img" >/dev/null 2>&1
truncate -s 14M "$work/p2.img"
mkswap -L demo-swap "$work/p2.img" >/dev/null 2>&1

truncate -s 64M "$disk.tmp"
printf 'label: dos\nstart=2048, size=98304, type=83, bootable\nstart=100352, size=28672, type=82\n' |
    sfdisk -q "$disk.tmp"
dd if="$work/p1.img" of="$disk.tmp" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/p2.img" of="$disk.tmp" bs=1M seek=49 conv=notrunc,sparse status=none
mv "$disk.tmp" "$disk"
