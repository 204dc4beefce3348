#!/bin/bash
# `ferry import` of OVA packages: every flavour `ferry export --all-blocks`
# writes comes back bit-identical as qcow2 (and raw) with a valid libvirt
# domain that keeps UUID and MACs (--new-identity replaces them with
# 52:54:00 MACs); gzip- and xz-compressed tars, an unpacked directory and
# packages made by hand with qemu-img + tar in the VirtualBox, VMware
# (also gzip-compressed) and XenCenter shapes import too; the hostile corpus
# of tests/data/gen-hostile-ova.sh and a truncated archive are each
# refused with one line, leaving no output directory behind.
source "$(dirname "$0")/../functions.sh"
requires qemu-img tar gzip xz python3 virt-xml-validate
t=$(mktmpdir)
make_test_disk "$t/disk.img" 40
uuid=6f1c0a4e-8d2b-4c3a-9e7f-1a2b3c4d5e6f
cat > "$t/dom.xml" <<XML
<domain type='kvm'>
  <name>demo</name>
  <uuid>$uuid</uuid>
  <memory unit='MiB'>512</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$t/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'><mac address='52:54:00:aa:bb:01'/><source network='default'/></interface>
    <interface type='network'><mac address='52:54:00:aa:bb:02'/><source network='default'/></interface>
  </devices>
</domain>
XML

# ovf_uuid OVF / ovf_macs OVF / xml_uuid XML / xml_macs XML
ovf_uuid () { grep -o 'vmw:key="uuid" vmw:value="[^"]*"' "$1" | cut -d'"' -f4; }
ovf_macs () { grep -o '<rasd:Address>[0-9a-f:]\{17\}<' "$1" | cut -d'>' -f2 | tr -d '<'; }
xml_uuid () { grep -o '<uuid>[^<]*' "$1" | cut -d'>' -f2; }
xml_macs () { grep -o "mac address='[^']*'" "$1" | cut -d"'" -f2; }

