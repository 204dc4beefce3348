#!/bin/bash
# The capture ISO is hybrid: El Torito images for BIOS and UEFI; for dd to
# a USB stick GRUB's MBR code and a GPT with the EFI system partition (a FAT
# image holding /EFI/BOOT/BOOTX64.EFI); the live system's kernel,
# initramfs (live-boot) and squashfs, and in the squashfs the ferry package
# built from this tree (installed by dpkg, with its completion), the
# agent's service, and the generator that picks the agent's console.
source "$(dirname "$0")/../functions.sh"
source "$(dirname "$0")/../iso.sh"
iso_requirements
requires fdisk mdir unsquashfs lsinitramfs

iso=$(iso_build) || fail "the ISO does not build (boot-iso/build.sh)"
t=$(mktmpdir)

# El Torito: one BIOS and one UEFI boot image.
xorriso -indev "$iso" -report_el_torito plain >"$t/eltorito" 2>&1 ||
    fail "xorriso cannot read the El Torito catalog"
grep -Eq '^El Torito boot img :.*BIOS' "$t/eltorito" || fail "no BIOS El Torito image: $(cat "$t/eltorito")"
grep -Eq '^El Torito boot img :.*UEFI' "$t/eltorito" || fail "no UEFI El Torito image: $(cat "$t/eltorito")"

# The image as a disk (USB stick): GRUB's boot code in the MBR, an MBR
# partition table (protective, for the GPT) and a GPT with the EFI system
# partition (a FAT image holding /EFI/BOOT/BOOTX64.EFI).
xorriso -indev "$iso" -report_system_area plain >"$t/sysarea" 2>&1 ||
    fail "xorriso cannot read the system area"
grep -Eq '^System area summary:.*MBR.*grub2-mbr.*GPT' "$t/sysarea" ||
    fail "no GRUB MBR + GPT: $(cat "$t/sysarea")"
[ "$(od -An -tx1 -j510 -N2 "$iso" | tr -d ' ')" = 55aa ] || fail "no MBR boot signature"
fdisk -l -t dos "$iso" >"$t/mbr" 2>&1 || fail "fdisk cannot read the MBR: $(cat "$t/mbr")"
grep -Eq "^$iso"'1 .* (ee|ef) ' "$t/mbr" || fail "no partition in the MBR: $(cat "$t/mbr")"
fdisk -l "$iso" >"$t/fdisk" 2>&1 || fail "fdisk cannot read the ISO: $(cat "$t/fdisk")"
efi=$(awk -v iso="$iso" 'index($1, iso) == 1 && /EFI System/ { print }' "$t/fdisk")
[ -n "$efi" ] || fail "no EFI system partition: $(cat "$t/fdisk")"
start=$(echo "$efi" | awk '{ print $2 }')
mdir -i "$iso@@$(( start * 512 ))" ::/EFI/BOOT >"$t/esp" 2>&1 || fail "the EFI partition is not FAT: $(cat "$t/esp")"
grep -qi 'BOOTX64 *EFI' "$t/esp" || fail "no /EFI/BOOT/BOOTX64.EFI in the EFI partition: $(cat "$t/esp")"

# The live system: kernel, a live-boot initramfs that can reach CD, USB and
# the network, the squashfs with this ferry binary.
for f in /live/vmlinuz /live/initrd.img /live/filesystem.squashfs /boot/grub/grub.cfg; do
    iso_extract "$iso" "$f" "$t/$(basename "$f")"
done
# A bzImage: the "HdrS" boot protocol magic at 0x202.
[ "$(dd if="$t/vmlinuz" bs=1 skip=514 count=4 status=none)" = HdrS ] || fail "/live/vmlinuz is not a kernel"
lsinitramfs "$t/initrd.img" >"$t/initrd.list"
for m in scripts/live 'isofs[.]ko' 'sr_mod[.]ko' 'usb-storage[.]ko' 'squashfs[.]ko' 'overlay[.]ko' 'ahci[.]ko' 'e1000[.]ko'; do
    grep -Eq "$m" "$t/initrd.list" || fail "the initramfs lacks $m"
done
grep -q 'hotkey=s' "$t/grub.cfg" || fail "grub.cfg has no serial entry"
unsquashfs -d "$t/sq" "$t/filesystem.squashfs" usr/bin/ferry \
    usr/lib/systemd/system/ferry-agent@.service \
    usr/lib/systemd/system-generators/ferry-agent-generator \
    usr/share/bash-completion/completions/ferry var/lib/dpkg/status >/dev/null ||
    fail "unsquashfs failed"
# ferry is the package built from this tree (make deb), installed by dpkg.
deb=$(deb_build)
dpkg-deb -x "$deb" "$t/deb"
cmp "$t/sq/usr/bin/ferry" "$t/deb/usr/bin/ferry" || fail "the ISO's ferry is not the one of $deb"
cmp "$t/sq/usr/share/bash-completion/completions/ferry" \
    "$t/deb/usr/share/bash-completion/completions/ferry" || fail "the ISO lacks the completion"
awk -v RS= '/^Package: ferry\n/' "$t/sq/var/lib/dpkg/status" >"$t/status"
grep -qx 'Status: install ok installed' "$t/status" || fail "ferry is not installed by dpkg on the ISO"
grep -qx "Version: $(dpkg-deb -f "$deb" Version)" "$t/status" || fail "the ISO's ferry package is not $deb"

# The generator: ferry.console= picks the agent's terminal (tty1 when it
# is absent or not a terminal name) and masks that terminal's getty.
gen=$t/sq/usr/lib/systemd/system-generators/ferry-agent-generator
check_gen () {   # check_gen CMDLINE TTY TERM
    local g=$t/gen.$RANDOM
    mkdir -p "$g/normal" "$g/early"
    echo "$1" >"$g/cmdline"
    FERRY_ISO_CMDLINE=$g/cmdline sh "$gen" "$g/normal" "$g/early" "$g/late" ||
        fail "the generator failed on '$1'"
    [ "$(readlink "$g/normal/multi-user.target.wants/ferry-agent@$2.service")" = \
      /usr/lib/systemd/system/ferry-agent@.service ] || fail "'$1': agent not on $2"
    [ "$(ls "$g/normal/multi-user.target.wants")" = "ferry-agent@$2.service" ] ||
        fail "'$1': more than one agent"
    grep -qx "Environment=TERM=$3" "$g/normal/ferry-agent@$2.service.d/term.conf" ||
        fail "'$1': TERM is not $3"
    [ "$(readlink "$g/early/getty@$2.service")" = /dev/null ] || fail "'$1': getty@$2 not masked"
    [ "$(readlink "$g/early/serial-getty@$2.service")" = /dev/null ] || fail "'$1': serial-getty@$2 not masked"
}
check_gen 'boot=live quiet' tty1 linux
check_gen 'boot=live console=ttyS0,115200n8 ferry.console=ttyS0' ttyS0 vt220
check_gen 'ferry.console=tty2 ferry.target=file:/x' tty2 linux
check_gen 'ferry.console=../../etc/passwd' tty1 linux
check_gen 'ferry.console=' tty1 linux

size=$(stat -c %s "$iso")
echo "ISO size: $(( size / 1048576 )) MiB"
[ "$size" -lt $(( 1024 * 1048576 )) ] || fail "the ISO is over 1 GiB ($size bytes)"
echo "PASS"
