"""tapeimg.py - a small, independent reader of tape images for the tests:
SIMH/MTD (padded odd records), E11 (unpadded), AWS and HET. Written from
the format descriptions, not from reelfs's decoder, so the two check each
other.

    files, eod = parse(data, "mtd")   # files: list of lists of records
"""
import struct
import zlib


def parse(data, fmt):
    if fmt in ("mtd", "simh", "tap", "e11"):
        return _split(_parse_simh(data, pad=(fmt != "e11")))
    if fmt in ("aws", "het"):
        return _split(_parse_aws(data))
    raise ValueError("unknown format %s" % fmt)


def events(data, fmt):
    """The image as a list of elements in order: bytes for a record, None
    for a tape mark (every mark, the end-of-data pair included)."""
    if fmt in ("mtd", "simh", "tap", "e11"):
        return _parse_simh(data, pad=(fmt != "e11"))
    if fmt in ("aws", "het"):
        return _parse_aws(data)
    raise ValueError("unknown format %s" % fmt)


def write(evs, fmt, chunk=65535):
    """The image of a list of elements (bytes: a record, None: a mark) in
    fmt, written from the format descriptions: SIMH framing (mtd and simh
    pad odd records, e11 does not); AWS chunks of at most chunk bytes; HET
    the same with each block zlib-compressed (flag 0x01) when that makes
    it smaller. Adds nothing: the caller writes the end-of-data marks."""
    out = bytearray()
    if fmt in ("mtd", "simh", "tap", "e11"):
        for ev in evs:
            if ev is None:
                out += struct.pack("<I", 0)
                continue
            n = len(ev)
            out += struct.pack("<I", n) + ev
            if n & 1 and fmt != "e11":
                out += b"\0"
            out += struct.pack("<I", n)
        return bytes(out)
    if fmt not in ("aws", "het"):
        raise ValueError("unknown format %s" % fmt)
    prev = 0
    for ev in evs:
        if ev is None:
            out += struct.pack("<HHBB", 0, prev, 0x40, 0)
            prev = 0
            continue
        body, comp = ev, 0
        if fmt == "het":
            z = zlib.compress(ev, 4)
            if len(z) < len(ev):
                body, comp = z, 0x01
        pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)]
        for i, p in enumerate(pieces):
            f1 = comp | (0x80 if i == 0 else 0) | (
                0x20 if i == len(pieces) - 1 else 0)
            out += struct.pack("<HHBB", len(p), prev, f1, 0) + p
            prev = len(p)
    return bytes(out)


def _split(events):
    """Events (bytes for a record, None for a mark) -> files, at_eod.
    Two marks in a row end the data only at the end of the image: an empty
    tape file in the middle is also two marks in a row, and counts when a
    record follows it."""
    segs = [[]]
    for ev in events:
        if ev is None:
            segs.append([])
        else:
            segs[-1].append(ev)
    eod = len(events) >= 2 and events[-1] is None and events[-2] is None
    # Trailing marks end the data; like reelfs's counts, they make no
    # empty files (R M M M is one file).
    while segs and not segs[-1]:
        segs.pop()
    return segs, eod


def _parse_simh(data, pad):
    ev, pos = [], 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise ValueError("truncated header at %d" % pos)
        (n,) = struct.unpack_from("<I", data, pos)
        pos += 4
        if n == 0:
            ev.append(None)
            continue
        if n == 0xFFFFFFFF:
            break
        if n & 0xFF000000:
            raise ValueError("bad length %#x at %d" % (n, pos - 4))
        rec = data[pos:pos + n]
        step = (n + 1) & ~1 if pad else n
        if pos + step + 4 > len(data):
            raise ValueError("truncated record at %d" % (pos - 4))
        (t,) = struct.unpack_from("<I", data, pos + step)
        if t != n:
            raise ValueError("trailer %d != header %d at %d" % (t, n, pos - 4))
        ev.append(bytes(rec))
        pos += step + 4
    return ev


def _parse_aws(data):
    ev, pos, prev, cur, comp = [], 0, 0, None, 0
    while pos < len(data):
        if pos + 6 > len(data):
            raise ValueError("truncated AWS header at %d" % pos)
        cl, pl, f1, _f2 = struct.unpack_from("<HHBB", data, pos)
        if pl != prev:
            raise ValueError("previous length %d != %d at %d" % (pl, prev, pos))
        pos += 6
        if f1 & 0x40:
            ev.append(None)
        else:
            chunk = data[pos:pos + cl]
            if f1 & 0x80:
                cur, comp = bytearray(), f1 & 0x03
            cur += chunk
            if f1 & 0x20:
                rec = bytes(cur)
                if comp == 1:
                    rec = zlib.decompress(rec)
                elif comp:
                    raise ValueError("bzip2 HET block at %d" % pos)
                ev.append(rec)
                cur = None
        pos += cl
        prev = cl
    return ev


def payload(files):
    return b"".join(r for f in files for r in f)
