#!/bin/bash
# make-convert-tools.sh OUTDIR: tiny stand-ins for other hypervisors' guest
# tools as real Debian packages (dpkg-deb), named like the genuine ones:
# open-vm-tools (VMware), virtualbox-guest-utils (VirtualBox) and
# xe-guest-utilities (XenServer).  Each installs one marker program,
# /usr/sbin/ferry-fake-PACKAGE, so a test can see whether dpkg removed it.
# The epoch (2:) puts them above the versions usr-is-merged conflicts with.
# Prints the .deb paths, one a line.
set -euo pipefail
out=$1
work=$(mktemp -d "${TMPDIR:-/var/tmp}/make-convert-tools.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
for p in open-vm-tools virtualbox-guest-utils xe-guest-utilities; do
    d=$work/$p
    mkdir -p "$d/DEBIAN" "$d/usr/sbin"
    cat > "$d/DEBIAN/control" <<CTL
Package: $p
Version: 2:99.0-ferry1
Architecture: all
Maintainer: Ferry tests <tests@ferry.invalid>
Priority: optional
Section: admin
Description: fake $p for Ferry's conversion tests
 Stands in for the real guest tools; installs only a marker program.
CTL
    printf '#!/bin/sh\necho "fake %s"\n' "$p" > "$d/usr/sbin/ferry-fake-$p"
    chmod 0755 "$d/usr/sbin/ferry-fake-$p"
    dpkg-deb --root-owner-group -Zgzip --build "$d" "$out/$p.deb" >/dev/null
    echo "$out/$p.deb"
done
