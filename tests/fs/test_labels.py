"""The drive writes ANSI labels (reelfs --label=VOLID, issue 10 point 3):
tar through MOUNT/tape, dd to MOUNT/files/NAME, several files on one reel,
one labelled file spread over a --next chain and over tar -M volumes told
by --handover (EOV on every reel but the last, sections 1, 2, 3), every
format, and Hercules' hetmap as a second reader. Real mounts against
vsftpd on 127.0.0.1.

Each image is checked twice: by ecma_walk below, written from ECMA-13's
field positions (not from encoder/label_fields.h), and by reelfs's own
decoder and label scanner (the lblscan helper)."""
import contextlib
import fcntl
import json
import os
import re
import shutil
import struct
import subprocess
import time

import pytest

import tapeimg
from fscommon import (Mount, make_tree, need_mount_env, reel_binary, run,
                      vsftpd)

KB = 1024
MTIOCTOP = 0x40086d01   # _IOW('m', 1, struct mtop {int op; int count;})
MTWEOF = 5


# ---- an independent reading of ECMA-13 labels ----------------------------

def _num(field, what):
    assert re.fullmatch(r"\d+", field), "%s %r is not digits" % (what, field)
    return int(field)


def _vol1(r):
    assert len(r) == 80 and r[:4] == b"VOL1", r[:4]
    t = r.decode("ascii")
    assert t[79] == "3", "VOL1 label standard version %r" % t[79]
    return t[4:10].rstrip()


def _hdr1(r, kind):
    """HDR1/EOF1/EOV1: ECMA-13 positions (0-based)."""
    t = r.decode("ascii")
    assert t[:4] == kind + "1", "expected %s1, found %r" % (kind, t[:4])
    created = t[41:47]
    assert re.fullmatch(r"[ 0-9]\d{5}", created), "creation date %r" % created
    year = (1900 if created[0] == " " else 2000 + 100 * int(created[0])) + \
        int(created[1:3])
    return {
        "name": t[4:21], "set_id": t[21:27].rstrip(),
        "section": _num(t[27:31], "section"), "sequence": _num(t[31:35], "sequence"),
        "generation": _num(t[35:39], "generation"),
        "gen_version": _num(t[39:41], "generation version"),
        "year": year, "yday": int(created[3:6]),
        "blocks": _num(t[54:60], "block count"), "system": t[60:73].rstrip(),
    }


def _hdr2(r, kind):
    t = r.decode("ascii")
    assert t[:4] == kind + "2", "expected %s2, found %r" % (kind, t[:4])
    assert t[4] in "FDS", "record format %r" % t[4]
    assert t[36] == "M", "carriage control %r" % t[36]
    assert t[50:52] == "00", "buffer offset %r" % t[50:52]
    return {"format": t[4], "block_len": _num(t[5:10], "block length"),
            "record_len": _num(t[10:15], "record length")}


def _group(recs, kind):
    """A HDR/EOF/EOV group: 1, 2, 3 and 4 when the name needs it."""
    assert 3 <= len(recs) <= 4, "%s group of %d labels" % (kind, len(recs))
    assert all(len(r) == 80 for r in recs)
    assert [r[:4] for r in recs] == [("%s%d" % (kind, i + 1)).encode()
                                    for i in range(len(recs))]
    g = _hdr1(recs[0], kind)
    g.update(_hdr2(recs[1], kind))
    name = g["name"]
    if len(recs) == 4:
        # HDR4 as DEC writes it (open-simh's HDR4): a blank, 62 more
        # characters of the name, how many of them are used (2 digits).
        t4 = recs[3].decode("ascii")
        used = _num(t4[67:69], "HDR4 name length")
        assert t4[4] == " " and 0 < used <= 62, t4
        name += t4[5:5 + used]
    g["name"] = name.rstrip()
    return g


