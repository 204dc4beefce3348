#!/usr/bin/env python3
"""Read a VHD (fixed, dynamic or differencing) into a raw file, independently of Ferry.

    vhd-read.py FILE OUT.raw

qemu-img cannot read VHD differencing disks (its vpc driver refuses them),
so the tests read Ferry's VHD clones with this second reader, written from
Microsoft's "Virtual Hard Disk Image Format Specification" (v1.0, 2006)
and never from Ferry's own code:

  * footer (512 bytes, big-endian) at the end of the file, "conectix",
    checksum = one's complement of the byte sum with the field zeroed;
    a dynamic or differencing disk whose last sector is not a footer is
    read from the copy at offset 0;  the disk is read by its current size;
  * fixed disks (type 2): the data is the first current-size bytes;
  * dynamic (3) and differencing (4) disks: the "cxsparse" header at the
    footer's data offset (checksummed the same way), its BAT of big-endian
    sector numbers (0xFFFFFFFF = unallocated), each block a sector bitmap
    (block size / 512 / 8 bytes rounded up to a sector, MSB first) and the
    data;  in a dynamic disk the bitmap is advisory (as in QEMU), an
    absent block reads as zeros;  in a differencing disk a sector whose
    bit is clear, and every sector of an absent block, comes from the
    parent;
  * the parent is found through the parent locators W2ku (absolute path,
    UTF-16LE) and W2ru (relative to the child's directory, UTF-16LE), in
    the order of the locator table;  a candidate is taken only if its
    footer's unique id equals the child's parent UUID field (refused
    otherwise, as is a parent of another size or a chain that loops or
    is deeper than 64);
  * every offset and length read from the file is bounded by the file.

OUT.raw is written sparse: zero runs (absent blocks included) are holes.
Only the standard library is used.
"""

import os
import struct
import sys

SECTOR = 512
UNALLOCATED = 0xFFFFFFFF
DISK_FIXED, DISK_DYNAMIC, DISK_DIFF = 2, 3, 4
MAX_DEPTH = 64
MAX_BLOCK = 256 * 1024 * 1024
MAX_LOCATOR = 64 * 1024
CHUNK = 2 * 1024 * 1024
HOLE = 64 * 1024


class VhdError(Exception):
    pass


def checksum(buf, field_off):
    b = bytearray(buf)
    b[field_off:field_off + 4] = b'\0\0\0\0'
    return (~sum(b)) & 0xFFFFFFFF


def check_sum(buf, field_off, what):
    want = struct.unpack_from('>I', buf, field_off)[0]
    got = checksum(buf, field_off)
    if got != want:
        raise VhdError('%s: bad checksum (stored 0x%08x, computed 0x%08x)' % (what, want, got))


