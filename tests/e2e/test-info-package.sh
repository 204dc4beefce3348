#!/bin/bash
# `ferry info PACKAGE [--json]`: for OVAs made by `ferry export` in each
# flavour (plain tar, gzip and xz tar, unpacked directory) and for an XVA,
# the JSON holds, field by field, what was exported — kind, flavour, VM
# (name, UUID, CPUs, memory, firmware, OS), disks (member, format,
# capacity, bytes as tar lists them), NICs (MAC, network, model),
# manifest and signature — and nothing is extracted.  A damaged manifest
# is reported, not fatal; `ferry info IMAGE` is unchanged.
source "$(dirname "$0")/../functions.sh"
requires tar gzip xz python3
t=$(mktmpdir)
make_test_disk "$t/disk.img" 12
truncate -s 3M "$t/disk2.img"
uuid=3b0e5f9a-1c2d-4e5f-8a9b-0c1d2e3f4a5b
cat > "$t/dom.xml" <<XML
<domain type='kvm'>
  <name>infovm</name>
  <uuid>$uuid</uuid>
  <memory unit='MiB'>768</memory>
  <vcpu>3</vcpu>
  <os firmware='efi'><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$t/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$t/disk2.img'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <interface type='network'><mac address='52:54:00:12:34:01'/><source network='lan'/><model type='e1000'/></interface>
    <interface type='network'><mac address='52:54:00:12:34:02'/><source network='dmz'/><model type='e1000'/></interface>
  </devices>
</domain>
XML

# check PKG KIND FLAVOUR CONTAINER FORMAT TARFILE: the JSON of `ferry info`
# against what was exported; member sizes from `tar tvf TARFILE`.
check () {
    local pkg=$1 kind=$2 flavour=$3 container=$4 fmt=$5 tarfile=$6
    "$FERRY" info --json "$pkg" > "$t/info.json" || fail "info '$pkg'"
    tar tvf "$tarfile" | awk '{print $6, $3}' > "$t/sizes"
    python3 - "$t/info.json" "$kind" "$flavour" "$container" "$fmt" \
        "$uuid" "$t/sizes" <<'EOF' || fail "info '$pkg': $(cat "$t/info.json")"
import json, sys
d = json.load(open(sys.argv[1]))
kind, flavour, container, fmt, uuid = sys.argv[2:7]
sizes = dict(l.split() for l in open(sys.argv[7]))
def eq(got, want, what):
    assert got == want, "%s: got %r, want %r" % (what, got, want)
eq(d["package"], kind, "package")
eq(d["flavour"], flavour, "flavour")
eq(d["container"], container, "container")
vm = d["vm"]
eq(vm["uuid"], uuid, "uuid")
eq(vm["cpus"], 3, "cpus")
eq(vm["memory_mib"], 768, "memory")
eq(vm["name"], "infovm", "name")
eq(len(d["disks"]), 2, "disks")
for disk, cap in zip(d["disks"], (12 << 20, 3 << 20)):
    eq(disk["format"], fmt, "format")
    eq(disk["capacity"], cap, "capacity")
    eq(disk["present"], True, "present")
    if kind == "ova":
        eq(disk["detected_format"], fmt, "detected format")
        eq(disk["header_capacity"], cap, "header capacity")
        eq(disk["bytes"], int(sizes[disk["member"]]), "bytes")
    else:
        # 1 MiB chunks, the zero ones left out but the first and last.
        eq(disk["bytes"], sum(int(s) for n, s in sizes.items()
                              if n.startswith(disk["member"] + "/")
                              and n[-1].isdigit()), "bytes")
        eq(disk["chunks"], sum(1 for n in sizes
                               if n.startswith(disk["member"] + "/")
                               and n[-1].isdigit()), "chunks")
macs = [n["mac"] for n in d["nics"]]
eq(macs, ["52:54:00:12:34:01", "52:54:00:12:34:02"], "macs")
eq(vm["firmware"], "uefi", "firmware")
eq([n["network"] for n in d["nics"]], ["lan", "dmz"], "networks")
if kind == "ova":
    eq(d["manifest"], {"present": True, "algorithm": "sha256",
                       "verified": True}, "manifest")
    eq(d["members"], 4, "members")
else:
    eq(d["manifest"]["present"], False, "manifest")
eq(d["signature"]["present"], False, "signature")
eq(d["problem"], None, "problem")
EOF
}

