#!/bin/bash
# `ferry agent` deploy job, unattended on the host (no ISO): the reference
# guest (debian12-ahci, initramfs with AHCI drivers only), converted to
# qcow2, on an sshd of the test's own on 127.0.0.1 (as test-agent-ssh.sh),
# deployed with ferry.mode=deploy ferry.source=ssh://... onto an 8 GiB file
# standing in for the machine's disk (--disk); the file then boots from an
# NVMe controller.  Before that, bad input must be refused with one clear
# line and a "1 ..." status, the target untouched: no ferry.disks, "all",
# a missing disk, a key the server refuses (unreachable), a missing image,
# a directory (its images listed), an empty file, a bad scheme.  The source is
# never written; the share is mounted read-only and unmounted after.
# ferry.native=0 ferry.grow=0 lays the image down as it is, no appliance.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
requires qemu-img sshfs ssh-keygen fusermount guestfish sfdisk
[ -x /usr/sbin/sshd ] || { echo "SKIP: sshd not installed"; exit 77; }
[ -e /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)
chmod 700 "$t"
mkdir -p "$t/remote/images" "$t/mnt"
start_sshd "$t"
ssh-keygen -q -t ed25519 -N '' -f "$t/wrong"
cleanup_fn "fusermount -u '$t/mnt' 2>/dev/null"
user=$(id -un)
src=ssh://$user@127.0.0.1:$port$t/remote/images

qemu-img convert -O qcow2 "$ref" "$t/remote/images/debian12.qcow2"
echo "not an image" > "$t/remote/images/notes.txt"
head -c 1M /dev/zero > "$t/remote/images/empty.img"
: > "$t/remote/images/zero.raw"
before=$(sha256sum < "$t/remote/images/debian12.qcow2")
# The machine's disk: 8 GiB whose first MiB holds old data.
truncate -s 8G "$t/disk.img"
head -c 1M /dev/urandom | dd of="$t/disk.img" conv=notrunc status=none
disk_head=$(head -c 1M "$t/disk.img" | sha256sum)

agent () {
    "$FERRY" agent --no-post --no-network --status "$t/status" \
        --mount-dir "$t/mnt" --disk "$t/disk.img" --cmdline "$1" 2>"$t/err"
}
# refused CMDLINE REGEXP: exit 1, the reason on the console and in the
# status file, the disk untouched, nothing left mounted.
refused () {
    local rc=0
    agent "$1" || rc=$?
    [ "$rc" -eq 1 ] || fail "'$1': exit $rc: $(cat "$t/err")"
    grep -Eq -- "$2" "$t/err" || fail "'$1': $(cat "$t/err")"
    grep -Eq -- "^1 .*$2" "$t/status" || fail "'$1': status $(cat "$t/status")"
    [ "$(head -c 1M "$t/disk.img" | sha256sum)" = "$disk_head" ] ||
        fail "'$1': the disk was written"
    ! mountpoint -q "$t/mnt" || fail "'$1': the source is still mounted"
    echo "refused as expected: $(grep -E -- "$2" "$t/err" | head -1)"
}
key="ferry.sshkey=$t/id"
refused "ferry.mode=deploy ferry.source=$src/debian12.qcow2 $key ferry.yes" \
    "ferry.mode=deploy erases disks: name them with ferry.disks="
refused "ferry.mode=deploy ferry.source=$src/debian12.qcow2 $key ferry.disks=all ferry.yes" \
    "all is refused"
refused "ferry.mode=deploy ferry.source=$src/debian12.qcow2 $key ferry.disks=sdz ferry.yes" \
    "disk 'sdz' does not exist"
refused "ferry.mode=deploy ferry.source=$src/debian12.qcow2 ferry.sshkey=$t/wrong ferry.disks=disk.img ferry.yes" \
    "source 'ssh://.*' is unreachable: sshfs failed"
refused "ferry.mode=deploy ferry.source=$src/nosuch.qcow2 $key ferry.disks=disk.img ferry.yes" \
    "source 'ssh://.*nosuch.qcow2': 'nosuch.qcow2' on the share: No such file"