# import_ok PKG DIR [OPTIONS]: import must succeed, leave only DIR, and
# produce a valid domain naming disks that are sound.
import_ok () {
    local pkg=$1 dir=$2; shift 2
    "$FERRY" import -q "$pkg" --to libvirt -o "$dir" "$@" || fail "import '$pkg'"
    [ -z "$(ls -A "$(dirname "$dir")" | grep ferry-import)" ] || fail "staging left behind"
    virt-xml-validate "$dir"/*.xml domain >/dev/null || fail "'$dir': invalid domain XML"
    qemu-img check -q "$dir"/*.qcow2 || fail "'$dir': qemu-img check"
}

for flavour in vmware virtualbox xenserver; do
    "$FERRY" export -q --all-blocks --from-libvirt "$t/dom.xml" -o "$t/$flavour.ova" \
        --flavour "$flavour" --name "demo $flavour"
    mkdir "$t/x-$flavour"; tar xf "$t/$flavour.ova" -C "$t/x-$flavour"
    ovf="$t/x-$flavour/$flavour.ovf"
    import_ok "$t/$flavour.ova" "$t/out-$flavour"
    qemu_compare "$t/disk.img" "$t/out-$flavour/demo_$flavour-disk1.qcow2"
    xml="$t/out-$flavour/demo_$flavour.xml"
    [ "$(ovf_uuid "$ovf")" = "$uuid" ] || fail "$flavour: export lost the UUID"
    [ "$(xml_uuid "$xml")" = "$uuid" ] || fail "$flavour: UUID not kept"
    [ "$(xml_macs "$xml")" = "$(ovf_macs "$ovf")" ] || fail "$flavour: MACs not kept"
    [ "$(xml_macs "$xml" | wc -l)" -eq 2 ] || fail "$flavour: NICs lost"
    grep -q "source file='$t/out-$flavour/demo_$flavour-disk1.qcow2'" "$xml" ||
        fail "$flavour: the domain does not name the disk by absolute path"

    # A new identity: another UUID, other MACs, KVM prefix, unique.
    import_ok "$t/$flavour.ova" "$t/new-$flavour" --new-identity
    new="$t/new-$flavour/demo_$flavour.xml"
    [ "$(xml_uuid "$new")" != "$(xml_uuid "$xml")" ] || fail "$flavour: UUID kept"
    for m in $(xml_macs "$new"); do
        case $m in 52:54:00:*) ;; *) fail "$flavour: MAC $m lacks 52:54:00" ;; esac
        xml_macs "$xml" | grep -qx "$m" && fail "$flavour: MAC $m kept"
    done
    [ "$(xml_macs "$new" | sort -u | wc -l)" -eq 2 ] || fail "$flavour: MACs not unique"
done

# --to raw, and the JSON summary.
"$FERRY" import "$t/vmware.ova" --to raw -o "$t/raw" --json > "$t/raw.json"
grep -q '"ok":true' "$t/raw.json" || fail "raw: JSON summary"
grep -q '"manifest_verified":true' "$t/raw.json" || fail "raw: manifest not verified"
cmp "$t/disk.img" "$t/raw/demo_vmware-disk1.img" || fail "raw: disk differs"
grep -q "type='raw'" "$t/raw/demo_vmware.xml" || fail "raw: driver type"
virt-xml-validate "$t/raw/demo_vmware.xml" domain >/dev/null || fail "raw: invalid XML"

# Compressed tars (members in the package's order) and a directory.
names=$(tar tf "$t/vmware.ova")
(cd "$t/x-vmware" && tar czf "$t/gz.ova" $names && tar cJf "$t/xz.ova" $names)
for p in gz xz; do
    import_ok "$t/$p.ova" "$t/out-$p"
    qemu_compare "$t/disk.img" "$t/out-$p/demo_vmware-disk1.qcow2"
done
import_ok "$t/x-vmware" "$t/out-dir"
qemu_compare "$t/disk.img" "$t/out-dir/demo_vmware-disk1.qcow2"
[ "$(ls "$t/x-vmware" | wc -l)" -eq 3 ] || fail "directory import touched the package"

# A package made by hand: qemu-img's streamOptimized VMDK, a VirtualBox
# OVF with its href and capacity adjusted, a SHA1 manifest, tar.
h=$t/hand; mkdir "$h"
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$t/disk.img" "$h/hand-disk1.vmdk"
sed -e 's/ubuntu2204-disk001.vmdk/hand-disk1.vmdk/' \
    -e "s/ovf:capacity=\"26843545600\"/ovf:capacity=\"$(stat -c %s "$t/disk.img")\"/" \
    "$TESTS_DIR/data/ovf/virtualbox7.ovf" > "$h/hand.ovf"
(cd "$h" && for f in hand.ovf hand-disk1.vmdk; do
     echo "SHA1($f)= $(sha1sum < "$f" | cut -d' ' -f1)"; done > hand.mf &&
 tar cf "$t/hand.ova" hand.ovf hand.mf hand-disk1.vmdk)
import_ok "$t/hand.ova" "$t/out-hand"
qemu_compare "$t/disk.img" "$t/out-hand"/*.qcow2

# xml_has XML STRING: the domain must hold STRING.
xml_has () { grep -qF -- "$2" "$1" || fail "'$1' lacks $2"; }

# VMware-shaped, made with real tools: ovftool's OVF (vmx-13, lsilogic
# SCSI disk, VmxNet3 NIC, vmw:Config firmware=efi), a streamOptimized
# VMDK from qemu-img, a SHA256 manifest; members in ovftool's order.
v=$t/vmw; mkdir "$v"
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized,adapter_type=lsilogic \
    "$t/disk.img" "$v/centos7-app-disk1.vmdk"
sed -e "s/ovf:size=\"912384512\"/ovf:size=\"$(stat -c %s "$v/centos7-app-disk1.vmdk")\"/" \
    -e 's/ovf:capacity="20" ovf:capacityAllocationUnits="byte \* 2^30"/ovf:capacity="40" ovf:capacityAllocationUnits="byte * 2^20"/' \
    "$TESTS_DIR/data/ovf/vmware-lsilogic.ovf" > "$v/centos7-app.ovf"
grep -q 'ovf:capacity="40"' "$v/centos7-app.ovf" || fail "vmware: sed did not apply"
(cd "$v" && for f in centos7-app.ovf centos7-app-disk1.vmdk; do
     echo "SHA256($f)= $(sha256sum < "$f" | cut -d' ' -f1)"; done > centos7-app.mf &&
 tar cf "$t/vmw.ova" centos7-app.ovf centos7-app.mf centos7-app-disk1.vmdk &&
 tar czf "$t/vmw-gz.ova" centos7-app.ovf centos7-app.mf centos7-app-disk1.vmdk)
for p in vmw vmw-gz; do
    import_ok "$t/$p.ova" "$t/out-$p"
    qemu_compare "$t/disk.img" "$t/out-$p/centos7-app-disk1.qcow2"
    x="$t/out-$p/centos7-app.xml"
    xml_has "$x" "<name>centos7-app</name>"
    xml_has "$x" "<vcpu placement='static'>2</vcpu>"
    xml_has "$x" "<memory unit='MiB'>2048</memory>"
    xml_has "$x" "firmware='efi'"
    [ "$(xml_macs "$x")" = "00:50:56:9a:4e:21" ] || fail "$p: MAC not kept"
done

# XenCenter-shaped: its OVF (hvm-3.0-unknown), a dynamic VHD from
# qemu-img named after the VDI's UUID, a SHA1 manifest.
x=$t/xc; mkdir "$x"; vdi=8c5a2e44-2f0b-4c8e-9d4e-6a1b2c3d4e5f
qemu-img convert -f raw -O vpc -o subformat=dynamic "$t/disk.img" "$x/$vdi.vhd"
vsize=$(qemu-img info --output=json "$x/$vdi.vhd" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["virtual-size"])')
sed -e "s/ovf:size=\"2147996160\"/ovf:size=\"$(stat -c %s "$x/$vdi.vhd")\"/" \
    -e "s/ovf:capacity=\"34359738368\"/ovf:capacity=\"$vsize\"/" \
    "$TESTS_DIR/data/ovf/xencenter.ovf" > "$x/rocky9-db.ovf"
grep -q "ovf:capacity=\"$vsize\"" "$x/rocky9-db.ovf" || fail "xencenter: sed did not apply"
(cd "$x" && for f in rocky9-db.ovf $vdi.vhd; do
     echo "SHA1($f)= $(sha1sum < "$f" | cut -d' ' -f1)"; done > rocky9-db.mf &&
 tar cf "$t/xc.ova" rocky9-db.ovf rocky9-db.mf $vdi.vhd)
import_ok "$t/xc.ova" "$t/out-xc"
qemu_compare "$t/disk.img" "$t/out-xc/rocky9-db-disk1.qcow2"
xml_has "$t/out-xc/rocky9-db.xml" "<name>rocky9-db</name>"
xml_has "$t/out-xc/rocky9-db.xml" "<vcpu placement='static'>4</vcpu>"
xml_has "$t/out-xc/rocky9-db.xml" "<memory unit='MiB'>8192</memory>"
[ "$(xml_macs "$t/out-xc/rocky9-db.xml")" = "e2:14:6a:5c:09:d3" ] || fail "xencenter: MAC not kept"

# The hostile corpus, and a truncated archive: refused, nothing left.
"$TESTS_DIR/data/gen-hostile-ova.sh" "$t/bad" "$t/vmware.ova"
size=$(stat -c %s "$t/vmware.ova")
head -c $((size / 2)) "$t/vmware.ova" > "$t/bad/truncated.ova"
expect_bad () {
    local name=$1 re=$2
    expect_fail "^ferry: ova: '.*$name.ova': $re" \
        "$FERRY" import -q "$t/bad/$name.ova" --to libvirt -o "$t/o-$name"
    [ ! -e "$t/o-$name" ] || fail "$name: output directory left behind"
}
expect_bad traversal "a member name with '\.\.'"
expect_bad absolute "an absolute member name"
expect_bad symlink "a symbolic link member"
expect_bad hardlink "a hard link member"
expect_bad device "a member that is not a regular file"
expect_bad fifo "a member that is not a regular file"
expect_bad duplicate "duplicate member"
expect_bad mismatch "manifest mismatch"
expect_bad missing "a file the OVF references is missing"
expect_bad not-in-manifest "not in the manifest: 'extra.txt'"
expect_bad empty-manifest "not in the manifest: '[^']*\.ovf'"
expect_bad malformed-manifest "manifest line 1 is malformed"
expect_bad ovf-not-first "the \.ovf is not the first member"
expect_bad two-ovf "a second \.ovf"
expect_bad too-many-members "more than 1024 members"
expect_bad larger-than-declared "larger than its ovf:size"
expect_bad capacity-exceeded "a disk larger than its OVF capacity"
expect_bad descriptor-vmdk "not a sparse VMDK"
expect_bad truncated "reading .*[Tt]runcated"
[ -z "$(ls -A "$t" | grep ferry-import)" ] || fail "staging left behind"

# A directory package whose disk is a symbolic link (to a host file).
cp -r "$t/x-vmware" "$t/dsym"
ln -sf /etc/passwd "$t/dsym/vmware-disk1.vmdk"
expect_fail "^ferry: ova: '.*dsym': not a regular file: 'vmware-disk1.vmdk'" \
    "$FERRY" import -q "$t/dsym" --to libvirt -o "$t/o-dsym"
[ ! -e "$t/o-dsym" ] || fail "dsym: output directory left behind"

# An existing output directory that is not empty is never touched (an
# empty one is taken: test-import-existing-dir.sh).
mkdir "$t/exists"
echo keep > "$t/exists/file"
expect_fail "a directory that is not empty" "$FERRY" import "$t/vmware.ova" --to libvirt -o "$t/exists"
[ "$(ls -A "$t/exists")" = file ] || fail "existing DIR was touched"
echo "PASS: test-import-ova"
