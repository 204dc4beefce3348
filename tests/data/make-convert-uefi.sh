#!/bin/bash
# make-convert-uefi.sh REF OUT: a raw UEFI disk for `ferry convert` tests.
# GPT with an EFI system partition (FAT) holding only EFI/debian/grubx64.efi
# (made here with the host's grub-mkimage, its modules beside it) and no
# fallback EFI/BOOT/BOOTX64.EFI, then a copy of REF's root (the reference
# guest's partition 1, same filesystem UUID) whose fstab names both
# partitions by device (/dev/sda2 on /, /dev/sda1 on /boot/efi).  Built on
# the host with mtools, e2fsprogs and sfdisk, without a libguestfs appliance.
# Prints "ROOT_UUID ESP_UUID" on stdout.
set -euo pipefail
ref=$1 out=$2
work=$(mktemp -d "${TMPDIR:-/var/tmp}/make-convert-uefi.XXXXXX")
trap 'rm -rf "$work"' EXIT
mods=/usr/lib/grub/x86_64-efi
esp_sectors=131072              # 64 MiB

read -r start size < <(sfdisk -d "$ref" | awk -F'[=,]' '
    /^[^ ]*1 : start=/ { gsub(/ /, ""); print $2, $4 }')
[ -n "${size:-}" ] || { echo "make-convert-uefi: no partition 1 in $ref" >&2; exit 1; }
root_uuid=$(blkid -p -o value -s UUID --offset $(( start * 512 )) "$ref")

# GRUB as Debian's grub-install lays it out for EFI: the image finds the
# root by UUID and reads its grub.cfg; modules load from the ESP ($prefix).
cat > "$work/early.cfg" <<CFG
search --no-floppy --fs-uuid --set=root $root_uuid
configfile (\$root)/boot/grub/grub.cfg
CFG
grub-mkimage -O x86_64-efi -o "$work/grubx64.efi" -p /EFI/debian \
    -c "$work/early.cfg" part_gpt part_msdos fat ext2 search search_fs_uuid \
    normal configfile linux gzio echo test serial terminal terminfo \
    efi_gop efi_uga all_video video_fb font gfxterm loadenv boot

esp_id=$(printf '%08X' $(( RANDOM * 32768 + RANDOM )))
truncate -s $(( esp_sectors * 512 )) "$work/esp.img"
mkfs.vfat -i "$esp_id" -n EFI "$work/esp.img" >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$work/esp.img" ::/EFI ::/EFI/debian ::/EFI/debian/x86_64-efi
mcopy -i "$work/esp.img" "$work/grubx64.efi" ::/EFI/debian/grubx64.efi
mcopy -i "$work/esp.img" "$mods"/*.mod "$mods"/*.lst ::/EFI/debian/x86_64-efi/
esp_uuid=$(blkid -p -o value -s UUID "$work/esp.img")

# The root: REF's, with an fstab by device names and a /boot/efi.
dd if="$ref" of="$work/root.img" bs=1M iflag=skip_bytes,count_bytes \
    skip=$(( start * 512 )) count=$(( size * 512 )) conv=sparse status=none
cat > "$work/fstab" <<FSTAB
# UEFI guest (tests/data/make-convert-uefi.sh): devices by name
/dev/sda2 / ext4 errors=remount-ro 0 1
/dev/sda1 /boot/efi vfat umask=0077 0 1
FSTAB
debugfs -w -f - "$work/root.img" >/dev/null 2>&1 <<CMDS
rm /etc/fstab
write $work/fstab /etc/fstab
mkdir /boot/efi
CMDS
e2fsck -fn "$work/root.img" >/dev/null 2>&1
debugfs -R 'cat /etc/fstab' "$work/root.img" 2>/dev/null | grep -q '^/dev/sda1 /boot/efi' ||
    { echo "make-convert-uefi: debugfs did not write /etc/fstab" >&2; exit 1; }

root_start=$(( 2048 + esp_sectors ))
truncate -s $(( (root_start + size) * 512 + 1048576 )) "$work/out.img"
sfdisk --no-reread --no-tell-kernel --wipe-partitions never -q "$work/out.img" \
    >/dev/null <<TABLE
label: gpt
start=2048, size=$esp_sectors, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system partition"
start=$root_start, size=$size, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
TABLE
dd if="$work/esp.img" of="$work/out.img" bs=1M oflag=seek_bytes \
    seek=$(( 2048 * 512 )) conv=sparse,notrunc status=none
dd if="$work/root.img" of="$work/out.img" bs=1M oflag=seek_bytes \
    seek=$(( root_start * 512 )) conv=sparse,notrunc status=none
mv "$work/out.img" "$out"
echo "$root_uuid $esp_uuid"
