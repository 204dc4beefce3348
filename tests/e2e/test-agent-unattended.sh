#!/bin/bash
# `ferry agent` unattended (ferry.target= + ferry.yes from --cmdline) with a
# file: target: the images equal the source disks, the report, log and
# status files are written; and every bad input stops the run with one
# clear line, a non-zero status file and nothing written on the target.
source "$(dirname "$0")/../functions.sh"
requires qemu-img
t=$(mktmpdir)
make_test_disk "$t/a.raw" 40
make_test_disk "$t/b.raw" 24
mkdir "$t/out" "$t/empty"
cp "$t/a.raw" "$t/a.orig"
agent () { "$FERRY" agent --no-post --no-network --status "$t/status" --mount-dir "$t/mnt" "$@"; }

# The good run: two disks, qcow2; progress lines on stderr and on the
# ferry.console device (a file standing in for /dev/ttyS9).
mkdir "$t/devdir"; : > "$t/devdir/ttyS9"
agent --dev "$t/devdir" --disk "$t/a.raw" --disk "$t/b.raw" --cmdline \
    "BOOT_IMAGE=/vmlinuz quiet ferry.target=file:$t/out ferry.name=web1 ferry.format=qcow2 ferry.cpus=2 ferry.console=ttyS9 ferry.yes" \
    2>"$t/console" || fail "agent failed: $(cat "$t/console")"
grep -q 'disk 2/2 b.raw: 100%' "$t/devdir/ttyS9" || fail "nothing on ferry.console"
r=$t/out/web1
for d in a b; do
    qemu-img check -q "$r/web1-$d.raw.qcow2" || fail "qemu-img check $d"
    qemu_compare "$t/$d.raw" "$r/web1-$d.raw.qcow2"
done
cmp "$t/a.raw" "$t/a.orig" || fail "the source disk was written"
[ "$(cat "$t/status")" = "0 ok" ] || fail "status: $(cat "$t/status")"
[ "$(cat "$r/ferry-status")" = "0 ok" ] || fail "result status"
grep -q 'disk 2/2 b.raw: 100%' "$t/console" || fail "no progress lines: $(cat "$t/console")"
grep -q "captured 'a.raw'" "$r/ferry-agent.log" || fail "log: $(cat "$r/ferry-agent.log")"
python3 - "$r/web1.json" "$t" <<'PY' || fail "report"
import json, sys
rep = json.load(open(sys.argv[1]))
assert rep["ok"] is True, rep
caps = rep["captures"]
assert [c["source"] for c in caps] == [sys.argv[2] + "/a.raw", sys.argv[2] + "/b.raw"], caps
assert caps[0]["format"] == "qcow2" and caps[0]["source_size"] == 40 << 20
assert caps[0]["bytes_unreadable"] == 0 and caps[0]["bytes_written"] > 0
PY

# vhd as well, disks picked by ferry.disks (by name).
agent --disk "$t/a.raw" --disk "$t/b.raw" --cmdline \
    "ferry.target=$t/out ferry.disks=b.raw ferry.format=vhd ferry.name=db ferry.yes" 2>/dev/null \
    || fail "vhd run"
qemu_compare "$t/b.raw" "$t/out/db/db-b.raw.vhd"
[ ! -e "$t/out/db/db-a.raw.vhd" ] || fail "a.raw was not selected"

# One OVA of both disks, streamed from the sources: manifest and disks
# checked with tar, sha256sum and qemu-img; and an XVA with its ova.xml.
agent --disk "$t/a.raw" --disk "$t/b.raw" --cmdline \
    "ferry.target=file:$t/out ferry.format=ova ferry.name=pk ferry.memory=2048 ferry.yes" \
    2>/dev/null || fail "ova run"
mkdir "$t/x"
tar -C "$t/x" -xf "$t/out/pk/pk.ova"
[ "$(tar -tf "$t/out/pk/pk.ova" | head -1)" = pk.ovf ] || fail "ova: .ovf not first"
(cd "$t/x" && sed -n 's/^SHA256(\(.*\))= \(.*\)$/\2  \1/p' pk.mf | sha256sum -c --quiet) \
    || fail "ova manifest"
