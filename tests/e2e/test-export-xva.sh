#!/bin/bash
# `ferry export -o X.xva`: ova.xml first, then per VDI in lexicographic
# ref order ("Ref:10" before "Ref:6") the 1 MiB chunks, each followed by
# its .xxhash (XXH64, upper-case, checked with xxhsum); all-zero chunks are
# left out except the first and the last (which may be short); xapi's
# sequential import algorithm rebuilds the source exactly (--all-blocks),
# and the default export drops deleted data but keeps ext4 clean.
source "$(dirname "$0")/../functions.sh"
requires python3 xxhsum e2fsck tar
t=$(mktmpdir)

# reassemble XVA DIR: rebuild every VDI as DIR/<ref>.raw by the importer's
# algorithm (FORMATS.md): zero-block length = the first chunk's length,
# each missing number is one zero block, data goes at the running
# position, stop at the VDI's virtual_size from ova.xml.  Also checks
# names, order and checksum pairing; prints "ref size" per VDI.
reassemble () {
    python3 - "$1" "$2" <<'PY'
import os, re, sys, tarfile
import xml.etree.ElementTree as ET
xva, out = sys.argv[1], sys.argv[2]
tf = tarfile.open(xva)
members = tf.getmembers()
assert members[0].name == "ova.xml", "ova.xml is not first"
def val(v):
    c = list(v)
    if not c: return v.text or ""
    c = c[0]
    if c.tag == "struct":
        return {m.find("name").text: val(m.find("value")) for m in c.findall("member")}
    if c.tag == "array":
        return [val(x) for x in c.find("data").findall("value")]
    return c.text or ""
doc = val(ET.fromstring(tf.extractfile(members[0]).read()))
sizes = {o["id"]: int(o["snapshot"]["virtual_size"])
         for o in doc["objects"] if o["class"] == "VDI"}
refs, chunks = [], {}
rest = members[1:]
assert len(rest) % 2 == 0, "chunks and checksums do not pair up"
for data, chk in zip(rest[0::2], rest[1::2]):
    m = re.fullmatch(r"(Ref:\d+)/(\d{8})", data.name)
    assert m, "bad chunk name %s" % data.name
    assert chk.name == data.name + ".xxhash", "%s not followed by its .xxhash" % data.name
    ref, n = m.group(1), int(m.group(2))
    if not refs or refs[-1] != ref:
        assert ref not in refs, "VDI %s is not contiguous" % ref
        refs.append(ref)
    chunks.setdefault(ref, []).append((n, data, chk))
assert refs == sorted(refs), "VDIs not in lexicographic order: %s" % refs
assert sorted(refs) == sorted(sizes), "VDIs %s vs ova.xml %s" % (refs, sorted(sizes))
for ref in refs:
    lst = chunks[ref]
    nums = [n for n, _, _ in lst]
    assert nums == sorted(nums) and len(set(nums)) == len(nums), "%s: chunk order" % ref
    size = sizes[ref]
    assert nums[0] == 0, "%s: first chunk missing" % ref
    assert nums[-1] == (size - 1) // (1 << 20), "%s: last chunk missing" % ref
    with open(os.path.join(out, ref + ".raw"), "wb") as f:
        pos, prev, zlen = 0, -1, None
        for n, data, chk in lst:
            buf = tf.extractfile(data).read()
            if zlen is None:
                zlen = len(buf)
            pos += (n - prev - 1) * zlen
            f.seek(pos)
            f.write(buf[: max(0, size - pos)])
            pos += len(buf)
            prev = n
            hexv = tf.extractfile(chk).read().decode()
            assert re.fullmatch(r"[0-9A-F]{16}", hexv), "%s: bad .xxhash %r" % (chk.name, hexv)
            if n != 0 and n != nums[-1]:
                assert buf.strip(b"\0"), "%s: an all-zero chunk was stored" % data.name
        f.truncate(size)
    print(ref, size, len(lst))
PY
}

