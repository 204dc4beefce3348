#!/usr/bin/env python3
"""Build a VHD differencing child independently of Ferry, for its tests.

Given a PARENT VHD (fixed, dynamic or itself differencing -- typically a
dynamic VHD written by `qemu-img convert -O vpc -o force_size=on`), a RAW
file holding the child's intended full content (same virtual size), and an
OUTPUT path, write a differencing VHD whose chain reads back as RAW.

Written from Microsoft's "Virtual Hard Disk Image Format Specification"
(v1.0, 2006) and never from Ferry's own code, so that Ferry's reader is
checked against a second, independent writer:

  * footer (512 bytes, big-endian, disk type 4) at the end, copy at 0;
  * dynamic header "cxsparse" at 512: parent unique id (= the parent
    footer's unique id), parent time stamp (the parent footer's), parent
    unicode name (UTF-16BE), parent locators W2ru (relative ".\\name",
    UTF-16LE), W2ku (absolute, UTF-16LE) and optionally MacX (file:// URL,
    UTF-8);  one locator states its data space in BYTES (what Microsoft's
    tools write) and the other in SECTORS (what the spec says);
  * 2 MiB blocks, a BAT, each block = 512-byte sector bitmap + data;
  * by default a bitmap bit is set only for sectors that differ from the
    parent, so sectors equal to the parent read through; the data area of
    clear sectors is filled with garbage that a reader must never return;
    --bitmap-all sets every bit of an allocated block instead and stores
    the child's content for the whole block (the other valid shape);
  * blocks with no difference stay unallocated (BAT entry 0xFFFFFFFF);
    --reverse-blocks stores blocks in descending order, as a disk written
    back to front by Hyper-V would be (the BAT need not be monotonic);
  * checksums: one's complement of the byte sum with the field zeroed.

Only the standard library is used.  The parent's content is read by a small
reader in this file (fixed / dynamic / differencing, following W2ru, W2ku,
then the parent name next to the parent), or taken from --parent-raw.
"""

import argparse
import os
import struct
import sys
import time
import uuid

SECTOR = 512
BLOCK_SIZE = 2 * 1024 * 1024
VHD_EPOCH = 946684800          # 2000-01-01 00:00:00 UTC in unix time
UNALLOCATED = 0xFFFFFFFF
GARBAGE = (b'NOT-CHILD-DATA: a clear bitmap bit means read the parent! ' * 9)[:SECTOR]

DISK_FIXED, DISK_DYNAMIC, DISK_DIFF = 2, 3, 4


class VhdError(Exception):
    pass


def checksum(buf, field_off):
    b = bytearray(buf)
    b[field_off:field_off + 4] = b'\0\0\0\0'
    return (~sum(b)) & 0xFFFFFFFF


def check_sum(buf, field_off, what):
    want = struct.unpack_from('>I', buf, field_off)[0]
    if checksum(buf, field_off) != want:
        raise VhdError('%s: bad checksum' % what)


# --------------------------------------------------------------------------
# A small reader, used to learn the parent's content.