grep -q '<rasd:VirtualQuantity>2048</rasd:VirtualQuantity>' "$t/x/pk.ovf" || fail "ova memory"
qemu_compare "$t/a.raw" "$t/x/pk-disk1.vmdk"
qemu_compare "$t/b.raw" "$t/x/pk-disk2.vmdk"
grep -q '"format":"ova"' "$t/out/pk/pk.json" || fail "ova report"
agent --disk "$t/a.raw" --cmdline \
    "ferry.target=file:$t/out ferry.format=xva ferry.name=xv ferry.yes" 2>/dev/null || fail "xva run"
[ "$(tar -tf "$t/out/xv/xv.xva" | head -1)" = ova.xml ] || fail "xva: no ova.xml first"

# Bad inputs: exit 1, the reason on the console and in the status file,
# and nothing written on the target.
bad () {
    local re=$1 rc=0; shift
    rm -f "$t/status"
    agent --disk "$t/a.raw" --cmdline "$*" 2>"$t/err" || rc=$?
    [ "$rc" -eq 1 ] || fail "exit $rc (want 1) for: $* :: $(cat "$t/err")"
    grep -Eq -- "$re" "$t/err" || fail "expected /$re/ on the console for: $* :: $(cat "$t/err")"
    grep -Eq -- "^1 .*$re" "$t/status" || fail "status for: $* :: $(cat "$t/status")"
    grep -q 'ferry.post=.* not run' "$t/err" || fail "no post action for: $*"
    [ -z "$(ls -A "$t/empty")" ] || fail "something was written for: $*"
}
tgt="ferry.target=file:$t/empty ferry.yes"
bad "unknown kernel command line key 'ferry.colour'" "$tgt ferry.colour=red"
bad "ferry.format: 'iso' is not one of" "$tgt ferry.format=iso"
bad "ferry.cpus: 'two' is not a number" "$tgt ferry.cpus=two"
bad "ferry.memory: 1 is out of range" "$tgt ferry.memory=1"
bad "ferry.ip: bad prefix length '33'" "$tgt ferry.ip=10.0.0.2/33"
bad "ferry.name: .*only letters" "$tgt ferry.name=a/b"
bad "ferry.target: 'ftp://x/y': expected file:" "ferry.target=ftp://x/y ferry.yes"
bad "disk 'sdz' does not exist" "$tgt ferry.disks=sdz"
bad "target 'file:$t/nowhere': '$t/nowhere': No such file" "ferry.target=file:$t/nowhere ferry.yes"
bad "target 'disk:$t/a.raw' is a disk being captured" "ferry.target=disk:$t/a.raw ferry.disks=a.raw ferry.yes"
bad "no disk to capture" "ferry.target=disk:$t/a.raw ferry.yes"
bad "ferry.convert=kvm needs an image format .*not ova" "$tgt ferry.convert=kvm ferry.format=ova"
bad "ferry.verify=1 boots a kvm conversion: it needs ferry.convert=kvm .*not xen" \
    "$tgt ferry.format=qcow2 ferry.convert=xen ferry.verify=1"
# NFS and CIFS with no server (or no mount helper installed): unreachable.
bad "target 'nfs:127.0.0.1:/export' is unreachable: " \
    "ferry.target=nfs:127.0.0.1:/export ferry.yes"
bad "target 'cifs://u@127.0.0.1/share' is unreachable: " \
    "ferry.target=cifs://u@127.0.0.1/share ferry.password=pw ferry.yes"
if command -v sshfs >/dev/null; then
    bad "target 'ssh://nobody@127.0.0.1:1/x' is unreachable" \
        "ferry.target=ssh://nobody@127.0.0.1:1/x ferry.yes"
