#!/bin/bash
# deps.sh: install every build and test dependency from Debian's archive,
# only when something is missing (so `make check` stays fast once set up).
set -euo pipefail

PACKAGES=(
    # build
    build-essential pkg-config clang libclang-rt-14-dev
    zlib1g-dev libdeflate-dev libssl-dev libxxhash-dev libnbd-dev libext2fs-dev
    libparted-dev libguestfs-dev libarchive-dev libxml2-dev libncurses-dev
    libcmocka-dev libjson-c-dev libvirt-dev
    # used-block maps: libblkid identifies filesystems; mkfs.xfs makes the
    # xfs unit test's and fuzz seeds' filesystems; NTFS through libntfs-3g
    libblkid-dev xfsprogs ntfs-3g-dev
    # the Debian package (make deb) and its tests: lintian, the completion
    debhelper dpkg-dev lintian bash-completion
    # test peers and tools
    qemu-utils qemu-system-x86 nbdkit libnbd-bin e2fsprogs fdisk
    guestfish libguestfs-tools linux-image-amd64 debootstrap python3
    util-linux procps time libvirt-clients virt-v2v xxhash libxml2-utils
    libguestfs-xfs kmod cryptsetup-bin
    # `clone`, `import`, `export --connect`: a libvirtd of the test's own
    # (QEMU driver; its bridge made with ip)
    libvirt-daemon libvirt-daemon-driver-qemu iproute2
    # Windows registry tests (hives built and read back with hivex)
    libhivex-bin libwin-hivex-perl ntfs-3g
    # the capture ISO (make iso) and its boot tests
    xorriso grub-pc-bin grub-efi-amd64-bin grub-common mtools dosfstools
    squashfs-tools isolinux syslinux-common ovmf cpio initramfs-tools-core
    # used-block maps: filesystems made and checked by their own tools,
    # partclone as the peer in bench/usedblocks.sh
    exfatprogs btrfs-progs partclone
    # agent tests: TUI in tmux, SSH target on loopback; the ISO's CIFS and
    # NFSv4 targets (servers the test runs itself, on its own ports)
    tmux openssh-server openssh-client openssl sshfs
    samba nfs-ganesha nfs-ganesha-vfs
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# The tests start smbd and ganesha.nfsd themselves: the services that
# installing them just started are not wanted.
case " ${missing[*]} " in
    *" samba "*|*" nfs-ganesha "*)
        [ ! -d /run/systemd/system ] ||
            $SUDO systemctl disable --now smbd nmbd samba-ad-dc nfs-ganesha \
                >/dev/null 2>&1 || true ;;
esac
