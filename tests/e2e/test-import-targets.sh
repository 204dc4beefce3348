#!/bin/bash
# `ferry import --to` every target, from one small disk:
# - round trips: the disk `ferry export --all-blocks` packs as an OVA of
#   each flavour (vmware, virtualbox, xenserver) and as an XVA comes back
#   from `import --to raw` bit-identical (qemu-img compare and cmp);
# - libvirt (qcow2, qemu-img check), raw, xen (dynamic VHD + a libvirt
#   Xen/libxl domain, virt-xml-validate), hyperv (dynamic VHD + NAME.ps1,
#   whose text is compared line by line with what it must be: PowerShell
#   cannot run here), vmware and virtualbox (NAME.ova of that flavour, its
#   VMDK checked by qemu-img after tar extraction, and a second import of
#   it to raw bit-identical to the first);
# - a restore keeps UUID and MACs; --new-identity gives a new UUID and
#   unique MACs with each target's vendor prefix;
# - UEFI makes a generation 2 Hyper-V VM (VHDX via Convert-VHD, SCSI);
#   generation 1 puts four disks on IDE and the rest on SCSI.
source "$(dirname "$0")/../functions.sh"
requires qemu-img tar python3 virt-xml-validate
t=$(mktmpdir)
make_test_disk "$t/disk.img" 24
uuid=6f1c0a4e-8d2b-4c3a-9e7f-1a2b3c4d5e6f
domain () {   # domain FIRMWARE
    cat <<XML
<domain type='kvm'>
  <name>web 1</name>
  <uuid>$uuid</uuid>
  <memory unit='MiB'>768</memory>
  <vcpu>3</vcpu>
  <os$( [ "$1" = uefi ] && echo " firmware='efi'")><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$t/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'><mac address='52:54:00:aa:bb:01'/><source network='lan'/></interface>
    <interface type='network'><mac address='52:54:00:aa:bb:02'/><source network='o&apos;neil'/></interface>
  </devices>
</domain>
XML
}
domain bios > "$t/dom.xml"
domain uefi > "$t/uefi.xml"
xml_uuid () { grep -o '<uuid>[^<]*' "$1" | cut -d'>' -f2; }
xml_macs () { grep -o "mac address='[^']*'" "$1" | cut -d"'" -f2 | tr '\n' ' '; }
macs="52:54:00:aa:bb:01 52:54:00:aa:bb:02 "

# 1. Round trips through every package kind, --all-blocks, to raw.
for kind in vmware virtualbox xenserver xva; do
    if [ "$kind" = xva ]; then pkg=$t/rt.xva; opt=(); else pkg=$t/rt-$kind.ova; opt=(--flavour "$kind"); fi
    "$FERRY" export -q --all-blocks --from-libvirt "$t/dom.xml" -o "$pkg" "${opt[@]}"
    "$FERRY" import -q "$pkg" --to raw -o "$t/rt-$kind"
    qemu_compare "$t/disk.img" "$t/rt-$kind/web_1-disk1.img"
    cmp "$t/disk.img" "$t/rt-$kind/web_1-disk1.img" || fail "$kind: raw round trip differs"
done
pkg=$t/rt-vmware.ova

# 2. Every target from the VMware OVA: a restore keeps UUID and MACs.
"$FERRY" import -q "$pkg" --to libvirt -o "$t/libvirt"
qemu-img check -q "$t/libvirt/web_1-disk1.qcow2" || fail "libvirt: qemu-img check"
qemu_compare "$t/disk.img" "$t/libvirt/web_1-disk1.qcow2"
grep -q "<domain type='kvm'>" "$t/libvirt/web_1.xml" || fail "libvirt: not a KVM domain"

"$FERRY" import -q "$pkg" --to xen -o "$t/xen"
x=$t/xen/web_1.xml
virt-xml-validate "$x" domain >/dev/null || fail "xen: invalid domain XML"
grep -q "<domain type='xen'>" "$x" || fail "xen: not a Xen domain"
grep -q "<bootloader>pygrub</bootloader>" "$x" || fail "xen: no pygrub"
grep -q "<target dev='xvda' bus='xen'/>" "$x" || fail "xen: disk not on xvda"
grep -q "<driver name='qemu' type='vpc'/>" "$x" || fail "xen: disk not a VHD"
grep -q "source file='$t/xen/web_1-disk1.vhd'" "$x" || fail "xen: disk path"
[ "$(xml_uuid "$x")" = "$uuid" ] || fail "xen: UUID not kept"
[ "$(xml_macs "$x")" = "$macs" ] || fail "xen: MACs not kept"
qemu-img info "$t/xen/web_1-disk1.vhd" | grep -q 'file format: vpc' || fail "xen: not VHD"
"$FERRY" check "$t/xen/web_1-disk1.vhd" >/dev/null || fail "xen: ferry check"
"$FERRY" info "$t/xen/web_1-disk1.vhd" | grep -q 'dynamic' || fail "xen: VHD not dynamic"
qemu_compare "$t/disk.img" "$t/xen/web_1-disk1.vhd"

