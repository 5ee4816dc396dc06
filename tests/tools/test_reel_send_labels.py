"""`reel send --label/--volume/--append/--vms-saveset` and `reel cp
--label/--volume`: ANSI labelled tapes as VMS writes them. Every image is
read back twice: by tapeimg (the tests' own reader) with each label field
checked at the byte positions ECMA-13 gives (written out here, not taken
from the encoder), and by `reel cat` (our decoder) for the data. A
synthetic VMS BACKUP saveset made here (256-byte block headers with the
block size and a name) is recognised, labelled with its name and block
size, its blocks the records; a --block-size that disagrees is refused.
`--vms-saveset` to vsftpd on 127.0.0.1 ends with the summary line."""
import os
import re
import struct
import subprocess

import pytest

import tapeimg
from need import need_root, need_tool
from reeltool import fails, ok, reel, reel_path
from servers import Vsftpd

FORMATS = ["mtd", "simh", "e11", "aws", "het"]
EXT = {"mtd": "mtd", "simh": "tap", "e11": "e11", "aws": "aws", "het": "het"}

# ECMA-13 label fields, 0-based [start, end) byte ranges.
VOL1 = {"id": (0, 4), "volid": (4, 10), "standard": (79, 80)}
HDR1 = {"id": (0, 4), "name": (4, 21), "set": (21, 27), "section": (27, 31),
        "sequence": (31, 35), "generation": (35, 39), "created": (41, 47),
        "blocks": (54, 60), "system": (60, 73)}
HDR2 = {"id": (0, 4), "format": (4, 5), "block": (5, 10), "record": (10, 15),
        "offset": (50, 52)}


def field(rec, table, key):
    a, b = table[key]
    return rec[a:b].decode("ascii")


def groups(evs):
    """Elements -> list of segments between marks (records only)."""
    segs = [[]]
    for e in evs:
        if e is None:
            segs.append([])
        else:
            segs[-1].append(e)
    return segs


def labelled_files(data, fmt):
    """A labelled image -> (VOL1, [(hdr labels, data records, eof labels)]),
    checking the layout: VOL1 HDRn TM data TM EOFn TM ... TM (end)."""
    evs = tapeimg.events(data, fmt)
    assert evs[-2:] == [None, None], "no end of data"
    segs = groups(evs)
    assert segs[-2:] == [[], []]
    segs = segs[:-2]
    vol = segs[0][0]
    assert len(vol) == 80 and vol[:4] == b"VOL1"
    segs[0] = segs[0][1:]
    assert len(segs) % 3 == 0, "labels, data, labels per file"
    files = []
    for i in range(0, len(segs), 3):
        hdr, body, eof = segs[i:i + 3]
        assert all(len(r) == 80 for r in hdr + eof)
        assert [r[:4] for r in hdr] == [b"HDR%d" % (k + 1) for k in range(len(hdr))]
        assert [r[:4] for r in eof] == [b"EOF%d" % (k + 1) for k in range(len(eof))]
        files.append((hdr, body, eof))
    return vol, files


def check_file(hdr, body, eof, name, volid, seq, block):
    h1, h2 = hdr[0], hdr[1]
    assert field(h1, HDR1, "name") == name[:17].ljust(17)
    assert field(h1, HDR1, "set") == volid.ljust(6)
    assert field(h1, HDR1, "section") == "0001"
    assert field(h1, HDR1, "sequence") == "%04d" % seq
    assert field(h1, HDR1, "blocks") == "000000"
    assert field(h1, HDR1, "system").rstrip() == "DECFILE11A"
    assert re.fullmatch(r"[ 0]\d{5}", field(h1, HDR1, "created"))
    assert field(h2, HDR2, "format") == "F"
    assert field(h2, HDR2, "block") == "%05d" % block
    assert field(h2, HDR2, "offset") == "00"
    assert hdr[2][:4] == b"HDR3"
    if len(name) > 17:
        assert len(hdr) == 4 and name[17:].encode() in hdr[3]
    else:
        assert len(hdr) == 3
    # EOF1 repeats HDR1 but for the block count.
    e1 = eof[0]
    assert field(e1, HDR1, "blocks") == "%06d" % len(body)
    assert e1[:4] == b"EOF1" and e1[4:54] == h1[4:54]
    assert eof[1][4:] == h2[4:]


