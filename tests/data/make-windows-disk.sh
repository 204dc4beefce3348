#!/bin/bash
# make-windows-disk.sh OUTDIR: phony Windows guests and driver folders for
# tests/e2e/test-convert-windows.sh (no Windows can be had here).
#
#   OUTDIR/win7.img    MBR + NTFS, a Windows 7-like (6.1, build 7601) root:
#                      SYSTEM (Select\Current = 2, so ControlSet002 is the one
#                      in use; ControlSet001 is a decoy) and SOFTWARE hives
#   OUTDIR/win10.img   Windows 10-like (10.0, build 19045), ControlSet001,
#                      a DriverDatabase key
#   OUTDIR/hiber.img   win10 with a hiberfil.sys whose header says "HIBR"
#   OUTDIR/virtio/     virtio-win shaped amd64 drivers: viostor.inf (UTF-16LE,
#                      NTamd64.6.1), w10/viostor.inf (ANSI, NTamd64.10.0: the
#                      one a Windows 10 guest must get), vioscsi.inf (ANSI,
#                      NTamd64.10.0), netkvm.inf (network), dummy .sys/.cat
#                      files whose text names their path
#   OUTDIR/virtio-x86/ viostor for x86 only;  OUTDIR/net-only/: netkvm only
#
# The hives are real regf files: an empty hive (written by the Python below:
# hivex can edit hives but not create one) filled by hivexregedit --merge
# from .reg text.  All three disks are made in one guestfish run.
set -euo pipefail
out=$1
mkdir -p "$out"
cd "$out"
rm -rf virtio virtio-x86 net-only stage
mkdir -p virtio/w10 virtio-x86 net-only stage

python3 - <<'PY'
import struct

def empty_hive(path):
    # regf header (4 KiB) + one hbin (4 KiB) holding the root nk
    # (KEY_HIVE_ENTRY|KEY_NO_DELETE|KEY_COMP_NAME), the sk it points to
    # (hivex gives new keys their parent's sk) and one free cell.
    name = b"ROOT"
    nk = b"nk" + struct.pack("<HQIIIIIIIIIIHHIIIIHH", 0x2c, 0, 0, 0xffffffff,
        0, 0, 0xffffffff, 0xffffffff, 0, 0xffffffff, 0x20 + 0x58, 0xffffffff,
        0, 0, 0, 0, 0, 0, len(name), 0) + name
    nk = struct.pack("<i", -0x58) + nk.ljust(0x54, b"\0")
    sd = bytes([1, 0, 4, 0x80]) + bytes(16)        # self-relative, NULL DACL
    sk = b"sk" + struct.pack("<HIIII", 0, 0x78, 0x78, 1, len(sd)) + sd
    sk = struct.pack("<i", -0x30) + sk.ljust(0x2c, b"\0")
    free = 0x1000 - 0x20 - len(nk) - len(sk)
    hbin = b"hbin" + struct.pack("<III", 0, 0x1000, 0).ljust(28, b"\0")
    hbin += nk + sk + struct.pack("<i", free).ljust(free, b"\0")
    hdr = bytearray(b"regf" + struct.pack("<IIQIIIIIII", 1, 1, 0, 1, 3, 0, 1,
                                          0x20, 0x1000, 1)).ljust(0x1fc, b"\0")
    csum = 0
    for i in range(0, 0x1fc, 4):
        csum ^= struct.unpack_from("<I", hdr, i)[0]
    open(path, "wb").write(bytes(hdr + struct.pack("<I", csum)).ljust(0x1000, b"\0") + hbin)

def cmd_exe(path):
    # Just enough PE32+ header for file(1), which libguestfs asks for the arch.
    mz = bytearray(0x80); mz[0:2] = b"MZ"; struct.pack_into("<I", mz, 0x3c, 0x80)
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", 0x8664, 0, 0, 0, 0, 0xf0, 0x22)
    opt = bytearray(0xf0); struct.pack_into("<H", opt, 0, 0x20b); struct.pack_into("<H", opt, 68, 3)
    open(path, "wb").write(bytes(mz) + coff + bytes(opt))