class Vhd:
    def __init__(self, path):
        self.path = path
        self.f = open(path, 'rb')
        self.f.seek(0, os.SEEK_END)
        flen = self.f.tell()
        if flen < SECTOR:
            raise VhdError('%s: too small for a VHD' % path)
        self.f.seek(flen - SECTOR)
        foot = self.f.read(SECTOR)
        if foot[:8] != b'conectix':
            # A 511-byte footer (old Virtual PC) or a copy at offset 0.
            self.f.seek(0)
            foot = self.f.read(SECTOR)
            if foot[:8] != b'conectix':
                raise VhdError('%s: no VHD footer' % path)
        check_sum(foot, 64, path + ' footer')
        self.footer = foot
        (self.data_offset, self.timestamp) = struct.unpack_from('>QI', foot, 16)
        (self.size,) = struct.unpack_from('>Q', foot, 48)
        (self.geometry, self.disk_type) = struct.unpack_from('>II', foot, 56)
        self.unique_id = foot[68:84]
        self.parent = None
        if self.disk_type == DISK_FIXED:
            return
        if self.disk_type not in (DISK_DYNAMIC, DISK_DIFF):
            raise VhdError('%s: disk type %d' % (path, self.disk_type))
        self.f.seek(self.data_offset)
        hdr = self.f.read(1024)
        if hdr[:8] != b'cxsparse':
            raise VhdError('%s: no dynamic header' % path)
        check_sum(hdr, 36, path + ' dynamic header')
        self.header = hdr
        (self.bat_offset,) = struct.unpack_from('>Q', hdr, 16)
        (self.max_entries, self.block_size) = struct.unpack_from('>II', hdr, 28)
        self.f.seek(self.bat_offset)
        raw = self.f.read(4 * self.max_entries)
        self.bat = struct.unpack('>%dI' % self.max_entries, raw)
        self.bitmap_size = -(-(self.block_size // SECTOR // 8) // SECTOR) * SECTOR
        if self.disk_type == DISK_DIFF:
            self.parent = Vhd(self.find_parent(hdr))
            if self.parent.unique_id != hdr[40:56]:
                raise VhdError('%s: parent %s has the wrong unique id'
                               % (path, self.parent.path))
            if self.parent.size != self.size:
                raise VhdError('%s: parent %s has another size'
                               % (path, self.parent.path))

    def find_parent(self, hdr):
        here = os.path.dirname(os.path.abspath(self.path))
        tried = []
        for i in range(8):
            code, space, length, _, off = struct.unpack_from('>4sIII Q', hdr, 576 + 24 * i)
            if code not in (b'W2ru', b'W2ku', b'MacX') or length == 0:
                continue
            self.f.seek(off)
            data = self.f.read(length)
            if code == b'MacX':
                name = data.decode('utf-8')
                if name.startswith('file://'):
                    name = name[len('file://'):]
            else:
                name = data.decode('utf-16-le').rstrip('\0').replace('\\', '/')
            if not os.path.isabs(name):
                name = os.path.join(here, name)
            tried.append(name)
            if os.path.exists(name):
                return name
        name = hdr[64:576].decode('utf-16-be').rstrip('\0')
        name = os.path.join(here, os.path.basename(name.replace('\\', '/')))
        if os.path.exists(name):
            return name
        raise VhdError('%s: parent not found (tried %s)' % (self.path, tried + [name]))

    def read_block(self, b):
        """The virtual content of block b (BLOCK_SIZE-sized, zero past the end)."""
        start = b * self.block_size
        n = min(self.block_size, self.size - start)
        if self.disk_type == DISK_FIXED:
            self.f.seek(start)
            data = self.f.read(n)
            return data + bytes(self.block_size - len(data))
        entry = self.bat[b] if b < len(self.bat) else UNALLOCATED
        if entry == UNALLOCATED:
            if self.parent is not None:
                return self.parent.read_block(b)
            return bytes(self.block_size)
        self.f.seek(entry * SECTOR)
        bitmap = self.f.read(self.bitmap_size)
        data = self.f.read(self.block_size)
        data += bytes(self.block_size - len(data))
        if self.parent is None:
            return data      # dynamic disks: the bitmap is advisory
        under = self.parent.read_block(b)
        out = bytearray(under)
        for s in range(self.block_size // SECTOR):
            if bitmap[s >> 3] & (0x80 >> (s & 7)):
                out[s * SECTOR:(s + 1) * SECTOR] = data[s * SECTOR:(s + 1) * SECTOR]
        return bytes(out)


class RawParent:
    def __init__(self, path, size):
        self.f = open(path, 'rb')
        self.size = size

    def read_block(self, b):
        self.f.seek(b * BLOCK_SIZE)
        data = self.f.read(BLOCK_SIZE)
        return data + bytes(BLOCK_SIZE - len(data))


# --------------------------------------------------------------------------
# The writer.

def make_footer(size, geometry, unique_id, timestamp):
    f = bytearray(SECTOR)
    f[0:8] = b'conectix'
    struct.pack_into('>IIQI', f, 8, 2, 0x00010000, SECTOR, timestamp)
    f[28:32] = b'win '                    # as Hyper-V / Windows write
    struct.pack_into('>I', f, 32, 0x000A0000)
    f[36:40] = b'Wi2k'
    struct.pack_into('>QQII', f, 40, size, size, geometry, DISK_DIFF)
    f[68:84] = unique_id
    struct.pack_into('>I', f, 64, checksum(f, 64))
    return bytes(f)


def locator_entry(code, data, offset, units):
    space = -(-len(data) // SECTOR) * SECTOR
    space_field = space if units == 'bytes' else space // SECTOR
    return struct.pack('>4sIIIQ', code, space_field, len(data), 0, offset), space


def relative_locator(parent, out):
    rel = os.path.relpath(os.path.abspath(parent), os.path.dirname(os.path.abspath(out)))
    rel = rel.replace('/', '\\')
    if not rel.startswith('..'):
        rel = '.\\' + rel
    return rel


def build(args):
    parent_vhd = Vhd(args.parent)
    size = parent_vhd.size
    raw_size = os.path.getsize(args.raw)
    if raw_size != size:
        raise VhdError('%s is %d bytes, the parent %d' % (args.raw, raw_size, size))
    parent = RawParent(args.parent_raw, size) if args.parent_raw else parent_vhd
    if args.parent_raw and os.path.getsize(args.parent_raw) != size:
        raise VhdError('%s is not %d bytes' % (args.parent_raw, size))

    entries = -(-size // BLOCK_SIZE)
    bat_offset = 3 * SECTOR
    bat_bytes = -(-entries * 4 // SECTOR) * SECTOR
    pos = bat_offset + bat_bytes

    # Parent locators: W2ru first (the one Windows tries first), then W2ku.
    parent_abs = os.path.abspath(args.parent)
    locs = [(b'W2ru', relative_locator(args.parent, args.output).encode('utf-16-le')),
            (b'W2ku', (args.w2ku_path or parent_abs).encode('utf-16-le'))]
    if args.w2ku_first:
        locs.reverse()
    if args.macx:
        locs.append((b'MacX', ('file://' + parent_abs).encode('utf-8')))
    units = ['bytes', 'sectors', 'bytes']      # W2ru, W2ku, MacX
    if args.swap_units:
        units = ['sectors', 'bytes', 'sectors']
    if args.w2ku_first:
        units[0], units[1] = units[1], units[0]
    loc_entries, loc_blobs = [], []
    for (code, data), unit in zip(locs, units):
        entry, space = locator_entry(code, data, pos, unit)
        loc_entries.append(entry)
        loc_blobs.append((pos, data + bytes(space - len(data))))
        pos += space

    parent_id = parent_vhd.unique_id
    if args.parent_uuid:
        parent_id = uuid.UUID(args.parent_uuid).bytes
    now = int(time.time()) - VHD_EPOCH

    hdr = bytearray(1024)
    hdr[0:8] = b'cxsparse'
    struct.pack_into('>QQIII', hdr, 8, 0xFFFFFFFFFFFFFFFF, bat_offset,
                     0x00010000, entries, BLOCK_SIZE)
    hdr[40:56] = parent_id
    struct.pack_into('>I', hdr, 56, parent_vhd.timestamp)
    name = (args.parent_name or os.path.basename(args.parent)).encode('utf-16-be')[:512]
    hdr[64:64 + len(name)] = name
    for i, e in enumerate(loc_entries):
        hdr[576 + 24 * i:600 + 24 * i] = e
    struct.pack_into('>I', hdr, 36, checksum(hdr, 36))

    footer = make_footer(size, parent_vhd.geometry, uuid.uuid4().bytes, now)
    bat = [UNALLOCATED] * entries
    sectors_per_block = BLOCK_SIZE // SECTOR
    allocated = 0
    with open(args.raw, 'rb') as raw, open(args.output + '.tmp', 'wb') as out:
        out.write(footer)
        out.write(bytes(hdr))
        out.write(bytes(bat_bytes))       # rewritten at the end
        for off, blob in loc_blobs:
            assert out.tell() == off
            out.write(blob)
        order = range(entries - 1, -1, -1) if args.reverse_blocks else range(entries)
        for b in order:
            raw.seek(b * BLOCK_SIZE)
            want = raw.read(BLOCK_SIZE)
            valid = len(want)
            want += bytes(BLOCK_SIZE - valid)
            under = parent.read_block(b)
            if want == under:
                continue
            bitmap = bytearray(SECTOR)
            data = bytearray(want)
            for s in range(sectors_per_block):
                a, z = s * SECTOR, (s + 1) * SECTOR
                if a >= valid:
                    break                  # past the end of the disk
                if args.bitmap_all or want[a:z] != under[a:z]:
                    bitmap[s >> 3] |= 0x80 >> (s & 7)
                else:
                    data[a:z] = GARBAGE
            bat[b] = out.tell() // SECTOR
            out.write(bytes(bitmap))
            out.write(bytes(data))
            allocated += 1
        out.write(footer)
        out.seek(bat_offset)
        pad = [UNALLOCATED] * (bat_bytes // 4 - entries)
        out.write(struct.pack('>%dI' % (bat_bytes // 4), *(bat + pad)))
    os.replace(args.output + '.tmp', args.output)
    return allocated


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('parent', help='the parent VHD')
    ap.add_argument('raw', help="the child's full content, raw")
    ap.add_argument('output', help='the differencing VHD to write')
    ap.add_argument('--bitmap-all', action='store_true',
                    help='set every bitmap bit in allocated blocks')
    ap.add_argument('--parent-raw', help="the parent's content, raw (else read the parent)")
    ap.add_argument('--parent-uuid', help='write this parent unique id instead of the real one')
    ap.add_argument('--macx', action='store_true', help='add a MacX locator as well')
    ap.add_argument('--w2ku-path',
                    help='write this absolute path in W2ku (e.g. a Windows C:\\ path)')
    ap.add_argument('--parent-name',
                    help="the header's parent unicode name (default: the parent's file name)")
    ap.add_argument('--w2ku-first', action='store_true',
                    help='put the W2ku locator in the first slot, W2ru second')
    ap.add_argument('--reverse-blocks', action='store_true',
                    help='store blocks in descending order (BAT not monotonic)')
    ap.add_argument('--swap-units', action='store_true',
                    help='W2ru data space in sectors and W2ku in bytes (default: the reverse)')
    args = ap.parse_args()
    try:
        n = build(args)
    except (VhdError, OSError, ValueError) as e:
        sys.exit('make-vhd-child: %s' % e)
    print('%s: %d blocks allocated' % (args.output, n))


if __name__ == '__main__':
    main()
