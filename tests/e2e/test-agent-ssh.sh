#!/bin/bash
# `ferry agent` to an ssh:// target: an sshd of the test's own (config,
# host key, authorized key in a temp dir) on 127.0.0.1, reached with a key
# through sshfs.  The image on the server equals the source disk; a key the
# server does not accept is a clear "unreachable" error.
source "$(dirname "$0")/../functions.sh"
requires qemu-img sshfs ssh-keygen fusermount
[ -x /usr/sbin/sshd ] || { echo "SKIP: sshd not installed"; exit 77; }
[ -e /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
t=$(mktmpdir)
chmod 700 "$t"
mkdir -p "$t/remote" "$t/mnt" "$t/empty"
start_sshd "$t"
ssh-keygen -q -t ed25519 -N '' -f "$t/wrong"
cleanup_fn "fusermount -u '$t/mnt' 2>/dev/null"
user=$(id -un)

make_test_disk "$t/src.raw" 40
cp "$t/src.raw" "$t/src.orig"
"$FERRY" agent --no-post --no-network --status "$t/status" --mount-dir "$t/mnt" \
    --disk "$t/src.raw" --cmdline \
    "ferry.target=ssh://$user@127.0.0.1:$port$t/remote ferry.sshkey=$t/id ferry.name=srv ferry.format=vmdk ferry.yes" \
    2>"$t/console" || fail "agent: $(cat "$t/console") :: $(tail -5 "$t/sshd.log")"
img=$t/remote/srv/srv-src.raw.vmdk
qemu-img check -q "$img" || fail "qemu-img check"
qemu_compare "$t/src.raw" "$img"
cmp "$t/src.raw" "$t/src.orig" || fail "the source disk was written"
[ "$(cat "$t/status")" = "0 ok" ] || fail "status: $(cat "$t/status")"
[ "$(cat "$t/remote/srv/ferry-status")" = "0 ok" ] || fail "remote status"
grep -q '"ok":true' "$t/remote/srv/srv.json" || fail "report"
grep -q "capturing '$t/src.raw'" "$t/remote/srv/ferry-agent.log" || fail "log"
ls -A "$t/remote/srv" | grep -q ferry-tmp && fail "temporary left on the server"
mountpoint -q "$t/mnt" && fail "target still mounted"

# A key the server refuses: unreachable, nothing written.
rc=0
"$FERRY" agent --no-post --no-network --status "$t/status" --mount-dir "$t/mnt" \
    --disk "$t/src.raw" --cmdline \
    "ferry.target=ssh://$user@127.0.0.1:$port$t/empty ferry.sshkey=$t/wrong ferry.yes" \
    2>"$t/err" || rc=$?
[ "$rc" -eq 1 ] || fail "wrong key: exit $rc"
grep -q "is unreachable: sshfs failed" "$t/err" || fail "wrong key: $(cat "$t/err")"
grep -q "^1 target 'ssh://.*' is unreachable" "$t/status" || fail "status: $(cat "$t/status")"
[ -z "$(ls -A "$t/empty")" ] || fail "written with a refused key"
echo ok