@pytest.mark.parametrize("fmt", FORMATS)
def test_send_label_one_file(tmp_path, fmt):
    data = os.urandom(50000)
    img = tmp_path / ("one.%s" % EXT[fmt])
    r = ok(reel("send", "--label", "backup.bck,VOL123", img, stdin=data))
    assert "labelled: volume VOL123, file BACKUP.BCK" in r.stderr
    vol, files = labelled_files(img.read_bytes(), fmt)
    assert field(vol, VOL1, "volid") == "VOL123"
    assert field(vol, VOL1, "standard") == "3"
    assert len(files) == 1
    hdr, body, eof = files[0]
    check_file(hdr, body, eof, "BACKUP.BCK", "VOL123", 1, 10240)
    assert b"".join(body) == data
    # Our decoder: the labelled file's data; with --raw tape file 2 is it
    # (1 is VOL1 and the HDRs).
    assert ok(reel("cat", img)).stdout == data
    assert ok(reel("cat", "--raw", "--file", 2, img)).stdout == data


def test_send_label_long_name_and_volume_default(tmp_path):
    data = os.urandom(20000)
    img = tmp_path / "tape7.aws"
    name = "A_VERY_LONG_SAVESET_NAME_2026.BCK"
    ok(reel("send", "--label", name.lower(), "--block-size", 4096, img,
            stdin=data))
    vol, files = labelled_files(img.read_bytes(), "aws")
    # No volume id given: the name's letters and digits before '.'.
    assert field(vol, VOL1, "volid") == "TAPE7 "
    check_file(*files[0], name, "TAPE7", 1, 4096)
    # A name labels cannot hold is refused before anything is written.
    fails(reel("send", "--label", "x" * 77, tmp_path / "n.aws", stdin=b"x"),
          "at most 76", code=2)
    fails(reel("send", "--volume", "TOOLONG", tmp_path / "n.aws", stdin=b"x"),
          "1 to 6 characters", code=2)
    assert not (tmp_path / "n.aws").exists()


@pytest.mark.parametrize("fmt", ["mtd", "het"])
def test_send_append_several_files(tmp_path, fmt):
    img = tmp_path / ("set.%s" % EXT[fmt])
    datas = [os.urandom(n) for n in (30000, 1, 70001)]
    names = ["FIRST.BCK", "SECOND_FILE_WITH_A_LONG_NAME.DAT", "THIRD"]
    r = ok(reel("send", "--append", "--label", names[0] + ",SET01", img,
                stdin=datas[0]))
    assert "does not exist yet" in r.stderr
    for n, d in zip(names[1:], datas[1:]):
        r = ok(reel("send", "--append", "--label", n, img, stdin=d))
        assert "appended" in r.stderr
    assert not (tmp_path / (img.name + ".part")).exists()
    vol, files = labelled_files(img.read_bytes(), fmt)
    assert field(vol, VOL1, "volid") == "SET01 "
    assert len(files) == 3
    for i, (f, n, d) in enumerate(zip(files, names, datas)):
        check_file(*f, n, "SET01", i + 1, 10240)
        assert b"".join(f[1]) == d
        assert ok(reel("cat", "--file", i + 1, img)).stdout == d
        assert ok(reel("cat", "--name", n.lower(), img)).stdout == d
        assert ok(reel("cat", "--raw", "--file", 2 + 3 * i, img)).stdout == d
    # What cannot be appended is refused before anything is uploaded.
    fails(reel("send", "--append", img, stdin=b"x"), "is a labelled tape")
    fails(reel("send", "--append", "--label", "x,OTHER", img, stdin=b"x"),
          "is volume SET01, not OTHER")
    plain = tmp_path / "plain.tap"
    ok(reel("send", plain, stdin=b"y" * 100))
    fails(reel("send", "--append", "--label", "x", plain, stdin=b"x"),
          "is not labelled")
    assert not (tmp_path / "plain.tap.part").exists()
    # An unlabelled tape takes unlabelled files.
    ok(reel("send", "--append", plain, stdin=b"z" * 50))
    assert tapeimg.parse(plain.read_bytes(), "simh")[0] == [[b"y" * 100],
                                                            [b"z" * 50]]


def test_send_label_tapemark_every_names_files(tmp_path):
    data = os.urandom(30000)
    img = tmp_path / "multi.tap"
    ok(reel("send", "--label", "PART,V1", "--tapemark-every", 10000, img,
            stdin=data))
    _, files = labelled_files(img.read_bytes(), "simh")
    assert len(files) == 3
    for i, (f, n) in enumerate(zip(files, ["PART", "PART_2", "PART_3"])):
        check_file(*f, n, "V1", i + 1, 10240)
        assert b"".join(f[1]) == data[i * 10000:(i + 1) * 10000]