def ecma_walk(data, fmt):
    """(volid, sections): each section a dict of its header fields, its
    data records, its trailer kind ("EOF"/"EOV") and block count."""
    files, eod = tapeimg.parse(data, fmt)
    assert eod, "the image does not end with two tape marks"
    assert files and files[0] and files[0][0][:4] == b"VOL1", "no VOL1 first"
    volid = _vol1(files[0][0])
    i, first, sections = 0, True, []
    while i < len(files):
        hdrs = files[i][1:] if first else files[i]
        first = False
        if not hdrs:
            assert i == len(files) - 1, "an empty label group mid-tape"
            break
        h = _group(hdrs, "HDR")
        assert h["blocks"] == 0, "HDR1 block count %d" % h["blocks"]
        assert i + 2 < len(files), "a file without its trailer labels"
        recs = files[i + 1]
        kind = files[i + 2][0][:3].decode()
        assert kind in ("EOF", "EOV"), "trailer %r" % kind
        t = _group(files[i + 2], kind)
        for k in ("name", "set_id", "section", "sequence", "block_len"):
            assert t[k] == h[k], "%s differs: HDR %r, %s %r" % (k, h[k], kind, t[k])
        assert t["blocks"] == len(recs), "%s1 counts %d blocks, %d were written" % (
            kind, t["blocks"], len(recs))
        h.update(kind=kind, records=recs)
        sections.append(h)
        i += 3
        if kind == "EOV":
            assert i == len(files), "data after EOV"
    return volid, sections


def lblscan(path, fmt):
    exe = os.path.join(os.environ.get("REELFS_BUILD", ""), "tests", "fs", "lblscan")
    if not os.access(exe, os.X_OK):
        return None
    r = run([exe, fmt, str(path)])
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def check_image(path, fmt, volid):
    """Both readings of one image; returns the sections."""
    vol, secs = ecma_walk(path.read_bytes(), fmt)
    assert vol == volid
    for s in secs:
        assert s["system"] == "DECFILE11A" and s["set_id"]
        assert s["generation"] == 1 and s["gen_version"] == 0
        assert s["format"] == "F"
        if s["records"]:
            # HDR2's block length: the first record's (0 when it needs
            # more than the field's five digits).
            first = len(s["records"][0])
            assert s["block_len"] == (first if first <= 99999 else 0)
        lt = time.gmtime()
        assert s["year"] in (lt.tm_year, lt.tm_year - 1)
    scan = lblscan(path, fmt)
    if scan is not None:
        assert scan["labelled"] and scan["volid"] == volid and not scan["problem"], scan
        assert len(scan["files"]) == len(secs), scan
        for f, s in zip(scan["files"], secs):
            assert (f["name"], f["set_id"], f["section"], f["sequence"],
                    f["block_count"], f["block_len"], f["continued"]) == \
                (s["name"], s["set_id"], s["section"], s["sequence"],
                 len(s["records"]), s["block_len"], s["kind"] == "EOV"), (f, s)
    return secs


def files_listing(mnt):
    return sorted(os.listdir(mnt / "files"))


def reel_cat_file(path, n, out):
    """`reel cat --single --file N` of a local image into out."""
    r = subprocess.run([reel_binary(), "cat", "--single", "--file", str(n), str(path)],
                       stdout=open(out, "wb"), stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr.decode()
    return out


def same_tree(a, b):
    for p in a.rglob("*"):
        if p.is_file():
            q = b / p.relative_to(a.parent)
            assert q.read_bytes() == p.read_bytes(), "%s differs" % q


# ---- one reel ---------------------------------------------------------------

def test_tar_through_tape_is_one_labelled_file(tmp_path):
    need_mount_env("tar")
    tree = make_tree(tmp_path / "data", nfiles=6, size=150_000)
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "tar.mtd", tmp_path / "m", ["--label=tar001"],
                   env=srv.env()) as m:
            assert "files" in os.listdir(m.mountpoint)
            r = run(["tar", "-b", "20", "-cf", str(m.tape), "-C", str(tmp_path), "data"])
            assert r.returncode == 0, r.stderr
            assert files_listing(m.mountpoint) == ["FILE0001"]
            assert m.status()["label"] == "TAR001"
            assert m.status()["labelled_files"] == "1"
            st = os.stat(m.mountpoint / "files" / "FILE0001")
            assert st.st_size % 10240 == 0 and st.st_size > 900_000
        secs = check_image(srv.root / "tar.mtd", "mtd", "TAR001")
    assert [(s["name"], s["sequence"], s["section"], s["kind"]) for s in secs] == \
        [("FILE0001", 1, 1, "EOF")]
    assert secs[0]["set_id"] == "TAR001" and secs[0]["block_len"] == 10240
    assert all(len(r) == 10240 for r in secs[0]["records"])
    # reel cat gives back tar's archive: labelled file 1's data.
    arc = reel_cat_file(srv.root / "tar.mtd", 1, tmp_path / "back.tar")
    out = tmp_path / "restore"
    out.mkdir()
    r = run(["tar", "-b", "20", "-xf", str(arc), "-C", str(out)])
    assert r.returncode == 0, r.stderr
    same_tree(tree, out)


