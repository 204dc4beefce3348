#!/bin/bash
# guests.sh: the test guests of the end-to-end tests, built once per machine
# and cached.
#
#   tests/guests.sh BUILDDIR NAME       # prints the image path
#
# One recipe, parameterised by the row of the guest table (suite, root
# filesystem, the drivers of its initramfs); the rest of this comment
# describes what every guest shares.
#
#   debian12-ahci       the reference "physical machine": Debian 12
#                       (bookworm), root on ext4, an initramfs holding ONLY
#                       the AHCI/SATA drivers (MODULES=list), so it boots in
#                       qemu on an AHCI disk and fails ("Gave up waiting for
#                       root file system device") on virtio-blk.  Nothing in
#                       it is virtio.
#   debian13-xfs-ahci   the same machine on Debian 13 (trixie) with its root
#                       on xfs: issue 10's acceptance guest.  Its kernel
#                       modules are .ko.xz, /lib is /usr/lib (merged /usr),
#                       and initramfs-tools stores the (already compressed)
#                       modules in the early, uncompressed cpio segment
#                       while modules.dep stays in the main one.
#   debian13-virtio     a Debian 13 VM: root on ext4, an initramfs with only
#                       the virtio drivers (no ahci, libata, sd_mod, nvme):
#                       the source of `convert --to native`.
#   The guest matrix of `make check-slow` (the other distributions and
#   layouts users run, each AHCI-only like the reference machine):
#   debian11-ahci       Debian 11 (bullseye), root on ext4
#   debian13-btrfs-ahci Debian 13, root on btrfs
#   debian13-lvm-ahci   Debian 13, root on ext4 in LVM (VG "ferryvg", LV
#                       "root" filling the PV on sda1)
#   debian13-uefi-ahci  Debian 13, GPT, an EFI system partition (vfat,
#                       /boot/efi) holding only EFI/debian/grubx64.efi (GRUB
#                       x86_64-efi, no NVRAM entry, no fallback loader), root
#                       on sda2
#   debian13-dracut-ahci Debian 13 with dracut instead of initramfs-tools
#                       (the RHEL/Fedora/SUSE builder), its initramfs made
#                       with drivers= (dracut's MODULES=list)
#
#   disk      1.5 GiB raw, sparse, MBR (DOS) partition table (layout mbr,
#             lvm) or GPT (uefi)
#   sda1      the root (ext4, xfs or btrfs), label "ferry-root", bootable,
#             UUID in $name.info; lvm: the PV; uefi: the ESP (127 MiB) and
#             the root on sda2
#   sda2      linux swap (128 MiB), label "ferry-swap", UUID in $name.info
#             (uefi: sda3)
#   fstab     by UUID
#   boot      GRUB (i386-pc) in the MBR + post-MBR gap; serial terminal;
#             kernel "console=tty0 console=ttyS0,115200n8"; uefi: GRUB
#             x86_64-efi on the ESP
#   login     hostname "ferry-ref", root password "ferry", getty on ttyS0
#   network   systemd-networkd, DHCP on every en*/eth* NIC (no MAC pins)
#   data      /root/ferry-test/*.bin + SHA256SUMS (copy: $name.sha256 next to
#             the image, paths relative to the guest root);
#             ~200 MiB of random data written to the root fs, synced, deleted:
#             free blocks hold junk that a capture must not copy.
#
# Files in BUILDDIR/guests/ (or $FERRY_GUESTS_DIR, to share one cache between
# build trees, e.g. build/ and build-asan/):
#   debian12-rootfs.tar        debootstrap output, one per suite (cache;
#   debian13-rootfs.tar        rebuilt when the suite's package list changes)
#   NAME.img                   the image
#   NAME.img.key               its recipe key: the hash of this script less
#                              the guest table, and the guest's own row (a
#                              new row rebuilds no other guest)
#   NAME.info                  KEY=VALUE facts (UUIDs, labels, hostname...)
#   NAME.sha256                checksums of the known files
#   NAME.build.log             the last build's log
#
# Requires root (debootstrap), debootstrap, guestfish (libguestfs-tools, and
# libguestfs-xfs for xfs roots), qemu-img, flock (util-linux), network access
# to a Debian mirror (the first URIs: line of
# /etc/apt/sources.list.d/debian.sources, or $FERRY_DEBIAN_MIRROR).
#
# Bootloader choice: GRUB, installed from inside the libguestfs appliance
# (guestfish `sh`, which chroots into the mounted guest and bind-mounts /dev,
# /proc and /sys) with `grub-install --target=i386-pc /dev/sda` and
# `update-grub`.  The appliance sees the disk as /dev/sda, as the AHCI guest
# does; grub.cfg finds the root by UUID anyway (search --fs-uuid,
# root=UUID=...).  This is how a real Debian machine boots, which is what the
# conversion code must handle (update-grub after an initramfs rebuild).
#
# Stdout: only the image path.  Progress goes to stderr.

