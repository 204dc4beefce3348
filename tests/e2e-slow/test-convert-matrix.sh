#!/bin/bash
# The guest matrix (issue 10): the distributions and layouts users run, each
# an AHCI-only "physical machine" of tests/guests.sh, converted with
# `ferry convert --to kvm --verify-boot`:
#   debian11-ahci         Debian 11, ext4
#   debian13-btrfs-ahci   Debian 13, root on btrfs
#   debian13-lvm-ahci     Debian 13, root on ext4 in LVM
#   debian13-uefi-ahci    Debian 13, GPT + ESP, GRUB x86_64-efi (booted
#                         under OVMF)
#   debian13-dracut-ahci  Debian 13 with dracut instead of initramfs-tools
# (Debian 12 and 13 on ext4/xfs with initramfs-tools are in make check.)
# For each: the report says ok and its own boot check reached the login
# prompt on virtio; the guest's initramfs before and after, read with the
# guest's own tools, still loads every module it had plus virtio_blk,
# virtio_net, virtio_pci and the root's driver; the input is unchanged; and
# the result boots here too on virtio-blk + virtio-net to a login prompt
# with the guest's hostname (the test's own console reader).
# Two guests are converted and booted at a time; each guest's log is in
# $t/NAME.log and is shown when it fails.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
source "$TESTS_DIR/initramfs.sh"
requires guestfish qemu-img python3
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -f "$ovmf_code" ] && [ -f "$ovmf_vars" ] || { echo "SKIP: ovmf not installed"; exit 77; }
t=$(mktmpdir)
guests="${FERRY_MATRIX:-debian11-ahci debian13-btrfs-ahci debian13-lvm-ahci debian13-uefi-ahci debian13-dracut-ahci}"

# The images first, one after the other (guests.sh builds under a lock).
for g in $guests; do
    s=$(date +%s)
    "$TESTS_DIR/guests.sh" "$BUILDDIR" "$g" > "$t/$g.path" ||
        fail "cannot build the guest $g"
    echo "$g: $(cat "$t/$g.path") ready in $(( $(date +%s) - s ))s"
done

# one_guest NAME: the whole proof for one guest; exits non-zero with the
# reason as its last line.
one_guest () (
    g=$1
    src=$(cat "$t/$g.path")
    info=${src%.img}.info
    # shellcheck disable=SC1090
    . "$info"
    d=$t/$g
    mkdir -p "$d"
    before=$(sha256sum < "$src")
    extra_mod=$ROOT_FS
    [ "$LAYOUT" != lvm ] || extra_mod="$extra_mod dm_mod"

    s=$(date +%s)
    "$FERRY" convert "$src" --to kvm -o "$d/out.qcow2" --verify-boot --json > "$d/report.json" ||
        fail "$g: convert --verify-boot failed: $(cat "$d/report.json")"
    echo "$g: convert --verify-boot took $(( $(date +%s) - s ))s"
    cat "$d/report.json"
    [ "$(sha256sum < "$src")" = "$before" ] || fail "$g: the input image was modified"
    python3 - "$d/report.json" "$g" <<'PY' || fail "$g: report: $(cat "$d/report.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is True, "not ok"
vb = r["verify_boot"]
assert vb and all(b["outcome"] == "booted" for b in vb), vb
assert any(b["bus"] == "virtio" for b in vb), vb
print("%s: verify_boot %s" % (sys.argv[2], ", ".join(
    "%s %s in %.0fs (%s)" % (b["bus"], b["outcome"], b["seconds"], b["accelerator"]) for b in vb)))
PY
    qemu-img check -q "$d/out.qcow2" || fail "$g: qemu-img check"
    # shellcheck disable=SC2086
    initrd_prove "$src" "$d/out.qcow2" "$d/ir" virtio_blk virtio_net virtio_pci $extra_mod

    uefi=()
    if [ "$LAYOUT" = uefi ]; then
        cp "$ovmf_vars" "$d/vars.fd"
        uefi=(-drive "if=pflash,format=raw,readonly=on,file=$ovmf_code"
              -drive "if=pflash,format=raw,file=$d/vars.fd")
    fi
    boot_guest "$d/out.qcow2" virtio 600 "${uefi[@]}" ||
        fail "$g: the converted guest does not boot on virtio (log $(boot_guest_log))"
    grep -q "$HOSTNAME login:" "$(boot_guest_log)" ||
        fail "$g: login prompt without the hostname $HOSTNAME"
    if [ "$LAYOUT" = uefi ]; then
        grep -q 'efi: EFI v' "$(boot_guest_log)" || fail "$g: the kernel did not start through UEFI"
    fi
    echo "$g: ok"
)

# Two at a time.
declare -A pid_of
failed=()
for g in $guests; do
    while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
    one_guest "$g" > "$t/$g.log" 2>&1 &
    pid_of[$g]=$!
    echo "$g: started (log $t/$g.log)"
done
for g in $guests; do
    if wait "${pid_of[$g]}"; then
        grep -E "^($g: |initramfs: )" "$t/$g.log"
    else
        failed+=("$g")
        echo "---- $g FAILED; its log:"
        sed 's/^/  | /' "$t/$g.log"
    fi
done
[ ${#failed[@]} -eq 0 ] || fail "guests that failed: ${failed[*]}"
echo ok