fi
# Too small: a 1 MiB tmpfs for 40 MiB of disk (needs root to mount).
mkdir "$t/small"
if mount -t tmpfs -o size=1M tmpfs "$t/small" 2>/dev/null; then
    cleanup_fn "umount '$t/small'"
    bad "target 'file:$t/small' is too small: .* free, 40.0 MiB to copy" \
        "ferry.target=file:$t/small ferry.yes"
    [ -z "$(ls -A "$t/small")" ] || fail "written to the small target"
else
    echo "note: cannot mount a tmpfs here, 'too small' not tested"
fi
cmp "$t/a.raw" "$t/a.orig" || fail "the source disk was written"

# ferry.convert=kvm goes through capture_one's conversion (one appliance
# launch, any image format): on a disk with no OS it fails with the
# conversion's own error, in the status file and the log, and leaves no
# image and no temporary (overlay or output) behind.
mkdir "$t/conv"
rc=0
agent --disk "$t/a.raw" --cmdline \
    "ferry.target=file:$t/conv ferry.name=cv ferry.format=vhd ferry.convert=kvm ferry.yes" \
    2>"$t/err" || rc=$?
[ "$rc" -eq 1 ] || fail "convert without an OS: exit $rc: $(cat "$t/err")"
grep -q "capture: '$t/a.raw': no operating system found" "$t/err" \
    || fail "convert without an OS: $(cat "$t/err")"
grep -q "^1 capture: .*no operating system found" "$t/status" || fail "status: $(cat "$t/status")"
grep -q "converting it for kvm" "$t/conv/cv/ferry-agent.log" || fail "log: $(cat "$t/conv/cv/ferry-agent.log")"
grep -q "no operating system found" "$t/conv/cv/ferry-agent.log" || fail "log lacks the error"
left=$(ls -A "$t/conv/cv" | grep -v -x -e ferry-status -e ferry-agent.log -e cv.json || true)
[ -z "$left" ] || fail "left on the target after a failed conversion: $left"
if grep -q 'convert' "$t/err" && grep -q '/proc/self/exe' "$t/err"; then
    fail "ferry convert ran as a subprocess: $(cat "$t/err")"
fi
cmp "$t/a.raw" "$t/a.orig" || fail "the source disk was written by the conversion"

# ferry.root reaches the conversion: on the reference guest a root that
# is not there is refused with the list of the roots that are.
ref=$("$TESTS_DIR/guests.sh" "$BUILDDIR" debian12-ahci)
mkdir "$t/root"
rc=0
LIBGUESTFS_BACKEND_SETTINGS=force_tcg agent --disk "$ref" --cmdline \
    "ferry.target=file:$t/root ferry.name=rt ferry.format=qcow2 ferry.convert=kvm ferry.root=/dev/sda9 ferry.yes" \
    2>"$t/err" || rc=$?
[ "$rc" -eq 1 ] || fail "ferry.root=/dev/sda9: exit $rc: $(cat "$t/err")"
grep -q "no operating system root '/dev/sda9' (roots: /dev/sda1 (debian " "$t/err" \
    || fail "ferry.root=/dev/sda9: $(cat "$t/err")"
[ ! -e "$t/root/rt/rt-$(basename "$ref").qcow2" ] || fail "ferry.root: image left behind"

# Without ferry.yes (or without a target) the run is not unattended: the
# TUI would start, and without a terminal it says so.
out=$(agent --disk "$t/a.raw" --cmdline "ferry.target=file:$t/empty" </dev/null 2>&1 >/dev/null) && \
    fail "TUI started without a terminal"
echo "$out" | grep -q "the TUI needs a terminal" || fail "no terminal: $out"
[ -z "$(ls -A "$t/empty")" ] || fail "written without ferry.yes"
# The man page carries exactly the settings section the table generates.
diff <("$FERRY" agent --man) \
     <(awk '/^\.SH SETTINGS/ { p = 1; print; next } /^\.SH / { p = 0 } p' \
           "$TESTS_DIR/../docs/ferry-agent.1") \
    || fail "docs/ferry-agent.1: SETTINGS differs from 'ferry agent --man'"
echo ok
