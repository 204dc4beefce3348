#!/bin/bash
# `ferry deploy` of a GPT disk whose root is in LVM onto a smaller disk
# (V2P, issue 12): a /boot-like ext4, the PV (a root LV, then a swap LV
# as Debian's installer makes it), a swap partition.  The ext4, the root
# LV and the PV shrink, the swap LV is made again after the root LV with
# its UUID and label, the PV's GPT entry is rewritten (CRCs), the swap
# partition moves to the end; the GPT verifies, the files are intact, the
# filesystem clean, the PV inside its partition.  (The MBR case boots in
# test-deploy-matrix's lvmshrink.)  A VG holding another data LV is refused before any
# write.  (--convert none --root: no OS needed; the boot of a shrunk LVM
# guest is test-deploy-matrix's lvmshrink case.)
source "$(dirname "$0")/../functions.sh"
requires guestfish sfdisk python3
t=$(mktmpdir)
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}"
swap_uuid=5e1f0a2b-7c3d-4e5f-8a9b-0c1d2e3f4a5b

head -c 30000000 /dev/urandom > "$t/f1"
head -c 12345678 /dev/urandom > "$t/f2"
truncate -s 700M "$t/src.img"
guestfish -a "$t/src.img" <<GF || fail "cannot build the source"
run
part-init /dev/sda gpt
part-add /dev/sda p 2048 206847
part-add /dev/sda p 206848 1331199
part-add /dev/sda p 1331200 -2048
part-set-gpt-type /dev/sda 2 E6D6D379-F507-44C2-A23C-238F2A3DF928
part-set-gpt-type /dev/sda 3 0657FD6D-A4AB-43C4-84E5-0933C84B4F4F
mkfs ext4 /dev/sda1
mkswap /dev/sda3 label:ferry-swap3
pvcreate /dev/sda2
vgcreate vg /dev/sda2
lvcreate root vg 400
lvcreate swap vg 100
mkfs ext4 /dev/vg/root
mkswap /dev/vg/swap label:ferry-swap uuid:$swap_uuid
mount /dev/vg/root /
upload $t/f1 /f1
upload $t/f2 /f2
GF
cp --sparse=always "$t/src.img" "$t/orig.img"

truncate -s 450M "$t/dst.disk"
"$FERRY" deploy "$t/src.img" "$t/dst.disk" --yes --convert none --root /dev/vg/root \
    --json > "$t/report.json" || fail "deploy failed: $(cat "$t/report.json")"
cmp -s "$t/src.img" "$t/orig.img" || fail "the source was modified"
python3 - "$t/report.json" <<'PY' || fail "report: $(cat "$t/report.json")"
import json, sys
r = json.load(open(sys.argv[1]))
l = " / ".join(r["disks"][0]["layout"])
assert r["ok"], r
for want in ("ext4 on /dev/vg/root shrunk", "LVM: LV /dev/vg/root shrunk",
             "swap LV /dev/vg/swap made again", "partition 2 shrunk",
             "swap partition 3", "backup GPT at the disk's end"):
    assert want in l, (want, l)
PY
sfdisk --verify "$t/dst.disk" > /dev/null || fail "sfdisk --verify"
part=$(sfdisk -J "$t/dst.disk" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"][1]; print(p["size"] * 512)')
[ "$part" -le $(( 450 << 20 )) ] || fail "the partition ($part bytes) is past the disk"
guestfish --ro -a "$t/dst.disk" > "$t/check.out" <<'GF' || fail "guestfish on the result: $(cat "$t/check.out")"
run
echo FSCK
fsck ext4 /dev/vg/root
echo SWAP
vfs-uuid /dev/vg/swap
vfs-label /dev/vg/swap
vfs-type /dev/vg/swap
vfs-label /dev/sda3
echo SIZES
blockdev-getsize64 /dev/vg/swap
pvs-full
mount-ro /dev/vg/root /
echo SUMS
checksum sha256 /f1
checksum sha256 /f2
GF
[ "$(sed -n '/^FSCK/{n;p}' "$t/check.out")" = 0 ] || fail "the root LV's ext4 is not clean: $(cat "$t/check.out")"
[ "$(sed -n '/^SWAP/{n;p;n;p;n;p;n;p}' "$t/check.out" | tr '\n' ' ')" = "$swap_uuid ferry-swap swap ferry-swap3 " ] ||
    fail "the swap LV lost its UUID or label: $(cat "$t/check.out")"
[ "$(sed -n '/^SIZES/{n;p}' "$t/check.out")" = $(( 100 << 20 )) ] || fail "the swap LV changed size"
pv=$(awk '$1 == "pv_size:" {print $2}' "$t/check.out")
[ -n "$pv" ] && [ "$pv" -le "$part" ] || fail "PV of $pv bytes in a partition of $part"
[ "$(sed -n '/^SUMS/{n;p;n;p}' "$t/check.out" | tr '\n' ' ')" = \
  "$(sha256sum "$t/f1" | cut -d' ' -f1) $(sha256sum "$t/f2" | cut -d' ' -f1) " ] ||
    fail "the files differ: $(cat "$t/check.out")"

# Another LV holding data would have to move: refused, nothing written.
guestfish -a "$t/src.img" <<'GF' || fail "cannot add the data LV"
run
lvcreate data vg 40
mkfs ext4 /dev/vg/data
GF
head -c 1M /dev/urandom > "$t/dst2.disk"; truncate -s 450M "$t/dst2.disk"
cp "$t/dst2.disk" "$t/dst2.before"
expect_fail "also holds /dev/vg/data" "$FERRY" deploy "$t/src.img" "$t/dst2.disk" --yes \
    --convert none --root /dev/vg/root
cmp -s "$t/dst2.disk" "$t/dst2.before" || fail "the refused deploy wrote to the target"
echo ok
