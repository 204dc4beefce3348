#!/usr/bin/env python3
"""fsmap-sparse.py IMAGE OUT: encode a filesystem image as the sparse-disk
records of tests/fuzz/fuzz-fs.h — (u32 LE 4 KiB page, u32 LE length,
bytes) for every run of non-zero pages — so a seed holds only what the
filesystem wrote.  fsmap-sparse.py -d RECORDS IMAGE SIZE: decode, into a
sparse file of SIZE bytes."""
import struct
import sys

PAGE = 4096

def runs(data):
    start = None
    for i in range(0, len(data), PAGE):
        nonzero = data[i:i + PAGE].count(0) != len(data[i:i + PAGE])
        if nonzero and start is None:
            start = i
        elif not nonzero and start is not None:
            yield start, data[start:i]
            start = None
    if start is not None:
        yield start, data[start:]

def decode(records, image, size):
    data = open(records, 'rb').read()
    with open(image, 'wb') as out:
        out.truncate(size)
        pos = 0
        while pos + 8 <= len(data):
            page, length = struct.unpack('<II', data[pos:pos + 8])
            chunk = data[pos + 8:pos + 8 + length]
            pos += 8 + length
            if page * PAGE + len(chunk) <= size:
                out.seek(page * PAGE)
                out.write(chunk)

def main():
    if sys.argv[1] == '-d':
        decode(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    data = open(sys.argv[1], 'rb').read()
    with open(sys.argv[2], 'wb') as out:
        for off, chunk in runs(data):
            out.write(struct.pack('<II', off // PAGE, len(chunk)) + chunk)

main()
