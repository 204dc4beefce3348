#!/bin/bash
# gen-hostile-qcow2.sh DIR: write a corpus of small hostile qcow2 files into
# DIR, each named for what is wrong with it (expected errors:
# hostile-qcow2.expect), plus valid-*.qcow2 images the fuzzer starts from.
# Files named check-*.qcow2 open fine and only `ferry check` must object
# (their regexp matches a line of the check report); read-*.qcow2 pass both
# and fail only when their data is read (`ferry copy`).  Needs python3.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
exec python3 - "$1" <<'EOF'
import os, struct, sys, zlib

out = sys.argv[1]
MiB = 1 << 20
CB = 12                       # 4 KiB clusters keep every file small
CS = 1 << CB
COPIED = 1 << 63
COMPRESSED = 1 << 62

def deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -12)   # raw deflate, as QEMU
    return c.compress(data) + c.flush()

def pattern(seed):
    return bytes(((i * 131 + seed) | 1) & 0xff for i in range(CS))

def valid(size=MiB, backing=None, bfmt=None):
    """Clusters: 0 header, 1 L1, 2 refcount table, 3 refcount block,
    4 L2, 5 data (guest cluster 0), 6 compressed (guest cluster 1);
    guest cluster 2 is a zero cluster.  Refcounts are exact."""
    img = bytearray(7 * CS)
    struct.pack_into('>4sIQIIQIIQQIIQ', img, 0, b'QFI\xfb', 3, 0, 0, CB,
                     size, 0, 1, 1 * CS, 2 * CS, 1, 0, 0)
    struct.pack_into('>QQQII', img, 72, 0, 0, 0, 4, 104)
    pos = 104
    if bfmt:
        b = bfmt.encode()
        struct.pack_into('>II', img, pos, 0xe2792aca, len(b))
        img[pos + 8:pos + 8 + len(b)] = b
        pos += 8 + (len(b) + 7) // 8 * 8
    pos += 8                                   # end of extensions
    if backing:
        b = backing.encode()
        struct.pack_into('>QI', img, 8, pos, len(b))
        img[pos:pos + len(b)] = b
    struct.pack_into('>Q', img, 1 * CS, 4 * CS | COPIED)
    struct.pack_into('>Q', img, 2 * CS, 3 * CS)
    for i in range(7):
        struct.pack_into('>H', img, 3 * CS + 2 * i, 1)
    img[5 * CS:6 * CS] = pattern(1)
    z = deflate(pattern(2))
    img[6 * CS:6 * CS + len(z)] = z
    x = 62 - (CB - 8)
    sectors = (len(z) + 511) // 512
    desc = COMPRESSED | ((sectors - 1) << x) | (6 * CS)
    struct.pack_into('>QQQ', img, 4 * CS, 5 * CS | COPIED, desc, 1)
    return img

def write(name, data):
    with open(os.path.join(out, name), 'wb') as fp:
        fp.write(data)

def variant(name, fmt, off, *vals):
    img = valid()
    struct.pack_into(fmt, img, off, *vals)
    write(name, img)

write('valid-plain.qcow2', valid())
write('valid-base.qcow2', valid())
write('valid-overlay.qcow2', valid(backing='valid-base.qcow2', bfmt='qcow2'))

write('truncated-header.qcow2', valid()[:40])
write('truncated-v3-header.qcow2', valid()[:90])
variant('bad-version.qcow2', '>I', 4, 4)
variant('cluster-bits-30.qcow2', '>I', 20, 30)
variant('cluster-bits-8.qcow2', '>I', 20, 8)
variant('l1-size-absurd.qcow2', '>I', 36, 0x7fffffff)
variant('l1-too-small-for-size.qcow2', '>Q', 24, 1 << 40)
variant('virtual-size-absurd.qcow2', '>Q', 24, 1 << 63)
variant('l1-table-unaligned.qcow2', '>Q', 40, CS + 8)
variant('l1-table-past-eof.qcow2', '>Q', 40, 1 << 40)
variant('l1-entry-past-eof.qcow2', '>Q', CS, (1 << 30) | COPIED)
variant('l1-entry-unaligned.qcow2', '>Q', CS, (4 * CS + 512) | COPIED)
variant('refcount-table-past-eof.qcow2', '>Q', 48, 1 << 40)
variant('refcount-table-absurd.qcow2', '>I', 56, 0xffffffff)
variant('refcount-order-7.qcow2', '>I', 96, 7)
variant('header-length-bad.qcow2', '>I', 100, 100)
variant('snapshot-table-past-eof.qcow2', '>IQ', 60, 1, 1 << 40)
variant('encrypted.qcow2', '>I', 32, 1)
variant('unknown-incompat-bit.qcow2', '>Q', 72, 1 << 20)
variant('external-data-file.qcow2', '>Q', 72, 4)
img = valid()                               # two L1 entries, one L2 table
struct.pack_into('>Q', img, 1 * CS + 8, 4 * CS | COPIED)
struct.pack_into('>Q', img, 24, 2 * MiB)
struct.pack_into('>I', img, 36, 2)
write('l2-table-shared.qcow2', img)
variant('l2-entry-unaligned.qcow2', '>Q', 4 * CS, (5 * CS + 512) | COPIED)
variant('l2-entry-past-eof.qcow2', '>Q', 4 * CS, (1 << 40) | COPIED)
variant('compressed-cluster-past-eof.qcow2', '>Q', 4 * CS + 8,
        COMPRESSED | (1 << 40))

img = valid()
img[6 * CS:7 * CS] = bytes(range(256)) * (CS // 256)
write('read-compressed-cluster-corrupt.qcow2', img)

img = valid()                               # zstd needs header_length 112
struct.pack_into('>QQQII', img, 72, 8, 0, 0, 4, 112)
img[104] = 1
write('compression-type-zstd.qcow2', img)

img = valid()
struct.pack_into('>QI', img, 8, 512, 2000)
write('backing-name-too-long.qcow2', img)

write('backing-loop-a.qcow2', valid(backing='backing-loop-b.qcow2', bfmt='qcow2'))
write('backing-loop-b.qcow2', valid(backing='backing-loop-a.qcow2', bfmt='qcow2'))
write('backing-self.qcow2', valid(backing='backing-self.qcow2', bfmt='qcow2'))
write('backing-missing.qcow2', valid(backing='no-such-base.qcow2', bfmt='qcow2'))
write('backing-json-name.qcow2', valid(backing='json:{"file":"/etc/passwd"}'))
write('backing-format-mismatch.qcow2', valid(backing='valid-base.qcow2', bfmt='vmdk'))

# Open fine; only the refcount recount finds the problem.
img = valid() + bytes(CS)                   # cluster 7 in use, unreferenced
struct.pack_into('>H', img, 3 * CS + 14, 1)
write('check-leaked-cluster.qcow2', img)
variant('check-refcount-too-low.qcow2', '>H', 3 * CS + 10, 0)
variant('check-l2-shared-with-l1.qcow2', '>Q', CS, 1 * CS | COPIED)
EOF
