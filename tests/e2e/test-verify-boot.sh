#!/bin/bash
# --verify-boot of a good conversion: `ferry capture --convert kvm
# --verify-boot` of the reference machine boots the result under qemu on
# virtio before writing it, reports "booted" with the console line that
# proved it (the login prompt) and the seconds, in text and in --json, and
# the result is then written.  The boot is Ferry's own; the test reads
# what it reported and checks the image it wrote with qemu-img.
source "$(dirname "$0")/../functions.sh"
requires guestfish qemu-img qemu-system-x86_64
[ -z "${FERRY_NO_BOOT:-}" ] || { echo "SKIP: boots a guest (FERRY_NO_BOOT)"; exit 77; }
export FERRY_KVM_TIMEOUT=${FERRY_KVM_TIMEOUT:-3}
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)
cp --sparse=always "$ref" "$t/disk.img"
before=$(sha256sum < "$t/disk.img")

s=$(date +%s)
"$FERRY" capture "$t/disk.img" --convert kvm --verify-boot -O qcow2 \
    -o "$t/out.qcow2" --json > "$t/report.json" ||
    fail "capture --convert kvm --verify-boot failed: $(cat "$t/report.json")"
echo "capture --convert --verify-boot took $(( $(date +%s) - s ))s"
cat "$t/report.json"
[ "$(sha256sum < "$t/disk.img")" = "$before" ] || fail "the source was written"
grep -q '"ok":true' "$t/report.json" || fail "the report does not say ok"
grep -Eq '"verify_boot":\[\{"bus":"virtio","outcome":"booted","seconds":[0-9.]+,"accelerator":"(kvm|tcg)","evidence":"[^"]*login: *"' \
    "$t/report.json" || fail "the report does not show a boot to the login prompt on virtio"
qemu-img check -q "$t/out.qcow2" || fail "the verified output fails qemu-img check"
compgen -G "$t/.*ferry-tmp*" >/dev/null && fail "temporary files left behind"
echo ok
