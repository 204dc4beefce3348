#!/bin/bash
# gen-hostile-vhd.sh DIR: write a corpus of small hostile VHD files into DIR,
# each named for what is wrong with it (expected errors: hostile-vhd.expect).
# Also seeds tests/fuzz/fuzz-vhd.  Needs python3 only.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
exec python3 - "$1" <<'EOF'
import os, struct, sys

out = sys.argv[1]
MiB = 1 << 20
BS = 2 * MiB

def csum(buf, at):
    s = sum(buf[:at]) + sum(buf[at + 4:])
    return (~s) & 0xffffffff

def footer(size, dtype, uid=b'\x11' * 16, creator=b'win ', doff=None):
    f = bytearray(512)
    f[0:8] = b'conectix'
    struct.pack_into('>IIQI4sI4sQQHBBI', f, 8, 2, 0x10000,
                     doff or (0xffffffffffffffff if dtype == 2 else 512), 0, creator,
                     0xa0000, b'Wi2k', size, size, 963, 5, 17, dtype)
    f[68:84] = uid
    struct.pack_into('>I', f, 64, csum(f, 64))
    return f

def header(entries, bs=BS, bat=1536, puid=b'\0' * 16, pname='', locs=()):
    h = bytearray(1024)
    h[0:8] = b'cxsparse'
    struct.pack_into('>QQIII', h, 8, 0xffffffffffffffff, bat, 0x10000,
                     entries, bs)
    h[40:56] = puid
    n = pname.encode('utf-16-be')[:512]
    h[64:64 + len(n)] = n
    for i, (code, space, length, off) in enumerate(locs):
        struct.pack_into('>4sIIIQ', h, 576 + 24 * i, code, space, length, 0,
                         off)
    struct.pack_into('>I', h, 36, csum(h, 36))
    return h

def dynamic(size=4 * MiB, bat=None, hdr=None, dtype=3, extra=b'', uid=None):
    """Footer copy, header, BAT (one sector), extra, footer."""
    entries = (size + BS - 1) // BS
    f = footer(size, dtype, uid or b'\x11' * 16)
    b = bytearray(b'\xff' * 512)
    for i, e in (bat or {}).items():
        struct.pack_into('>I', b, 4 * i, e)
    return bytes(f + (hdr or header(entries)) + b + extra + f)

def write(name, data):
    with open(os.path.join(out, name), 'wb') as fp:
        fp.write(data)

def diff_to(name, target, uid=b'\x22' * 16, puid=b'\x33' * 16):
    """A differencing disk whose three locators name `target`."""
    w = target.encode('utf-16-le')
    r = ('.\\' + target).encode('utf-16-le')
    m = ('file://./' + target).encode()
    locs = [(b'W2ku', 512, len(w), 2048), (b'W2ru', 512, len(r), 2560),
            (b'MacX', 512, len(m), 3072)]
    area = b''.join(x.ljust(512, b'\0') for x in (w, r, m))
    h = header(2, puid=puid, pname=target, locs=locs)
    write(name, dynamic(hdr=h, dtype=4, extra=area, uid=uid))

good_fixed = bytes(MiB) + footer(MiB, 2)

write('truncated-footer.vhd', footer(MiB, 3)[:300])
f = bytearray(good_fixed); f[-512 + 100] ^= 1
write('bad-footer-checksum.vhd', bytes(f))
h = bytearray(header(2)); h[900] ^= 1
write('bad-header-checksum.vhd', dynamic(hdr=bytes(h)))
write('bad-header-cookie.vhd', dynamic(hdr=b'cxsparsX' + header(2)[8:]))
write('bat-past-eof.vhd', dynamic(bat={0: 0x100000}))
write('bat-overlaps-metadata.vhd', dynamic(bat={0: 1}))
write('block-size-not-power-of-2.vhd', dynamic(hdr=header(2, bs=3 * MiB)))
write('block-size-too-small.vhd', dynamic(hdr=header(2, bs=256)))
write('block-size-too-large.vhd', dynamic(hdr=header(1, bs=512 * MiB)))
write('absurd-max-table-entries.vhd', dynamic(hdr=header(0x7fffffff)))
write('bat-too-small-for-size.vhd', dynamic(hdr=header(1)))
write('bat-offset-past-eof.vhd', dynamic(hdr=header(2, bat=1 << 40)))
write('header-offset-past-eof.vhd', bytes(footer(MiB, 3, doff=1 << 50)))
f = footer(MiB, 7); write('unsupported-disk-type.vhd', bytes(MiB) + f)
# A fixed disk claiming more data than the file holds.
write('fixed-size-exceeds-file.vhd', bytes(4096) + footer(8 * MiB, 2))
# A block that starts inside the file but ends past it.
d = bytearray(dynamic(bat={0: 4}))
write('block-truncated.vhd', bytes(d[:4096]))
diff_to('diff-parent-loop.vhd', 'diff-parent-loop.vhd')
diff_to('diff-parent-missing.vhd', 'missing-parent.vhd')
# A parent that exists but is not the one the child was made from.
write('diff-parent.vhd', dynamic(uid=b'\x44' * 16))
diff_to('diff-parent-uuid-mismatch.vhd', 'diff-parent.vhd')
EOF
