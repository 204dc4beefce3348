#!/bin/bash
# The capture agent's ferry.verify=1 (the boot ISO's unattended run, here
# on the host: the ISO runs the same agent, and a TCG guest booted inside
# the TCG-emulated ISO would take most of an hour): the reference machine
# captured with ferry.convert=kvm ferry.verify=1 is booted by the agent on
# virtio before the image is published; its log and status say so, the
# image passes qemu-img check, and the test boots it again itself.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
requires qemu-img guestfish
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)
mkdir "$t/out"
before=$(sha256sum < "$ref")
s=$(date +%s)
LIBGUESTFS_BACKEND_SETTINGS=force_tcg "$FERRY" agent --no-post --no-network \
    --status "$t/status" --mount-dir "$t/mnt" --disk "$ref" --cmdline \
    "ferry.target=file:$t/out ferry.name=vb ferry.format=qcow2 ferry.convert=kvm ferry.verify=1 ferry.yes" \
    2> "$t/console" || fail "agent failed: $(tail -n 20 "$t/console")"
echo "agent capture + convert + verify-boot took $(( $(date +%s) - s ))s"
[ "$(sha256sum < "$ref")" = "$before" ] || fail "the source disk was written"
[ "$(cat "$t/status")" = "0 ok" ] || fail "status: $(cat "$t/status")"
grep -E 'verify-boot: booted on virtio' "$t/console" || fail "no verify-boot line: $(tail -n 20 "$t/console")"
grep -q 'verify-boot: booted on virtio' "$t/out/vb/ferry-agent.log" || fail "the agent's log lacks the boot"
img=$(ls "$t"/out/vb/*.qcow2)
qemu-img check -q "$img" || fail "qemu-img check"
boot_guest "$img" virtio || fail "the verified image does not boot on virtio here"
echo ok