def test_dd_savesets_and_several_files_on_one_reel(tmp_path):
    """dd to MOUNT/files/NAME names the file NAME (upper case), HDR2 has the
    block length of its records; sequence numbers 1..n; mt weof inside a
    labelled file ends it and the next record starts another; a name longer
    than 17 characters goes on in HDR4."""
    need_mount_env("dd", "tar")
    a = os.urandom(40 * 8192)
    b = os.urandom(7 * 32256 + 1000)
    (tmp_path / "a.bck").write_bytes(a)
    (tmp_path / "b.bck").write_bytes(b)
    long_name = "a-saveset-with-a-long-name.bck"
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "multi.aws", tmp_path / "m", ["--label=VMS001"],
                   env=srv.env()) as m:
            for src, name, bs in (("a.bck", "MySaveset.BCK", 8192),
                                  ("b.bck", long_name, 32256)):
                r = run(["dd", "if=%s" % (tmp_path / src),
                         "of=%s" % (m.mountpoint / "files" / name), "bs=%d" % bs])
                assert r.returncode == 0, r.stderr
            assert files_listing(m.mountpoint) == sorted(
                ["MYSAVESET.BCK", long_name.upper()])
            assert os.stat(m.mountpoint / "files" / "MYSAVESET.BCK").st_size == len(a)
            # One open, two records, mt weof, one record, close: two files,
            # named by the open (MOUNT/tape: generated).
            fd = os.open(m.tape, os.O_WRONLY)
            try:
                os.write(fd, b"x" * 512)
                os.write(fd, b"y" * 512)
                fcntl.ioctl(fd, MTIOCTOP, struct.pack("ii", MTWEOF, 1))
                os.write(fd, b"z" * 1024)
            finally:
                os.close(fd)
            # Opening a file listed already writes another file of that name.
            with open(m.mountpoint / "files" / "MYSAVESET.BCK", "wb") as f:
                f.write(b"again" * 100)
            names = files_listing(m.mountpoint)
            assert "FILE0003" in names and "FILE0004" in names, names
        secs = check_image(srv.root / "multi.aws", "aws", "VMS001")
    got = [(s["name"], s["sequence"], s["section"], s["block_len"], len(s["records"]))
           for s in secs]
    assert got == [("MYSAVESET.BCK", 1, 1, 8192, 40),
                   (long_name.upper(), 2, 1, 32256, 8),
                   ("FILE0003", 3, 1, 512, 2),
                   ("FILE0004", 4, 1, 1024, 1),
                   ("MYSAVESET.BCK", 5, 1, 500, 1)], got
    assert b"".join(secs[0]["records"]) == a
    assert b"".join(secs[1]["records"]) == b
    assert all(s["set_id"] == "VMS001" and s["kind"] == "EOF" for s in secs)


def test_hetmap_reads_the_drives_labels(tmp_path):
    need_mount_env("dd")
    if not shutil.which("hetmap"):
        pytest.skip("hetmap (Debian package hercules) is missing")
    data = os.urandom(20 * 8192)
    (tmp_path / "s.bck").write_bytes(data)
    with vsftpd(tmp_path) as srv:
        for fmt in ("aws", "het"):
            name = "herc.%s" % fmt
            with Mount(srv.url + name, tmp_path / ("m" + fmt), ["--label=HERC%s" % fmt[:2]],
                       env=srv.env()) as m:
                r = run(["dd", "if=%s" % (tmp_path / "s.bck"),
                         "of=%s" % (m.mountpoint / "files" / "NIGHTLY.BCK"), "bs=8192"])
                assert r.returncode == 0, r.stderr
            check_image(srv.root / name, fmt, "HERC" + fmt[:2].upper())
            r = run(["hetmap", "-l", str(srv.root / name)])
            assert r.returncode == 0, r.stdout + r.stderr
            out = r.stdout
            vol = re.search(r"Volume Serial\s*:\s*'(\w+)'", out)
            assert vol and vol.group(1) == "HERC" + fmt[:2].upper(), out
            assert re.search(r"Dataset ID\s*:\s*'NIGHTLY.BCK\s*'", out), out
            assert re.search(r"Block Size\s*:\s*'08192'", out), out
            assert re.search(r"Label\s*:\s*'EOF1'", out), out
            assert re.search(r"Block Count Low\s*:\s*'000020'", out), out


