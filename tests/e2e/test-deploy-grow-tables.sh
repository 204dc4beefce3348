#!/bin/bash
# `ferry deploy` growing a disk's partitions (V2P, issue 12), both ways
# fit.c has:
#  - GPT, root ext4 on 2 with two swap partitions after it (3, 4) and an
#    ESP-like partition before: the table is fitted on the host and written
#    in one go (parttable_set_range/set_end, backup rebuilt from the edited
#    primary).  Both swaps move to the disk's end in their order, keeping
#    UUID, label, partition GUID, type and name; the root grows up to
#    them; the GPT verifies, its backup sits at the real end and reads back
#    alone (primary wiped); files intact, ext4 clean.
#  - MBR, root ext4 on 1, a logical swap (5) inside an extended partition
#    (2): not for the host path, parted moves it; same checks.
# (--convert none --root: no OS needed; the boots are test-deploy's and
# test-deploy-matrix's.)
source "$(dirname "$0")/../functions.sh"
requires guestfish sfdisk sgdisk python3
t=$(mktmpdir)
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}"
u3=11111111-2222-4333-8444-555555555555
u4=66666666-7777-4888-9999-aaaaaaaaaaaa
u5=bbbbbbbb-cccc-4ddd-8eee-ffffffffffff

head -c 20000000 /dev/urandom > "$t/f1"
truncate -s 400M "$t/gpt.img" "$t/mbr.img"
guestfish -a "$t/gpt.img" -a "$t/mbr.img" <<GF || fail "cannot build the sources"
run
part-init /dev/sda gpt
part-add /dev/sda p 2048 67583
part-add /dev/sda p 67584 593919
part-add /dev/sda p 593920 696319
part-add /dev/sda p 696320 -2048
part-set-gpt-type /dev/sda 1 C12A7328-F81F-11D2-BA4B-00A0C93EC93B
part-set-gpt-type /dev/sda 3 0657FD6D-A4AB-43C4-84E5-0933C84B4F4F
part-set-gpt-type /dev/sda 4 0657FD6D-A4AB-43C4-84E5-0933C84B4F4F
part-set-gpt-guid /dev/sda 3 0AAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEE3
part-set-gpt-guid /dev/sda 4 0AAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEE4
part-set-name /dev/sda 3 swap-one
part-set-name /dev/sda 4 swap-two
mkfs vfat /dev/sda1
mkfs ext4 /dev/sda2
mkswap /dev/sda3 label:ferry-s3 uuid:$u3
mkswap /dev/sda4 label:ferry-s4 uuid:$u4
mount /dev/sda2 /
upload $t/f1 /f1
umount /
part-init /dev/sdb mbr
part-add /dev/sdb p 2048 593919
part-add /dev/sdb e 593920 -1
part-add /dev/sdb l 595968 -1
part-set-mbr-id /dev/sdb 5 0x82
mkfs ext4 /dev/sdb1
mkswap /dev/sdb5 label:ferry-s5 uuid:$u5
mount /dev/sdb1 /
upload $t/f1 /f1
GF
sum=$(sha256sum < "$t/f1" | cut -d' ' -f1)

# deploy KIND ROOT: onto a 1 GiB disk, the report checked for WANT...
deploy () {
    local kind=$1 root=$2; shift 2
    cp --sparse=always "$t/$kind.img" "$t/$kind.orig"
    truncate -s 1G "$t/$kind.disk"
    "$FERRY" deploy "$t/$kind.img" "$t/$kind.disk" --yes --convert none \
        --root "$root" --json > "$t/$kind.json" ||
        fail "$kind: deploy failed: $(cat "$t/$kind.json")"
    cmp -s "$t/$kind.img" "$t/$kind.orig" || fail "$kind: the source was modified"
    python3 - "$t/$kind.json" "$@" <<'PY' || fail "$kind: report: $(cat "$t/$kind.json")"
import json, sys
r = json.load(open(sys.argv[1]))
l = " / ".join(r["disks"][0]["layout"])
assert r["ok"], r
for want in sys.argv[2:]:
    assert want in l, (want, l)
PY
    sfdisk --verify "$t/$kind.disk" > /dev/null || fail "$kind: sfdisk --verify"
    echo "$kind: $(sfdisk -d "$t/$kind.disk" | grep '^/' | tr -s ' ' | tr '\n' ';')"
}

deploy gpt /dev/sda2 "partition 2 grown" "ext4 on /dev/sda2 grown" \
    "swap partition 3 (50 MiB) moved" "swap partition 4" "backup GPT at the disk's end"
deploy mbr /dev/sda1 "partition 1 grown" "ext4 on /dev/sda1 grown" \
    "swap partition 5"

