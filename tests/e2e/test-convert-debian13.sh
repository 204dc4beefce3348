#!/bin/bash
# Issue 10's acceptance: a Debian 13 machine with its root on xfs and only
# AHCI drivers in its initramfs (tests/guests.sh debian13-xfs-ahci), after
# `ferry capture --convert kvm`, boots on virtio-blk to its login prompt.
# First the source is shown to boot on AHCI and not on virtio-blk (so the
# boot proves the conversion); then the initramfs before and after is
# compared module by module with the guest's own unmkinitramfs and modprobe
# (tests/initramfs.sh): every module the old image had is still a file in
# the new one, in its modules.dep and loadable, and virtio_blk is loadable.
# Debian 13 keeps its modules in the early, uncompressed cpio segment and
# modules.dep in the main one: a fast path that rebuilds modules.dep from
# the main segment alone loses xfs and every other module of the guest
# ("mount: No such device" at boot).  All problems are gathered and
# reported together, the boot included, so one run shows the whole picture.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
source "$TESTS_DIR/initramfs.sh"
requires guestfish qemu-img sha256sum
src=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian13-xfs-ahci)
info () { sed -n "s/^$1=//p" "${src%.img}.info"; }
root_uuid=$(info ROOT_UUID) host=$(info HOSTNAME)
t=$(mktmpdir)
export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
export FERRY_KVM_TIMEOUT=${FERRY_KVM_TIMEOUT:-3}
problems=()

# 1. The source's initramfs, and its kernel and initramfs for the direct
#    boot in 3.
initrd_inventory -k "$src" "$t/old"
grep -qx xfs "$t/old/$(cat "$t/old/initrd").files" || fail "source initramfs has no xfs module"
grep -qx virtio_blk "$t/old/$(cat "$t/old/initrd").files" && fail "source initramfs has virtio_blk"

boot=${FERRY_NO_BOOT:+no}
if [ -z "$boot" ]; then
    # 2. The source boots on AHCI (GRUB, its own disk).
    s=$(date +%s)
    boot_guest "$src" ahci || fail "debian13-xfs-ahci does not boot on AHCI"
    grep -q "$host login:" "$(boot_guest_log)" || fail "login prompt without hostname $host"
    echo "source: login prompt on AHCI after $(( $(date +%s) - s ))s"
    # 3. ...and not on virtio-blk: its own kernel and initramfs with the
    #    command line GRUB gives it, less initramfs-tools' 180 s wait for
    #    the root device (rootdelay=15).
    s=$(date +%s)
    if boot_guest "$src" virtio 180 -kernel "$t/old/vmlinuz" -initrd "$t/old/initrd.img" \
        -append "root=UUID=$root_uuid ro console=tty0 console=ttyS0,115200n8 rootdelay=15" 2>/dev/null; then
        fail "debian13-xfs-ahci booted on virtio-blk: its initramfs must not have virtio drivers"
    fi
    grep -Eq 'Gave up waiting for root|ALERT! ' "$(boot_guest_log)" ||
        fail "the source failed on virtio-blk, but not for want of its root device (see $(boot_guest_log))"
    echo "source: no root device on virtio-blk after $(( $(date +%s) - s ))s:" \
        "$(tr -d '\r' < "$(boot_guest_log)" | grep -E 'Gave up waiting for root|ALERT! ' | head -n 1)"
fi

# 4. The capture, from a sparse copy (the cached guest stays as it is).
cp --sparse=always "$src" "$t/disk.img"
before=$(sha256sum < "$t/disk.img")
s=$(date +%s)
"$FERRY" capture "$t/disk.img" --convert kvm -O qcow2 -o "$t/out.qcow2" --json \
    > "$t/report.json" 2> "$t/capture.err" ||
    fail "capture --convert kvm failed: $(tail -n 3 "$t/capture.err")"
echo "capture --convert kvm took $(( $(date +%s) - s ))s"
cat "$t/report.json"
[ "$(sha256sum < "$t/disk.img")" = "$before" ] || fail "the source was written"
qemu-img check -q "$t/out.qcow2" || fail "qemu-img check failed on the output"

# 5. Module by module: the new initramfs against the source's, probing
#    every module the source had plus the virtio disk path.
mapfile -t oldmods < <(initrd_files "$t/old")
initrd_inventory "$t/out.qcow2" "$t/new" "${oldmods[@]}" virtio_blk virtio_pci
new=$t/new/$(cat "$t/new/initrd")
grep -q 'pre-ferry$' "$t/new/images" || problems+=("old initramfs not kept as *.pre-ferry")
if ! cmp=$(initrd_compare "$t/old" "$t/new"); then
    while IFS= read -r l; do problems+=("initramfs: $l"); done <<< "$cmp"
fi
grep -qx virtio_blk "$new.files" || problems+=("new initramfs has no virtio_blk")
grep -qx 'virtio_blk ok' "$new.probe" || problems+=("virtio_blk not loadable: $(grep '^virtio_blk ' "$new.probe")")
grep -qx xfs "$new.dep" || problems+=("modules.dep of the new initramfs does not list xfs (the root filesystem)")

# 6. The proof: the result boots on virtio-blk to its login prompt.
if [ -z "$boot" ]; then
    if boot_guest "$t/out.qcow2" virtio; then
        grep -q "$host login:" "$(boot_guest_log)" || problems+=("login prompt without hostname $host")
    else
        problems+=("converted guest does not boot on virtio-blk: $(tr -d '\r' < "$(boot_guest_log)" |
            grep -E 'mount: |Failed to mount|Gave up|ALERT|Kernel panic' | head -n 3 | tr '\n' ' ')")
    fi
else
    echo "boots skipped (FERRY_NO_BOOT)"
fi

if [ ${#problems[@]} -gt 0 ]; then
    printf '  %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problem(s) with the Debian 13 xfs conversion (above)"
fi
echo ok
