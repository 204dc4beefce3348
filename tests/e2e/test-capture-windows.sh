#!/bin/bash
# `ferry capture --convert kvm --drivers DIR` of a (phony) Windows machine
# makes the same changes as `ferry convert --to kvm --drivers DIR` of it:
# both go through the one conversion pipeline (lib/guest/pipeline.c).  The
# Windows 7-like disk of tests/data/make-windows-disk.sh (ControlSet002 in
# use) is converted both ways; read back on the host with ntfscat and
# hivexregedit/hivexget, the two results have the same SYSTEM and SOFTWARE
# hives (whole exports compared, after checking that the boot-start
# service, the CriticalDeviceDatabase entries and DevicePath are there),
# the same viostor.sys in System32\drivers and the same staged packages,
# and the two JSON reports list the same changes.  The source stays
# byte-identical.  Refused with one line, before any appliance starts and
# leaving no output: --drivers without --convert, a folder without a
# storage driver for the target.  Two appliance launches (plus the one
# that builds the phony disks).
source "$(dirname "$0")/../functions.sh"
requires guestfish qemu-img hivexget hivexregedit ntfscat sfdisk python3 sha256sum
# Here KVM never starts: do not wait 10 s per launch to learn it again.
export FERRY_KVM_TIMEOUT=${FERRY_KVM_TIMEOUT:-3}
t=$(mktmpdir)

"$TESTS_DIR/data/make-windows-disk.sh" "$t" > "$t/make.log" 2>&1 ||
    { cat "$t/make.log"; fail "could not build the phony Windows disks"; }
echo "phony disks built (${SECONDS}s)"

source "$TESTS_DIR/windows.sh"

# converted NAME: what the conversion must have written, in either result.
converted () {
    local S=$t/$1.SYSTEM id
    val "$S" '\ControlSet002\Services\viostor' Start 0
    val "$S" '\ControlSet002\Services\viostor' Group 'SCSI miniport'
    val "$S" '\ControlSet002\Services\viostor' ImagePath 'system32\drivers\viostor.sys'
    for id in 'pci#ven_1af4&dev_1001' 'pci#ven_1af4&dev_1042&subsys_11001af4'; do
        val "$S" "\\ControlSet002\\Control\\CriticalDeviceDatabase\\$id" Service viostor
    done
    ! hivexget "$S" '\ControlSet001\Services\viostor' >/dev/null 2>&1 ||
        fail "$1: the decoy ControlSet001 was edited"
    val "$t/$1.SOFTWARE" '\Microsoft\Windows\CurrentVersion' DevicePath \
        '%SystemRoot%\inf;%SystemRoot%\Drivers\Ferry'
    ntfscat "$t/$1.ntfs" /Windows/System32/drivers/viostor.sys |
        cmp -s - "$t/virtio/viostor.sys" || fail "$1: viostor.sys is not the driver's"
}

# --- the reference: ferry convert ----------------------------------------
before=$(sha256sum < "$t/win7.img")
"$FERRY" convert "$t/win7.img" --to kvm --drivers "$t/virtio" \
    -o "$t/conv.qcow2" --json > "$t/conv.json"
echo "convert: done (${SECONDS}s)"

# --- the same through capture ---------------------------------------------
"$FERRY" capture "$t/win7.img" --convert kvm --drivers "$t/virtio" \
    -O qcow2 -o "$t/cap.qcow2" --json > "$t/cap.json"
echo "capture --convert: done (${SECONDS}s)"
[ "$(sha256sum < "$t/win7.img")" = "$before" ] || fail "the source was written"
compgen -G "$t/.*ferry-tmp*" >/dev/null && fail "temporary overlay left behind"

# The two reports: the same root and the same changes, in the same order.
python3 - "$t/conv.json" "$t/cap.json" <<'PY' || fail "reports differ"
import json, sys
conv = json.load(open(sys.argv[1]))
cap = json.load(open(sys.argv[2]))
assert cap["ok"] and len(cap["captures"]) == 1, cap
c = cap["captures"][0]["convert"]
assert c["target"] == "kvm" and c["root"] == conv["root"], (c, conv)
assert "Windows 7" in [x["detail"] for x in c["changes"] if x["what"] == "windows"][0]
key = lambda x: (x["what"], x["path"], x["detail"])
assert list(map(key, c["changes"])) == list(map(key, conv["changes"])), \
    (c["changes"], conv["changes"])
assert any("CriticalDeviceDatabase" in x["detail"] for x in c["changes"]), c
PY

fetch "$t/conv.qcow2" conv
fetch "$t/cap.qcow2" cap
converted conv
converted cap
for h in SYSTEM SOFTWARE; do
    hivexregedit --export "$t/conv.$h" '\' > "$t/conv.$h.reg"
    hivexregedit --export "$t/cap.$h" '\' > "$t/cap.$h.reg"
    diff -u "$t/conv.$h.reg" "$t/cap.$h.reg" ||
        fail "the $h hives of convert and capture --convert differ"
done
for f in System32/drivers/viostor.sys Drivers/Ferry/viostor.inf \
         Drivers/Ferry/viostor.sys Drivers/Ferry/viostor.cat \
         Drivers/Ferry/netkvm.inf Drivers/Ferry/netkvm.sys; do
    cmp -s <(ntfscat "$t/conv.ntfs" "/Windows/$f") \
        <(ntfscat "$t/cap.ntfs" "/Windows/$f") ||
        fail "/Windows/$f differs between convert and capture --convert"
done
echo "same hives, drivers and report: ok (${SECONDS}s)"

# --- refusals before any appliance starts ----------------------------------
expect_fail "--drivers needs --convert" \
    "$FERRY" capture "$t/win7.img" --drivers "$t/virtio" -o "$t/bad.qcow2"
expect_fail "no storage driver for kvm among 1 .inf file " \
    "$FERRY" capture "$t/win7.img" --convert kvm --drivers "$t/net-only" \
    -o "$t/bad.qcow2" -q
[ ! -e "$t/bad.qcow2" ] || fail "a refused capture left an output"
compgen -G "$t/.*ferry-tmp*" >/dev/null && fail "a refused capture left a temporary"
[ "$(sha256sum < "$t/win7.img")" = "$before" ] || fail "the source was written"
echo "ok (${SECONDS}s)"