"$FERRY" import -q "$pkg" --to hyperv -o "$t/hv"
[ "$(ls "$t/hv")" = "$(printf 'web_1-disk1.vhd\nweb_1.ps1')" ] || fail "hyperv: files $(ls "$t/hv")"
"$FERRY" info "$t/hv/web_1-disk1.vhd" | grep -q 'dynamic' || fail "hyperv: VHD not dynamic"
qemu_compare "$t/disk.img" "$t/hv/web_1-disk1.vhd"
cat > "$t/want.ps1" <<'PS'
# web_1.ps1: create this VM on Hyper-V from the disks beside this script.
# Written by ferry import; run it in an elevated PowerShell with the Hyper-V module.
$ErrorActionPreference = 'Stop'
$name = 'web 1'
$vm = New-VM -Name $name -Generation 1 -MemoryStartupBytes 768MB -NoVHD
Set-VM -VM $vm -ProcessorCount 3 -StaticMemory -Notes 'ferry: uuid 6f1c0a4e-8d2b-4c3a-9e7f-1a2b3c4d5e6f'
$disk = Join-Path $PSScriptRoot 'web_1-disk1.vhd'
Add-VMHardDiskDrive -VM $vm -ControllerType IDE -ControllerNumber 0 -ControllerLocation 0 -Path $disk
Get-VMNetworkAdapter -VM $vm | Remove-VMNetworkAdapter
$nic = Add-VMNetworkAdapter -VM $vm -Name 'nic1' -Passthru
Set-VMNetworkAdapter -VMNetworkAdapter $nic -StaticMacAddress '525400AABB01'
$sw = 'lan'
if (Get-VMSwitch -Name $sw -ErrorAction SilentlyContinue) { Connect-VMNetworkAdapter -VMNetworkAdapter $nic -SwitchName $sw }
$nic = Add-VMNetworkAdapter -VM $vm -Name 'nic2' -Passthru
Set-VMNetworkAdapter -VMNetworkAdapter $nic -StaticMacAddress '525400AABB02'
$sw = 'o''neil'
if (Get-VMSwitch -Name $sw -ErrorAction SilentlyContinue) { Connect-VMNetworkAdapter -VMNetworkAdapter $nic -SwitchName $sw }
PS
diff -u "$t/want.ps1" "$t/hv/web_1.ps1" || fail "hyperv: the script differs"

for fl in vmware virtualbox; do
    "$FERRY" import -q "$pkg" --to "$fl" -o "$t/$fl"
    [ "$(ls "$t/$fl")" = web_1.ova ] || fail "$fl: files $(ls "$t/$fl")"
    mkdir "$t/x-$fl"; tar xf "$t/$fl/web_1.ova" -C "$t/x-$fl"
    [ "$(tar tf "$t/$fl/web_1.ova" | tr '\n' ' ')" = "web_1.ovf web_1-disk1.vmdk web_1.mf " ] ||
        fail "$fl: members $(tar tf "$t/$fl/web_1.ova")"
    qemu-img check -q "$t/x-$fl/web_1-disk1.vmdk" || fail "$fl: qemu-img check"
    qemu-img info "$t/x-$fl/web_1-disk1.vmdk" | grep -q 'create type: streamOptimized' ||
        fail "$fl: VMDK not streamOptimized"
    qemu_compare "$t/disk.img" "$t/x-$fl/web_1-disk1.vmdk"
    (cd "$t/x-$fl" && sed 's/^SHA256(\(.*\))= /\1 /' web_1.mf | awk '{print $2"  "$1}' | sha256sum -c --quiet) ||
        fail "$fl: manifest"
    grep -q "$uuid" "$t/x-$fl/web_1.ovf" || fail "$fl: UUID not kept"
    for m in 52:54:00:aa:bb:01 52:54:00:aa:bb:02; do
        grep -qi "$m" "$t/x-$fl/web_1.ovf" || fail "$fl: MAC $m not kept"
    done
    # Re-imported to raw: bit-identical to the first raw import.
    "$FERRY" import -q "$t/$fl/web_1.ova" --to raw -o "$t/re-$fl"
    cmp "$t/rt-vmware/web_1-disk1.img" "$t/re-$fl/web_1-disk1.img" || fail "$fl: re-import differs"
done
grep -q 'vmx-' "$t/x-vmware/web_1.ovf" || fail "vmware: not the VMware flavour"
grep -q 'virtualbox-2.2' "$t/x-virtualbox/web_1.ovf" || fail "virtualbox: not the VirtualBox flavour"

