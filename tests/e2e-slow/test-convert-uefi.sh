#!/bin/bash
# `ferry convert --to kvm -o OUT` of a UEFI guest (tests/data/
# make-convert-uefi.sh: GPT, an EFI system partition holding only
# EFI/debian/grubx64.efi, fstab by device names): OUT has the fallback
# loader EFI/BOOT/BOOTX64.EFI, byte-identical to the guest's grubx64.efi,
# fstab names / and /boot/efi by UUID, the input is untouched, and OUT boots
# under OVMF (UEFI firmware, no NVRAM boot entry: only the fallback loader
# can start it) on virtio-blk to the login prompt.
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/boot.sh"
source "$TESTS_DIR/initramfs.sh"
requires guestfish qemu-img grub-mkimage mkfs.vfat mcopy mdir sfdisk debugfs
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -f "$ovmf_code" ] && [ -f "$ovmf_vars" ] || { echo "SKIP: ovmf not installed"; exit 77; }
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
t=$(mktmpdir)

s=$(date +%s)
read -r root_uuid esp_uuid < <("$TESTS_DIR/data/make-convert-uefi.sh" "$ref" "$t/uefi.img")
echo "UEFI disk (root $root_uuid, ESP $esp_uuid) in $(( $(date +%s) - s ))s"
export MTOOLS_SKIP_CHECK=1
mdir -b -i "$t/uefi.img@@1M" ::/EFI/debian | grep -q 'grubx64.efi' || fail "no grubx64.efi on the ESP"
mdir -b -i "$t/uefi.img@@1M" ::/EFI/BOOT >/dev/null 2>&1 && fail "the input already has EFI/BOOT"
in_sum=$(sha256sum < "$t/uefi.img")

s=$(date +%s)
"$FERRY" convert "$t/uefi.img" --to kvm -o "$t/out.qcow2" --json > "$t/report.json"
echo "convert took $(( $(date +%s) - s ))s"
cat "$t/report.json"
[ "$(sha256sum < "$t/uefi.img")" = "$in_sum" ] || fail "the input image was modified"
grep -q '"what":"uefi","path":"/boot/efi/EFI/BOOT/BOOTX64.EFI","detail":"fallback loader copied from /boot/efi/EFI/debian/grubx64.efi"' \
    "$t/report.json" || fail "report does not list the fallback loader"

guestfish --ro -a "$t/out.qcow2" > "$t/gf.out" <<'GF'
run
mount-ro /dev/sda2 /
mount-ro /dev/sda1 /boot/efi
echo ==fallback
checksum sha256 /boot/efi/EFI/BOOT/BOOTX64.EFI
echo ==debian
checksum sha256 /boot/efi/EFI/debian/grubx64.efi
echo ==fstab
cat /etc/fstab
GF
fallback=$(sed -n '/^==fallback$/{n;p}' "$t/gf.out")
loader=$(sed -n '/^==debian$/{n;p}' "$t/gf.out")
[ -n "$fallback" ] && [ "$fallback" = "$loader" ] ||
    fail "BOOTX64.EFI ($fallback) is not the guest's grubx64.efi ($loader)"
sed -n '/^==fstab$/,$p' "$t/gf.out" > "$t/fstab"
grep -Eq "^UUID=${esp_uuid}[[:space:]]+/boot/efi[[:space:]]+vfat" "$t/fstab" ||
    fail "/boot/efi not by UUID: $(cat "$t/fstab")"
grep -Eq "^UUID=${root_uuid}[[:space:]]+/[[:space:]]+ext4" "$t/fstab" ||
    fail "/ not by UUID: $(cat "$t/fstab")"
grep -q '^/dev/' "$t/fstab" && fail "fstab still names devices: $(cat "$t/fstab")"
initrd_prove "$t/uefi.img" "$t/out.qcow2" "$t/ir" virtio_blk virtio_net virtio_pci

if [ -n "${FERRY_NO_BOOT:-}" ]; then echo "boot skipped (FERRY_NO_BOOT)"; exit 0; fi
cp "$ovmf_vars" "$t/vars.fd"
boot_guest "$t/out.qcow2" virtio 600 \
    -drive "if=pflash,format=raw,readonly=on,file=$ovmf_code" \
    -drive "if=pflash,format=raw,file=$t/vars.fd" ||
    fail "converted UEFI guest does not boot under OVMF"
grep -q 'efi: EFI v' "$(boot_guest_log)" || fail "the kernel did not start through UEFI"
echo ok
