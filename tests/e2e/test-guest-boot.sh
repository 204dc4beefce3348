#!/bin/bash
# test-guest-boot: the reference "physical machine" (tests/guests.sh
# debian12-ahci) boots on AHCI to its login prompt and does NOT boot on
# virtio-blk.  This is what makes the conversion tests meaningful: a
# converted disk that boots on virtio proves the conversion did something.
# shellcheck source=tests/functions.sh
source "$(dirname "$0")/../functions.sh"
# shellcheck source=tests/boot.sh
source "$(dirname "$0")/../boot.sh"

if [ -n "${FERRY_NO_BOOT:-}" ]; then echo "SKIP: FERRY_NO_BOOT is set"; exit 77; fi

t0=$(date +%s)
img=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci) || fail "could not build the reference guest"
echo "reference guest: $img ($(( $(date +%s) - t0 ))s to build or find)"
[ -f "$img" ] || fail "guests.sh printed '$img', which is not a file"
before=$(stat -c '%s %Y' "$img")

# 1. Boots on AHCI, with its own hostname, on the serial console.
t=$(date +%s)
boot_guest "$img" ahci 300 || fail "reference guest does not boot on AHCI"
echo "AHCI boot: $(( $(date +%s) - t ))s"
log=$(boot_guest_log)
grep -q 'ferry-ref login:' "$log" || fail "login prompt without hostname ferry-ref (see $log)"
grep -Eiq 'virtio' "$log" && echo "note: console mentions virtio: $(grep -i virtio "$log" | head -n 3)"

# 2. Does not boot on virtio-blk: the initramfs has no virtio_blk, so the
#    root device never appears.
t=$(date +%s)
if boot_guest "$img" virtio 300 2>/dev/null; then
    fail "reference guest booted on virtio-blk: its initramfs must not have virtio drivers"
fi
echo "virtio boot failed as expected: $(( $(date +%s) - t ))s"
log=$(boot_guest_log)
grep -Eq 'Gave up waiting for root|ALERT! |\(initramfs\)' "$log" ||
    { tail -n 30 "$log" >&2; fail "virtio boot failed, but not for want of the root device (see $log)"; }

# 3. -snapshot: the image is untouched.
[ "$(stat -c '%s %Y' "$img")" = "$before" ] || fail "booting modified $img"

echo "PASS: reference guest boots on AHCI, not on virtio-blk ($(( $(date +%s) - t0 ))s)"
