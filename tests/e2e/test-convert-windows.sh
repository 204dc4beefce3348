#!/bin/bash
# Windows conversion: no Windows can be had here (and no Windows boot test
# exists), so tests/data/make-windows-disk.sh builds phony guests — NTFS
# with SYSTEM/SOFTWARE hives made with hivex — and a virtio-win shaped
# driver folder.  `ferry convert --to kvm --drivers DIR` must leave, read
# back on the host with ntfscat (ntfs-3g, no mount) and hivexget:
#   Windows 7-like (6.1): the boot-start service and CriticalDeviceDatabase
#     entries in ControlSet002 (Select\Current = 2; ControlSet001 untouched),
#     no vioscsi (its .inf wants 10.0), no DriverDatabase;
#   Windows 10-like (10.0): services for viostor and vioscsi, DriverDatabase
#     DeviceIds/DriverInfFiles/DriverPackages, no CriticalDeviceDatabase;
#   both: the .sys in System32\drivers, packages staged in Drivers\Ferry,
#     DevicePath naming it; of the two viostor.inf (6.1 and w10/ 10.0), each
#     guest gets the one made for the newest Windows not above its own.
# Refused with one line, no output, input unchanged: a hibernated guest,
# folders without a storage driver for the target, x86 drivers for an x64
# guest, a hostile .inf.
source "$(dirname "$0")/../functions.sh"
requires guestfish qemu-img hivexget hivexregedit ntfscat sfdisk python3
# Here KVM never starts: do not wait 10 s per launch to learn it again.
export FERRY_KVM_TIMEOUT=${FERRY_KVM_TIMEOUT:-3}
t=$(mktmpdir)

"$TESTS_DIR/data/make-windows-disk.sh" "$t" > "$t/make.log" 2>&1 ||
    { cat "$t/make.log"; fail "could not build the phony Windows disks"; }
echo "phony disks built (${SECONDS}s)"

source "$TESTS_DIR/windows.sh"
absent () { ! hivexget "$1" "$2" >/dev/null 2>&1 || fail "$2 should not exist"; }
# same NTFS GUESTPATH HOSTFILE: the guest file is a copy of the host's
same () { ntfscat "$1" "$2" | cmp -s - "$3" || fail "$2 is not $3"; }

# service HIVE CONTROLSET NAME TAG: every value of the boot-start service.
service () {
    local want
    want=$(printf '%s\n' '"Type"=dword:00000001' '"Start"=dword:00000000' \
        '"ErrorControl"=dword:00000001' '"Group"="SCSI miniport"' \
        "\"ImagePath\"=str(2):\"system32\\\\drivers\\\\$3.sys\"" \
        "\"Tag\"=dword:$4")
    [ "$(hivexget "$1" "\\$2\\Services\\$3")" = "$want" ] ||
        fail "service $3 in $2: $(hivexget "$1" "\\$2\\Services\\$3")"
}

# common_checks NAME VIOSTOR-DIR: files and DevicePath.
common_checks () {
    local n=$t/$1.ntfs
    same "$n" /Windows/System32/drivers/viostor.sys "$2/viostor.sys"
    same "$n" /Windows/Drivers/Ferry/viostor.inf "$2/viostor.inf"
    same "$n" /Windows/Drivers/Ferry/viostor.cat "$2/viostor.cat"
    same "$n" /Windows/Drivers/Ferry/netkvm.inf "$t/virtio/netkvm.inf"
    same "$n" /Windows/Drivers/Ferry/netkvm.sys "$t/virtio/netkvm.sys"
    val "$t/$1.SOFTWARE" '\Microsoft\Windows\CurrentVersion' DevicePath \
        '%SystemRoot%\inf;%SystemRoot%\Drivers\Ferry'
}

scsi='{4D36E97B-E325-11CE-BFC1-08002BE10318}'

# --- Windows 7-like: CriticalDeviceDatabase in the ControlSet in use -----
before=$(sha256sum < "$t/win7.img")
"$FERRY" convert "$t/win7.img" --to kvm --drivers "$t/virtio" \
    -o "$t/win7.qcow2" --json > "$t/win7.json"
[ "$(sha256sum < "$t/win7.img")" = "$before" ] || fail "win7.img modified"
python3 - "$t/win7.json" <<'PY' || fail "win7 JSON report"
import json, sys
r = json.load(open(sys.argv[1]))
ch = r["changes"]
w = [c["detail"] for c in ch if c["what"] == "windows"][0]
assert "Windows 7 Professional 6.1 build 7601 (x86_64)" in w, w
assert "ControlSet002 in use" in w, w
cddb = [c for c in ch if "CriticalDeviceDatabase" in c["detail"]]
assert len(cddb) == 6, cddb
assert any(c["path"] == "/Windows/System32/drivers/viostor.sys" for c in ch)
assert any("DevicePath=" in c["detail"] for c in ch)
PY
fetch "$t/win7.qcow2" win7
S=$t/win7.SYSTEM
service "$S" ControlSet002 viostor 00000022
for id in 'pci#ven_1af4&dev_1001&subsys_00021af4&rev_00' \
          'pci#ven_1af4&dev_1001&subsys_00021af4' 'pci#ven_1af4&dev_1001' \
          'pci#ven_1af4&dev_1042&subsys_11001af4&rev_01' \
          'pci#ven_1af4&dev_1042&subsys_11001af4' 'pci#ven_1af4&dev_1042'; do
    val "$S" "\\ControlSet002\\Control\\CriticalDeviceDatabase\\$id" Service viostor
    val "$S" "\\ControlSet002\\Control\\CriticalDeviceDatabase\\$id" ClassGUID "$scsi"
