#!/bin/bash
# Outputs appear only when complete: Ctrl-C (SIGINT) and SIGTERM remove the
# partial file, SIGKILL leaves only a hidden temporary (never the output
# name), and a full filesystem gives a clear error and no output.
source "$(dirname "$0")/../functions.sh"
requires nbdkit
t=$(mktmpdir)
truncate -s 64M "$t/disk.img"
head -c 24M /dev/urandom | dd of="$t/disk.img" conv=notrunc status=none

# A slow disk so the capture is still running when the signal arrives.
nbdkit -U "$t/slow.sock" -P "$t/slow.pid" --filter=delay file "$t/disk.img" rdelay=500ms
cleanup_fn "kill \$(cat '$t/slow.pid') 2>/dev/null"
for _ in $(seq 50); do [ -S "$t/slow.sock" ] && break; sleep 0.1; done

for sig in INT TERM KILL; do
    mkdir "$t/out-$sig"
    "$FERRY" capture -q "nbd+unix:///?socket=$t/slow.sock" -o "$t/out-$sig/disk.vhd" &
    pid=$!
    sleep 1.5
    kill -"$sig" "$pid"
    wait "$pid" && fail "capture survived SIG$sig"
    [ ! -e "$t/out-$sig/disk.vhd" ] || fail "SIG$sig left a complete-looking output"
    left=$(ls -A "$t/out-$sig")
    if [ "$sig" = KILL ]; then
        case $left in ""|.disk.vhd.ferry-tmp-*) ;; *) fail "SIGKILL left '$left'" ;; esac
    else
        [ -z "$left" ] || fail "SIG$sig left '$left' behind"
    fi
done

# ENOSPC: a 4 MiB tmpfs cannot hold 24 MiB of random data.
mkdir "$t/small"
if ! mount -t tmpfs -o size=4m tmpfs "$t/small" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs here (not root)"; exit 77
fi
cleanup_fn "umount '$t/small'"
for fmt in vhd qcow2 vmdk raw; do
    expect_fail "No space left on device" "$FERRY" capture -q "$t/disk.img" -o "$t/small/disk.$fmt"
    [ -z "$(ls -A "$t/small")" ] || fail "$fmt: ENOSPC left $(ls -A "$t/small")"
done
echo ok
