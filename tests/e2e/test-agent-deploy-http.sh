#!/bin/bash
# `ferry agent` deploy from an http:// source: a web server of the test's
# own on 127.0.0.1 (tests/range-httpd.py: HEAD and Range requests, as
# nbdkit's curl plugin needs) holding a raw image and a qcow2 image.  The
# agent serves the URL as NBD through nbdkit on a Unix socket in its mount
# directory.  Refused with one line, the target untouched and no nbdkit
# left running: a qcow2 image (only raw is read over http), a missing URL,
# a server that is not there.  The raw image (a filesystem, no operating
# system) is read through NBD by the deploy, whose appliance refuses it:
# the error is the deploy's, nothing written either.
source "$(dirname "$0")/../functions.sh"
requires nbdkit qemu-img sfdisk mkfs.ext4 guestfish python3
[ -e /usr/lib/x86_64-linux-gnu/nbdkit/plugins/nbdkit-curl-plugin.so ] ||
    { echo "SKIP: nbdkit's curl plugin is not installed"; exit 77; }
t=$(mktmpdir)
mkdir -p "$t/www" "$t/mnt"
truncate -s 16M "$t/www/blank.img"
echo 'start=2048, type=83' | sfdisk -q "$t/www/blank.img"
mkfs.ext4 -q -F -E offset=1048576 "$t/www/blank.img" 15M
qemu-img create -q -f qcow2 "$t/www/vm.qcow2" 1G
python3 "$TESTS_DIR/range-httpd.py" "$t/www" "$t/port" 2>"$t/httpd.log" &
cleanup_fn "kill $! 2>/dev/null"
for _ in $(seq 50); do [ -s "$t/port" ] && break; sleep 0.1; done
port=$(cat "$t/port")
url=http://127.0.0.1:$port
truncate -s 64M "$t/disk.img"
head -c 1M /dev/urandom | dd of="$t/disk.img" conv=notrunc status=none
sum=$(sha256sum < "$t/disk.img")

agent () {
    "$FERRY" agent --no-post --no-network --status "$t/status" \
        --mount-dir "$t/mnt" --disk "$t/disk.img" --cmdline "$1" 2>"$t/err"
}
refused () {
    local rc=0
    agent "ferry.mode=deploy ferry.source=$1 ferry.disks=disk.img ferry.yes" || rc=$?
    [ "$rc" -eq 1 ] || fail "'$1': exit $rc: $(cat "$t/err")"
    grep -Eq -- "$2" "$t/err" || fail "'$1': $(cat "$t/err")"
    grep -Eq -- "^1 .*$2" "$t/status" || fail "'$1': status $(cat "$t/status")"
    [ "$(sha256sum < "$t/disk.img")" = "$sum" ] || fail "'$1': the disk was written"
    [ ! -e "$t/mnt/nbdkit.pid" ] || fail "'$1': nbdkit left running"
    ! pgrep -f "nbdkit.*$t/mnt" >/dev/null || fail "'$1': nbdkit still runs"
    echo "refused as expected: $(grep -E -- "$2" "$t/err" | head -1)"
}
refused "$url/vm.qcow2" \
    "source '$url/vm.qcow2': is a qcow2 image: an http\\(s\\) source is read as a raw disk"
refused "$url/nosuch.img" "source '$url/nosuch.img' cannot be read: the web server is unreachable or does not serve that path"
refused "http://127.0.0.1:1/x.img" "source 'http://127.0.0.1:1/x.img' cannot be read: the web server is unreachable"
grep -q "HEAD /vm.qcow2\|GET /vm.qcow2" "$t/httpd.log" || fail "the web server was not asked"

# The raw image goes through NBD into the deploy, which refuses it.
s=$(date +%s)
refused "$url/blank.img" "no operating system found"
echo "deploy attempt took $(( $(date +%s) - s ))s"
grep -q "deploying 'nbd+unix:///?socket=$t/mnt/nbd.sock'" "$t/err" ||
    fail "not read through NBD: $(cat "$t/err")"
grep -q '"ok":false' "$t/ferry-deploy.json" || fail "report"
echo ok