def test_send_label_storeset_eov(tmp_path):
    """A labelled file over three reels: EOV1-3 TM TM end the first two,
    each next reel starts with its own VOL1 and HDR1 whose section number
    is one higher (same name, file set id and sequence); the last ends with
    EOF labels; the block counts are per reel; the data joins up."""
    data = os.urandom(100000)
    reels = [tmp_path / ("st%d.mtd" % i) for i in (1, 2, 3, 4)]
    r = ok(reel("send", "--label", "BIGFILE.DAT,SET001", "--capacity", "40K",
                *sum((["--next", p] for p in reels[1:]), []), reels[0],
                stdin=data))
    assert "the data fit on 3 reels" in r.stderr
    got = b""
    for i, p in enumerate(reels[:3]):
        raw = p.read_bytes()
        assert len(raw) <= 40 * 1024
        evs = tapeimg.events(raw, "mtd")
        assert evs[-2:] == [None, None]
        segs = groups(evs)[:-2]
        vol, hdr, body, tail = segs[0][0], segs[0][1:], segs[1], segs[2]
        assert field(vol, VOL1, "volid") == ("SET001", "ST2   ", "ST3   ")[i]
        h1 = hdr[0]
        assert field(h1, HDR1, "name").rstrip() == "BIGFILE.DAT"
        assert field(h1, HDR1, "set") == "SET001"
        assert field(h1, HDR1, "section") == "%04d" % (i + 1)
        assert field(h1, HDR1, "sequence") == "0001"
        kind = b"EOF" if i == 2 else b"EOV"
        assert [t[:4] for t in tail] == [kind + b"1", kind + b"2", kind + b"3"]
        assert field(tail[0], HDR1, "blocks") == "%06d" % len(body)
        assert tail[0][4:54] == h1[4:54]
        got += b"".join(body)
    assert got == data


def saveset(name, bs, nblocks):
    """A synthetic BACKUP saveset: each block a 256-byte header (LE16 256
    at 0, block number at 8, block size at 40, counted name at 48), then
    data. Not restorable; only the headers are real."""
    out = bytearray()
    for i in range(nblocks):
        h = bytearray(256)
        struct.pack_into("<H", h, 0, 256)
        struct.pack_into("<I", h, 8, i + 1)
        struct.pack_into("<I", h, 40, bs)
        h[48] = len(name)
        h[49:49 + len(name)] = name.encode()
        out += h + os.urandom(bs - 256)
    return bytes(out)


def test_saveset_detected_on_stdin(tmp_path):
    ss = saveset("USERDISK.BCK", 8192, 6)
    img = tmp_path / "vms.mtd"
    r = ok(reel("send", "--volume", "VMS001", img, stdin=ss))
    assert "a VMS BACKUP saveset" in r.stderr
    vol, files = labelled_files(img.read_bytes(), "mtd")
    hdr, body, eof = files[0]
    check_file(hdr, body, eof, "USERDISK.BCK", "VMS001", 1, 8192)
    assert body == [ss[i:i + 8192] for i in range(0, len(ss), 8192)]
    # --label names it otherwise; the block size still comes from it.
    ok(reel("send", "--label", "OTHER.BCK", tmp_path / "o.mtd", stdin=ss))
    _, files = labelled_files((tmp_path / "o.mtd").read_bytes(), "mtd")
    check_file(*files[0], "OTHER.BCK", "O", 1, 8192)
    # A --block-size that agrees is fine; one that disagrees is refused.
    ok(reel("send", "--block-size", 8192, "--volume", "V", tmp_path / "a.mtd",
            stdin=ss))
    r = fails(reel("send", "--block-size", 10240, "--volume", "V",
                   tmp_path / "b.mtd", stdin=ss),
              "VMS BACKUP saveset \"USERDISK.BCK\"", "/BLOCK_SIZE=8192",
              "--block-size 10240", code=2)
    assert not (tmp_path / "b.mtd").exists()
    # Unlabelled: still cut at its block size, with a warning.
    r = ok(reel("send", tmp_path / "u.tap", stdin=ss))
    assert "without --label or --volume the tape is unlabelled" in r.stderr
    assert tapeimg.parse((tmp_path / "u.tap").read_bytes(), "simh")[0] == \
        [[ss[i:i + 8192] for i in range(0, len(ss), 8192)]]


def test_vms_saveset_file_and_refusals(tmp_path):
    ss = saveset("SYS.BCK", 32256, 3)
    f = tmp_path / "SYS.BCK"
    f.write_bytes(ss)
    img = tmp_path / "sys.aws"
    r = ok(reel("send", "--vms-saveset", f, img))
    assert re.search(r"wrote \d+ bytes; [\d.]+ s elapsed, [\d.]+ s CPU",
                     r.stderr)
    _, files = labelled_files(img.read_bytes(), "aws")
    check_file(*files[0], "SYS.BCK", "SYS", 1, 32256)
    notss = tmp_path / "plain.dat"
    notss.write_bytes(os.urandom(9000))
    fails(reel("send", "--vms-saveset", notss, tmp_path / "x.mtd"),
          "is not a VMS BACKUP saveset")
    fails(reel("send", "--vms-saveset", tmp_path / "nope.bck",
               tmp_path / "x.mtd"), "no such file")
    assert not (tmp_path / "x.mtd").exists()