done
absent "$S" '\ControlSet001\Services\viostor'
absent "$S" '\ControlSet001\Control\CriticalDeviceDatabase\pci#ven_1af4&dev_1001'
absent "$S" '\ControlSet002\Services\vioscsi'
absent "$S" '\DriverDatabase'
common_checks win7 "$t/virtio"
! ntfscat "$t/win7.ntfs" /Windows/Drivers/Ferry/vioscsi.inf >/dev/null 2>&1 ||
    fail "vioscsi (Windows 10 only) staged on Windows 7"
echo "windows 7: ok (${SECONDS}s)"

# --- Windows 10-like: DriverDatabase ------------------------------------
"$FERRY" convert "$t/win10.img" --to kvm --drivers "$t/virtio" \
    -o "$t/win10.qcow2" > "$t/win10.out"
grep -q 'Windows 10 Pro 10.0 build 19045' "$t/win10.out" || fail "win10 report"
fetch "$t/win10.qcow2" win10
S=$t/win10.SYSTEM
service "$S" ControlSet001 vioscsi 00000022
service "$S" ControlSet001 viostor 00000023
ddb='\DriverDatabase'
for p in 'viostor VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00' \
         'viostor VEN_1AF4&DEV_1042&SUBSYS_11001AF4&REV_01' \
         'vioscsi VEN_1AF4&DEV_1004&SUBSYS_00081AF4&REV_00' \
         'vioscsi VEN_1AF4&DEV_1048&SUBSYS_11001AF4&REV_01'; do
    d=${p%% *} id=${p#* } pkg="$ddb\\DriverPackages\\${p%% *}.inf_amd64_ferry"
    [ "$(hivexget "$S" "$ddb\\DeviceIds\\PCI\\$id")" = "\"$d.inf\"=hex(3):01,ff,00,00" ] ||
        fail "DeviceIds\\PCI\\$id: $(hivexget "$S" "$ddb\\DeviceIds\\PCI\\$id")"
    val "$S" "$pkg\\Descriptors\\PCI\\$id" Configuration "${d}_inst"
done
for d in viostor vioscsi; do
    pkg="$ddb\\DriverPackages\\$d.inf_amd64_ferry"
    val "$S" "$ddb\\DriverInfFiles\\$d.inf" Active "$d.inf_amd64_ferry"
    val "$S" "$pkg" InfName "$d.inf"
    val "$S" "$pkg" Provider "Red Hat, Inc."
    val "$S" "$pkg" F6 1
    val "$S" "$pkg\\Configurations\\${d}_inst" Service "$d"
    val "$S" "$pkg\\Configurations\\${d}_inst" ConfigFlags 0
    hivexget "$S" "$pkg" | grep -qF \
        '"Version"=hex(3):00,ff,09,00,00,00,00,00,7b,e9,36,4d,25,e3,ce,11,bf,c1,08,00,2b,e1,03,18' ||
        fail "$pkg Version (class GUID)"
done
absent "$S" '\ControlSet001\Control\CriticalDeviceDatabase'
common_checks win10 "$t/virtio/w10"    # the newest fitting .inf wins
same "$t/win10.ntfs" /Windows/System32/drivers/vioscsi.sys "$t/virtio/vioscsi.sys"
echo "windows 10: ok (${SECONDS}s)"

# --- refusals -------------------------------------------------------------
# refuse IMAGE REGEXP ARGS...: one-line error, no output, input unchanged.
refuse () {
    local img=$1 re=$2 before; shift 2
    before=$(sha256sum < "$img")
    expect_fail "$re" "$FERRY" convert "$img" "$@" -o "$t/out.qcow2"
    [ ! -e "$t/out.qcow2" ] || fail "output left behind for $img"
    ls -A "$t" | grep -q ferry-tmp && fail "temporary left behind for $img"
    [ "$(sha256sum < "$img")" = "$before" ] || fail "input $img modified"
    echo "refused $(basename "$img") $*: ok"
}
mkdir "$t/empty" "$t/hostile"
head -c 2000000 /dev/zero | tr '\0' A > "$t/hostile/big.inf"
refuse "$t/hiber.img" 'is hibernated \(hiberfil.sys says "HIBR"\).*nothing was written' \
    --to kvm --drivers "$t/virtio"
refuse "$t/win10.img" "viostor.inf \(viostor\) is a driver for x86; the guest is x86_64 \(amd64\)" \
    --to kvm --drivers "$t/virtio-x86"
# These are refused before any appliance starts.
refuse "$t/win7.img" "no storage driver for kvm among 1 .inf file " \
    --to kvm --drivers "$t/net-only"
refuse "$t/win7.img" "no storage driver for xen among 4 .inf files" \
    --to xen --drivers "$t/virtio"
refuse "$t/win7.img" "no storage driver for kvm among 0 .inf files" \
    --to kvm --drivers "$t/empty"
refuse "$t/win7.img" "hostile/big.inf': not a regular file of at most" --to kvm --drivers "$t/hostile"
refuse "$t/win7.img" "drivers '.*/nowhere'" --to kvm --drivers "$t/nowhere"
echo "ok (${SECONDS}s)"
