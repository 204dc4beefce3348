#!/bin/bash
# build.sh: build Ferry's hybrid BIOS+UEFI capture ISO from Debian packages.
#
#   FERRY_DEB=build/deb/ferry_0.1.0-1_amd64.deb BUILDDIR=build \
#       boot-iso/build.sh                                  (make iso)
#
# Prints the ISO's path on stdout; progress goes to stderr and the full log
# to BUILDDIR/iso/build.log.  Needs root (debootstrap, chroot, mounts) and
# access to a Debian mirror (the first URIs: line of
# /etc/apt/sources.list.d/debian.sources, or $FERRY_DEBIAN_MIRROR).
#
# Two stages, each rebuilt only when its inputs change:
#
#   1. root/      debootstrap --variant=minbase (bookworm) + apt-get install
#                 of boot-iso/packages and of the ferry package's Depends
#                 (its libraries and the tools it runs).  Key:
#                 boot-iso/packages + ROOT_RECIPE, and every one of these
#                 packages must be installed in it.  Every
#                 .deb is kept in cache/ (debootstrap --cache-dir and apt's
#                 archives directory bind-mounted into the chroot), so a
#                 rebuild of the root downloads nothing that did not change.
#   2. ferry.iso  the ferry package (make deb) is installed into root/ with
#                 dpkg, and boot-iso/overlay/ copied there (the overlay's
#                 previous files are removed first, see root/.ferry-files),
#                 root/ is packed with mksquashfs, and grub-mkrescue makes
#                 the hybrid ISO.  Key: hashes of the .deb, the overlay and
#                 grub.cfg, ISO_RECIPE and stage 1's key.
#
# Layout of BUILDDIR/iso/:
#   cache/debootstrap/  cache/apt/    downloaded .debs
#   root/  root.key                   stage 1
#   tree/                             the ISO's file tree (live/, boot/grub/)
#   ferry.iso  ferry.iso.key          stage 2
#   build.log                         the log of every build (appended)
#
# The ISO (see boot-iso/README.md): /live/vmlinuz, /live/initrd.img (Debian's
# kernel and a live-boot initramfs), /live/filesystem.squashfs; GRUB for
# BIOS (El Torito + the MBR of an isohybrid image) and UEFI (an EFI system
# partition image, also listed in the MBR partition table), on VGA and
# serial.

set -euo pipefail

: "${FERRY_DEB:?FERRY_DEB must name the ferry package to install on the ISO (make deb)}"
: "${BUILDDIR:?BUILDDIR must name the build tree (the ISO goes to BUILDDIR/iso)}"
export LC_ALL=C DEBIAN_FRONTEND=noninteractive

# Bump when the code of stage 1 (ROOT_) or stage 2 (ISO_) below changes in
# a way that changes its output.
ROOT_RECIPE=2
ISO_RECIPE=2
suite=bookworm

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FERRY_DEB=$(realpath "$FERRY_DEB")
dir=$BUILDDIR/iso
mkdir -p "$dir/cache/debootstrap" "$dir/cache/apt/partial"
dir=$(cd "$dir" && pwd)
root=$dir/root
iso=$dir/ferry.iso
log=$dir/build.log

say () { echo "iso: $*" >&2; }
die () { say "$*"; exit 1; }

[ "$(dpkg-deb -f "$FERRY_DEB" Package 2>/dev/null)" = ferry ] ||
    die "not the ferry package: $FERRY_DEB"

mirror () {
    if [ -n "${FERRY_DEBIAN_MIRROR:-}" ]; then echo "$FERRY_DEBIAN_MIRROR"; return; fi
    local m
    m=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    echo "${m:-http://deb.debian.org/debian}"
}

# What the ferry package depends on, one name a line: the first of each
# alternative, without versions or architecture qualifiers (apt-get
# installs names; dpkg -i checks the versions when it installs ferry).
ferry_depends () {
    dpkg-deb -f "$FERRY_DEB" Depends | tr ',' '\n' |
        sed -e 's/|.*//' -e 's/(.*)//' -e 's/:.*//' -e 's/[[:space:]]//g' | grep -v '^$'
}

package_list () {
    { sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here/packages" | grep -v '^$'
      ferry_depends; } | sort -u
}

sha () { sha256sum | cut -d' ' -f1; }

# Undo every mount under a directory (deepest first), then maybe remove it.
umount_under () {
    local m
    awk -v w="$1/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
}
remove_tree () {
    umount_under "$1"
    rm -rf --one-file-system "$1"
}

fresh () { [ -e "$1" ] && [ -f "$2" ] && [ "$(cat "$2")" = "$3" ]; }

