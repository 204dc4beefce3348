#!/bin/bash
# `ferry export --from PACKAGE` and `--to libvirt`: an image exported to an
# XVA, repacked as a VMware OVA and imported is bit-identical; an
# OVA -> XVA -> OVA chain keeps name, UUID, CPUs, memory and MACs (read
# back with `ferry info --json`); options override the package's values;
# compressed and unpacked OVAs are sources too; `--to libvirt|libvirt-xen
# -o DIR` writes qcow2 disks and a domain virt-xml-validate accepts, from
# images, a domain XML or a package; contradictions are usage errors; a
# refused or interrupted export leaves neither output nor staging behind.
source "$(dirname "$0")/../functions.sh"
requires qemu-img tar gzip python3 virt-xml-validate
t=$(mktmpdir)
make_test_disk "$t/disk.img" 40

# vm_of PKG: "name uuid cpus memory mac,mac,..." from `ferry info --json`.
vm_of () {
    "$FERRY" info "$1" --json | python3 -c '
import json, sys
d = json.load(sys.stdin); v = d["vm"]
print(v["name"], v["uuid"], v["cpus"], v["memory_mib"],
      ",".join(n["mac"] for n in d["nics"]))'
}
no_staging () {
    [ -z "$(ls -A "$t" | grep ferry-)" ] || fail "staging left behind: $(ls -A "$t")"
}
restore_raw () {            # restore_raw PKG DIR: import --to raw, one disk
    "$FERRY" import -q "$1" --to raw -o "$2" || fail "import '$1'"
    ls "$2"/*.img
}

# image -> XVA -> VMware OVA -> raw: bit-identical.
"$FERRY" export -q --all-blocks "$t/disk.img" -o "$t/a.xva" --name repack \
    --cpus 2 --memory 768 --nic 00:16:3e:10:20:01 --nic 00:16:3e:10:20:02
"$FERRY" export -q --from "$t/a.xva" -o "$t/b.ova" --flavour vmware
no_staging
tar tf "$t/b.ova" > "$t/b.list"
[ "$(cat "$t/b.list")" = "$(printf 'b.ovf\nb-disk1.vmdk\nb.mf')" ] ||
    fail "b.ova holds: $(cat "$t/b.list")"
qemu_compare "$t/disk.img" "$(restore_raw "$t/b.ova" "$t/rb")"
want=$(vm_of "$t/a.xva")
set -- $want
[ "$1 $3 $4 $5" = "repack 2 768 00:16:3e:10:20:01,00:16:3e:10:20:02" ] ||
    fail "a.xva holds '$want'"
[ "$(vm_of "$t/b.ova")" = "$want" ] || fail "XVA -> OVA changed the VM: $(vm_of "$t/b.ova")"

# OVA -> XVA -> VirtualBox OVA keeps the VM, and the disk.
"$FERRY" export -q --from "$t/b.ova" -o "$t/c.xva"
"$FERRY" export -q --from "$t/c.xva" -o "$t/d.ova" --flavour virtualbox
for p in c.xva d.ova; do
    [ "$(vm_of "$t/$p")" = "$want" ] || fail "$p: '$(vm_of "$t/$p")' is not '$want'"
done
qemu_compare "$t/disk.img" "$(restore_raw "$t/d.ova" "$t/rd")"

# Options override the package: name, CPUs, memory, NICs; the UUID stays.
"$FERRY" export -q --from "$t/d.ova" -o "$t/e.ova" --name other --cpus 3 \
    --memory 256 --nic 00:50:56:00:00:09
[ "$(vm_of "$t/e.ova")" = "other $2 3 256 00:50:56:00:00:09" ] ||
    fail "overrides: $(vm_of "$t/e.ova")"

# A gzip-compressed tar and an unpacked directory are sources too.
mkdir "$t/xb"; tar xf "$t/b.ova" -C "$t/xb"
(cd "$t/xb" && tar czf "$t/gz.ova" $(tar tf "$t/b.ova"))
"$FERRY" export -q --from "$t/gz.ova" -o "$t/f.xva"
"$FERRY" export -q --from "$t/xb" -o "$t/g.ova" --flavour xenserver
[ "$(vm_of "$t/f.xva")" = "$want" ] || fail "from gzip: $(vm_of "$t/f.xva")"
[ "$(vm_of "$t/g.ova")" = "$want" ] || fail "from directory: $(vm_of "$t/g.ova")"
qemu_compare "$t/disk.img" "$(restore_raw "$t/g.ova" "$t/rg")"
[ "$(ls "$t/xb" | wc -l)" -eq 3 ] || fail "the directory package was touched"

# --to libvirt from a package: qcow2 + NAME.xml, absolute paths, identity kept.
"$FERRY" export -q --from "$t/c.xva" --to libvirt -o "$t/lv"
no_staging
virt-xml-validate "$t/lv/repack.xml" domain >/dev/null || fail "lv: invalid domain"
qemu-img check -q "$t/lv/lv-disk1.qcow2" || fail "lv: qemu-img check"
[ "$(qemu-img info --output=json "$t/lv/lv-disk1.qcow2" | python3 -c \
    'import json,sys; print(json.load(sys.stdin)["format"])')" = qcow2 ] || fail "lv: not qcow2"
qemu_compare "$t/disk.img" "$t/lv/lv-disk1.qcow2"
grep -q "<domain type='kvm'>" "$t/lv/repack.xml" || fail "lv: not a KVM domain"
grep -q "source file='$t/lv/lv-disk1.qcow2'" "$t/lv/repack.xml" || fail "lv: disk path"
grep -q "<uuid>$2</uuid>" "$t/lv/repack.xml" || fail "lv: UUID not kept"
[ "$(grep -o "mac address='[^']*'" "$t/lv/repack.xml" | cut -d"'" -f2 | paste -sd,)" = \
  "00:16:3e:10:20:01,00:16:3e:10:20:02" ] || fail "lv: MACs not kept"
[ "$(ls -A "$t/lv" | wc -l)" -eq 2 ] || fail "lv: stray files: $(ls -A "$t/lv")"

# --to libvirt-xen from images (KVM MACs are not used for Xen), and
# --to libvirt from a domain XML (the used-block default, then --json).
"$FERRY" export -q "$t/disk.img" --to libvirt-xen -o "$t/lx" --name xen1
virt-xml-validate "$t/lx/xen1.xml" domain >/dev/null || fail "lx: invalid domain"
grep -q "<domain type='xen'>" "$t/lx/xen1.xml" || fail "lx: not a Xen domain"
grep -q "mac address='00:16:3e:" "$t/lx/xen1.xml" || fail "lx: MAC without the Xen prefix"
qemu_compare "$t/disk.img" "$t/lx/lx-disk1.qcow2"
cat > "$t/dom.xml" <<XML
<domain type='kvm'>
  <name>fromxml</name>
  <memory unit='MiB'>512</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$t/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'><source network='default'/></interface>
  </devices>
</domain>
XML
"$FERRY" export --from-libvirt "$t/dom.xml" --to libvirt -o "$t/lk" --json > "$t/lk.json"
grep -q '"ok":true' "$t/lk.json" || fail "lk: JSON summary"
grep -q "\"domain\":\"$t/lk/fromxml.xml\"" "$t/lk.json" || fail "lk: JSON lacks the domain"
virt-xml-validate "$t/lk/fromxml.xml" domain >/dev/null || fail "lk: invalid domain"
grep -q "mac address='52:54:00:" "$t/lk/fromxml.xml" || fail "lk: MAC without the KVM prefix"
qemu_compare "$t/disk.img" "$t/lk/lk-disk1.qcow2"

# Contradictions are usage errors (exit 2); nothing is written.
usage () {
    local rc=0
    "$FERRY" export "$@" >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 2 ] || fail "expected a usage error (2, got $rc): export $*"
}
usage "$t/disk.img" --to libvirt -o "$t/u1.ova"
usage "$t/disk.img" --to libvirt-xen -o "$t/u2.xva"
usage "$t/disk.img" --to libvirt --flavour vmware -o "$t/u3"
usage "$t/disk.img" --to libvirt --sign k --cert c -o "$t/u4"
usage "$t/disk.img" --to kvm -o "$t/u5"
usage --from "$t/b.ova" "$t/disk.img" -o "$t/u6.ova"
usage --from "$t/b.ova" --from-libvirt "$t/dom.xml" -o "$t/u7.ova"
[ -z "$(ls -d "$t"/u* 2>/dev/null)" ] || fail "a refused export wrote something"
expect_fail "already exists" "$FERRY" export -q --from "$t/b.ova" --to libvirt -o "$t/lv"
expect_fail "already exists" "$FERRY" export -q --from "$t/b.ova" -o "$t/d.ova"

# A package that fails verification: one line, no output, no staging.
cp -r "$t/xb" "$t/bad"
printf 'x' | dd of="$t/bad/b-disk1.vmdk" bs=1 seek=70000 conv=notrunc status=none
expect_fail "^ferry: ova: '.*bad': .*manifest mismatch" \
    "$FERRY" export -q --from "$t/bad" -o "$t/bad.xva"
expect_fail "manifest mismatch" "$FERRY" export -q --from "$t/bad" --to libvirt -o "$t/badlv"
[ ! -e "$t/bad.xva" ] && [ ! -e "$t/badlv" ] || fail "a refused export left output"
no_staging

# Interrupted (SIGTERM while the disk is being written): nothing is left.
head -c 32M /dev/urandom > "$t/big.img"
"$FERRY" export -q --all-blocks "$t/big.img" -o "$t/big.xva"
"$FERRY" export -q --from "$t/big.xva" -o "$t/big.ova" & pid=$!
for _ in $(seq 200); do
    ls -A "$t"/.big.ova.ferry-export-* 2>/dev/null | grep -q ferry-tmp && break
    sleep 0.05
done
kill -TERM "$pid" 2>/dev/null || fail "the export ended before it could be interrupted"
wait "$pid" && fail "an interrupted export succeeded"
[ ! -e "$t/big.ova" ] || fail "an interrupted export left its output"
no_staging
echo "PASS: test-export-repack"