@pytest.mark.parametrize("fmt", ["simh", "aws"])
def test_cp_adds_labels(tmp_path, fmt):
    evs = [b"a" * 4000, b"b" * 4000, None, None, b"c" * 10, None, None]
    src = tmp_path / ("src.%s" % EXT[fmt])
    src.write_bytes(tapeimg.write(evs, fmt))
    dst = tmp_path / "lab.mtd"
    r = ok(reel("cp", "--label", "DATA,CPVOL", src, dst))
    assert "labelled: volume CPVOL, 3 files" in r.stderr
    _, files = labelled_files(dst.read_bytes(), "mtd")
    # The empty tape file in the middle stays an empty labelled file.
    assert [f[1] for f in files] == [[b"a" * 4000, b"b" * 4000], [], [b"c" * 10]]
    for i, (f, n) in enumerate(zip(files, ["DATA", "DATA_2", "DATA_3"])):
        check_file(*f, n, "CPVOL", i + 1, 4000 if i == 0 else
                   int(field(f[0][1], HDR2, "block")))
    # A saveset inside is named by its own header; FILEnnnn otherwise.
    ss = saveset("INSIDE.BCK", 4096, 2)
    src2 = tmp_path / "ss.tap"
    src2.write_bytes(tapeimg.write([ss[:4096], ss[4096:], None, b"q" * 9,
                                    None, None], "simh"))
    ok(reel("cp", "--volume", "SSV", src2, tmp_path / "ss.het"))
    _, files = labelled_files((tmp_path / "ss.het").read_bytes(), "het")
    check_file(*files[0], "INSIDE.BCK", "SSV", 1, 4096)
    assert field(files[1][0][0], HDR1, "name").rstrip() == "FILE0002"
    # A source that is labelled already is refused.
    fails(reel("cp", "--volume", "X", dst, tmp_path / "again.tap"),
          "already labelled")
    assert not (tmp_path / "again.tap").exists()
    assert not (tmp_path / "again.tap.part").exists()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    need_root()
    need_tool("vsftpd")
    reel_path()
    with Vsftpd(tmp_path_factory.mktemp("vsftpd")) as s:
        yield s


def test_vms_saveset_to_ftp_summary(srv, tmp_path):
    ss = saveset("NIGHTLY.BCK", 8192, 40)
    f = tmp_path / "NIGHTLY.BCK"
    f.write_bytes(ss)
    r = reel("send", "--vms-saveset", f, srv.url + "NIGHTLY.mtd", env=srv.env())
    ok(r)
    raw = (srv.root / "NIGHTLY.mtd").read_bytes()
    m = re.search(r"sent (\d+) bytes \([^)]*\); the server holds (\d+) bytes; "
                  r"[\d.]+ s elapsed, [\d.]+ s CPU\.", r.stderr)
    assert m, r.stderr
    assert int(m.group(1)) == int(m.group(2)) == len(raw)
    assert srv.password not in r.stderr
    vol, files = labelled_files(raw, "mtd")
    assert field(vol, VOL1, "volid") == "NIGHTL"
    check_file(*files[0], "NIGHTLY.BCK", "NIGHTL", 1, 8192)
    assert b"".join(files[0][1]) == ss
    # Appended over FTP: the same tape, a second saveset after it.
    ss2 = saveset("WEEKLY.BCK", 8192, 3)
    ok(reel("send", "--append", "--volume", "NIGHTL", srv.url + "NIGHTLY.mtd",
            stdin=ss2, env=srv.env()))
    _, files = labelled_files((srv.root / "NIGHTLY.mtd").read_bytes(), "mtd")
    assert len(files) == 2
    check_file(*files[1], "WEEKLY.BCK", "NIGHTL", 2, 8192)
    assert b"".join(files[1][1]) == ss2


def test_hetmap_reads_the_labels(tmp_path):
    exe = need_tool("hetmap")
    img = tmp_path / "lab.aws"
    ok(reel("send", "--label", "HERC.DAT,HVOL", "--block-size", 8000, img,
            stdin=os.urandom(20000)))
    r = subprocess.run([exe, "-l", str(img)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "HVOL" in r.stdout and "HERC.DAT" in r.stdout, r.stdout