# ---- storesets: one labelled file over three reels ------------------------

def _span_checks(srv, names, fmt, volids, name, set_id, more=()):
    """Reels 1..n: EOV on all but the last, sections 1..n of one file;
    returns the data of each reel's section. more: the sections expected
    after it on the last reel."""
    parts = []
    for i, (img, vid) in enumerate(zip(names, volids)):
        secs = check_image(srv.root / img, fmt, vid)
        last = i == len(names) - 1
        assert len(secs) == 1 + (len(more) if last else 0), secs
        if last:
            for s, (n, seq, blen) in zip(secs[1:], more):
                assert (s["name"], s["sequence"], s["section"], s["set_id"],
                        s["block_len"], s["kind"]) == (n, seq, 1, set_id, blen, "EOF")
        s = secs[0]
        assert (s["name"], s["set_id"], s["section"], s["sequence"]) == \
            (name, set_id, i + 1, 1), s
        assert s["kind"] == ("EOF" if i == len(names) - 1 else "EOV"), s["kind"]
        assert s["records"], "reel %d holds no data of the file" % (i + 1)
        parts.append(s)
    return parts


def test_next_chain_spreads_one_labelled_file_over_three_reels(tmp_path):
    need_mount_env("dd")
    src = os.urandom(2_600_000)
    (tmp_path / "src.bin").write_bytes(src)
    names = ["chain1.tap", "chain2.tap", "chain3.tap"]
    # Reel 2 has no --label: its volume id is made from the first reel's
    # (VMS style, CHAI02); reel 3 brings its own.
    labels = [["--label=chain1"], [], ["--label=OWN003"]]
    with vsftpd(tmp_path) as srv:
        with contextlib.ExitStack() as stack:
            ms = [None] * 3
            for i in (2, 1, 0):
                args = ["--capacity=1M"] + labels[i]
                if i < 2:
                    args.append("--next=%s" % (tmp_path / ("r%d" % (i + 2)) / "tape"))
                ms[i] = stack.enter_context(Mount(srv.url + names[i], tmp_path / ("r%d" % (i + 1)),
                                                  args, env=srv.env()))
            r = run(["dd", "if=%s" % (tmp_path / "src.bin"),
                     "of=%s" % (ms[0].mountpoint / "files" / "span.bck"), "bs=64k"])
            assert r.returncode == 0, r.stderr
            assert files_listing(ms[2].mountpoint) == ["SPAN.BCK"]
            # A new file after the spill is named along the chain (reel 1
            # to 2 to 3) and lands on reel 3 as the set's file 2.
            (ms[0].mountpoint / "files" / "after.bck").write_bytes(b"A" * 4096)
            assert files_listing(ms[2].mountpoint) == ["AFTER.BCK", "SPAN.BCK"]
            for m in ms:
                assert m.unmount() == 0, m.stderr
        parts = _span_checks(srv, names, "simh", ["CHAIN1", "CHAI02", "OWN003"],
                             "SPAN.BCK", "CHAIN1", more=[("AFTER.BCK", 2, 4096)])
        for p in parts:
            assert p["block_len"] == 65536
            assert os.path.getsize(srv.root / names[0]) <= 1024 * 1024
        assert b"".join(b"".join(p["records"]) for p in parts) == src
        man = [json.loads((srv.root / (n + ".manifest.json")).read_text()) for n in names]
        assert [x["reel"] for x in man] == [1, 2, 3]
        assert len({x["storeset"] for x in man}) == 1
        # Each reel's manifest records the labels the drive wrote.
        for i, x in enumerate(man):
            lb = x["labels"]
            assert lb["volume"] == ["CHAIN1", "CHAI02", "OWN003"][i] and not lb["problem"]
            f = lb["files"][0]
            assert (f["name"], f["file_set"], f["section"], f["continued"]) == \
                ("SPAN.BCK", "CHAIN1", i + 1, i < 2), f


