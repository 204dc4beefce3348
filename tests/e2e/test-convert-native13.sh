#!/bin/bash
# Issue 10's acceptance, the other way: a Debian 13 VM whose initramfs holds
# only virtio drivers (tests/guests.sh debian13-virtio), after `ferry
# convert --to native`, boots on an AHCI disk and on an NVMe disk (two boots
# of the same result).  Its initramfs before and after is compared module by
# module with the guest's own unmkinitramfs and modprobe
# (tests/initramfs.sh): every module the old image had is still a file in
# the new one, in its modules.dep and loadable, and so are ahci and nvme.
# All problems are gathered and reported together, the boots included.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
source "$TESTS_DIR/initramfs.sh"
requires guestfish qemu-img sha256sum
src=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian13-virtio)
host=$(sed -n 's/^HOSTNAME=//p' "${src%.img}.info")
t=$(mktmpdir)
export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
export FERRY_KVM_TIMEOUT=${FERRY_KVM_TIMEOUT:-3}
problems=()

initrd_inventory "$src" "$t/old"
grep -qx virtio_blk "$t/old/$(cat "$t/old/initrd").files" || fail "source initramfs has no virtio_blk"
grep -Eqx 'ahci|nvme' "$t/old/$(cat "$t/old/initrd").files" && fail "source initramfs has ahci or nvme"

before=$(sha256sum < "$src")
s=$(date +%s)
"$FERRY" convert "$src" --to native -o "$t/out.qcow2" > "$t/report.txt" 2>&1 ||
    fail "convert --to native failed: $(tail -n 3 "$t/report.txt")"
echo "convert --to native took $(( $(date +%s) - s ))s"
cat "$t/report.txt"
[ "$(sha256sum < "$src")" = "$before" ] || fail "the input image was modified"
qemu-img check -q "$t/out.qcow2" || fail "qemu-img check failed on the output"

mapfile -t oldmods < <(initrd_files "$t/old")
initrd_inventory "$t/out.qcow2" "$t/new" "${oldmods[@]}" ahci sd_mod nvme
new=$t/new/$(cat "$t/new/initrd")
grep -q 'pre-ferry$' "$t/new/images" || problems+=("old initramfs not kept as *.pre-ferry")
if ! cmp=$(initrd_compare "$t/old" "$t/new"); then
    while IFS= read -r l; do problems+=("initramfs: $l"); done <<< "$cmp"
fi
for m in ahci sd_mod nvme; do
    grep -qx "$m ok" "$new.probe" || problems+=("$m not loadable: $(grep "^$m " "$new.probe")")
done

if [ -z "${FERRY_NO_BOOT:-}" ]; then
    for bus in ahci nvme; do
        if boot_guest "$t/out.qcow2" "$bus"; then
            grep -q "$host login:" "$(boot_guest_log)" ||
                problems+=("$bus: login prompt without hostname $host")
        else
            problems+=("native-converted guest does not boot on $bus: $(tr -d '\r' < "$(boot_guest_log)" |
                grep -E 'mount: |Failed to mount|Gave up|ALERT|Kernel panic' | head -n 3 | tr '\n' ' ')")
        fi
    done
else
    echo "boots skipped (FERRY_NO_BOOT)"
fi

if [ ${#problems[@]} -gt 0 ]; then
    printf '  %s\n' "${problems[@]}" >&2
    fail "${#problems[@]} problem(s) with the Debian 13 native conversion (above)"
fi
echo ok