pkgs=$(package_list)
# The root's key is boot-iso/packages, not the package's Depends: a root that
# already has every package ferry depends on is kept.
# The module exclusion list and the initramfs settings are stage 1's too.
root_key=$({ echo "recipe $ROOT_RECIPE $suite"; cat "$here/packages" "$here/modules-exclude"
             (cd "$here/initramfs" && find . -type f -print0 | sort -z | xargs -0 sha256sum); } | sha)

# root_fresh: the root was built from this recipe and has every package.
root_fresh () {
    fresh "$root" "$root.key" "$root_key" || return 1
    # shellcheck disable=SC2086  # the list is words
    [ -z "$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${db:Status-Status}\n' \
            $pkgs 2>&1 | grep -vx installed)" ]
}

iso_key () {
    { echo "root $root_key iso $ISO_RECIPE"
      sha256sum "$FERRY_DEB" "$here/grub.cfg" | cut -d' ' -f1
      (cd "$here/overlay" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    } | sha
}

# Fast path without the lock: outputs appear by rename.
if fresh "$iso" "$iso.key" "$(iso_key)" && root_fresh; then
    echo "$iso"; exit 0
fi

exec 9>"$dir/.lock"
flock 9
[ "$(id -u)" -eq 0 ] || die "building the ISO needs root (debootstrap, chroot, mount)"
for t in debootstrap mksquashfs grub-mkrescue xorriso mformat; do
    command -v "$t" >/dev/null || die "$t is not installed (make deps)"
done
for old in "$dir"/.work.*; do if [ -e "$old" ]; then remove_tree "$old"; fi; done
work=$(mktemp -d "$dir/.work.XXXXXX")
echo "== $(date -u) build.sh" >>"$log"
on_exit () {
    local rc=$?
    remove_tree "$work"
    if [ "$rc" -ne 0 ]; then say "FAILED; last lines of $log:"; tail -n 30 "$log" >&2; fi
}
trap on_exit EXIT
t0=$(date +%s)

# --- Stage 1: the root filesystem ------------------------------------------

chroot_mount () {
    local r=$1
    mount -t proc proc "$r/proc"
    mount -t sysfs sysfs "$r/sys"
    mount --bind /dev "$r/dev"
    mount -t devpts -o newinstance,ptmxmode=0666 devpts "$r/dev/pts"
    mount --bind "$dir/cache/apt" "$r/var/cache/apt/archives"
}

# lean_modules ROOT: remove the module directories of modules-exclude from
# every kernel in ROOT, then rebuild the module index and the initramfs with
# boot-iso/initramfs/ (MODULES=most, zstd, the ferry-lean hook).  The
# chroot's mounts are up.
lean_modules () {
    local r=$1 kdir pat p n=0
    for kdir in "$r"/lib/modules/*/; do
        [ -d "$kdir/kernel" ] || continue
        while read -r pat; do
            # shellcheck disable=SC2086  # the pattern is a glob
            for p in "$kdir"kernel/$pat; do
                [ -e "$p" ] || continue
                rm -rf --one-file-system "$p"
                n=$(( n + 1 ))
            done
        done < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here/modules-exclude" | grep -v '^$')
        chroot "$r" depmod "$(basename "$kdir")" >>"$log" 2>&1
    done
    say "stage 1: $n module directories removed (modules-exclude)"
    install -D -m 644 "$here/initramfs/ferry.conf" "$r/etc/initramfs-tools/conf.d/ferry.conf"
    install -D -m 755 "$here/initramfs/ferry-lean" "$r/etc/initramfs-tools/hooks/ferry-lean"
    chroot "$r" update-initramfs -u -k all >>"$log" 2>&1
}

build_root () {
    local r=$work/root m s
    m=$(mirror)
    s=$(date +%s)
    say "stage 1: debootstrap $suite from $m (cache: $dir/cache)"
    debootstrap --variant=minbase --cache-dir="$dir/cache/debootstrap" \
        "$suite" "$r" "$m" >>"$log" 2>&1

    # No documentation, manuals or translations in anything installed from
    # now on (and drop what debootstrap already put there).
    cat >"$r/etc/dpkg/dpkg.cfg.d/01-ferry-lean" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
EOF
    cat >"$r/etc/apt/sources.list" <<EOF
deb $m $suite main
deb $m $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
EOF
    [ -z "${FERRY_DEBIAN_MIRROR:-}" ] || sed -i '/debian-security/d' "$r/etc/apt/sources.list"
    printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
    chmod 755 "$r/usr/sbin/policy-rc.d"
    cp /etc/resolv.conf "$r/etc/resolv.conf"
    # Keep the downloaded .debs (apt deletes them after install otherwise).
    echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' >"$r/etc/apt/apt.conf.d/01-ferry-keep"
    chroot_mount "$r"
    say "stage 1: apt-get install $(echo "$pkgs" | wc -l) packages"
    chroot "$r" sh -ec "apt-get update -q
        apt-get install -y -q --no-install-recommends $(echo "$pkgs" | tr '\n' ' ')
        dpkg-query -W -f '\${Package} \${Version}\n' linux-image-amd64 live-boot libguestfs0 systemd" \
        >>"$log" 2>&1
    lean_modules "$r"
    umount_under "$r"

    echo ferry >"$r/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\tferry\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$r/etc/hosts"
    chroot "$r" passwd -d root >>"$log" 2>&1
    rm -f "$r/usr/sbin/policy-rc.d" "$r/etc/apt/apt.conf.d/01-ferry-keep" "$r/etc/resolv.conf"
    rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/log/* \
        "$r"/var/cache/debconf/*-old "$r"/var/lib/dpkg/*-old
    find "$r/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
    find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/*
    : >"$r/etc/machine-id"          # systemd makes one per boot
    compgen -G "$r/boot/vmlinuz-*" >/dev/null || die "no kernel in the root"
    compgen -G "$r/boot/initrd.img-*" >/dev/null || die "no initramfs in the root"
    remove_tree "$root"
    mv "$r" "$root"
    echo "$root_key" >"$root.key"
    rm -f "$iso.key"
    say "stage 1: root $(du -sm --one-file-system "$root" | cut -f1) MiB in $(( $(date +%s) - s )) s"
}

if ! root_fresh; then
    build_root
fi

# --- Stage 2: ferry + overlay -> squashfs -> hybrid ISO ---------------------

install_ferry () {
    local f
    if [ -f "$root/.ferry-files" ]; then
        while read -r f; do rm -f "$root/$f"; done <"$root/.ferry-files"
    fi
    # The package, by the root's own dpkg (and its path-excludes: no
    # manual pages); its Depends were installed by stage 1.
    cp "$FERRY_DEB" "$root/tmp/ferry.deb"
    if ! chroot "$root" dpkg -i /tmp/ferry.deb >>"$log" 2>&1; then
        rm -f "$root/tmp/ferry.deb"
        die "dpkg -i of the ferry package failed in the ISO root (see $log)"
    fi
    rm -f "$root/tmp/ferry.deb"
    (cd "$here/overlay" && find . -type f | sed 's|^\./||' | sort) >"$work/files"
    while read -r f; do
        install -D -m "$(stat -c %a "$here/overlay/$f")" "$here/overlay/$f" "$root/$f"
    done <"$work/files"
    cp "$work/files" "$root/.ferry-files"
    # Every library ferry needs must resolve inside the root.
    if chroot "$root" ldd /usr/bin/ferry | grep 'not found'; then
        die "ferry's libraries are missing in the ISO root (see above)"
    fi
}

build_iso () {
    local s tree=$work/tree kver
    s=$(date +%s)
    say "stage 2: ferry + overlay, squashfs, ISO"
    install_ferry
    mkdir -p "$tree/live" "$tree/boot/grub"
    kver=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' |
           sed 's/^vmlinuz-//' | sort -V | tail -n 1)
    cp "$root/boot/vmlinuz-$kver" "$tree/live/vmlinuz"
    cp "$root/boot/initrd.img-$kver" "$tree/live/initrd.img"
    cp "$here/grub.cfg" "$tree/boot/grub/grub.cfg"
    # The kernel stays in the root (supermin builds the libguestfs
    # appliance from it); its initramfs does not (it is on the ISO).
    mksquashfs "$root" "$tree/live/filesystem.squashfs" -noappend -quiet \
        -comp zstd -Xcompression-level 9 -b 1M -processors "$(nproc)" \
        -wildcards -e '.ferry-files' 'boot/initrd.img-*' >>"$log" 2>&1
    grub-mkrescue -o "$work/ferry.iso" "$tree" -- -volid FERRY >>"$log" 2>&1
    mv "$work/ferry.iso" "$iso"
    iso_key >"$iso.key"
    say "stage 2: $(du -m "$iso" | cut -f1) MiB ISO in $(( $(date +%s) - s )) s"
}

if ! fresh "$iso" "$iso.key" "$(iso_key)"; then
    build_iso
fi
say "done in $(( $(date +%s) - t0 )) s: $iso"
echo "$iso"
