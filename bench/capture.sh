#!/bin/bash
# capture.sh: Ferry vs qemu-img on the reference disk, from one run.
# Prints wall-time and output-size ratios for VHD and streamOptimized VMDK
# and Ferry's peak memory.  Disk: $BENCH_DISK, or the reference guest of
# tests/guests.sh (built and cached on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FERRY:=$PWD/build/ferry}" "${BUILDDIR:=$PWD/build}"
disk=${BENCH_DISK:-$(tests/guests.sh "$BUILDDIR" debian12-ahci)}
t=$(mktemp -d "${TMPDIR:-/var/tmp}/ferry-bench.XXXXXX")
trap 'rm -rf "$t"' EXIT

# run NAME CMD...: wall seconds and peak RSS (KiB) into $t/NAME.{wall,rss}
run () {
    local name=$1; shift
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    /usr/bin/time -f '%e %M' -o "$t/$name.time" "$@" > "$t/$name.out"
    read -r wall rss < "$t/$name.time"
    echo "$wall" > "$t/$name.wall"; echo "$rss" > "$t/$name.rss"
}
ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
size () { stat -c %s "$1"; }

# Ferry's outputs are durable (fsync before rename).  qemu-img convert's
# default cache mode is "unsafe" (no flush at all), so the ratio is taken
# against `-t writeback`, which flushes once at the end like Ferry; the
# unsafe time is printed too.
run ferry-vhd "$FERRY" capture -q --json "$disk" -o "$t/f.vhd" -O vhd
run qemu-vhd qemu-img convert -t writeback -f raw -O vpc -o force_size=on "$disk" "$t/q.vhd"
rm -f "$t/q.vhd"
run qemu-vhd-unsafe qemu-img convert -f raw -O vpc -o force_size=on "$disk" "$t/q.vhd"
run ferry-vmdk "$FERRY" capture -q "$disk" -o "$t/f.vmdk" -O vmdk
run qemu-vmdk qemu-img convert -t writeback -f raw -O vmdk -o subformat=streamOptimized "$disk" "$t/q.vmdk"
rm -f "$t/q.vmdk"
run qemu-vmdk-unsafe qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$disk" "$t/q.vmdk"

# The filesystem's used bytes: what the used-block map kept for ext partitions.
used=$(grep -o '"policy":"used-blocks","kept_bytes":[0-9]*' "$t/ferry-vhd.out" |
       awk -F: '{ s += $NF } END { print s + 0 }')
echo "reference disk: $disk ($(size "$disk") bytes; ext used: $used bytes)"
printf '%-6s %8s %9s %9s %11s %13s %11s %11s\n' format ferry_s qemu_s qemu_s_nf \
    wall_ratio wall_ratio_nf size_ratio used_ratio
for f in vhd vmdk; do
    fw=$(cat "$t/ferry-$f.wall"); qw=$(cat "$t/qemu-$f.wall")
    qu=$(cat "$t/qemu-$f-unsafe.wall")
    fs=$(size "$t/f.$f"); qs=$(size "$t/q.$f")
    printf '%-6s %8s %9s %9s %11s %13s %11s %11s\n' "$f" "$fw" "$qw" "$qu" \
        "$(ratio "$fw" "$qw")" "$(ratio "$fw" "$qu")" "$(ratio "$fs" "$qs")" \
        "$(ratio "$fs" "$used")"
done
echo "(qemu_s: qemu-img -t writeback, durable like Ferry; _nf: qemu-img's default, no flush)"
echo "ferry peak memory: vhd $(( $(cat "$t/ferry-vhd.rss") / 1024 )) MiB, vmdk $(( $(cat "$t/ferry-vmdk.rss") / 1024 )) MiB"
echo "targets: vhd wall_ratio <= 0.5 and used_ratio <= 1.1; vmdk wall_ratio <= 0.25; memory < 100 MiB"