# 3. New identities: each target's vendor prefix, unique, a new UUID.
newid () {   # newid TARGET PREFIX MACS-OF-OUTPUT-COMMAND
    local tg=$1 pre=$2 got m
    "$FERRY" import -q "$pkg" --to "$tg" -o "$t/new-$tg" --new-identity --json > "$t/new-$tg.json"
    got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["uuid"]); print(" ".join(d["macs"]))' "$t/new-$tg.json")
    [ "$(echo "$got" | head -1)" != "$uuid" ] || fail "$tg: UUID kept"
    [ "$(echo "$got" | tail -1 | tr ' ' '\n' | sort -u | wc -l)" -eq 2 ] || fail "$tg: MACs not unique"
    for m in $(echo "$got" | tail -1); do
        case $m in "$pre":*) ;; *) fail "$tg: MAC $m lacks $pre" ;; esac
        grep -qi "$m\|$(echo "$m" | tr -d : | tr a-f A-F)" "$t/new-$tg"/* ||
            [ "$tg" = vmware ] || [ "$tg" = virtualbox ] || fail "$tg: MAC $m not in the output"
    done
}
newid libvirt 52:54:00
newid raw 52:54:00
newid xen 00:16:3e
newid hyperv 00:15:5d
newid vmware 00:50:56
newid virtualbox 08:00:27
grep -q "StaticMacAddress '00155D" "$t/new-hyperv/web_1.ps1" || fail "hyperv: new MAC not in the script"
mkdir "$t/x-new"; tar xf "$t/new-virtualbox/web_1.ova" -C "$t/x-new"
grep -qi '<rasd:Address>08:00:27:' "$t/x-new/web_1.ovf" || fail "virtualbox: new MAC not in the OVF"

# 4. UEFI: a generation 2 VM, the VHD converted to VHDX, SCSI, boot order.
"$FERRY" export -q --all-blocks --from-libvirt "$t/uefi.xml" -o "$t/uefi.ova"
"$FERRY" import -q "$t/uefi.ova" --to hyperv -o "$t/hv2"
s=$t/hv2/web_1.ps1
grep -qx '\$vm = New-VM -Name \$name -Generation 2 -MemoryStartupBytes 768MB -NoVHD' "$s" || fail "uefi: not generation 2"
grep -qx "Convert-VHD -Path \$disk -DestinationPath (\$disk + 'x') -VHDType Dynamic" "$s" || fail "uefi: no VHDX conversion"
grep -qx 'Add-VMHardDiskDrive -VM \$vm -ControllerType SCSI -ControllerNumber 0 -ControllerLocation 0 -Path \$disk' "$s" ||
    fail "uefi: disk not on SCSI"
grep -q '^Set-VMFirmware -VM \$vm -EnableSecureBoot Off -FirstBootDevice' "$s" || fail "uefi: firmware"
grep -q 'IDE' "$s" && fail "uefi: IDE on generation 2"

# 5. Generation 1 with five disks: four on IDE 0:0 0:1 1:0 1:1, the fifth
#    on an added SCSI controller.
{
    echo "<domain type='kvm'><name>five</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>"
    echo "<os><type arch='x86_64'>hvm</type></os><devices>"
    for i in 1 2 3 4 5; do
        truncate -s 1M "$t/d$i.img"
        echo "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$t/d$i.img'/><target dev='vd$(echo "$i" | tr 1-5 a-e)' bus='virtio'/></disk>"
    done
    echo "</devices></domain>"
} > "$t/five.xml"
"$FERRY" export -q --from-libvirt "$t/five.xml" -o "$t/five.ova"
"$FERRY" import -q "$t/five.ova" --to hyperv -o "$t/hv5"
grep '^Add-VM' "$t/hv5/five.ps1" | sed 's/ -Path .*//' > "$t/got5"
cat > "$t/want5" <<'PS'
Add-VMHardDiskDrive -VM $vm -ControllerType IDE -ControllerNumber 0 -ControllerLocation 0
Add-VMHardDiskDrive -VM $vm -ControllerType IDE -ControllerNumber 0 -ControllerLocation 1
Add-VMHardDiskDrive -VM $vm -ControllerType IDE -ControllerNumber 1 -ControllerLocation 0
Add-VMHardDiskDrive -VM $vm -ControllerType IDE -ControllerNumber 1 -ControllerLocation 1
Add-VMScsiController -VM $vm
Add-VMHardDiskDrive -VM $vm -ControllerType SCSI -ControllerNumber 0 -ControllerLocation 0
PS
diff -u "$t/want5" "$t/got5" || fail "hyperv: five disks placed wrongly"
[ "$(find "$t/hv5" -name 'five-disk[1-5].vhd' | wc -l)" -eq 5 ] || fail "hyperv: five disks not written"

# 6. An unknown target is a usage error.
expect_fail "unknown target 'vbox'" "$FERRY" import "$pkg" --to vbox -o "$t/nope"
! compgen -G "$t/.*.ferry-import-*" >/dev/null || fail "staging left behind"
echo "PASS: test-import-targets"