for flavour in vmware virtualbox xenserver; do
    fmt=vmdk; [ "$flavour" = xenserver ] && fmt=vhd
    "$FERRY" export -q --from-libvirt "$t/dom.xml" -o "$t/$flavour.ova" --flavour "$flavour"
    check "$t/$flavour.ova" ova "$flavour" tar "$fmt" "$t/$flavour.ova"
done
# The checker itself catches a wrong expectation.
( check "$t/vmware.ova" ova virtualbox tar vmdk "$t/vmware.ova" ) 2>/dev/null &&
    fail "check accepts a wrong flavour"
# Compressed tars and an unpacked directory.
gzip -c "$t/vmware.ova" > "$t/gz.ova"
check "$t/gz.ova" ova vmware "compressed tar" vmdk "$t/vmware.ova"
xz -T1 -0 -c "$t/xenserver.ova" > "$t/xz.ova"
check "$t/xz.ova" ova xenserver "compressed tar" vhd "$t/xenserver.ova"
mkdir "$t/dir"; tar xf "$t/virtualbox.ova" -C "$t/dir"
check "$t/dir" ova virtualbox directory vmdk "$t/virtualbox.ova"
# XVA.
"$FERRY" export -q --from-libvirt "$t/dom.xml" -o "$t/vm.xva"
check "$t/vm.xva" xva xva tar raw "$t/vm.xva"
# Nothing was extracted anywhere.
[ -z "$(find "$t" -newer "$t/vm.xva" -type f ! -name 'info.json' ! -name sizes)" ] ||
    fail "info left files: $(find "$t" -newer "$t/vm.xva" -type f)"

# Human output names the same facts.
"$FERRY" info "$t/vmware.ova" > "$t/info.txt"
for want in "OVA, vmware flavour, tar, 4 members" "infovm, 3 CPU, 768 MiB, uefi" \
        "$uuid" "52:54:00:12:34:02, network dmz" "manifest         sha256, verified" \
        "signature        none"; do
    grep -qF "$want" "$t/info.txt" || fail "info text lacks '$want': $(cat "$t/info.txt")"
done

# A manifest that does not match: reported, exit 0.
mkdir "$t/bad"; tar xf "$t/vmware.ova" -C "$t/bad"
python3 - "$t/bad/vmware.mf" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines(True)
h = lines[0].rstrip('\n')
lines[0] = h[:-1] + ('1' if h[-1] != '1' else '2') + '\n'
open(sys.argv[1], 'w').write(''.join(lines))
EOF
"$FERRY" info --json "$t/bad" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["manifest"]["present"] and not d["manifest"]["verified"], d
assert "manifest mismatch" in d["problem"], d'
"$FERRY" info "$t/bad" | grep -q "DOES NOT VERIFY" || fail "info text: mismatch not shown"
# A missing disk: reported, not present.
mkdir "$t/nodisk"; tar xf "$t/vmware.ova" -C "$t/nodisk"; rm "$t/nodisk/vmware-disk2.vmdk"
"$FERRY" info --json "$t/nodisk" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [x["present"] for x in d["disks"]] == [True, False], d
assert "missing: \x27vmware-disk2.vmdk\x27" in d["problem"], d'
# Hostile structure stays fatal.
expect_fail "^ferry: ova: '.*': a symbolic link member" \
    "$FERRY" info "$(ln -s /etc/passwd "$t/bad/link"; cd "$t/bad" && tar cf ../link.ova vmware.ovf link && echo "$t/link.ova")"

# Images: unchanged.
"$FERRY" info --json "$t/disk.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["format"] == "raw" and d["virtual_size"] == 12 << 20, d'
echo PASS