def hexsz(s, t=2):  # .reg hex(t): UTF-16LE with its NUL
    return "hex(%d):" % t + ",".join("%02x" % b for b in (s + "\0").encode("utf-16-le"))

def reg(path, root, keys):
    # keys: [(path, {name: value-text})]; every parent listed first.
    lines = ["Windows Registry Editor Version 5.00", ""]
    for k, vals in keys:
        lines.append("[%s\\%s]" % (root, k))
        lines += ['"%s"=%s' % kv for kv in vals.items()] + [""]
    open(path, "w").write("\r\n".join(lines) + "\r\n")

def system(path, current, sets, ddb):
    keys = [("Select", {"Current": "dword:%08x" % current, "Default": "dword:%08x" % current,
                        "LastKnownGood": "dword:%08x" % current, "Failed": "dword:00000000"}),
            ("MountedDevices", {})]
    for n in sets:
        cs = "ControlSet%03d" % n
        keys += [(cs, {}), (cs + "\\Control", {}),
                 (cs + "\\Control\\GroupOrderList", {"SCSI miniport": "hex:03,00,00,00,01,00,00,00,02,00,00,00,21,00,00,00"}),
                 (cs + "\\Services", {}), (cs + "\\Services\\Tcpip", {}),
                 (cs + "\\Services\\Tcpip\\Parameters", {"Hostname": '"win-cs%d"' % n})]
        if not ddb:
            keys.append((cs + "\\Control\\CriticalDeviceDatabase", {}))
    if ddb:
        keys += [("DriverDatabase", {}), ("DriverDatabase\\DeviceIds", {}),
                 ("DriverDatabase\\DriverPackages", {}), ("DriverDatabase\\DriverInfFiles", {})]
    reg(path, "HKEY_LOCAL_MACHINE\\SYSTEM", keys)

def software(path, product, ver, build, major=None):
    cv = {"ProductName": '"%s"' % product, "CurrentVersion": '"%s"' % ver,
          "CurrentBuild": '"%s"' % build, "CurrentBuildNumber": '"%s"' % build,
          "InstallationType": '"Client"', "EditionID": '"Professional"'}
    if major is not None:
        cv["CurrentMajorVersionNumber"] = "dword:%08x" % major
        cv["CurrentMinorVersionNumber"] = "dword:00000000"
    reg(path, "HKEY_LOCAL_MACHINE\\SOFTWARE", [
        ("Microsoft", {}), ("Microsoft\\Windows NT", {}),
        ("Microsoft\\Windows NT\\CurrentVersion", cv),
        ("Microsoft\\Windows", {}),
        ("Microsoft\\Windows\\CurrentVersion", {"DevicePath": hexsz("%SystemRoot%\\inf")})])

for h in ("win7-SYSTEM", "win7-SOFTWARE", "win10-SYSTEM", "win10-SOFTWARE"):
    empty_hive("stage/" + h)
system("stage/win7-SYSTEM.reg", 2, (1, 2), False)
software("stage/win7-SOFTWARE.reg", "Windows 7 Professional", "6.1", "7601")
system("stage/win10-SYSTEM.reg", 1, (1,), True)
software("stage/win10-SOFTWARE.reg", "Windows 10 Pro", "6.3", "19045", 10)
cmd_exe("stage/cmd.exe")
open("stage/hiberfil.sys", "wb").write(b"HIBR" + bytes(4092))

# Driver .inf files in virtio-win's shape.
def inf(path, cls, guid, decor, models, service, utf16):
    text = """; %(svc)s.inf -- phony driver for Ferry's tests
[Version]
Signature="$WINDOWS NT$"
Class=%(cls)s
ClassGuid=%(guid)s
Provider=%%VENDOR%%
DriverVer=01/01/2024,100.0.0.1
CatalogFile=%(svc)s.cat

[SourceDisksFiles]
%(svc)s.sys = 1,,

[Manufacturer]
%%VENDOR%% = VENDOR,%(decor)s

[VENDOR.%(decor)s]
%(models)s

[%(svc)s_inst]
CopyFiles = %(svc)s_files

[%(svc)s_inst.Services]
AddService = %(svc)s, 0x00000002, %(svc)s_Service_Inst, %(svc)s_EventLog_Inst

[%(svc)s_Service_Inst]
ServiceType    = 1
StartType      = 0
ErrorControl   = 1
ServiceBinary  = %%12%%\\%(svc)s.sys
LoadOrderGroup = SCSI miniport

[Strings]
VENDOR = "Red Hat, Inc."
DeviceDesc = "Phony device"
""" % dict(svc=service, cls=cls, guid=guid, decor=decor,
           models="\n".join("%%DeviceDesc%% = %s_inst, %s" % (service, m) for m in models))
    text = text.replace("\n", "\r\n")
    open(path, "wb").write(b"\xff\xfe" + text.encode("utf-16-le") if utf16 else text.encode("ascii"))
    for ext in ("sys", "cat"):
        open(path[:-3] + ext, "wb").write(("phony %s%s\n" % (path[:-3], ext)).encode())

