#!/bin/bash
# deploy.sh: `ferry deploy` (copy + grow + native conversion + GRUB) of the
# reference guest onto an 8 GiB disk, against the peer pipeline
# `virt-resize --expand` (copy + grow, nothing else) and against
# `qemu-img convert -n -O raw` (copy only), from one run, the libguestfs
# appliances under TCG.  Prints wall times and their ratios, bytes written
# (Ferry's from its report, the peers' as the blocks their output holds),
# Ferry's peak memory, and whether each result boots from NVMe (only the
# converted one can: the source's initramfs has AHCI drivers only).
# Targets: Ferry <= 0.5x virt-resize while also converting, <= 1.5x
# qemu-img convert alone.  The targets are sparse files standing in for
# disks; $BENCH_TARGET_DIR puts them elsewhere (a real disk's filesystem).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FERRY:=$PWD/build/ferry}" "${BUILDDIR:=$PWD/build}"
export FERRY BUILDDIR LIBGUESTFS_BACKEND_SETTINGS=force_tcg
disk=${BENCH_DISK:-$(tests/guests.sh "$BUILDDIR" debian12-ahci)}
command -v virt-resize >/dev/null || { echo "virt-resize not installed"; exit 1; }
source tests/functions.sh
source tests/boot.sh
t=$(mktmpdir)
[ -z "${BENCH_TARGET_DIR:-}" ] || t=$(mktemp -d "$BENCH_TARGET_DIR/ferry-bench.XXXXXX")
sum=$(sha256sum < "$disk")

run () {
    local name=$1; shift
    rm -f "$t/$name.disk"; truncate -s 8G "$t/$name.disk"
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    /usr/bin/time -f '%e %M' -o "$t/$name.time" "$@" > "$t/$name.log" 2>&1 ||
        { echo "$name failed:"; tail -20 "$t/$name.log"; exit 1; }
    sync
}
boots () { if boot_guest "$1" nvme 300 >/dev/null 2>&1; then echo yes; else echo no; fi; }
used () { du -B1 "$1" | cut -f1; }

load=$(cut -d' ' -f1-3 /proc/loadavg)
run ferry "$FERRY" deploy "$disk" "$t/ferry.disk" --yes --json -q
mv "$t/ferry.log" "$t/ferry.json"
run resize virt-resize --expand /dev/sda1 "$disk" "$t/resize.disk"
run qemuimg qemu-img convert -n -O raw "$disk" "$t/qemuimg.disk"
[ "$(sha256sum < "$disk")" = "$sum" ] || { echo "the source was modified"; exit 1; }

read -r fw fmem < "$t/ferry.time"
rw=$(cut -d' ' -f1 "$t/resize.time"); qw=$(cut -d' ' -f1 "$t/qemuimg.time")
fbytes=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["disks"][0]; print(d["bytes_written"], d["bytes_zeroed"])' "$t/ferry.json")
fb=$(boots "$t/ferry.disk"); rb=$(boots "$t/resize.disk"); qb=$(boots "$t/qemuimg.disk")
r_resize=$(awk -v a="$fw" -v b="$rw" 'BEGIN { printf "%.2f", a / b }')
r_qemu=$(awk -v a="$fw" -v b="$qw" 'BEGIN { printf "%.2f", a / b }')

echo "source: $disk ($(stat -c %s "$disk") bytes) onto 8 GiB; load average before: $load"
printf '%-44s %8s %16s %11s\n' tool wall_s bytes_written boots_nvme
printf '%-44s %8s %16s %11s\n' "ferry deploy (copy+grow+native+GRUB)" "$fw" "${fbytes% *}" "$fb"
printf '%-44s %8s %16s %11s\n' "virt-resize --expand (copy+grow)" "$rw" "$(used "$t/resize.disk")" "$rb"
printf '%-44s %8s %16s %11s\n' "qemu-img convert -n -O raw (copy)" "$qw" "$(used "$t/qemuimg.disk")" "$qb"
echo "ferry also zeroed ${fbytes#* } bytes of old data where the result reads it"
echo "wall ratio ferry / virt-resize: $r_resize (target <= 0.5); ferry / qemu-img: $r_qemu (target <= 1.5)"
echo "ferry peak memory: $(( fmem / 1024 )) MiB (largest RSS of ferry and its children: the appliance's qemu)"
[ "$fb" = yes ]
