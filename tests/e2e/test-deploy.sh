#!/bin/bash
# test-deploy: V2P.  The reference "physical machine" (debian12-ahci: a
# 1.5 GiB MBR disk, root ext4 on sda1 with swap on sda2 after it, an
# initramfs with only AHCI drivers) deployed with `ferry deploy` onto an
# 8 GiB disk that held random data and an old GPT: the root partition grows
# to the disk's end with swap moved after it (same UUID), ext4 grows, a
# generic initramfs (nvme among its drivers) and GRUB reinstalled; the disk
# boots from an NVMe controller and its root filesystem is about 8 GiB;
# e2fsck is clean, wipefs finds no stale signature, the old GPT's backup
# header is gone; the source is unchanged.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
source "$TESTS_DIR/initramfs.sh"
requires guestfish qemu-img sfdisk wipefs losetup e2fsck openssl
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)
before=$(sha256sum < "$ref")
. "${ref%.img}.info"

# The dirty disk: random bytes everywhere, then an old GPT (primary and
# backup) over them.
# (openssl dies of SIGPIPE when head has enough)
{ openssl enc -aes-128-ctr -nosalt -pass pass:ferry-old-disk </dev/zero \
    2>/dev/null || true; } | head -c 8G > "$t/disk.img"
printf 'label: gpt\n,,L\n' | sfdisk -q "$t/disk.img"
wipefs "$t/disk.img" | grep -q gpt || fail "the old GPT was not made"

s=$(date +%s)
"$FERRY" deploy "$ref" "$t/disk.img" --yes --json -v > "$t/r.json"
echo "deploy took $(( $(date +%s) - s ))s"
cat "$t/r.json"
[ "$(sha256sum < "$ref")" = "$before" ] || fail "the source was modified"
python3 - "$t/r.json" <<'PY' || fail "report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is True, r
d = r["disks"][0]
assert d["size"] == 8 << 30 and d["kind"] == "file" and d["table"] == "msdos", d
lay = " / ".join(d["layout"])
for want in ("partition 1 grown", "ext4 on /dev/sda1 grown",
             "swap partition 2", "wiped first"):
    assert want in lay, (want, lay)
assert d["bytes_zeroed"] > 0, d        # the old random data, where it shows
assert any("GRUB reinstalled" in b for b in r["boot"]), r["boot"]
assert any(c["what"] == "initramfs" for c in r["changes"]), r["changes"]
PY

# The layout: sda1 to the end less the swap, sda2 (swap, same UUID) last.
sfdisk -J "$t/disk.img" > "$t/pt.json"
python3 - "$t/pt.json" <<'PY' || fail "partition table"
import json, sys
pt = json.load(open(sys.argv[1]))["partitiontable"]
assert pt["label"] == "dos", pt
p = pt["partitions"]
assert len(p) == 2, p
end = (8 << 30) // 512
assert p[1]["start"] + p[1]["size"] == end and p[1]["type"] == "82", p
assert p[0]["start"] == 2048 and p[0]["start"] + p[0]["size"] == p[1]["start"], p
assert p[0]["start"] % 2048 == 0 and p[1]["start"] % 2048 == 0, p
PY
# No stale signature on the disk (the old GPT, its backup at the end) nor
# in the partitions; the filesystems check clean.
wipefs "$t/disk.img" > "$t/wipefs"
cat "$t/wipefs"
[ "$(grep -vc '^DEVICE' "$t/wipefs")" = 1 ] && grep -q ' dos ' "$t/wipefs" ||
    fail "stale signatures on the disk"
tail -c 512 "$t/disk.img" | grep -q 'EFI PART' && fail "old backup GPT left"
p1=$(losetup -r -f --show -o $((2048 * 512)) --sizelimit $(( $(sfdisk -J "$t/disk.img" | python3 -c 'import json,sys; print(json.load(sys.stdin)["partitiontable"]["partitions"][0]["size"])') * 512 )) "$t/disk.img")
cleanup_fn "losetup -d $p1"
e2fsck -fn "$p1" || fail "e2fsck on the deployed root"
[ "$(wipefs "$p1" | grep -vc '^DEVICE')" = 1 ] || { wipefs "$p1"; fail "stale signatures in sda1"; }
[ "$(blkid -s UUID -o value "$p1")" = "$ROOT_UUID" ] || fail "root UUID changed"
guestfish --ro -a "$t/disk.img" run : vfs-uuid /dev/sda2 > "$t/swap"
[ "$(cat "$t/swap")" = "$SWAP_UUID" ] || fail "swap UUID changed: $(cat "$t/swap")"
initrd_prove "$ref" "$t/disk.img" "$t/ir" ahci nvme sd_mod

if [ -n "${FERRY_NO_BOOT:-}" ]; then echo "boot skipped (FERRY_NO_BOOT)"; exit 0; fi
# Boots from NVMe (the source's initramfs has no nvme driver); the root
# fills the disk, the moved swap is in use.
boot_guest_login "$t/disk.img" nvme 300 root ferry > "$t/guest" <<'SH' ||
df -B1M --output=size / | tail -1
cat /proc/swaps | tail -n +2 | wc -l
findmnt -no SOURCE /
SH
    fail "the deployed disk does not boot on NVMe"
cat "$t/guest"
mib=$(sed -n 1p "$t/guest" | tr -d ' \r')
[ "$mib" -gt 7500 ] || fail "root filesystem is $mib MiB, not about 8 GiB"
[ "$(sed -n 2p "$t/guest" | tr -d ' \r')" = 1 ] || fail "swap not active"
grep -q '/dev/nvme0n1p1' "$t/guest" || fail "root not on nvme0n1p1"
echo ok