def test_tar_multivolume_with_handover_spreads_one_labelled_file(tmp_path):
    need_mount_env("tar")
    tree = make_tree(tmp_path / "data", nfiles=10, size=250_000)
    names = ["tm1.e11", "tm2.e11", "tm3.e11"]
    labels = [["--label=TARM01"], [], ["--label=TARM3X"]]
    with vsftpd(tmp_path) as srv:
        with contextlib.ExitStack() as stack:
            ms = [None] * 3
            for i in (2, 1, 0):
                args = ["--capacity=1M"] + labels[i]
                if i < 2:
                    args.append("--handover=%s" % (tmp_path / ("r%d" % (i + 2)) / "tape"))
                ms[i] = stack.enter_context(Mount(srv.url + names[i], tmp_path / ("r%d" % (i + 1)),
                                                  args, env=srv.env()))
            cmd = ["tar", "-M", "-b", "20"]
            for m in ms:
                cmd += ["-f", str(m.tape)]
            r = run(cmd + ["-c", "-C", str(tmp_path), "data"], stdin=subprocess.DEVNULL)
            assert r.returncode == 0, r.stderr
            for m in ms:
                assert m.unmount() == 0, m.stderr
        parts = _span_checks(srv, names, "e11", ["TARM01", "TARM02", "TARM3X"],
                             "FILE0001", "TARM01")
        vols = []
        for i, p in enumerate(parts):
            assert p["block_len"] == 10240
            v = tmp_path / ("vol%d.tar" % (i + 1))
            v.write_bytes(b"".join(p["records"]))
            vols.append(v)
        man = [json.loads((srv.root / (n + ".manifest.json")).read_text()) for n in names]
        assert [x["reel"] for x in man] == [1, 2, 3]
        assert man[0]["next"].endswith(names[1]) and man[1]["prev"].endswith(names[0])
    out = tmp_path / "restore"
    out.mkdir()
    cmd = ["tar", "-M", "-b", "20", "-x", "-C", str(out)]
    for v in vols:
        cmd += ["-f", str(v)]
    r = run(cmd, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    same_tree(tree, out)


def test_label_options_are_checked_before_mounting(tmp_path):
    need_mount_env()
    with vsftpd(tmp_path) as srv:
        for args, why in ((["--label=TOOLONG7"], "volume id"),
                          (["--label="], "volume id"),
                          (["--handover=%s" % (tmp_path / "nope" / "tape")], "handover"),
                          (["--label=RD0001", "--read"], "--label is for writing")):
            (tmp_path / "m").mkdir(exist_ok=True)
            r = run([os.path.join(os.environ.get("REELFS_BUILD", ""), "fs", "reelfs"), "-f"]
                    + args + [srv.url + "x.mtd", str(tmp_path / "m")], env=srv.env(),
                    timeout=60)
            assert r.returncode != 0 and why in r.stderr, r.stderr
            assert not (srv.root / "x.mtd").exists()


# ---- a magazine (--magazine) carries labels from slot to slot -------------

def test_magazine_auto_spreads_one_labelled_file_over_three_slots(tmp_path):
    need_mount_env("dd")
    src = os.urandom(2_600_000)
    (tmp_path / "src.bin").write_bytes(src)
    names = ["mag-%d.het" % i for i in (1, 2, 3)]
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "mag-%d.het", tmp_path / "m",
                   ["--magazine", "--label=MAG001", "--capacity=1M"],
                   env=srv.env()) as m:
            r = run(["dd", "if=%s" % (tmp_path / "src.bin"),
                     "of=%s" % (m.mountpoint / "files" / "big.bck"), "bs=32k"])
            assert r.returncode == 0, r.stderr
            (m.mountpoint / "files" / "after.bck").write_bytes(b"B" * 2048)
            # MOUNT/files lists the loaded reel's sections.
            assert files_listing(m.mountpoint) == ["AFTER.BCK", "BIG.BCK"]
            assert m.status()["label"] == "MAG003"
        parts = _span_checks(srv, names, "het", ["MAG001", "MAG002", "MAG003"],
                             "BIG.BCK", "MAG001", more=[("AFTER.BCK", 2, 2048)])
        assert b"".join(b"".join(p["records"]) for p in parts) == src


