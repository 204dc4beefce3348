#!/bin/bash
# convert.sh: `ferry capture --convert kvm` vs `virt-v2v -i disk -o local`
# on the reference disk, from one run, both with the libguestfs appliance
# under TCG (LIBGUESTFS_BACKEND_SETTINGS=force_tcg).  Prints both wall
# times, their ratio, and whether each result boots on virtio-blk +
# virtio-net to the login prompt (qemu -accel tcg, serial console); and
# beside them `ferry capture --convert kvm --verify-boot`, whose own boot
# of the result (which virt-v2v never does) is inside its wall time.
# Disk: $BENCH_DISK (raw), or the reference guest of tests/guests.sh.
# Target: ratio <= 0.5 with a booting result.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FERRY:=$PWD/build/ferry}" "${BUILDDIR:=$PWD/build}"
export FERRY BUILDDIR LIBGUESTFS_BACKEND_SETTINGS=force_tcg
disk=${BENCH_DISK:-$(tests/guests.sh "$BUILDDIR" debian12-ahci)}
command -v virt-v2v >/dev/null || { echo "virt-v2v not installed"; exit 1; }
source tests/functions.sh       # cleanup traps, used by boot.sh
source tests/boot.sh
t=$(mktmpdir)
sum=$(sha256sum < "$disk")

# run NAME CMD...: wall seconds into $t/NAME.wall, output in $t/NAME.log
run () {
    local name=$1; shift
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    /usr/bin/time -f '%e' -o "$t/$name.wall" "$@" > "$t/$name.log" 2>&1 ||
        { echo "$name failed:"; tail -20 "$t/$name.log"; exit 1; }
}
boots () { if boot_guest "$1" virtio >/dev/null 2>&1; then echo yes; else echo no; fi; }

load=$(cut -d' ' -f1-3 /proc/loadavg)
run ferry "$FERRY" capture --convert kvm -O qcow2 "$disk" -o "$t/ferry.qcow2"
run ferryv "$FERRY" capture --convert kvm --verify-boot -O qcow2 "$disk" \
    -o "$t/ferryv.qcow2"
mkdir "$t/v2v"
run v2v virt-v2v -i disk "$disk" -o local -os "$t/v2v" -on bench -of qcow2
[ "$(sha256sum < "$disk")" = "$sum" ] || { echo "the input disk was modified"; exit 1; }
fw=$(cat "$t/ferry.wall"); vw=$(cat "$t/v2v.wall"); fvw=$(cat "$t/ferryv.wall")
fb=$(boots "$t/ferry.qcow2"); vb=$(boots "$t/v2v/bench-sda")
# --verify-boot only writes a result that booted
fvb=$(grep -q 'verify-boot: booted on virtio' "$t/ferryv.log" && echo yes || echo no)
ratio=$(awk -v a="$fw" -v b="$vw" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
ratiov=$(awk -v a="$fvw" -v b="$vw" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')

echo "reference disk: $disk ($(stat -c %s "$disk") bytes), load average before: $load"
printf '%-42s %8s %14s %8s\n' tool wall_s boots_virtio ratio
printf '%-42s %8s %14s %8s\n' "ferry capture --convert kvm" "$fw" "$fb" "$ratio"
printf '%-42s %8s %14s %8s\n' "ferry capture --convert kvm --verify-boot" "$fvw" "$fvb" "$ratiov"
printf '%-42s %8s %14s %8s\n' "virt-v2v -i disk -o local" "$vw" "$vb" 1.00
echo "wall_ratio (ferry / virt-v2v): $ratio, with --verify-boot $ratiov   target: <= 0.5 with a booting result"
grep -E '^  initramfs .*(without the builder|rebuilt by)|^  bootloader' "$t/ferry.log" || true
[ "$fb" = yes ] && awk -v r="$ratio" 'BEGIN { exit !(r <= 0.5) }'
