#!/bin/bash
# test-capture-lvm-root: a machine whose root is ext4 in LVM (the matrix
# guest debian13-lvm-ahci: VG ferryvg on sda1, swap on sda2, ~200 MiB of
# deleted junk in the root's free space) captured with `--convert kvm`:
# its PV is mapped through the LV's ext4 bitmap (the report says lvm2 and
# root=ext-bitmap), the image holds at most 1.1 x the root's used bytes
# plus the PV metadata, the deleted junk is not in it, and the result boots
# on virtio to its login prompt.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
requires guestfish qemu-img python3
src=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian13-lvm-ahci)
. "${src%.img}.info"
t=$(mktmpdir)

s=$(date +%s)
"$FERRY" capture "$src" --convert kvm -O qcow2 -o "$t/vm.qcow2" --json > "$t/r.json" ||
    fail "capture --convert kvm failed: $(cat "$t/r.json")"
echo "capture --convert kvm took $(( $(date +%s) - s ))s"
cat "$t/r.json"
python3 - "$t/r.json" <<'PY' || fail "report"
import json, sys
r = json.load(open(sys.argv[1]))
parts = r["captures"][0]["partitions"]
pv = [p for p in parts if p["filesystem"] == "LVM2_member"]
assert pv and pv[0]["method"] == "lvm2" and "root=ext-bitmap" in (pv[0]["note"] or ""), parts
PY
guestfish --ro -a "$src" -i statvfs / > "$t/statvfs"
used=$(awk '/^bsize:/ { b = $2 } /^blocks:/ { n = $2 } /^bfree:/ { f = $2 }
            END { print (n - f) * b }' "$t/statvfs")
size=$(qemu-img info --output=json "$t/vm.qcow2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["actual-size"])')
# the conversion adds an initramfs (~40 MiB); the PV's metadata area 1 MiB
limit=$(( used * 11 / 10 + 64 * 1048576 ))
echo "root uses $used bytes; image $size bytes (limit $limit)"
[ "$size" -le "$limit" ] || fail "image $size bytes > 1.1 x used + 64 MiB ($limit)"
qemu-img check -q "$t/vm.qcow2" || fail "qemu-img check"
if [ -n "${FERRY_NO_BOOT:-}" ]; then echo "boot skipped (FERRY_NO_BOOT)"; exit 0; fi
boot_guest "$t/vm.qcow2" virtio 600 || fail "the captured LVM root does not boot on virtio"
grep -q "$HOSTNAME login:" "$(boot_guest_log)" || fail "no login prompt with $HOSTNAME"
echo ok