scsi = "{4D36E97B-E325-11CE-BFC1-08002BE10318}"
blk = [r"PCI\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00", r"PCI\VEN_1AF4&DEV_1042&SUBSYS_11001AF4&REV_01"]
inf("virtio/viostor.inf", "SCSIAdapter", scsi, "NTamd64.6.1", blk, "viostor", True)
inf("virtio/w10/viostor.inf", "SCSIAdapter", scsi, "NTamd64.10.0", blk, "viostor", False)
inf("virtio/vioscsi.inf", "SCSIAdapter", scsi, "NTamd64.10.0",
    [r"PCI\VEN_1AF4&DEV_1004&SUBSYS_00081AF4&REV_00", r"PCI\VEN_1AF4&DEV_1048&SUBSYS_11001AF4&REV_01"], "vioscsi", False)
inf("virtio/netkvm.inf", "Net", "{4d36e972-e325-11ce-bfc1-08002be10318}", "NTamd64.6.1",
    [r"PCI\VEN_1AF4&DEV_1000&SUBSYS_00011AF4&REV_00"], "netkvm", False)
inf("virtio-x86/viostor.inf", "SCSIAdapter", scsi, "NTx86.6.1", blk, "viostor", True)
inf("net-only/netkvm.inf", "Net", "{4d36e972-e325-11ce-bfc1-08002be10318}", "NTamd64.6.1",
    [r"PCI\VEN_1AF4&DEV_1000&SUBSYS_00011AF4&REV_00"], "netkvm", False)
PY

for h in win7-SYSTEM win7-SOFTWARE win10-SYSTEM win10-SOFTWARE; do
    hivexregedit --merge --prefix "HKEY_LOCAL_MACHINE\\${h#*-}" "stage/$h" "stage/$h.reg"
done

rm -f win7.img win10.img hiber.img
truncate -s 32M win7.img win10.img hiber.img
guestfish -a win7.img -a win10.img -a hiber.img <<'GF'
run
part-disk /dev/sda mbr
part-disk /dev/sdb mbr
part-disk /dev/sdc mbr
mkfs ntfs /dev/sda1
mkfs ntfs /dev/sdb1
mkfs ntfs /dev/sdc1
mount /dev/sda1 /
mkdir-p /Windows/System32/config
mkdir-p /Windows/System32/drivers
upload stage/cmd.exe /Windows/System32/cmd.exe
upload stage/win7-SYSTEM /Windows/System32/config/SYSTEM
upload stage/win7-SOFTWARE /Windows/System32/config/SOFTWARE
umount /
mount /dev/sdb1 /
mkdir-p /Windows/System32/config
mkdir-p /Windows/System32/drivers
upload stage/cmd.exe /Windows/System32/cmd.exe
upload stage/win10-SYSTEM /Windows/System32/config/SYSTEM
upload stage/win10-SOFTWARE /Windows/System32/config/SOFTWARE
umount /
mount /dev/sdc1 /
mkdir-p /Windows/System32/config
mkdir-p /Windows/System32/drivers
upload stage/cmd.exe /Windows/System32/cmd.exe
upload stage/win10-SYSTEM /Windows/System32/config/SYSTEM
upload stage/win10-SOFTWARE /Windows/System32/config/SOFTWARE
upload stage/hiberfil.sys /hiberfil.sys
umount /
GF