set -euo pipefail

usage () {
    echo "usage: $0 BUILDDIR NAME (one of: $(sed -n '/^# <guests>$/,/^# <\/guests>$/s/^ *\([a-z0-9-]*\)).*/\1/p' "${BASH_SOURCE[0]}" | tr '\n' ' '))" >&2
    exit 2
}
[ $# -eq 2 ] || usage
builddir=$1 name=$2

# The guest table: one row per guest, nothing else between the markers (the
# cache key hashes the script without them, plus the row).  suite: a Debian
# suite of the table below; rootfs: ext4|xfs|btrfs; drivers: ahci|virtio,
# the disk path of the initramfs; layout: mbr (default)|lvm|uefi; init:
# initramfs-tools (default)|dracut.
guest_row () {
    layout=mbr init=initramfs-tools
    case "$1" in
# <guests>
        debian12-ahci)     suite=bookworm rootfs=ext4 drivers=ahci ;;
        debian13-xfs-ahci) suite=trixie   rootfs=xfs  drivers=ahci ;;
        debian13-virtio)   suite=trixie   rootfs=ext4 drivers=virtio ;;
        debian11-ahci)        suite=bullseye rootfs=ext4  drivers=ahci ;;
        debian13-btrfs-ahci)  suite=trixie   rootfs=btrfs drivers=ahci ;;
        debian13-lvm-ahci)    suite=trixie   rootfs=ext4  drivers=ahci layout=lvm ;;
        debian13-uefi-ahci)   suite=trixie   rootfs=ext4  drivers=ahci layout=uefi ;;
        debian13-dracut-ahci) suite=trixie   rootfs=ext4  drivers=ahci init=dracut ;;
# </guests>
        *) return 1 ;;
    esac
}
guest_row "$name" || { echo "guests.sh: unknown guest '$name'" >&2; usage; }

export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}"
export LC_ALL=C

dir=${FERRY_GUESTS_DIR:-$builddir/guests}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
img=$dir/$name.img
self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

# --- Recipe ---------------------------------------------------------------

# Everything beyond minbase that the guest needs to boot from its own disk.
# No ifupdown/dhcp client: systemd-networkd (part of systemd) does DHCP.
include=linux-image-amd64,grub-pc,initramfs-tools,systemd-sysv,udev,e2fsprogs,kmod
case "$suite" in
    bullseye) release=11 ;;
    bookworm) release=12 ;;
    # xfsprogs: fsck.xfs for an xfs root (both Debian 13 guests share the
    # tarball, so it is in both).
    trixie)   release=13 include=$include,xfsprogs ;;
    *) echo "guests.sh: no recipe for suite '$suite'" >&2; exit 2 ;;
esac
# A btrfs, LVM or UEFI root needs more packages; dracut replaces
# initramfs-tools.  Those rows share one more tarball per suite
# (debianNN-extra-rootfs.tar, debianNN-dracut-rootfs.tar), so the first
# three guests' stay as they were.  grub-efi-amd64-bin sits beside grub-pc
# (they conflict as packages; the binaries do not): grub-install
# --target=x86_64-efi, update-grub.
case "$layout" in
    mbr|lvm|uefi) ;;
    *) echo "guests.sh: unknown layout '$layout'" >&2; exit 2 ;;
esac
case "$init" in
    initramfs-tools|dracut) ;;
    *) echo "guests.sh: unknown initramfs builder '$init'" >&2; exit 2 ;;
esac
extra= tag=
if [ "$init" = dracut ]; then
    # dracut conflicts with initramfs-tools: apt replaces it after
    # debootstrap (debootstrap's resolver takes the first alternative of
    # linux-image's initramfs dependency).
    extra=dracut tag=-dracut
elif [ "$rootfs" = btrfs ] || [ "$layout" != mbr ]; then
    extra=btrfs-progs,lvm2,grub-efi-amd64-bin,dosfstools tag=-extra
fi
tarball=$dir/debian$release$tag-rootfs.tar

