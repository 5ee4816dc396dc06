"""ansitape.py - a tiny, independent writer of ANSI labelled tapes for the
listing tests, written from ECMA-13 / ANSI X3.27 level 3 and the DEC
magtape conventions (VOL1; HDR1 HDR2 HDR3 [HDR4] TM data TM EOF1 EOF2 EOF3
[EOF4] TM per file; TM after the last; EOV1.. TM TM where a file goes on
onto the next reel), not from reelfs's encoder. Byte offsets are 0-based.

    ev = volume("VOL001", [File("DATA.TAR", blocks)])   # events
    image = simh(ev)       # or aws(ev); an event is bytes or None (a mark)
"""
import struct
import zlib
from dataclasses import dataclass, field


def _date(year, yday):
    """cyyddd: c is a space for 19xx, '0' for 20xx."""
    c = " " if year < 2000 else str((year - 2000) // 100)
    return "%s%02d%03d" % (c, year % 100, yday)


def _label(text):
    assert len(text) == 80, (len(text), text)
    return text.encode("ascii")


def vol1(volid, owner=""):
    # 0-3 VOL1, 4-9 volume id, 10 accessibility, 11-23 reserved,
    # 24-36 implementation id, 37-50 owner, 51-78 reserved, 79 version.
    return _label("VOL1" + volid.ljust(6) + " " + " " * 13 + " " * 13 +
                  owner.ljust(14) + " " * 28 + "3")


@dataclass
class File:
    name: str
    blocks: list
    block_len: int = 0          # 0: the first block's length
    set_id: str = ""
    section: int = 1
    sequence: int = 0           # 0: its place on the volume
    created: tuple = (2026, 334)
    eov: bool = False           # goes on onto the next reel
    fmt: str = "F"


def hdr1(kind, f, count):
    # 4-20 file id, 21-26 set id, 27-30 section, 31-34 sequence,
    # 35-38 generation, 39-40 generation version, 41-46 created,
    # 47-52 expires, 53 accessibility, 54-59 block count, 60-72 system,
    # 73-79 reserved.
    return _label(kind + "1" + f.name[:17].ljust(17) + f.set_id.ljust(6) +
                  "%04d" % f.section + "%04d" % f.sequence + "0001" + "00" +
                  _date(*f.created) + " 00000" + " " + "%06d" % (count % 10**6) +
                  "DECFILE11A".ljust(13) + " " * 7)


def hdr2(kind, f):
    # 4 record format, 5-9 block length, 10-14 record length,
    # 15-35 system use, 36 carriage control ('M'), 37-49, 50-51 buffer
    # offset, 52-79.
    bl = f.block_len or (len(f.blocks[0]) if f.blocks else 512)
    return _label(kind + "2" + f.fmt + "%05d" % bl + "%05d" % bl + " " * 21 +
                  "M" + " " * 13 + "00" + " " * 28)


def hdr3(kind):
    return _label(kind + "3" + " " * 76)


def hdr4(kind, f):
    # 4 reserved, 5-66 the name after its 17th character, 67-68 "00".
    return _label(kind + "4" + " " + f.name[17:].ljust(62) + "00" + " " * 11)


def _group(kind, f, count):
    g = [hdr1(kind, f, count), hdr2(kind, f), hdr3(kind)]
    if len(f.name) > 17:
        g.append(hdr4(kind, f))
    return g


def volume(volid, files, owner=""):
    """The events of one labelled reel. A file with eov=True must be the
    last: the reel ends with its EOV labels and two marks."""
    ev = [vol1(volid, owner)]
    for i, f in enumerate(files):
        f.set_id = f.set_id or volid
        f.sequence = f.sequence or i + 1
        ev += _group("HDR", f, 0) + [None] + list(f.blocks) + [None]
        ev += _group("EOV" if f.eov else "EOF", f, len(f.blocks)) + [None]
        if f.eov:
            assert i == len(files) - 1
            return ev + [None]
    return ev + [None]


def saveset_block(name, size, number):
    """A VMS BACKUP block: a 256-byte header (LE u16 256 at 0, u32 block
    number at 8, u32 block size at 40, counted name at 48), then filler."""
    h = bytearray(256)
    struct.pack_into("<H", h, 0, 256)
    struct.pack_into("<I", h, 8, number)
    struct.pack_into("<I", h, 40, size)
    h[48] = len(name)
    h[49:49 + len(name)] = name.encode("ascii")
    body = bytes((number * 7 + i) & 0xFF for i in range(size - 256))
    return bytes(h) + body


def simh(events, pad=True):
    out = bytearray()
    for e in events:
        if e is None:
            out += struct.pack("<I", 0)
            continue
        n = len(e)
        out += struct.pack("<I", n) + e
        if pad and n % 2:
            out += b"\0"
        out += struct.pack("<I", n)
    return bytes(out)


def aws(events):
    out, prev = bytearray(), 0
    for e in events:
        if e is None:
            out += struct.pack("<HHBB", 0, prev, 0x40, 0)
            prev = 0
            continue
        assert len(e) <= 65535
        out += struct.pack("<HHBB", len(e), prev, 0xA0, 0) + e
        prev = len(e)
    return bytes(out)


def counts(events):
    """What a manifest counts: files (a mark ends a file when a record came
    right before it or any record comes after it), records, marks,
    payload bytes and CRC."""
    recs = [e for e in events if e is not None]
    files, since = 0, False
    pending = 0
    for e in events:
        if e is None:
            if since:
                files += 1
                since = False
            else:
                pending += 1
        else:
            files += pending
            pending = 0
            since = True
    return {"files": files, "records": len(recs),
            "marks": sum(1 for e in events if e is None),
            "payload_bytes": sum(len(e) for e in recs),
            "payload_crc32": "%08x" % zlib.crc32(b"".join(recs))}


def manifest(events, image, fmt, storeset, reel, prev=None, nxt=None):
    """A reelfs manifest (docs/manifest.md) for an image the test wrote."""
    m = {"reelfs_manifest": 1, "format": fmt}
    m.update(counts(events))
    m.update({"image_bytes": len(image),
              "image_crc32": "%08x" % zlib.crc32(image),
              "start": "2026-11-30T09:00:00Z", "end": "2026-11-30T09:00:01Z",
              "storeset": storeset, "reel": reel, "prev": prev, "next": nxt,
              "version": "test"})
    return m
