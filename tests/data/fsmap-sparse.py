#!/usr/bin/env python3
"""fsmap-sparse.py IMAGE OUT: encode a filesystem image as the sparse-disk
records of tests/fuzz/fuzz-fs.h — (u32 LE 4 KiB page, u32 LE length,
bytes) for every run of non-zero pages — so a seed holds only what the
filesystem wrote."""
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

def main():
    data = open(sys.argv[1], 'rb').read()
    with open(sys.argv[2], 'wb') as out:
        for off, chunk in runs(data):
            out.write(struct.pack('<II', off // PAGE, len(chunk)) + chunk)

main()
