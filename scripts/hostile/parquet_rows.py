#!/usr/bin/env python3
"""Row count of Parquet files from their footers (stdlib only).

A Parquet file ends with the FileMetaData (Thrift compact protocol), its
length (4 bytes, little-endian) and b"PAR1". FileMetaData field 3 is
num_rows (i64); fields before it are skipped generically.

    parquet_rows.py FILE_OR_DIR...   prints the total rows
"""
import os
import struct
import sys


class _Buf:
    def __init__(self, data):
        self.d = data
        self.i = 0

    def byte(self):
        b = self.d[self.i]
        self.i += 1
        return b

    def varint(self):
        shift = out = 0
        while True:
            b = self.byte()
            out |= (b & 0x7F) << shift
            if not b & 0x80:
                return out
            shift += 7

    def zigzag(self):
        n = self.varint()
        return (n >> 1) ^ -(n & 1)


def _skip(buf, t):
    if t in (1, 2):            # bool inside a field header
        return
    if t == 3:                 # byte
        buf.i += 1
    elif t in (4, 5, 6):       # i16/i32/i64
        buf.varint()
    elif t == 7:               # double
        buf.i += 8
    elif t == 8:               # binary
        n = buf.varint()
        buf.i += n
    elif t in (9, 10):         # list/set
        h = buf.byte()
        n = h >> 4
        if n == 15:
            n = buf.varint()
        et = h & 0x0F
        for _ in range(n):
            if et in (1, 2):
                buf.i += 1
            else:
                _skip(buf, et)
    elif t == 11:              # map
        n = buf.varint()
        if n:
            kv = buf.byte()
            for _ in range(n):
                _skip(buf, kv >> 4)
                _skip(buf, kv & 0x0F)
    elif t == 12:              # struct
        fid = 0
        while True:
            h = buf.byte()
            if h == 0:
                return
            delta, ft = h >> 4, h & 0x0F
            fid = fid + delta if delta else buf.zigzag()
            _skip(buf, ft)
    else:
        raise ValueError("bad thrift type %d" % t)


def num_rows(path):
    """Rows of one Parquet file; raises OSError/ValueError when unreadable."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        if size < 12:
            raise ValueError("%s: too short for Parquet" % path)
        f.seek(size - 8)
        tail = f.read(8)
        if tail[4:] != b"PAR1":
            raise ValueError("%s: no PAR1 footer" % path)
        (n,) = struct.unpack("<I", tail[:4])
        f.seek(size - 8 - n)
        buf = _Buf(f.read(n))
    fid = 0
    while True:
        h = buf.byte()
        if h == 0:
            break
        delta, ft = h >> 4, h & 0x0F
        fid = fid + delta if delta else buf.zigzag()
        if fid == 3 and ft == 6:
            return buf.zigzag()
        _skip(buf, ft)
    raise ValueError("%s: footer without num_rows" % path)


def parquet_files(root):
    out = []
    for d, _, names in os.walk(root):
        out += [os.path.join(d, n) for n in names if n.endswith(".parquet")]
    return sorted(out)


def main(args):
    total = 0
    for a in args:
        for p in (parquet_files(a) if os.path.isdir(a) else [a]):
            total += num_rows(p)
    print(total)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
