#!/bin/bash
# A VM through libvirt's API and back, booted: the reference guest
# (tests/guests.sh debian12-ahci) on a SATA disk, defined as a domain in a
# libvirtd of the test's own (tests/libvirtd.sh: QEMU/TCG only), is
# exported by name (`ferry export --from-libvirt ref --connect`),
# undefined, and its package imported with `ferry import --to libvirt
# --connect URI --start`: the domain is defined (type qemu: no KVM here),
# started by Ferry, and its serial console (a pty) reaches the login
# prompt.  SATA, not virtio: the OVA's OVF has no virtio bus, so a virtio
# disk comes back on SCSI, which an initramfs with virtio drivers only
# does not boot from.  The refusals and the no-boot checks are
# test-libvirt-connect.sh's.  The reference guest is used read only
# (defined, never started).
source "$(dirname "$0")/../functions.sh"
source "$TESTS_DIR/libvirtd.sh"
requires libvirtd virsh unshare mknod ip qemu-img python3 stty qemu-system-x86_64
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (libvirtd in a mount namespace)"; exit 77; }
if [ -n "${FERRY_NO_BOOT:-}" ]; then echo "SKIP: FERRY_NO_BOOT (the test is a boot)"; exit 77; fi
t=$(mktmpdir)
cd "$t"
img=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci) || fail "could not build the reference guest"
before=$(stat -c '%s %Y' "$img")
libvirtd_start "$t/libvirt"

libvirt_domain_xml ref "$img" | sed -e "s/type='kvm'/type='qemu'/" \
    -e "s|<memory unit='MiB'>256</memory>|<memory unit='MiB'>768</memory>|" \
    -e "s|<target dev='vda' bus='virtio'/>|<target dev='sda' bus='sata'/>|" \
    -e "s|</devices>|<interface type='network'><source network='default'/><model type='virtio'/></interface></devices>|" > ref.xml
virsh -q -c "$uri" define ref.xml >/dev/null || fail "virsh define ref"

s=$(date +%s)
"$FERRY" export -q --from-libvirt ref --connect "$uri" -o ref.ova || fail "export --from-libvirt ref --connect"
echo "export by name: $(( $(date +%s) - s ))s, OVA $(( $(stat -c %s ref.ova) >> 20 )) MiB"
virsh -q -c "$uri" undefine ref >/dev/null

s=$(date +%s)
"$FERRY" import -q ref.ova --to libvirt -o vm --connect "$uri" --start || fail "import --connect --start"
echo "import, define, start: $(( $(date +%s) - s ))s"
info=$(virsh -c "$uri" dominfo ref)
echo "$info" | grep -Eq "^State: +running" || fail "ref is not running: $info"
grep -q "<domain type='qemu'>" vm/ref.xml || fail "not a qemu domain: $(head -1 vm/ref.xml)"

s=$(date +%s)
libvirtd_console ref console.log 'ferry-ref login:' ||
    fail "ref: no login prompt ($console_state): $(tr -d '\r' < console.log | tail -20; tail -5 "$lv/log/qemu/ref.log")"
echo "boot to the login prompt: $(( $(date +%s) - s ))s"
virsh -q -c "$uri" destroy ref >/dev/null
[ "$(stat -c '%s %Y' "$img")" = "$before" ] || fail "the reference guest was modified"
echo "PASS: test-libvirt-connect-boot"
