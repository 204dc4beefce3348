#!/bin/bash
# export.sh: `ferry export` of the reference disk to a VMware OVA vs the
# pipeline users build by hand — qemu-img convert to streamOptimized VMDK,
# sha256sum, tar — from one run: wall-time ratio and Ferry's peak memory.
# Disk: $BENCH_DISK, or the reference guest of tests/guests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FERRY:=$PWD/build/ferry}" "${BUILDDIR:=$PWD/build}"
disk=${BENCH_DISK:-$(tests/guests.sh "$BUILDDIR" debian12-ahci)}
t=$(mktemp -d "${TMPDIR:-/var/tmp}/ferry-bench.XXXXXX")
trap 'rm -rf "$t"' EXIT

cold () { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

cold
/usr/bin/time -f '%e %M' -o "$t/ferry.time" \
    "$FERRY" export -q "$disk" -o "$t/ferry.ova" --os debian64 --memory 1024
read -r fwall frss < "$t/ferry.time"

# The hand-made pipeline, durable like Ferry's output (sync at the end).
cold
start=$(date +%s.%N)
mkdir "$t/p"
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$disk" "$t/p/disk.vmdk"
tar -xOf "$t/ferry.ova" --wildcards '*.ovf' > "$t/p/vm.ovf"
( cd "$t/p" && sha256sum vm.ovf disk.vmdk | awk '{ print "SHA256(" $2 ")= " $1 }' > vm.mf &&
  tar cf "$t/pipeline.ova" vm.ovf disk.vmdk vm.mf )
sync
pwall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')

echo "reference disk: $disk ($(stat -c %s "$disk") bytes)"
printf '%-28s %10s %14s\n' "" wall_s ova_bytes
printf '%-28s %10s %14s\n' "ferry export (vmware)" "$fwall" "$(stat -c %s "$t/ferry.ova")"
printf '%-28s %10s %14s\n' "qemu-img+sha256sum+tar" "$pwall" "$(stat -c %s "$t/pipeline.ova")"
echo "wall ratio ferry/pipeline: $(ratio "$fwall" "$pwall") (target <= 0.25)"
echo "ferry peak memory: $(( frss / 1024 )) MiB (target < 100 MiB)"
