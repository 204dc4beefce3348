#!/bin/bash
# gen-hostile-xfs.sh DIR: seeds for tests/fuzz/fuzz-xfs.c — a 32 MiB xfs
# made by mkfs.xfs (v5, 1 KiB blocks, 2 AGs; and v4) written as the
# harness's records (4-byte LE offset, 2-byte LE length, bytes) of its
# non-zero sectors, plus damaged copies each named for what is wrong: a
# dirty log, lying AGF counts, btree pointers and records out of their AG,
# an absurd AG count.  Needs mkfs.xfs (xfsprogs) and python3.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# xfsprogs refuses filesystems under 300 MB unless run by its own tests.
export TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1
truncate -s 32M "$tmp/v5.xfs" "$tmp/v4.xfs"
mkfs.xfs -q -f -b size=1024 -d agcount=2 "$tmp/v5.xfs"
mkfs.xfs -q -f -b size=1024 -d agcount=2 -m crc=0 "$tmp/v4.xfs" >/dev/null 2>&1 ||
    rm -f "$tmp/v4.xfs"
exec python3 - "$1" "$tmp" <<'PY'
import os, struct, sys

out, tmp = sys.argv[1], sys.argv[2]

def records(img):
    recs = b''
    i = 0
    while i < len(img):
        if any(img[i:i + 512]):
            j = i
            while j < len(img) and any(img[j:j + 512]) and j - i < 32768:
                j += 512
            recs += struct.pack('<IH', i, j - i) + img[i:j]
            i = j
        else:
            i += 512
    return recs

def put32(img, off, v):
    img[off:off + 4] = struct.pack('>I', v & 0xffffffff)

def get32(img, off):
    return struct.unpack('>I', img[off:off + 4])[0]

for name in ('v5', 'v4'):
    path = os.path.join(tmp, name + '.xfs')
    if not os.path.exists(path):
        continue
    base = bytearray(open(path, 'rb').read())
    open(os.path.join(out, 'valid-%s' % name), 'wb').write(records(base))
    bs = get32(base, 4)
    agblocks, agblklog = get32(base, 84), base[124]
    logstart = struct.unpack('>Q', base[48:56])[0]
    log = ((logstart >> agblklog) * agblocks +
           (logstart & ((1 << agblklog) - 1))) * bs
    root = get32(base, 512 + 16) * bs
    hdr = 56 if name == 'v5' else 16

    def variant(what, fn):
        img = bytearray(base)
        fn(img)
        open(os.path.join(out, '%s-%s' % (name, what)), 'wb').write(records(img))

    def dirty(img):
        img[log + 512 + 9] &= ~0x20 & 0xff
    variant('dirty-log', dirty)
    variant('log-two-ops', lambda img: put32(img, log + 40, 2))
    variant('log-torn', lambda img: put32(img, log + 64 * 512, get32(img, log + 4)))
    variant('log-future-cycle', lambda img: put32(img, log + 4 * 512, get32(img, log + 4) + 5))
    variant('agcount-huge', lambda img: put32(img, 88, 0xffffffff))
    variant('agblocks-tiny', lambda img: put32(img, 84, 3))
    variant('dblocks-past-end', lambda img: put32(img, 12, get32(img, 12) * 4))
    variant('agf-freeblks', lambda img: put32(img, 512 + 52, get32(img, 512 + 52) + 1))
    variant('agf-levels', lambda img: put32(img, 512 + 28, 200))
    variant('agf-root-outside', lambda img: put32(img, 512 + 16, agblocks + 5))
    variant('bnobt-rec-at-0', lambda img: put32(img, root + hdr, 0))
    variant('bnobt-rec-past-ag', lambda img: put32(img, root + hdr + 4, 0x7fffffff))
    variant('bnobt-numrecs', lambda img: img.__setitem__(slice(root + 6, root + 8), b'\xff\xff'))
    variant('bnobt-sibling-loop', lambda img: put32(img, root + 12, get32(img, 512 + 16)))
    cnt = get32(base, 512 + 20) * bs
    # The by-size tree disagrees (one record one block shorter, so its
    # own order still holds): the trees no longer match.
    variant('cntbt-disagrees', lambda img: put32(img, cnt + hdr + 4, get32(img, cnt + hdr + 4) - 1))
    variant('cntbt-root-is-bnobt', lambda img: put32(img, 512 + 20, get32(img, 512 + 16)))
    variant('bnobt-level', lambda img: img.__setitem__(slice(root + 4, root + 6), b'\x00\x05'))
PY
