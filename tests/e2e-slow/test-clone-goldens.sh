#!/bin/bash
# `ferry clone` of goldens that trip a one-appliance batch (issue 11): an
# xfs golden (Debian 13, root on xfs) and an LVM golden (a minimal
# Debian-looking root on vgferry/root), each cloned twice in one batch: the
# clones share the golden's xfs UUID (xfs refuses two mounted at once) and
# PV/VG UUIDs (LVM sees duplicates), and each clone still gets its own
# identity, read back with guestfish.  (Moved from test-clone-identity.sh
# to keep make check under its budget; the manifest proof stays there.)
source "$(dirname "$0")/../functions.sh"
requires guestfish qemu-img python3
t=$(mktmpdir)

# An xfs golden, twice in one batch: both clones edited, different ids.
xfs=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian13-xfs-ahci)
xfs_sum=$(sha256sum < "$xfs")
"$FERRY" clone "$xfs" -o "$t/xfs" --count 2 --name x%d --cow qcow2 --to none \
    --seed s --json > "$t/xfs.json"
[ "$(sha256sum < "$xfs")" = "$xfs_sum" ] || fail "the xfs golden was modified"
python3 - "$t/xfs.json" > "$t/xclones" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"], r
for c in r["clones"]:
    assert c["ok"], c
    print(c["name"], c["files"][0], c["machine_id"])
PY
cat "$t/xclones"
read -r _ x1 m1 < <(sed -n 1p "$t/xclones")
read -r _ x2 m2 < <(sed -n 2p "$t/xclones")
[ "$m1" != "$m2" ] || fail "xfs clones share a machine-id"
guestfish --ro -a "$x1" -a "$x2" > "$t/xgf.out" <<'GF'
run
mount-ro /dev/sda1 /
cat /etc/hostname
cat /etc/machine-id
umount /
mount-ro /dev/sdb1 /
cat /etc/hostname
cat /etc/machine-id
umount /
GF
[ "$(grep -v '^$' "$t/xgf.out")" = "$(printf 'x1\n%s\nx2\n%s' "$m1" "$m2")" ] ||
    fail "xfs clones: $(cat "$t/xgf.out")"

# An LVM golden (a minimal Debian-looking root on vgferry/root), twice in
# one batch: LVM filtered to each clone's disk, each edit lands on its own
# clone (the golden's PV and VG UUIDs are on both).
truncate -s 200M "$t/lvm.img"
guestfish -a "$t/lvm.img" <<'GF'
run
part-disk /dev/sda mbr
pvcreate /dev/sda1
vgcreate vgferry /dev/sda1
lvcreate root vgferry 150
mkfs ext4 /dev/vgferry/root
mount /dev/vgferry/root /
mkdir-p /etc
mkdir-p /bin
mkdir-p /usr/bin
write /etc/os-release "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n"
write /etc/debian_version "12.0\n"
write /etc/hostname "lvm-gold\n"
write /etc/fstab "/dev/mapper/vgferry-root / ext4 defaults 0 1\n"
write /etc/machine-id "0123456789abcdef0123456789abcdef\n"
GF
"$FERRY" clone "$t/lvm.img" -o "$t/lvm" --count 2 --name l%d --cow qcow2 \
    --to none --seed s --json > "$t/lvm.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"], r
for c in r["clones"]: print(c["files"][0], c["machine_id"])' "$t/lvm.json" > "$t/lclones"
read -r l1 lm1 < <(sed -n 1p "$t/lclones")
read -r l2 lm2 < <(sed -n 2p "$t/lclones")
guestfish --ro -a "$l1" -a "$l2" > "$t/lgf.out" <<'GF'
run
lvm-set-filter /dev/sda
vg-activate-all true
mount-ro /dev/vgferry/root /
cat /etc/hostname
cat /etc/machine-id
umount-all
vg-activate-all false
lvm-set-filter /dev/sdb
vg-activate-all true
mount-ro /dev/vgferry/root /
cat /etc/hostname
cat /etc/machine-id
GF
[ "$(grep -v '^$' "$t/lgf.out")" = "$(printf 'l1\n%s\nl2\n%s' "$lm1" "$lm2")" ] ||
    fail "LVM clones: $(cat "$t/lgf.out")"

echo ok
