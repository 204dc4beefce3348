#!/bin/bash
# --verify-boot of a bad conversion: the reference guest is given a kernel
# command line that cannot mount its root (rootfstype=vfat on grub.cfg's
# kernel lines, and in /etc/default/grub should the conversion regenerate
# grub.cfg), so its conversion succeeds but the result stops in the
# initramfs.  `ferry
# convert --to kvm --verify-boot` must report that boot as failed with the
# console's own line and the seconds, in --json and in text, exit non-zero,
# and write no output.  Asking it of a xen target is refused up front.
source "$(dirname "$0")/../functions.sh"
requires guestfish qemu-img qemu-system-x86_64
[ -z "${FERRY_NO_BOOT:-}" ] || { echo "SKIP: boots a guest (FERRY_NO_BOOT)"; exit 77; }
export FERRY_KVM_TIMEOUT=${FERRY_KVM_TIMEOUT:-3}
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)

expect_fail "xen guest cannot be booted here" \
    "$FERRY" convert "$ref" --to xen -o "$t/x.qcow2" --verify-boot
expect_fail "needs -o OUT" \
    "$FERRY" convert "$ref" --to kvm --in-place --verify-boot

qemu-img create -q -f qcow2 -b "$ref" -F raw "$t/in.qcow2"
guestfish --rw -a "$t/in.qcow2" -i <<'GF'
command "sed -i -e 's/^GRUB_CMDLINE_LINUX=\"/GRUB_CMDLINE_LINUX=\"rootfstype=vfat /' /etc/default/grub"
command "sed -i -e 's/^\\([[:space:]]*linux[[:space:]].*\\)$/\\1 rootfstype=vfat/' /boot/grub/grub.cfg"
GF
guestfish --ro -a "$t/in.qcow2" -i cat /boot/grub/grub.cfg | grep -q '^[[:space:]]*linux.*rootfstype=vfat' ||
    fail "could not break the guest's command line"

rc=0
"$FERRY" convert "$t/in.qcow2" --to kvm -o "$t/out.qcow2" --verify-boot \
    --json > "$t/report.json" 2> "$t/err" || rc=$?
cat "$t/report.json" "$t/err"
[ "$rc" -eq 1 ] || fail "exit $rc, expected 1"
[ ! -e "$t/out.qcow2" ] || fail "an output was written although it does not boot"
compgen -G "$t/.*ferry-tmp*" >/dev/null && fail "temporary files left behind"
grep -q '"ok":false' "$t/report.json" || fail "the report does not say not ok"
grep -Eq '"verify_boot":\[\{"bus":"virtio","outcome":"(root-failed|panic)","seconds":[0-9.]+' \
    "$t/report.json" || fail "the report does not show the failed boot"
grep -Eq '"evidence":"[^"]*(initramfs|as root file system|Kernel panic|Gave up)' "$t/report.json" ||
    fail "the report does not quote the console"
grep -q 'verify-boot: the result does not boot on virtio' "$t/err" ||
    fail "no one-line error: $(cat "$t/err")"
[ "$(wc -l < "$t/err")" -le 2 ] || fail "error not on one line"
echo ok
