#!/bin/bash
# gen-hostile-xva-pkg.sh DIR [GOOD.xva]: write hostile XVA packages into
# DIR, each named for what is wrong with it (NAME.xva), made from a good
# XVA (`ferry export -o X.xva` of a disk with several data chunks; without
# GOOD, a tiny one is made here as valid.xva: $FERRY exports a 2 KiB disk
# and its chunk is cut into 512-byte chunks 0, 2 and 3 with SHA-1
# .checksum members (1 is all zeros, left out) — small seeds for
# tests/fuzz/fuzz-xva-read.c).
# tests/e2e/test-import-xva.sh holds the error expected of each.  Needs
# python3 only (and $FERRY without GOOD).
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then echo "usage: $0 DIR [GOOD.xva]" >&2; exit 2; fi
mkdir -p "$1"
good=${2:-}
if [ -z "$good" ]; then
    : "${FERRY:?set FERRY or give GOOD.xva}"
    truncate -s 2K "$1/.seed.img"
    for i in 0 2 3; do
        printf 'ferry chunk %d' "$i" | dd of="$1/.seed.img" bs=512 seek="$i" conv=notrunc status=none
    done
    "$FERRY" export -q --all-blocks "$1/.seed.img" -o "$1/.one.xva" --name seed
    rm -f "$1/.seed.img"
    python3 - "$1/.one.xva" "$1/valid.xva" <<'PY'
import hashlib, io, sys, tarfile
src, dst = sys.argv[1:]
with tarfile.open(src) as tf:
    ms = tf.getmembers()
    xml = tf.extractfile(ms[0]).read()
    ref = ms[1].name.split("/")[0]
    disk = tf.extractfile(ms[1]).read()
assert len(disk) == 2048, len(disk)
def add(tf, name, data):
    m = tarfile.TarInfo(name); m.size = len(data); m.mode = 0o644
    tf.addfile(m, io.BytesIO(data))
with tarfile.open(dst, "w", format=tarfile.GNU_FORMAT) as tf:
    add(tf, "ova.xml", xml)
    for n in (0, 2, 3):
        c = disk[n * 512:(n + 1) * 512]
        add(tf, "%s/%08d" % (ref, n), c)
        add(tf, "%s/%08d.checksum" % (ref, n), hashlib.sha1(c).hexdigest().encode())
PY
    rm -f "$1/.one.xva"
    good=$1/valid.xva
fi
exec python3 - "$1" "$good" <<'EOF'
import copy, hashlib, io, os, re, sys, tarfile

out, good = sys.argv[1], sys.argv[2]
with tarfile.open(good) as tf:
    members = [(m, tf.extractfile(m).read() if m.isfile() else b"")
               for m in tf.getmembers()]
assert members[0][0].name == "ova.xml", "the good XVA must start with ova.xml"
chunks = [i for i, (m, _) in enumerate(members) if re.fullmatch(r".*/\d{8}", m.name)]
assert len(chunks) >= 3, "the good XVA needs at least three chunks"
ref = members[chunks[0]][0].name.split("/")[0]

def write(name, ms):
    with tarfile.open(os.path.join(out, name + ".xva"), "w",
                      format=tarfile.GNU_FORMAT) as tf:
        for m, data in ms:
            tf.addfile(m, io.BytesIO(data) if m.isfile() else None)

def reg(name, data):
    m = tarfile.TarInfo(name)
    m.size = len(data)
    m.mode = 0o644
    return (m, data)

def special(name, kind, link=""):
    m = tarfile.TarInfo(name)
    m.type, m.linkname, m.mode = kind, link, 0o644
    return (m, b"")

def renamed(pair, name):
    m = copy.copy(pair[0])
    m.name = name
    return (m, pair[1])

ms = list(members)
first, second, third, last = chunks[0], chunks[1], chunks[2], chunks[-1]

write("traversal", ms[:1] + [reg(ref + "/../../evil", b"x")] + ms[1:])
write("absolute", ms[:1] + [reg("/etc/evil", b"x")] + ms[1:])
write("symlink", ms[:1] + [special(ref + "/00000000", tarfile.SYMTYPE, "/etc/passwd")] + ms[3:])
write("hardlink", ms[:1] + [special(ref + "/00000000", tarfile.LNKTYPE, "ova.xml")] + ms[3:])
write("device", ms[:1] + [special(ref + "/00000000", tarfile.CHRTYPE)] + ms[3:])
write("fifo", ms[:1] + [special(ref + "/00000000", tarfile.FIFOTYPE)] + ms[3:])
write("unknown-member", ms[:3] + [reg("notes.txt", b"hello")] + ms[3:])
write("out-of-order", ms[:second] + ms[third:third + 2] + ms[second:second + 2] + ms[third + 2:])
write("duplicate", ms[:second + 2] + ms[second:])
bad = (ms[second][0], bytes([ms[second][1][0] ^ 1]) + ms[second][1][1:])
write("mismatch", ms[:second] + [bad] + ms[second + 1:])
write("missing-checksum", ms[:second + 1] + ms[second + 2:])
far = re.sub(r"\d{8}$", "99999999", ms[last][0].name)
write("beyond-size", ms[:last] + [renamed(ms[last], far), renamed(ms[last + 1], far + "." + ms[last + 1][0].name.split(".")[-1])])
write("first-not-zero", ms[:first] + ms[first + 2:])
write("orphan-checksum", ms[:first] + [ms[first + 1], ms[first]] + ms[first + 2:])
write("xml-not-first", ms[1:3] + ms[:1] + ms[3:])
write("missing-disk", ms[:1])
write("short", ms[:last])
write("malformed-checksum", ms[:second + 1] + [(ms[second + 1][0], b"not hex!" + b"0" * (ms[second + 1][0].size - 8))] + ms[second + 2:])
# The other kind than the package's own (its value is never reached).
if ms[second + 1][0].name.endswith(".xxhash"):
    mixed = reg(ms[second][0].name + ".checksum", hashlib.sha1(ms[second][1]).hexdigest().encode())
else:
    mixed = reg(ms[second][0].name + ".xxhash", b"0123456789ABCDEF")
write("mixed-checksums", ms[:second + 1] + [mixed] + ms[second + 2:])
EOF