class Vhd:
    def __init__(self, path, depth=0, seen=()):
        self.path = path
        if depth > MAX_DEPTH:
            raise VhdError('%s: chain deeper than %d' % (path, MAX_DEPTH))
        real = os.path.realpath(path)
        if real in seen:
            raise VhdError('%s: the parent chain loops' % path)
        self.f = open(path, 'rb')
        self.f.seek(0, os.SEEK_END)
        self.flen = self.f.tell()
        if self.flen < SECTOR:
            raise VhdError('%s: too small for a VHD (%d bytes)' % (path, self.flen))
        foot = self.pread(self.flen - SECTOR, SECTOR, 'footer')
        at_end = foot[:8] == b'conectix'
        if not at_end:
            foot = self.pread(0, SECTOR, 'footer copy')
            if foot[:8] != b'conectix':
                raise VhdError('%s: no VHD footer' % path)
        check_sum(foot, 64, path + ': footer')
        (self.data_offset,) = struct.unpack_from('>Q', foot, 16)
        (self.size, self.disk_type) = struct.unpack_from('>Q4xI', foot, 48)
        self.unique_id = foot[68:84]
        self.parent = None
        if self.disk_type == DISK_FIXED:
            if not at_end:
                raise VhdError('%s: fixed disk without a footer at its end' % path)
            if self.size > self.flen - SECTOR:
                raise VhdError('%s: fixed disk of %d bytes in a file of %d'
                               % (path, self.size, self.flen))
            return
        if self.disk_type not in (DISK_DYNAMIC, DISK_DIFF):
            raise VhdError('%s: unknown disk type %d' % (path, self.disk_type))
        if self.size % SECTOR:
            raise VhdError('%s: size %d is not a whole number of sectors' % (path, self.size))
        hdr = self.pread(self.data_offset, 1024, 'dynamic header')
        if hdr[:8] != b'cxsparse':
            raise VhdError('%s: no dynamic header at %d' % (path, self.data_offset))
        check_sum(hdr, 36, path + ': dynamic header')
        (bat_offset,) = struct.unpack_from('>Q', hdr, 16)
        (entries, self.block_size) = struct.unpack_from('>II', hdr, 28)
        bs = self.block_size
        if bs < SECTOR or bs > MAX_BLOCK or bs & (bs - 1):
            raise VhdError('%s: block size %d' % (path, bs))
        if entries * bs < self.size:
            raise VhdError('%s: %d BAT entries of %d bytes do not cover %d bytes'
                           % (path, entries, bs, self.size))
        raw = self.pread(bat_offset, 4 * entries, 'BAT')
        self.bat = struct.unpack('>%dI' % entries, raw)
        self.bitmap_size = -(-(bs // SECTOR // 8) // SECTOR) * SECTOR
        nblocks = -(-self.size // bs)
        for b in range(nblocks):
            e = self.bat[b]
            if e == UNALLOCATED:
                continue
            # The bitmap and the part of the block inside the disk.
            need = self.bitmap_size + min(bs, self.size - b * bs)
            if e * SECTOR + need > self.flen:
                raise VhdError('%s: block %d at sector %d runs past the end of the file'
                               % (path, b, e))
        if self.disk_type == DISK_DIFF:
            self.parent = self.open_parent(hdr, depth, seen + (real,))

    def pread(self, off, n, what):
        if off < 0 or n < 0 or off + n > self.flen:
            raise VhdError('%s: %s (%d bytes at %d) outside the file (%d bytes)'
                           % (self.path, what, n, off, self.flen))
        self.f.seek(off)
        data = self.f.read(n)
        if len(data) != n:
            raise VhdError('%s: short read of %s' % (self.path, what))
        return data

    def open_parent(self, hdr, depth, seen):
        here = os.path.dirname(os.path.abspath(self.path))
        want = hdr[40:56]
        tried = []
        for i in range(8):
            code, _space, length, _res, off = struct.unpack_from('>4sIIIQ', hdr, 576 + 24 * i)
            if code not in (b'W2ku', b'W2ru') or length == 0:
                continue
            if length > MAX_LOCATOR or length % 2:
                raise VhdError('%s: locator %d (%s) length %d'
                               % (self.path, i, code.decode(), length))
            data = self.pread(off, length, 'locator %d' % i)
            try:
                name = data.decode('utf-16-le').rstrip('\0')
            except UnicodeDecodeError:
                raise VhdError('%s: locator %d is not UTF-16LE' % (self.path, i))
            name = name.replace('\\', '/')
            if code == b'W2ru':
                name = os.path.normpath(os.path.join(here, name))
            elif not os.path.isabs(name):
                tried.append('%s %s (not absolute here)' % (code.decode(), name))
                continue
            if not os.path.exists(name):
                tried.append('%s %s (absent)' % (code.decode(), name))
                continue
            parent = Vhd(name, depth + 1, seen)
            if parent.unique_id != want:
                tried.append('%s %s (unique id %s, want %s)'
                             % (code.decode(), name, parent.unique_id.hex(), want.hex()))
                continue
            if parent.size != self.size:
                raise VhdError('%s: parent %s is %d bytes, the child %d'
                               % (self.path, name, parent.size, self.size))
            return parent
        raise VhdError('%s: no parent with unique id %s (tried: %s)'
                       % (self.path, want.hex(), '; '.join(tried) or 'no W2ku/W2ru locator'))

    def read(self, off, n):
        """n bytes of the virtual disk at off (within the disk), or None if all absent."""
        if self.disk_type == DISK_FIXED:
            return self.pread(off, n, 'data')
        out = bytearray()
        absent = True
        while n > 0:
            b, inb = divmod(off, self.block_size)
            k = min(n, self.block_size - inb)
            piece = self.read_in_block(b, inb, k)
            if piece is None:
                piece = bytes(k)
            else:
                absent = False
            out += piece
            off += k
            n -= k
        return None if absent else bytes(out)

    def from_parent(self, off, n):
        if self.parent is None:
            return None
        return self.parent.read(off, n)

    def read_in_block(self, b, inb, k):
        base = b * self.block_size
        e = self.bat[b]
        if e == UNALLOCATED:
            return self.from_parent(base + inb, k)
        data_off = e * SECTOR + self.bitmap_size
        if self.parent is None:
            return self.pread(data_off + inb, k, 'block %d' % b)
        bitmap = self.pread(e * SECTOR, self.bitmap_size, 'bitmap %d' % b)
        out = bytearray()
        s = inb // SECTOR
        end = (inb + k) // SECTOR       # reads are sector-aligned here
        while s < end:
            bit = bitmap[s >> 3] & (0x80 >> (s & 7))
            t = s + 1
            while t < end and bool(bitmap[t >> 3] & (0x80 >> (t & 7))) == bool(bit):
                t += 1
            a, z = s * SECTOR, t * SECTOR
            if bit:
                out += self.pread(data_off + a, z - a, 'block %d' % b)
            else:
                under = self.from_parent(base + a, z - a)
                out += under if under is not None else bytes(z - a)
            s = t
        return bytes(out)


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: vhd-read.py FILE OUT.raw')
    src, dst = sys.argv[1], sys.argv[2]
    try:
        v = Vhd(src)
        zero = bytes(CHUNK)
        with open(dst + '.tmp', 'wb') as out:
            off = 0
            while off < v.size:
                n = min(CHUNK, v.size - off)
                data = v.read(off, n)
                if data is not None and data != zero[:n]:
                    for a in range(0, n, HOLE):       # holes at a finer grain
                        piece = data[a:a + HOLE]
                        if piece != zero[:len(piece)]:
                            out.seek(off + a)
                            out.write(piece)
                off += n
            out.truncate(v.size)
        os.replace(dst + '.tmp', dst)
    except (VhdError, OSError, ValueError, struct.error) as e:
        try:
            os.unlink(dst + '.tmp')
        except OSError:
            pass
        sys.exit('vhd-read: %s' % e)
    print('%s: %s VHD, %d bytes' % (src, {2: 'fixed', 3: 'dynamic', 4: 'differencing'}[v.disk_type], v.size))


if __name__ == '__main__':
    main()