refused "ferry.mode=deploy ferry.source=$src/ $key ferry.disks=disk.img ferry.yes" \
    "is a directory: name an image or package in it \(debian12.qcow2, empty.img, zero.raw\)"
refused "ferry.mode=deploy ferry.source=$src/zero.raw $key ferry.disks=disk.img ferry.yes" \
    "zero.raw.*is empty"
refused "ferry.mode=deploy ferry.source=ftp://x/y ferry.disks=disk.img ferry.yes" \
    "ferry.source: 'ftp://x/y': expected file:"

# The deploy.
s=$(date +%s)
agent "ferry.mode=deploy ferry.source=$src/debian12.qcow2 $key ferry.disks=disk.img ferry.post=reboot ferry.yes" ||
    fail "deploy: $(cat "$t/err") :: $(tail -3 "$t/sshd.log")"
echo "agent deploy took $(( $(date +%s) - s ))s"
cat "$t/err"
[ "$(cat "$t/status")" = "0 ok" ] || fail "status: $(cat "$t/status")"
grep -q "ferry.post=reboot not run" "$t/err" || fail "no post action"
grep -q "target 1: $t/disk.img (image file, 8.0 GiB): everything on it will be erased" \
    "$t/err" || fail "the target was not named"
grep -q "GRUB reinstalled" "$t/ferry-deploy.log" || fail "log: $(cat "$t/ferry-deploy.log")"
python3 - "$t/ferry-deploy.json" <<'PY' || fail "report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is True and r["mode"] == "deploy", r
assert r["disks"][0]["size"] == 8 << 30, r["disks"]
PY
[ "$(sha256sum < "$t/remote/images/debian12.qcow2")" = "$before" ] ||
    fail "the source was modified"
! mountpoint -q "$t/mnt" || fail "the source is still mounted"
grep -q "Accepted publickey" "$t/sshd.log" || fail "sshd: no login"

# ferry.native=0 ferry.grow=0: the image laid down as it is (deploy
# --convert none --no-grow), no appliance; the table is the image's.
truncate -s 2G "$t/disk2.img"
"$FERRY" agent --no-post --no-network --status "$t/status" --mount-dir "$t/mnt" \
    --disk "$t/disk2.img" 2>"$t/err2" --cmdline \
    "ferry.mode=deploy ferry.source=$src/debian12.qcow2 $key ferry.disks=disk2.img ferry.native=0 ferry.grow=0 ferry.yes" ||
    fail "deploy as it is: $(cat "$t/err2")"
[ "$(cat "$t/status")" = "0 ok" ] || fail "status: $(cat "$t/status")"
cat "$t/err2" "$t/ferry-deploy.log" > "$t/out2"
grep -q "layout kept (--no-grow), not converted (--convert none): no appliance" "$t/out2" ||
    fail "not laid down as it is: $(cat "$t/out2")"
! grep -q "GRUB reinstalled" "$t/out2" || fail "converted although ferry.native=0"
[ "$(sfdisk -d "$t/disk2.img" | grep '^/' | sed 's|^[^:]*:||')" = \
  "$(sfdisk -d "$ref" | grep '^/' | sed 's|^[^:]*:||')" ] || fail "the table is not the image's"
rm -f "$t/disk2.img"

if [ -n "${FERRY_NO_BOOT:-}" ]; then echo "boot skipped (FERRY_NO_BOOT)"; exit 0; fi
boot_guest_login "$t/disk.img" nvme 300 root ferry > "$t/guest" <<'SH' ||
df -B1M --output=size / | tail -1
findmnt -no SOURCE /
SH
    fail "the deployed disk does not boot on NVMe"
cat "$t/guest"
mib=$(sed -n 1p "$t/guest" | tr -d ' \r')
[ "$mib" -gt 7500 ] || fail "root filesystem is $mib MiB, not about 8 GiB"
grep -q '/dev/nvme0n1p1' "$t/guest" || fail "root not on nvme0n1p1"
echo ok