# The drivers in the initramfs: the disk path, the root filesystem and what
# it loads through the crypto API (crc32c: metadata checksums).
# Dependencies (libahci, libata, scsi_mod, jbd2, mbcache, libcrc32c...)
# come along.  want: must be in the initramfs; forbid: an extended regexp
# (case-insensitive) that no path of it may match.
case "$drivers" in
    ahci)   disk_modules="ahci libahci libata scsi_mod sd_mod"
            want="ahci sd_mod"
            forbid=virtio
            modules_comment="# Only the AHCI/SATA disk path: this machine has no virtio drivers in
# its initramfs (initramfs.conf: MODULES=list)." ;;
    virtio) disk_modules="virtio_pci virtio_blk virtio_scsi virtio_net"
            want=virtio_blk
            forbid='/(ahci|libahci|libata|sd_mod|nvme|nvme_core)[.]ko'
            modules_comment="# Only the virtio disk path: this VM has no AHCI, SATA, SCSI disk or
# NVMe drivers in its initramfs (initramfs.conf: MODULES=list)." ;;
    *) echo "guests.sh: unknown drivers '$drivers'" >&2; exit 2 ;;
esac
# Where the root and the swap are, and what GRUB's command line names.
case "$layout" in
    mbr)  root_dev=/dev/sda1 swap_dev=/dev/sda2 ;;
    lvm)  root_dev=/dev/ferryvg/root swap_dev=/dev/sda2 ;;
    uefi) root_dev=/dev/sda2 swap_dev=/dev/sda3 ;;
esac
case "$rootfs" in
    ext4)  fstab_opts="errors=remount-ro 0 1" fsck_cmd="fsck ext4 $root_dev" ;;
    # Debian's installer: no fsck pass for xfs (fsck.xfs does nothing) nor
    # btrfs.
    xfs)   fstab_opts="defaults 0 0" fsck_cmd="xfs-repair $root_dev nomodify:true" ;;
    btrfs) fstab_opts="defaults 0 0" fsck_cmd="btrfs-fsck $root_dev" ;;
    *) echo "guests.sh: unknown root filesystem '$rootfs'" >&2; exit 2 ;;
esac
initramfs_modules="$disk_modules $rootfs crc32c_generic crc32c_intel"
# The root on LVM: device-mapper (the lvm2 hook brings the tools).
[ "$layout" != lvm ] || initramfs_modules="$initramfs_modules dm_mod"
want="$want $rootfs"
disk_mib=1536
swap_mib=128
junk_mib=200
hostname=ferry-ref
root_password=ferry

rootfs_key="$suite minbase $include${extra:+ +$extra}"
image_key="$(sed '/^# <guests>$/,/^# <\/guests>$/d' "$self" | sha256sum | cut -d' ' -f1) $(
    sed -n "/^# <guests>\$/,/^# <\/guests>\$/{/^ *$name)/p}" "$self" | sha256sum | cut -d' ' -f1)"

log () { echo "guests.sh: $*" >&2; }

mirror () {
    if [ -n "${FERRY_DEBIAN_MIRROR:-}" ]; then echo "$FERRY_DEBIAN_MIRROR"; return; fi
    local m
    m=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    echo "${m:-http://deb.debian.org/debian}"
}

fresh () {   # fresh FILE KEY: FILE exists and was built from recipe KEY
    [ -s "$1" ] && [ -f "$1.key" ] && [ "$(cat "$1.key")" = "$2" ]
}

# Fast path: no lock needed to read a finished image (images appear by rename).
if fresh "$img" "$image_key"; then echo "$img"; exit 0; fi

exec 9>"$dir/.lock"
flock 9
if fresh "$img" "$image_key"; then echo "$img"; exit 0; fi

# Never rm -rf a tree that still has /proc or /sys mounted in it (a killed
# debootstrap leaves them behind).
remove_tree () {
    local m
    awk -v w="$1/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$1"
}
# We hold the lock: leftovers of killed builds can go.
for old in "$dir"/.build.*; do if [ -e "$old" ]; then remove_tree "$old"; fi; done

buildlog=$dir/$name.build.log
: >"$buildlog"
work=$(mktemp -d "$dir/.build.XXXXXX")
on_exit () {
    local rc=$?
    remove_tree "$work"
    if [ "$rc" -ne 0 ]; then
        log "build of $name FAILED; last lines of $buildlog:"
        tail -n 40 "$buildlog" >&2
    fi
}
trap on_exit EXIT
t0=$(date +%s)

