#!/bin/bash
# `ferry import` of XenServer XVAs: told from an OVA by content (whatever
# the file is called); `ferry export --all-blocks -o X.xva` comes back
# bit-identical (plain and gzip-compressed, and a hand-made XVA with
# SHA-1 .checksum members, empty keep-alive chunks and omitted zero
# chunks, rebuilt by xapi's sequential algorithm); UUID and MACs kept,
# --new-identity gives Xen MACs for --to xen; each package of the hostile
# corpus (tests/data/gen-hostile-xva-pkg.sh) and a truncated archive is
# refused with one line, leaving nothing behind.
source "$(dirname "$0")/../functions.sh"
requires qemu-img tar gzip python3 virt-xml-validate
t=$(mktmpdir)
make_test_disk "$t/disk.img" 24
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
xml_uuid () { grep -o '<uuid>[^<]*' "$1" | cut -d'>' -f2; }
xml_macs () { grep -o "mac address='[^']*'" "$1" | cut -d"'" -f2 | tr '\n' ' '; }

"$FERRY" export -q --all-blocks --from-libvirt "$t/dom.xml" -o "$t/demo.xva"

# Plain, and gzip-compressed under an .ova name: content decides.
gzip -c "$t/demo.xva" > "$t/gz.ova"
for p in demo.xva gz.ova; do
    "$FERRY" import "$t/$p" --to raw -o "$t/raw-$p" --json > "$t/$p.json" || fail "import '$p'"
    grep -q '"package":"xva"' "$t/$p.json" || fail "$p: not taken as an XVA"
    grep -q '"manifest_verified":true' "$t/$p.json" || fail "$p: chunks not verified"
    cmp "$t/disk.img" "$t/raw-$p/demo-disk1.img" || fail "$p: disk differs"
    qemu_compare "$t/disk.img" "$t/raw-$p/demo-disk1.img"
    [ "$(xml_uuid "$t/raw-$p/demo.xml")" = "$uuid" ] || fail "$p: UUID not kept"
    [ "$(xml_macs "$t/raw-$p/demo.xml")" = "52:54:00:aa:bb:01 52:54:00:aa:bb:02 " ] ||
        fail "$p: MACs not kept: $(xml_macs "$t/raw-$p/demo.xml")"
done
# Omitted zero chunks stay holes.
[ "$(du -k "$t/raw-demo.xva/demo-disk1.img" | cut -f1)" -lt 8192 ] || fail "the raw disk is not sparse"

# --to xen with a new identity: Xen MACs, unique, another UUID.
"$FERRY" import -q "$t/demo.xva" --to xen -o "$t/xen" --new-identity
virt-xml-validate "$t/xen/demo.xml" domain >/dev/null || fail "xen: invalid domain XML"
[ "$(xml_uuid "$t/xen/demo.xml")" != "$uuid" ] || fail "xen: UUID kept"
for m in $(xml_macs "$t/xen/demo.xml"); do
    case $m in 00:16:3e:*) ;; *) fail "xen: MAC $m lacks 00:16:3e" ;; esac
done
[ "$(xml_macs "$t/xen/demo.xml" | tr ' ' '\n' | sort -u | grep -c .)" -eq 2 ] || fail "xen: MACs not unique"
qemu_compare "$t/disk.img" "$t/xen/demo-disk1.vhd"

# A hand-made XVA: the exporter's ova.xml, SHA-1 .checksum members, an
# empty keep-alive chunk (takes a number, not a place), zero chunks left
# out.  The disk comes back from the sequential algorithm, not number x 1 MiB.
python3 - "$t/demo.xva" "$t/hand.xva" "$t/hand.img" <<'PY'
import hashlib, io, sys, tarfile
src, dst, img = sys.argv[1:]
with tarfile.open(src) as tf:
    xml = tf.extractfile("ova.xml").read()
    ref = [m.name for m in tf.getmembers() if m.name != "ova.xml"][0].split("/")[0]
size = 24 << 20
chunks = {}                      # number -> bytes, in the sequential layout
out = bytearray(size)
pos, n = 0, 0
plan = [b"A" * (1 << 20), b"", None, None, b"B" * 4096 + b"\0" * ((1 << 20) - 4096)]
plan += [None] * 18 + [b"C" * (1 << 20), b"D" * (1 << 20)]
for p in plan:
    if p is None:
        pos += 1 << 20           # an omitted zero chunk: one zero block
    else:
        chunks[n] = p
        out[pos:pos + len(p)] = p
        pos += len(p)
    n += 1
assert pos == size, pos
with open(img, "wb") as f:
    f.write(out)
def add(tf, name, data):
    m = tarfile.TarInfo(name); m.size = len(data); m.mode = 0o644
    tf.addfile(m, io.BytesIO(data))
with tarfile.open(dst, "w", format=tarfile.GNU_FORMAT) as tf:
    add(tf, "ova.xml", xml)
    for k in sorted(chunks):
        name = "%s/%08d" % (ref, k)
        add(tf, name, chunks[k])
        add(tf, name + ".checksum", hashlib.sha1(chunks[k]).hexdigest().encode())
PY
"$FERRY" import -q "$t/hand.xva" --to libvirt -o "$t/hand"
qemu-img check -q "$t/hand/demo-disk1.qcow2" || fail "hand: qemu-img check"
qemu_compare "$t/hand.img" "$t/hand/demo-disk1.qcow2"
virt-xml-validate "$t/hand/demo.xml" domain >/dev/null || fail "hand: invalid domain XML"

# The hostile corpus and a truncated archive: one line each, nothing left.
"$TESTS_DIR/data/gen-hostile-xva-pkg.sh" "$t/bad" "$t/demo.xva"
head -c $(( $(stat -c %s "$t/demo.xva") / 2 )) "$t/demo.xva" > "$t/bad/truncated.xva"
expect_bad () {
    local name=$1 re=$2
    expect_fail "^ferry: xva: '.*$name.xva': $re" \
        "$FERRY" import -q "$t/bad/$name.xva" --to libvirt -o "$t/o-$name"
    [ ! -e "$t/o-$name" ] || fail "$name: output directory left behind"
}
expect_bad traversal "a member name with '\.\.'"
expect_bad absolute "an absolute member name"
expect_bad symlink "a symbolic link member"
expect_bad hardlink "a hard link member"
expect_bad device "a member that is not a regular file"
expect_bad fifo "a member that is not a regular file"
expect_bad unknown-member "an unknown member: 'notes.txt'"
expect_bad out-of-order "a chunk out of order"
expect_bad duplicate "a chunk out of order"
expect_bad mismatch "checksum mismatch: wrong checksum of 'Ref:[0-9]+/00000001'"
expect_bad missing-checksum "a chunk without a checksum"
expect_bad beyond-size "a chunk beyond the disk's virtual size"
expect_bad first-not-zero "the first chunk of a disk is not 00000000"
expect_bad orphan-checksum "a checksum without its chunk"
expect_bad xml-not-first "the first member is not ova.xml"
expect_bad missing-disk "no data for the disk"
expect_bad short "the disk data ends before its virtual size"
expect_bad malformed-checksum "a malformed checksum"
expect_bad mixed-checksums "a checksum of another kind than the first"
expect_bad truncated "reading .*[Tt]runcated"
[ "$(find "$t/bad" -name '*.xva' | wc -l)" -eq 20 ] || fail "the corpus has a case without a check"
! compgen -G "$t/.*.ferry-import-*" >/dev/null || fail "staging left behind"
echo "PASS: test-import-xva"
