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

run ferry-vhd "$FERRY" capture -q --json "$disk" -o "$t/f.vhd" -O vhd
run qemu-vhd qemu-img convert -f raw -O vpc -o force_size=on "$disk" "$t/q.vhd"
run ferry-vmdk "$FERRY" capture -q "$disk" -o "$t/f.vmdk" -O vmdk
run qemu-vmdk qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$disk" "$t/q.vmdk"

# The filesystem's used bytes: what the used-block map kept for ext partitions.
used=$(grep -o '"policy":"used-blocks","kept_bytes":[0-9]*' "$t/ferry-vhd.out" |
       awk -F: '{ s += $NF } END { print s + 0 }')
echo "reference disk: $disk ($(size "$disk") bytes; ext used: $used bytes)"
printf '%-22s %10s %10s %12s %12s %10s\n' format ferry_s qemu_s wall_ratio size_ratio used_ratio
for f in vhd vmdk; do
    fw=$(cat "$t/ferry-$f.wall"); qw=$(cat "$t/qemu-$f.wall")
    fs=$(size "$t/f.$f"); qs=$(size "$t/q.$f")
    printf '%-22s %10s %10s %12s %12s %10s\n' "$f" "$fw" "$qw" \
        "$(ratio "$fw" "$qw")" "$(ratio "$fs" "$qs")" "$(ratio "$fs" "$used")"
done
echo "ferry peak memory: vhd $(( $(cat "$t/ferry-vhd.rss") / 1024 )) MiB, vmdk $(( $(cat "$t/ferry-vmdk.rss") / 1024 )) MiB"
echo "targets: vhd wall_ratio <= 0.5 and used_ratio <= 1.1; vmdk wall_ratio <= 0.25; memory < 100 MiB"