# --- Stage 1: debootstrap -> debianNN-rootfs.tar (cached, per suite) -------

build_rootfs () {
    [ "$(id -u)" -eq 0 ] || { log "building the guest needs root (debootstrap)"; return 1; }
    command -v debootstrap >/dev/null || { log "debootstrap is not installed"; return 1; }
    local root=$work/root m s
    m=$(mirror)
    s=$(date +%s)
    log "debootstrap $suite from $m (a few minutes; cached in $tarball)"
    local inc=$include
    [ -z "$extra" ] || [ "$init" = dracut ] || inc=$inc,$extra
    DEBIAN_FRONTEND=noninteractive debootstrap --variant=minbase \
        --include="$inc" "$suite" "$root" "$m" >>"$buildlog" 2>&1
    if [ "$init" = dracut ]; then
        log "replacing initramfs-tools with dracut in the $suite tree"
        mount -t proc proc "$root/proc"
        # debootstrap's package lists are still there; update if they are not.
        { DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -q \
              --no-install-recommends dracut ||
          { chroot "$root" apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -q \
              --no-install-recommends dracut; }; } >>"$buildlog" 2>&1 ||
            { umount "$root/proc"; return 1; }
        umount "$root/proc"
        # (a removed package stays known to dpkg: ask for its status)
        if chroot "$root" dpkg-query -W -f '${Status}' initramfs-tools 2>/dev/null |
               grep -q 'install ok installed'; then
            log "initramfs-tools still installed beside dracut"
            return 1
        fi
        chroot "$root" apt-get clean
    fi
    # Not needed in the image; keeps it small.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_Packages \
        "$root"/var/log/bootstrap.log
    tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' \
        -cf "$work/rootfs.tar" .
    remove_tree "$root"
    mv "$work/rootfs.tar" "$tarball"
    echo "$rootfs_key" >"$tarball.key"
    log "rootfs tarball: $(du -m "$tarball" | cut -f1) MiB in $(( $(date +%s) - s )) s"
}

if ! fresh "$tarball" "$rootfs_key"; then
    build_rootfs
fi

# --- Stage 2: assemble the disk with guestfish -----------------------------

s=$(date +%s)
log "assembling $img (guestfish under TCG, ~2-4 minutes)"

root_uuid=$(cat /proc/sys/kernel/random/uuid)
swap_uuid=$(cat /proc/sys/kernel/random/uuid)
sector=512
p1_start=2048
esp_mib=127
p2_start=$(( (disk_mib - swap_mib) * 1048576 / sector ))
p1_end=$(( p2_start - 1 ))
p2_end=$(( disk_mib * 1048576 / sector - 1 ))

# Files laid over the rootfs (a tar of files only: directory modes in the
# guest stay as Debian made them).
ovl=$work/overlay
mkdir -p "$ovl/etc/default" "$ovl/etc/initramfs-tools" "$ovl/etc/systemd/network" \
    "$ovl/root/ferry-test"
cat >"$ovl/etc/fstab" <<EOF
# <file system> <mount point> <type> <options> <dump> <pass>
UUID=$root_uuid / $rootfs $fstab_opts
UUID=$swap_uuid none swap sw 0 0
EOF
echo "$hostname" >"$ovl/etc/hostname"
cat >"$ovl/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	$hostname

::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
EOF
cat >"$ovl/etc/default/grub" <<'EOF'
# Written by Ferry's tests/guests.sh: serial console, short timeout.
GRUB_DEFAULT=0
GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200n8"
GRUB_TERMINAL="serial console"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_DISABLE_OS_PROBER=true
EOF
if [ "$init" = dracut ]; then
    mkdir -p "$ovl/etc/dracut.conf.d"
    # drivers=: only these (and their dependencies), dracut's MODULES=list;
    # the qemu, virtfs, virtiofs and nvdimm modules would add virtio
    # drivers whatever drivers= says.
    cat >"$ovl/etc/dracut.conf.d/10-ferry-test.conf" <<EOF
$modules_comment
# (dracut: drivers=, the modules that add virtio drivers omitted.)
hostonly="no"
drivers="$initramfs_modules"
filesystems="$rootfs"
omit_dracutmodules+=" qemu qemu-net virtfs virtiofs nvdimm "
EOF
else
    {
        echo "$modules_comment"
        for m in $initramfs_modules; do echo "$m"; done
    } >"$ovl/etc/initramfs-tools/modules"