# GPT: the two swaps at the end in their order, whole MiB, GUIDs, types
# and names kept; the root right before them; sgdisk finds no problem;
# the backup alone reads back (primary wiped).
sfdisk -J "$t/gpt.disk" > "$t/gpt.pt"
python3 - "$t/gpt.pt" <<'PY' || fail "gpt layout: $(cat "$t/gpt.pt")"
import json, sys
pt = json.load(open(sys.argv[1]))["partitiontable"]
p = {int(x["node"].rsplit("k", 1)[1]): x for x in pt["partitions"]}
end = (1 << 30) // 512 - 34
assert p[1]["start"] == 2048 and p[1]["size"] == 65536, p[1]
assert p[4]["start"] + p[4]["size"] - 1 <= end, p[4]
assert p[4]["start"] % 2048 == 0 and p[3]["start"] % 2048 == 0, p
assert p[3]["start"] + p[3]["size"] == p[4]["start"], (p[3], p[4])
assert p[2]["start"] == 67584 and p[2]["start"] + p[2]["size"] == p[3]["start"], (p[2], p[3])
assert p[3]["size"] == 50 << 11 and p[4]["size"] == 59 << 11, (p[3], p[4])
for n, g, name in ((3, "0AAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEE3", "swap-one"),
                   (4, "0AAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEE4", "swap-two")):
    assert p[n]["uuid"] == g and p[n]["name"] == name, p[n]
    assert p[n]["type"] == "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", p[n]
assert pt["lastlba"] == (1 << 30) // 512 - 34, pt
PY
sgdisk -v "$t/gpt.disk" > "$t/sgdisk.out" 2>&1 || fail "sgdisk -v: $(cat "$t/sgdisk.out")"
grep -q "No problems found" "$t/sgdisk.out" || fail "sgdisk -v: $(cat "$t/sgdisk.out")"
cp --sparse=always "$t/gpt.disk" "$t/backup.disk"
dd if=/dev/zero of="$t/backup.disk" bs=512 seek=1 count=33 conv=notrunc status=none
sfdisk -d "$t/backup.disk" 2>/dev/null | grep -c '^/' | grep -qx 4 ||
    fail "the backup GPT alone does not hold the 4 partitions: $(sfdisk -d "$t/backup.disk" 2>&1)"

# MBR: the logical swap at the end, the root up to its extended partition.
sfdisk -J "$t/mbr.disk" > "$t/mbr.pt"
python3 - "$t/mbr.pt" <<'PY' || fail "mbr layout: $(cat "$t/mbr.pt")"
import json, sys
pt = json.load(open(sys.argv[1]))["partitiontable"]
p = {int(x["node"].rsplit("k", 1)[1]): x for x in pt["partitions"]}
assert set(p) == {1, 2, 5}, p
assert p[1]["start"] == 2048 and p[1]["start"] + p[1]["size"] <= p[2]["start"], p
assert p[5]["start"] + p[5]["size"] == (1 << 30) // 512, p[5]
assert p[5]["type"] == "82", p[5]
PY

# Both results in one appliance: gpt.disk is sda, mbr.disk sdb.
guestfish --ro -a "$t/gpt.disk" -a "$t/mbr.disk" > "$t/check.out" <<'GF' || fail "guestfish: $(cat "$t/check.out")"
run
echo FSCK-gpt
fsck ext4 /dev/sda2
echo SWAPS-gpt
vfs-uuid /dev/sda3
vfs-label /dev/sda3
vfs-uuid /dev/sda4
vfs-label /dev/sda4
echo SIZE-gpt
blockdev-getsize64 /dev/sda2
echo FSCK-mbr
fsck ext4 /dev/sdb1
echo SWAPS-mbr
vfs-uuid /dev/sdb5
vfs-label /dev/sdb5
echo SIZE-mbr
blockdev-getsize64 /dev/sdb1
mount-ro /dev/sda2 /
echo SUM-gpt
checksum sha256 /f1
umount /
mount-ro /dev/sdb1 /
echo SUM-mbr
checksum sha256 /f1
GF
for kind in gpt mbr; do
    [ "$(sed -n "/^FSCK-$kind/{n;p}" "$t/check.out")" = 0 ] || fail "$kind: ext4 not clean: $(cat "$t/check.out")"
    [ "$(sed -n "/^SUM-$kind/{n;p}" "$t/check.out")" = "$sum" ] || fail "$kind: /f1 differs"
    swaps=$(sed -n "/^SWAPS-$kind/,/^SIZE-$kind/p" "$t/check.out" | grep -v '^SWAPS\|^SIZE' | tr '\n' ' ')
    case $kind in
        gpt) want="$u3 ferry-s3 $u4 ferry-s4 " ;;
        mbr) want="$u5 ferry-s5 " ;;
    esac
    [ "$swaps" = "$want" ] || fail "$kind: swap UUID/label lost: '$swaps'"
    size=$(sed -n "/^SIZE-$kind/{n;p}" "$t/check.out")
    [ "$size" -gt $(( 800 << 20 )) ] || fail "$kind: root partition only $size bytes"
    echo "$kind: ext4 clean, /f1 intact, swaps kept, root partition $(( size >> 20 )) MiB"
done
echo "PASS"