def test_magazine_manual_tar_multivolume_with_mt_offline(tmp_path):
    need_mount_env("tar", "mt")
    tree = make_tree(tmp_path / "data", nfiles=10, size=250_000)
    names = ["mt-%d.mtd" % i for i in (1, 2, 3)]
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "mt-%d.mtd", tmp_path / "m",
                   ["--magazine", "--changer=manual", "--label=MAGT01",
                    "--capacity=1M"], env=srv.env()) as m:
            r = run(["tar", "-M", "-b", "20", "-F", "mt -f %s offline" % m.tape,
                     "-cf", str(m.tape), "-C", str(tmp_path), "data"],
                    stdin=subprocess.DEVNULL)
            assert r.returncode == 0, r.stderr
        parts = _span_checks(srv, names, "mtd", ["MAGT01", "MAGT02", "MAGT03"],
                             "FILE0001", "MAGT01")
    vols = []
    for i, p in enumerate(parts):
        v = tmp_path / ("vol%d.tar" % (i + 1))
        v.write_bytes(b"".join(p["records"]))
        vols.append(v)
    out = tmp_path / "restore"
    out.mkdir()
    cmd = ["tar", "-M", "-b", "20", "-x", "-C", str(out)]
    for v in vols:
        cmd += ["-f", str(v)]
    r = run(cmd, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    same_tree(tree, out)


def test_read_back_after_rewind_and_no_writing_amid_labels(tmp_path):
    """mt rewind publishes the labelled reel and loads it for reading: the
    labels read as their own tape files (VOL1 first, 80 bytes), the data
    after `mt fsf 1`; an open for writing is refused, since a file amid
    the labels would break their sequence."""
    need_mount_env("dd", "mt")
    data = os.urandom(12 * 8192)
    (tmp_path / "s.bck").write_bytes(data)
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "rb.mtd", tmp_path / "m", ["--label=RB0001"],
                   env=srv.env(), allow_errors=[r"writing after reading is "
                                                r"not supported on a labelled"]) as m:
            r = run(["dd", "if=%s" % (tmp_path / "s.bck"),
                     "of=%s" % (m.mountpoint / "files" / "RB.BCK"), "bs=8192"])
            assert r.returncode == 0, r.stderr
            r = run(["mt", "-f", str(m.tape), "rewind"])
            assert r.returncode == 0, r.stderr
            with open(m.tape, "rb", buffering=0) as f:
                vol1 = f.read(65536)
            assert len(vol1) == 80 and vol1[:4] == b"VOL1" and vol1[4:10] == b"RB0001"
            r = run(["mt", "-f", str(m.tape), "rewind"])
            assert r.returncode == 0, r.stderr
            r = run(["mt", "-f", str(m.tape), "fsf", "1"])
            assert r.returncode == 0, r.stderr
            back = tmp_path / "back.bck"
            r = run(["dd", "if=%s" % m.tape, "of=%s" % back, "bs=65536"])
            assert r.returncode == 0, r.stderr
            assert back.read_bytes() == data
            with pytest.raises(PermissionError):
                os.open(m.tape, os.O_WRONLY)
        check_image(srv.root / "rb.mtd", "mtd", "RB0001")


@pytest.mark.parametrize("fmt", ["mtd", "het"])
def test_read_mount_refuses_an_unlabelled_file_after_the_labels(tmp_path, fmt):
    """A labelled tape loaded with `reelfs --read` (no --label): writing at
    the end of data, or after a labelled file's trailer labels, would put
    an unlabelled tape file after the labels' end of volume. Refused
    (EPERM), the sentence names what to use instead, the image is
    untouched and no upload was started. From the beginning of the tape
    a write replaces the whole tape, as on a real drive."""
    need_mount_env("dd", "mt")
    data = os.urandom(6 * 8192)
    (tmp_path / "s.bck").write_bytes(data)
    name = "lr." + fmt
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + name, tmp_path / "w", ["--label=LR0001"],
                   env=srv.env()) as m:
            for f in ("A.BCK", "B.BCK"):
                r = run(["dd", "if=%s" % (tmp_path / "s.bck"),
                         "of=%s" % (m.mountpoint / "files" / f), "bs=8192"])
                assert r.returncode == 0, r.stderr
        old = (srv.root / name).read_bytes()
        check_image(srv.root / name, fmt, "LR0001")
        with Mount(srv.url + name, tmp_path / "r", ["--read"],
                   env=srv.env()) as m:
            # eod; then after file 1's EOF labels (VOL1+HDR, data, EOF: 3 marks)
            for pos in (["eod"], ["fsf", "3"]):
                r = run(["mt", "-f", str(m.tape), "rewind"])
                assert r.returncode == 0, r.stderr
                r = run(["mt", "-f", str(m.tape)] + pos)
                assert r.returncode == 0, r.stderr
                r = run(["dd", "if=%s" % (tmp_path / "s.bck"), "of=%s" % m.tape,
                         "bs=8192"])
                assert r.returncode != 0
                assert "Operation not permitted" in r.stderr, r.stderr
                why = m.status()["last_error"]
                assert "labelled tape" in why and "LR0001" in why, why
                assert "reel send --append --label" in why, why
            assert (srv.root / name).read_bytes() == old
            assert not (srv.root / (name + ".part")).exists()
            # From the beginning: a new (unlabelled) tape replaces it.
            r = run(["mt", "-f", str(m.tape), "rewind"])
            assert r.returncode == 0, r.stderr
            r = run(["dd", "if=%s" % (tmp_path / "s.bck"), "of=%s" % m.tape,
                     "bs=8192"])
            assert r.returncode == 0, r.stderr
        assert "labelled tape" in m.stderr
        files, eod = tapeimg.parse((srv.root / name).read_bytes(), fmt)
        assert eod and len(files) == 1
        assert b"".join(files[0]) == data