# check_hashes DIR: every .xxhash equals xxhsum's XXH64 of its chunk.
check_hashes () {
    local c want got
    for c in "$1"/Ref:*/[0-9]*[0-9]; do
        want=$(cat "$c.xxhash")
        got=$(xxhsum -H1 "$c" 2>/dev/null | cut -d' ' -f1)
        [ "${got^^}" = "$want" ] || fail "$c: xxhash $want, xxhsum says $got"
    done
}

# Five small disks: refs Ref:6..Ref:10, so Ref:10 must come first.
for i in 1 2 3 4 5; do
    make_test_disk "$t/d$i.img" $(( 2 + i ))
done
truncate -s $(( 5 * 1048576 + 1536 )) "$t/d5.img"     # short last chunk
printf 'last' | dd of="$t/d5.img" bs=1 seek=$(( 5 * 1048576 + 1000 )) conv=notrunc status=none
"$FERRY" export -q --all-blocks "$t"/d{1,2,3,4,5}.img -o "$t/five.xva" --json > "$t/five.json"
grep -q '"ok":true' "$t/five.json" || fail "JSON summary"
mkdir "$t/r5"
reassemble "$t/five.xva" "$t/r5" > "$t/r5.txt" || fail "five.xva does not reassemble"
[ "$(tar tf "$t/five.xva" | sed -n 2p)" = "Ref:10/00000000" ] || fail "Ref:10 is not the first VDI"
for i in 1 2 3 4 5; do
    cmp "$t/d$i.img" "$t/r5/Ref:$(( 5 + i )).raw" || fail "disk $i does not reassemble to its source"
done
mkdir "$t/x5" && tar xf "$t/five.xva" -C "$t/x5"
check_hashes "$t/x5"

# A 40 MiB disk with data in chunks 0 1 5 17 33 39 only: those are stored,
# the other 34 left out; likewise the chunks of a 9 GiB sparse disk.
make_test_disk "$t/data.img" 40
"$FERRY" export -q --all-blocks "$t/data.img" -o "$t/data.xva"
got=$(tar tf "$t/data.xva" | grep -v xxhash | sed -n '2,$p' | cut -d/ -f2 | tr '\n' ' ')
[ "$got" = "00000000 00000001 00000005 00000017 00000033 00000039 " ] ||
    fail "stored chunks: $got"
mkdir "$t/rd"
reassemble "$t/data.xva" "$t/rd" >/dev/null
cmp "$t/data.img" "$t/rd/Ref:2.raw" || fail "data.img does not reassemble"

truncate -s 9G "$t/big.img"
printf 'mid' | dd of="$t/big.img" bs=1M seek=4000 conv=notrunc status=none
"$FERRY" export -q --all-blocks "$t/big.img" -o "$t/big.xva"
got=$(tar tf "$t/big.xva" | grep -v xxhash | sed -n '2,$p' | tr '\n' ' ')
[ "$got" = "Ref:2/00000000 Ref:2/00004000 Ref:2/00009215 " ] || fail "big: stored chunks: $got"
[ "$(tar xOf "$t/big.xva" Ref:2/00004000 | head -c 3)" = mid ] || fail "big: chunk 4000 content"

# Default export of the demo disk: used blocks only.
"$TESTS_DIR/make-demo-disk.sh" "$t/disk.img"
"$FERRY" export -q "$t/disk.img" -o "$t/demo.xva" --name demo --memory 512
mkdir "$t/rdemo"
reassemble "$t/demo.xva" "$t/rdemo" >/dev/null
back=$t/rdemo/Ref:2.raw
cmp -n 1048576 "$t/disk.img" "$back" || fail "demo: partition table area differs"
dd if="$back" of="$t/p1.img" bs=1M skip=1 count=48 status=none
e2fsck -fn "$t/p1.img" >/dev/null 2>&1 || fail "demo: exported ext4 is not clean"
! grep -q FERRY-DELETED-SECRET "$back" || fail "demo: deleted data was exported"
grep -q '<name>MAC</name><value>00:16:3e:' <(tar xOf "$t/demo.xva" ova.xml) ||
    fail "demo: no generated Xen MAC in ova.xml"

expect_fail "already exists" "$FERRY" export -q "$t/disk.img" -o "$t/demo.xva"
echo ok