fi
cat >"$ovl/etc/systemd/network/20-wired.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=yes
EOF
# Known files with known content (sizes chosen to straddle block boundaries).
head -c 1048576 /dev/urandom >"$ovl/root/ferry-test/a.bin"
head -c 3145745 /dev/urandom >"$ovl/root/ferry-test/b.bin"
head -c 4097 /dev/urandom >"$ovl/root/ferry-test/c.bin"
printf 'ferry reference guest %s\n' "$root_uuid" >"$ovl/root/ferry-test/hello.txt"
(cd "$ovl" && sha256sum root/ferry-test/*.bin root/ferry-test/hello.txt) >"$work/sha256"
cp "$work/sha256" "$ovl/root/ferry-test/SHA256SUMS"
(cd "$ovl" && find . -type f -printf '%P\n' | sort) >"$work/ovl.list"
tar -C "$ovl" --numeric-owner --owner=0 --group=0 --no-recursion \
    -T "$work/ovl.list" -cf "$work/overlay.tar"

tmpimg=$work/$name.img
truncate -s "${disk_mib}M" "$tmpimg"

# The parts of setup.sh that differ by builder and layout.
if [ "$init" = dracut ]; then
    initramfs_setup='echo "== initramfs: dracut, drivers="; cat /etc/dracut.conf.d/10-ferry-test.conf'
    initramfs_build='dracut -f --regenerate-all'
    initramfs_list=lsinitrd
else
    initramfs_setup="echo '== initramfs: MODULES=list'
sed -i -e 's/^MODULES=.*/MODULES=list/' -e 's/^COMPRESS=.*/COMPRESS=gzip/' \\
    /etc/initramfs-tools/initramfs.conf
grep -E '^(MODULES|COMPRESS)=' /etc/initramfs-tools/initramfs.conf"
    initramfs_build='update-initramfs -u -k all'
    initramfs_list=lsinitramfs
fi
esp_fstab=
case "$layout" in
    uefi) grub_install='grub-install --target=x86_64-efi --efi-directory=/boot/efi --bootloader-id=debian --no-nvram'
          # The ESP by its volume serial, as Debian's installer writes it.
          esp_fstab='echo "UUID=$(blkid -s UUID -o value /dev/sda1) /boot/efi vfat umask=0077 0 1" >>/etc/fstab
test ! -e /boot/efi/EFI/BOOT' ;;
    *)    grub_install='grub-install --target=i386-pc /dev/sda' ;;
esac
case "$layout" in
    lvm) root_param='root=/dev/mapper/ferryvg-root' ;;
    *)   root_param="root=UUID=$root_uuid" ;;
esac

# Runs inside the guest (guestfish `command`: chroot + /dev, /proc, /sys).
# guestfish shows only the stderr of a failed command: the script runs itself
# with its output in a log that goes to stdout (the build log) on success
# and to stderr on failure.
cat >"$work/setup.sh" <<EOF
set -e
if [ -z "\${FERRY_SETUP_LOG:-}" ]; then
    rc=0
    FERRY_SETUP_LOG=1 /bin/sh -e "\$0" >/tmp/ferry-setup.log 2>&1 || rc=\$?
    if [ "\$rc" -eq 0 ]; then cat /tmp/ferry-setup.log; else cat /tmp/ferry-setup.log >&2; fi
    rm -f /tmp/ferry-setup.log
    exit "\$rc"
fi
$initramfs_setup
echo "root:$root_password" | chpasswd
systemctl enable systemd-networkd.service >/dev/null 2>&1
systemctl is-enabled systemd-networkd.service
$esp_fstab
$initramfs_build
echo "== grub"
$grub_install
update-grub
grep -q '$root_param' /boot/grub/grub.cfg || { echo "grub.cfg: no $root_param"; exit 1; }
grep -q 'console=ttyS0' /boot/grub/grub.cfg || { echo "grub.cfg: no console=ttyS0"; exit 1; }
echo "== check the initramfs: $want yes, '$forbid' no"
for i in /boot/initrd.img-*; do
    echo "\$i"
    $initramfs_list "\$i" >/tmp/initrd.list
    grep -E '/($(echo "$initramfs_modules" | sed 's/_/[_-]/g' | tr ' ' '|'))[.]ko' /tmp/initrd.list
    if grep -iE '$forbid' /tmp/initrd.list; then echo "'$forbid' in \$i"; exit 1; fi
    for m in $want; do
        grep -qE "/\$m[.]ko" /tmp/initrd.list || { echo "\$m missing in \$i"; exit 1; }
    done