def test_full_labelled_reel_ends_with_eov_and_takes_nothing_more(tmp_path):
    """Without a next volume: the first record that does not fit ends the
    reel with EOV; a smaller record afterwards still gets ENOSPC, mt weof
    and close succeed and write nothing."""
    need_mount_env()
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "full.e11", tmp_path / "m",
                   ["--label=FULL01", "--capacity=300K"], env=srv.env()) as m:
            fd = os.open(m.mountpoint / "files" / "X.BCK", os.O_WRONLY | os.O_CREAT)
            n = 0
            try:
                while True:
                    try:
                        os.write(fd, bytes([n % 251]) * 16384)
                    except OSError as e:
                        assert e.errno == 28, e   # ENOSPC
                        break
                    n += 1
                    assert n < 100, "the capacity was never reached"
                with pytest.raises(OSError) as ei:
                    os.write(fd, b"s" * 100)
                assert ei.value.errno == 28
                fcntl.ioctl(fd, MTIOCTOP, struct.pack("ii", MTWEOF, 2))
            finally:
                os.close(fd)
            assert m.status()["labelled_files"] == "1"
        secs = check_image(srv.root / "full.e11", "e11", "FULL01")
        assert os.path.getsize(srv.root / "full.e11") <= 300 * 1024
    assert [(s["name"], s["kind"], len(s["records"])) for s in secs] == [("X.BCK", "EOV", n)]


def test_handover_links_an_unlabelled_tar_multivolume_storeset(tmp_path):
    """--handover without --label: tar -M's volumes become one storeset
    (id, reel numbers, prev and next in the manifests)."""
    need_mount_env("tar")
    make_tree(tmp_path / "data", nfiles=6, size=250_000)
    names = ["u1.mtd", "u2.mtd", "u3.mtd"]
    with vsftpd(tmp_path) as srv:
        with contextlib.ExitStack() as stack:
            ms = [None] * 3
            for i in (2, 1, 0):
                args = ["--capacity=600K"]
                if i < 2:
                    args.append("--handover=%s" % (tmp_path / ("r%d" % (i + 2)) / "tape"))
                ms[i] = stack.enter_context(Mount(srv.url + names[i], tmp_path / ("r%d" % (i + 1)),
                                                  args, env=srv.env()))
            cmd = ["tar", "-M", "-b", "20"]
            for m in ms:
                cmd += ["-f", str(m.tape)]
            r = run(cmd + ["-c", "-C", str(tmp_path), "data"], stdin=subprocess.DEVNULL)
            assert r.returncode == 0, r.stderr
            assert "label" not in ms[0].status()
            for m in ms:
                assert m.unmount() == 0, m.stderr
        man = [json.loads((srv.root / (n + ".manifest.json")).read_text()) for n in names]
    assert [x["reel"] for x in man] == [1, 2, 3]
    assert len({x["storeset"] for x in man}) == 1
    assert man[0]["next"].endswith(names[1]) and man[1]["next"].endswith(names[2])
    assert man[1]["prev"].endswith(names[0]) and man[2]["prev"].endswith(names[1])
    assert all(x.get("labels") is None for x in man)
