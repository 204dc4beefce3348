#!/bin/bash
# An xfs whose log needs recovery (the appliance is killed while it is
# mounted, after a sync: no unmount record) is copied in full, and capture
# says so: a warning naming it, and --json's note.  xfs_repair -n of the
# host agrees that the log holds changes to replay.  (A cleanly unmounted
# xfs after real use is mapped: test-capture-xfs-lvm.sh.)
source "$(dirname "$0")/../functions.sh"
requires guestfish qemu-img xfs_repair
t=$(mktmpdir)
cd "$t"
truncate -s 320M dirty.raw
guestfish --listen > listen.env
source listen.env
cleanup_fn "kill $GUESTFISH_PID 2>/dev/null || true"
guestfish --remote -- add dirty.raw format:raw
guestfish --remote -- run
guestfish --remote -- mkfs xfs /dev/sda
guestfish --remote -- mount /dev/sda /
head -c 8M /dev/urandom > data.bin
guestfish --remote -- upload data.bin /data.bin
guestfish --remote -- sync
pid=$(guestfish --remote -- get-pid)
kill -9 "$pid"
kill "$GUESTFISH_PID" 2>/dev/null || true
xfs_repair -n dirty.raw > repair.out 2>&1 || true
grep -q "valuable metadata changes in a log" repair.out ||
    fail "the test did not make a dirty xfs: $(grep -A2 'Phase 2' repair.out)"

"$FERRY" capture --json dirty.raw -o d.qcow2 > report.json
python3 - report.json <<'PY' || fail "--json does not say the xfs was copied in full"
import json, sys
p, = json.load(open(sys.argv[1]))["captures"][0]["partitions"]
assert p["filesystem"] == "xfs" and p["policy"] == "non-zero", p
assert "log needs recovery" in p["note"], p
assert p["kept_bytes"] == 320 << 20, p
PY
"$FERRY" capture dirty.raw -o d2.qcow2 2> text.err
grep -q "^ferry: warning: 'dirty.raw' partition 0: xfs: log needs recovery" text.err ||
    fail "no warning: $(cat text.err)"

echo ok