done
rm -f /tmp/initrd.list
dpkg-query -W -f '\${Package} \${Version}\\n' linux-image-amd64 grub-pc systemd $init
cd / && sha256sum -c root/ferry-test/SHA256SUMS
EOF

case "$layout" in
    mbr|lvm) parts="part-init /dev/sda mbr
part-add /dev/sda p $p1_start $p1_end
part-add /dev/sda p $p2_start $p2_end
part-set-bootable /dev/sda 1 true
part-set-mbr-id /dev/sda 2 0x82" ;;
    # The ESP, then the root, then the swap; the GPT backup takes the last
    # 33 sectors.
    uefi) parts="part-init /dev/sda gpt
part-add /dev/sda p $p1_start $(( p1_start + esp_mib * 1048576 / sector - 1 ))
part-add /dev/sda p $(( p1_start + esp_mib * 1048576 / sector )) $p1_end
part-add /dev/sda p $p2_start $(( p2_end - 33 ))
part-set-gpt-type /dev/sda 1 C12A7328-F81F-11D2-BA4B-00A0C93EC93B
part-set-gpt-type /dev/sda 3 0657FD6D-A4AB-43C4-84E5-0933C84B4F4F
mkfs vfat /dev/sda1 label:FERRY-ESP" ;;
esac
case "$layout" in
    lvm) parts="$parts
part-set-mbr-id /dev/sda 1 0x8e
pvcreate /dev/sda1
vgcreate ferryvg /dev/sda1
lvcreate-free root ferryvg 100" ;;
esac
esp_mount=
[ "$layout" != uefi ] || esp_mount="mkdir-p /boot/efi
mount /dev/sda1 /boot/efi"

cat >"$work/build.gf" <<EOF
run
$parts
mkfs $rootfs $root_dev label:ferry-root
set-uuid $root_dev $root_uuid
mkswap $swap_dev label:ferry-swap uuid:$swap_uuid
mount $root_dev /
tar-in $tarball / xattrs:true
tar-in $work/overlay.tar /
$esp_mount
upload $work/setup.sh /tmp/ferry-setup.sh
command "/bin/sh -e /tmp/ferry-setup.sh"
rm /tmp/ferry-setup.sh
sh "dd if=/dev/urandom of=/var/tmp/ferry-junk bs=1M count=$junk_mib conv=fsync status=none && sync && rm -f /var/tmp/ferry-junk && sync"
df-h
umount-all
$fsck_cmd
EOF

# grub-install inside the appliance has been seen, rarely and only on a
# loaded machine, to miss the fresh partition table ("embedding is not
# possible, but this is required for cross-disk install"); the same
# recipe then succeeds.  One more try on a fresh image, logged, rather
# than a failed test run.
if ! guestfish --rw --format=raw -a "$tmpimg" -x -f "$work/build.gf" >>"$buildlog" 2>&1; then
    log "assembly failed (see $buildlog); trying once more on a fresh image"
    echo "== second attempt" >>"$buildlog"
    rm -f "$tmpimg"
    truncate -s "${disk_mib}M" "$tmpimg"
    guestfish --rw --format=raw -a "$tmpimg" -x -f "$work/build.gf" >>"$buildlog" 2>&1
fi

kver=$(sed -n 's/^linux-image-amd64 //p' "$buildlog" | tail -n 1)
cat >"$work/info" <<EOF
NAME=$name
SUITE=$suite
ROOT_FS=$rootfs
HOSTNAME=$hostname
ROOT_PASSWORD=$root_password
ROOT_DEV=$root_dev
LAYOUT=$layout
INIT=$init
ROOT_UUID=$root_uuid
ROOT_LABEL=ferry-root
SWAP_DEV=$swap_dev
SWAP_UUID=$swap_uuid
SWAP_LABEL=ferry-swap
DISK_MIB=$disk_mib
JUNK_MIB=$junk_mib
INITRAMFS_MODULES="$initramfs_modules"
LINUX_IMAGE_AMD64=$kver
EOF

mv "$work/info" "$dir/$name.info"
mv "$work/sha256" "$dir/$name.sha256"
mv "$tmpimg" "$img"
echo "$image_key" >"$img.key"
log "image assembled in $(( $(date +%s) - s )) s (total $(( $(date +%s) - t0 )) s)"
echo "$img"
