"""Issue 10 point 4 and issue 11 point 6 (listing side): `reel ls -l`,
`reel ls --deep` and `reel map` recognise ANSI labelled tapes and show the
volume id and, per labelled file, its name, section, sequence, block
length, block count, creation date and a VMS BACKUP saveset inside; --json
carries it all; unlabelled tapes show as before; a malformed label
sequence is a note, not a crash; `reel map` and `reel cat` say which
storeset and reel they read; `ls -l` takes the labels from the manifest
when its writer recorded them (no byte of the image read). The tapes are
written by the test's own labeller (ansitape.py, from ECMA-13, no manifest
or a hand-made one) and by `reel send --label/--vms-saveset/--next`,
locally and on vsftpd on 127.0.0.1."""
import json
import os
import re
import shutil

import pytest

import ansitape as at
from need import need_root, need_tool
from reeltool import ok, reel, reel_path
from servers import Vsftpd


def blocks(n, size, seed):
    return [bytes((seed + i * 31 + j) & 0xFF for j in range(size)) for i in range(n)]


def tape_a():
    """Three files; the second has a name over 17 characters, the third is a
    saveset. About 90 KiB: more than `ls -l` reads of an image's head."""
    return at.volume("VOLA01", [
        at.File("DATA.TAR", blocks(5, 10240, 1), created=(2026, 334)),
        at.File("A_VERY_LONG_FILE_NAME_OVER_17.DAT", blocks(3, 2048, 2),
                created=(1999, 32)),
        at.File("SYS.BCK", [at.saveset_block("SYS.BCK", 8192, i + 1)
                            for i in range(4)]),
    ], owner="D.COOPER")


def tape_small():
    """Small enough to be read whole by `ls -l`: every file is known."""
    return at.volume("SMALL", [
        at.File("X.BCK", [at.saveset_block("XSAVE.BCK", 4096, i + 1)
                          for i in range(2)]),
        at.File("README.TXT", blocks(1, 800, 3), created=(2025, 1)),
    ])


def tape_b():
    """One file over two reels: EOV ends reel 1, reel 2 has section 2."""
    r1 = at.volume("VOLB01", [at.File("BIG.BCK", [at.saveset_block("BIG.BCK", 2048, i + 1)
                                                  for i in range(3)], eov=True)])
    r2 = at.volume("VOLB02", [at.File("BIG.BCK", [at.saveset_block("BIG.BCK", 2048, i + 4)
                                                  for i in range(2)],
                                      set_id="VOLB01", section=2, sequence=1)])
    return r1, r2


def malformed():
    """VOL1, then a data record where HDR1 belongs."""
    return [at.vol1("BAD001"), b"\x42" * 100, None, None]


def write_dir(d):
    """The directory of tapes the listings are checked on. Returns the
    unlabelled image's name."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "a.tap").write_bytes(at.simh(tape_a()))
    (d / "small.aws").write_bytes(at.aws(tape_small()))
    r1, r2 = tape_b()
    for name, ev, reelno, prev, nxt in (("b1.tap", r1, 1, None, "b2.tap"),
                                       ("b2.tap", r2, 2, "b1.tap", None)):
        img = at.simh(ev)
        (d / name).write_bytes(img)
        m = at.manifest(ev, img, "simh", "SETB", reelno, prev, nxt)
        (d / (name + ".manifest.json")).write_text(json.dumps(m))
    (d / "bad.tap").write_bytes(at.simh(malformed()))
    ok(reel("send", "--quiet", "--format", "simh", d / "u.tap",
            stdin=os.urandom(30000)))
    return "u.tap"


def by_name(j):
    return {t["name"]: t for t in j["tapes"]}


def check_a_head(l):
    """a.tap as `ls -l` sees it from the image's head: the first file."""
    assert l["volume"] == "VOLA01" and l["owner"] == "D.COOPER"
    assert l["complete"] is False
    f = l["files"][0]
    assert (f["name"], f["section"], f["sequence"]) == ("DATA.TAR", 1, 1)
    assert (f["record_format"], f["block_length"]) == ("F", 10240)
    assert f["block_count"] is None and f["created"] == "2026-11-30"
    assert f["file_set"] == "VOLA01" and f["system"] == "DECFILE11A"
    assert f["saveset"] is None


def check_a_full(l):
    assert l["volume"] == "VOLA01" and l["complete"] is True
    assert l["file_sections"] == 3 and l["problem"] is None
    got = [(f["name"], f["section"], f["sequence"], f["block_length"],
            f["block_count"], f["created"], f["continued"]) for f in l["files"]]
    assert got == [
        ("DATA.TAR", 1, 1, 10240, 5, "2026-11-30", False),
        ("A_VERY_LONG_FILE_NAME_OVER_17.DAT", 1, 2, 2048, 3, "1999-02-01", False),
        ("SYS.BCK", 1, 3, 8192, 4, "2026-11-30", False),
    ]
    assert [f["saveset"] for f in l["files"]] == [
        None, None, {"name": "SYS.BCK", "block_size": 8192}]


def check_small(l):
    assert l["volume"] == "SMALL" and l["complete"] is True
    assert [(f["name"], f["sequence"], f["block_length"], f["block_count"])
            for f in l["files"]] == [("X.BCK", 1, 4096, 2), ("README.TXT", 2, 800, 1)]
    assert l["files"][0]["saveset"] == {"name": "XSAVE.BCK", "block_size": 4096}
    assert l["files"][1]["created"] == "2025-01-01"


def check_b(t1, t2, l1, l2):
    assert (t1["storeset"], t1["reel"], t2["storeset"], t2["reel"]) == \
        ("SETB", 1, "SETB", 2)
    assert t1["next"].endswith("b2.tap") and t2["prev"].endswith("b1.tap")
    f1, f2 = l1["files"][0], l2["files"][0]
    assert l1["volume"] == "VOLB01" and l2["volume"] == "VOLB02"
    assert (f1["name"], f1["section"], f1["continued"]) == ("BIG.BCK", 1, True)
    assert (f2["name"], f2["section"], f2["continued"]) == ("BIG.BCK", 2, False)
    assert f2["file_set"] == "VOLB01"
    assert f1["saveset"] == {"name": "BIG.BCK", "block_size": 2048}


def check_bad(l):
    assert l["volume"] == "BAD001"
    assert "HDR1" in l["problem"], l


def check_listing(j, deep):
    t = by_name(j)
    if deep:
        check_a_full(t["a.tap"]["labels"])
    else:
        check_a_head(t["a.tap"]["labels"])
    check_small(t["small.aws"]["labels"])
    b1, b2 = t["b1.tap"], t["b2.tap"]
    check_b(b1, b2, b1["labels"], b2["labels"])
    if deep:
        assert b1["labels"]["files"][0]["block_count"] == 3
        assert b2["labels"]["files"][0]["block_count"] == 2
    check_bad(t["bad.tap"]["labels"])
    assert t["u.tap"]["labels"] is None


def test_ls_long_local(tmp_path):
    reel_path()
    write_dir(tmp_path / "d")
    check_listing(json.loads(ok(reel("ls", "-l", "--json", tmp_path / "d")).stdout),
                  deep=False)
    check_listing(json.loads(ok(reel("ls", "--deep", "--json", tmp_path / "d")).stdout),
                  deep=True)
    # Without -l nothing is read of the images, and no labels key.
    j = json.loads(ok(reel("ls", "--json", tmp_path / "d")).stdout)
    assert all("labels" not in t for t in j["tapes"])


def rows_of(text):
    """Text listing: the row of each tape and the indented lines under it."""
    out, cur = {}, None
    for line in text.splitlines():
        if line.startswith("    ") and cur:
            out[cur].append(line.strip())
        elif line and not line.startswith(" ") and not line.startswith("NAME"):
            cur = line.split()[0]
            out[cur] = [line]
    return out


def test_ls_long_text(tmp_path):
    reel_path()
    d = tmp_path / "d"
    write_dir(d)
    r = rows_of(ok(reel("ls", "-l", d)).stdout.decode())
    a = "\n".join(r["a.tap"])
    assert "volume VOLA01 (ANSI labels, owner D.COOPER), 1 labelled file section known" in a
    assert re.search(r"\b1\s+1\s+DATA\.TAR\s+F\s+10240\s+\?\s+2026-11-30", a), a
    assert "only the head of the image was read" in a
    s = "\n".join(r["small.aws"])
    assert re.search(r"\b1\s+1\s+X\.BCK\s+F\s+4096\s+2\s+2026-11-30\s+"
                     r"VMS BACKUP saveset XSAVE\.BCK, block size 4096", s), s
    assert re.search(r"\b2\s+1\s+README\.TXT\s+F\s+800\s+1\s+2025-01-01", s), s
    assert "continues on the next reel (EOV)" in "\n".join(r["b1.tap"])
    assert "continued from the previous reel" in "\n".join(r["b2.tap"])
    assert re.search(r"SETB\s+1\b", r["b1.tap"][0]) and re.search(r"SETB\s+2\b", r["b2.tap"][0])
    bad = "\n".join(r["bad.tap"])
    assert "note:" in bad and "HDR1" in bad
    # The unlabelled tape: its row and nothing under it, as without -l
    # labels (the same row `ls -l` printed before labels existed).
    assert r["u.tap"][1:] == []
    # --deep names every file of a.tap, with its block count.
    r = rows_of(ok(reel("ls", "--deep", d)).stdout.decode())
    a = "\n".join(r["a.tap"])
    assert "3 labelled file sections:" in a
    assert re.search(r"\b2\s+1\s+A_VERY_LONG_FILE_NAME_OVER_17\.DAT\s+F\s+2048\s+3\s+"
                     r"1999-02-01", a), a
    assert re.search(r"\b3\s+1\s+SYS\.BCK\s+F\s+8192\s+4\s+2026-11-30\s+VMS BACKUP "
                     r"saveset SYS\.BCK, block size 8192", a), a


def test_map_labelled(tmp_path):
    reel_path()
    d = tmp_path / "d"
    write_dir(d)
    j = json.loads(ok(reel("map", "--json", d / "a.tap")).stdout)
    check_a_full(j["labels"])
    f = j["files"]
    assert f[0]["labels"] == ["VOL1", "HDR1", "HDR2", "HDR3"]
    assert f[1]["data_of"] == {"file": 1, "name": "DATA.TAR"} and f[1]["records"] == 5
    assert f[2]["labels"] == ["EOF1", "EOF2", "EOF3"]
    assert f[3]["labels"] == ["HDR1", "HDR2", "HDR3", "HDR4"]
    assert f[4]["data_of"]["name"] == "A_VERY_LONG_FILE_NAME_OVER_17.DAT"
    assert f[5]["labels"] == ["EOF1", "EOF2", "EOF3", "EOF4"]
    assert f[7]["data_of"] == {"file": 3, "name": "SYS.BCK"}
    assert len(f) == 9 and j["end_of_data"] is True
    assert j["storeset"] is None
    text = ok(reel("map", d / "a.tap")).stdout.decode()
    assert "file 1: 4 records, 320 bytes, at offset 0; sizes: 80 x 4; labels VOL1 HDR1 " \
           "HDR2 HDR3\n" in text
    assert "; data of labelled file 3, SYS.BCK\n" in text
    assert "labels:\n  volume VOLA01 (ANSI labels, owner D.COOPER), 3 labelled file " \
           "sections:\n" in text
    # A reel of a storeset: the set, the reel and the links, and the EOV.
    j = json.loads(ok(reel("map", "--json", d / "b1.tap")).stdout)
    assert j["storeset"]["id"] == "SETB" and j["storeset"]["reel"] == 1
    assert j["storeset"]["next"].endswith("b2.tap") and j["storeset"]["prev"] is None
    assert j["labels"]["files"][0]["continued"] is True
    assert j["files"][2]["labels"] == ["EOV1", "EOV2", "EOV3"]
    text = ok(reel("map", d / "b2.tap")).stdout.decode()
    assert re.search(r"^storeset: SETB, reel 2; previous reel \S*b1\.tap$", text, re.M), text


def test_map_unlabelled_unchanged(tmp_path):
    """An unlabelled image without a manifest maps exactly as before."""
    reel_path()
    img = tmp_path / "u.tap"
    img.write_bytes(at.simh([b"\x01" * 1000, b"\x02" * 1000, b"\x03" * 10, None, None]))
    text = ok(reel("map", img)).stdout.decode()
    assert text == (
        "image: %s\n"
        "file 1: 3 records, 2010 bytes, at offset 0; sizes: 1000 x 2, 10 x 1\n"
        "format: simh\n"
        "total: 1 file, 3 records, 2010 payload bytes, 2042 image bytes\n"
        "tape marks: 2\n"
        "end of data: yes, two tape marks at offset 2034\n"
        "end of medium: no\n" % img), text
    j = json.loads(ok(reel("map", "--json", img)).stdout)
    assert j["labels"] is None and j["storeset"] is None
    assert "labels" not in j["files"][0] and "data_of" not in j["files"][0]


def test_malformed_labels_are_a_note(tmp_path):
    """Odd label sequences: a note naming the problem, exit 0, no crash."""
    reel_path()
    cases = {
        "hdr-expected.tap": malformed(),
        # HDR1 whose section is not digits.
        "digits.tap": [at.vol1("V1"), at.hdr1("HDR", at.File("X", [], set_id="V1",
                                                           sequence=1), 0)
                       .replace(b"0001", b"00A1", 1), None, b"x" * 10, None, None],
        # No trailer labels after the data.
        "no-eof.tap": at.volume("V2", [at.File("Y", blocks(2, 512, 0))])[:7] + [None, None],
        # EOF1 counts another number of blocks.
        "count.tap": [e.replace(b"000002DECFILE11A", b"000009DECFILE11A")
                      if e and e.startswith(b"EOF1") else e
                      for e in at.volume("V3", [at.File("Z", blocks(2, 512, 0))])],
        # Only a VOL1.
        "vol1-only.tap": [at.vol1("V4")],
    }
    d = tmp_path / "d"
    d.mkdir()
    for name, ev in cases.items():
        (d / name).write_bytes(at.simh(ev))
        r = reel("map", d / name)
        assert r.returncode == 0, r.stderr
        assert "Sanitizer" not in r.stderr
        j = json.loads(ok(reel("map", "--json", d / name)).stdout)
        assert j["labels"]["volume"], (name, j["labels"])
        if name != "vol1-only.tap":
            assert j["labels"]["problem"], (name, j["labels"])
            assert "note: " in r.stdout.decode(), (name, r.stdout)
    j = json.loads(ok(reel("ls", "-l", "--json", d)).stdout)
    assert len(j["tapes"]) == len(cases)
    for t in j["tapes"]:
        if t["name"] != "vol1-only.tap":
            assert t["labels"]["problem"], t
    ok(reel("ls", "--deep", d))


def test_storeset_shown_by_map_cat_ls(tmp_path):
    """A storeset written by `reel send --next`: ls shows the set and reel
    of each, map says it, cat says which reel of which set it reads."""
    reel_path()
    d = tmp_path / "s"
    d.mkdir()
    data = os.urandom(300000)
    ok(reel("send", "--quiet", "--block-size", "10240", "--capacity", "120000",
            "--next", d / "r2.tap", "--next", d / "r3.tap", d / "r1.tap", stdin=data))
    j = by_name(json.loads(ok(reel("ls", "-l", "--json", d)).stdout))
    sets = {j[n]["storeset"] for n in ("r1.tap", "r2.tap", "r3.tap")}
    assert len(sets) == 1 and None not in sets
    assert [j[n]["reel"] for n in ("r1.tap", "r2.tap", "r3.tap")] == [1, 2, 3]
    assert all(j[n]["labels"] is None for n in ("r1.tap", "r2.tap", "r3.tap"))
    sid = sets.pop()
    text = ok(reel("map", d / "r2.tap")).stdout.decode()
    assert re.search(r"^storeset: %s, reel 2; previous reel \S*r1\.tap; next reel "
                     r"\S*r3\.tap$" % re.escape(sid), text, re.M), text
    r = ok(reel("cat", d / "r2.tap"))
    assert r.stdout == data
    for n in (1, 2, 3):
        assert "reel %d of storeset %s" % (n, sid) in r.stderr, r.stderr
    # A tape of its own says nothing on stderr.
    ok(reel("send", "--quiet", d / "one.tap", stdin=b"x" * 1000))
    r = ok(reel("cat", d / "one.tap"))
    assert r.stderr == ""


class LoggingVsftpd(Vsftpd):
    def _config(self, pasv):
        conf = super()._config(pasv)
        conf.write_text(conf.read_text() + "log_ftp_protocol=YES\n")
        return conf

    def commands(self):
        return re.findall(r'FTP command: Client "[^"]*", "([A-Z]+)',
                          self.log.read_text(errors="replace"))


def test_ls_long_on_vsftpd(tmp_path):
    """The same listing over FTP, and what it costs: one login for the
    listing and the small images, one more per head read cut short."""
    need_root()
    need_tool("vsftpd")
    reel_path()
    with LoggingVsftpd(tmp_path / "v") as srv:
        d = srv.root / "labelled"
        write_dir(d)
        for p in [d, *d.iterdir()]:
            shutil.chown(p, srv.user, srv.user)
        url = srv.url + "labelled/"
        srv.log.write_text("")
        j = json.loads(ok(reel("ls", "-l", "--json", url, env=srv.env())).stdout)
        check_listing(j, deep=False)
        cmds = srv.commands()
        # Cut short: a.tap's head only (b1, b2, bad, small and u are read
        # whole: they are small).
        assert cmds.count("USER") <= 2, cmds
        local = json.loads(ok(reel("ls", "-l", "--json", d)).stdout)
        assert [t["labels"] for t in j["tapes"]] == [t["labels"] for t in local["tapes"]]
        j = json.loads(ok(reel("ls", "--deep", "--json", url, env=srv.env())).stdout)
        check_listing(j, deep=True)
        text = ok(reel("map", url + "b1.tap", env=srv.env())).stdout.decode()
        assert "storeset: SETB, reel 1; next reel " in text
        assert "continues on the next reel (EOV)" in text
        r = ok(reel("cat", url + "b1.tap", env=srv.env()))
        assert "reel 1 of storeset SETB" in r.stderr, r.stderr


def test_ls_long_head_reads_on_vsftpd(tmp_path):
    """Labelled tapes without a manifest, bigger than the head read: `ls -l`
    over vsftpd names each one's first file (one login per head cut
    short); plain `ls` reads no image at all."""
    need_root()
    need_tool("vsftpd")
    reel_path()
    import time
    n = 20
    with LoggingVsftpd(tmp_path / "v") as srv:
        d = srv.root / "many"
        d.mkdir()
        img = at.simh(tape_a())
        for i in range(n):
            (d / ("t%03d.tap" % i)).write_bytes(img)
        for p in [d, *d.iterdir()]:
            shutil.chown(p, srv.user, srv.user)
        url = srv.url + "many/"
        srv.log.write_text("")
        t0 = time.monotonic()
        j = json.loads(ok(reel("ls", "--json", url, env=srv.env())).stdout)
        plain = time.monotonic() - t0
        assert srv.commands().count("RETR") == 0
        assert all("labels" not in t for t in j["tapes"])
        t0 = time.monotonic()
        j = json.loads(ok(reel("ls", "-l", "--json", url, env=srv.env())).stdout)
        longt = time.monotonic() - t0
        assert len(j["tapes"]) == n
        for t in j["tapes"]:
            check_a_head(t["labels"])
        assert srv.commands().count("RETR") == n
        print("reel ls of %d labelled tapes: %.2f s; ls -l: %.2f s" % (n, plain, longt))


def send_labelled(path, env=None):
    """A two-file labelled tape written by `reel send`: a saveset, then a
    file with a long name appended. Returns the saveset's bytes."""
    bck = path.parent / ("%s.BCK" % path.stem)
    bck.write_bytes(b"".join(at.saveset_block("SYS.BCK", 8192, i + 1) for i in range(20)))
    ok(reel("send", "--quiet", "--vms-saveset", bck, path, env=env))
    bck.unlink()
    ok(reel("send", "--quiet", "--label", "DATA_FILE_WITH_A_LONG_NAME.TAR", "--append",
            "--block-size", "10240", path, stdin=os.urandom(100000), env=env))


def fields(l):
    """What the manifest, the head and the whole image all say of a file."""
    return [(f["name"], f["section"], f["sequence"], f["record_format"],
             f["block_length"], f["block_count"], f["created"], f["continued"],
             f["saveset"]) for f in l["files"]]


def test_ls_long_takes_labels_from_the_manifest(tmp_path):
    """A tape reelfs wrote records its labels in its manifest: `ls -l` shows
    every file from there and reads no byte of the image (vsftpd's log);
    --deep reads the image and agrees field by field."""
    need_root()
    need_tool("vsftpd")
    reel_path()
    with LoggingVsftpd(tmp_path / "v") as srv:
        d = srv.root / "sent"
        d.mkdir()
        send_labelled(d / "vol1.mtd")
        ok(reel("send", "--quiet", d / "plain.mtd", stdin=os.urandom(200000)))
        m = json.loads((d / "vol1.mtd.manifest.json").read_text())
        assert m["labels"]["volume"] == "VOL1" and len(m["labels"]["files"]) == 2
        assert json.loads((d / "plain.mtd.manifest.json").read_text())["labels"] is None
        for p in [d, *d.iterdir()]:
            shutil.chown(p, srv.user, srv.user)
        url = srv.url + "sent/"
        srv.log.write_text("")
        j = by_name(json.loads(ok(reel("ls", "-l", "--json", url, env=srv.env())).stdout))
        retr = re.findall(r'"RETR ([^"]*)"', srv.log.read_text())
        assert sorted(retr) == ["plain.mtd.manifest.json", "vol1.mtd.manifest.json"], retr
        l = j["vol1.mtd"]["labels"]
        assert l["read_from"] == "manifest" and l["complete"] is True
        assert fields(l) == [
            ("SYS.BCK", 1, 1, "F", 8192, 20, l["files"][0]["created"], False,
             {"name": "SYS.BCK", "block_size": 8192}),
            ("DATA_FILE_WITH_A_LONG_NAME.TAR", 1, 2, "F", 10240, 10,
             l["files"][1]["created"], False, None)]
        assert re.match(r"20\d\d-\d\d-\d\d$", l["files"][0]["created"])
        assert j["plain.mtd"]["labels"] is None
        deep = by_name(json.loads(ok(reel("ls", "--deep", "--json", url,
                                          env=srv.env())).stdout))
        assert deep["vol1.mtd"]["labels"]["read_from"] == "image"
        assert fields(deep["vol1.mtd"]["labels"]) == fields(l)
        text = ok(reel("ls", "-l", url, env=srv.env())).stdout.decode()
        assert re.search(r"\b2\s+1\s+DATA_FILE_WITH_A_LONG_NAME\.TAR\s+F\s+10240\s+10\s+"
                         r"20\d\d-\d\d-\d\d$", text, re.M), text
        assert re.search(r"\b1\s+1\s+SYS\.BCK\s+F\s+8192\s+20\s+20\d\d-\d\d-\d\d\s+"
                         r"VMS BACKUP saveset SYS\.BCK, block size 8192$", text, re.M), text


def test_ls_long_200_labelled_tapes_on_vsftpd(tmp_path):
    """200 labelled tapes with manifests: `ls -l` costs what `ls` costs
    (one login, one manifest read per tape); the figures are printed."""
    need_root()
    need_tool("vsftpd")
    reel_path()
    import time
    n = 200
    with LoggingVsftpd(tmp_path / "v") as srv:
        d = srv.root / "many"
        d.mkdir()
        send_labelled(tmp_path / "one.mtd")
        img = (tmp_path / "one.mtd").read_bytes()
        man = (tmp_path / "one.mtd.manifest.json").read_bytes()
        for i in range(n):
            (d / ("t%03d.mtd" % i)).write_bytes(img)
            (d / ("t%03d.mtd.manifest.json" % i)).write_bytes(man)
        for p in [d, *d.iterdir()]:
            shutil.chown(p, srv.user, srv.user)
        url = srv.url + "many/"
        t0 = time.monotonic()
        ok(reel("ls", url, env=srv.env()))
        plain = time.monotonic() - t0
        srv.log.write_text("")
        t0 = time.monotonic()
        j = json.loads(ok(reel("ls", "-l", "--json", url, env=srv.env())).stdout)
        longt = time.monotonic() - t0
        cmds = srv.commands()
        assert cmds.count("USER") == 1 and cmds.count("RETR") == n, cmds
        assert len(j["tapes"]) == n
        assert all(len(t["labels"]["files"]) == 2 for t in j["tapes"])
        print("\nreel ls of %d labelled tapes: %.2f s; ls -l: %.2f s" % (n, plain, longt))
        assert longt < max(3.0, 3 * plain)


def test_labelled_storeset_sent_over_ftp(tmp_path):
    """`reel send --label --capacity --next` to vsftpd writes one labelled
    file over three reels (EOV): `ls -l` shows each reel's set and number
    and the file's sections from the manifests alone; `--deep` agrees;
    map names the set and reel; cat says which reel of which set it reads."""
    need_root()
    need_tool("vsftpd")
    reel_path()
    with LoggingVsftpd(tmp_path / "v") as srv:
        d = srv.root / "set"
        d.mkdir()
        shutil.chown(d, srv.user, srv.user)
        url = srv.url + "set/"
        ok(reel("send", "--quiet", "--label", "BIGFILE.DAT", "--block-size", "8192",
                "--capacity", "120000", "--next", url + "s2.tap", "--next", url + "s3.tap",
                url + "s1.tap", stdin=os.urandom(300000), env=srv.env()))
        srv.log.write_text("")
        j = by_name(json.loads(ok(reel("ls", "-l", "--json", url, env=srv.env())).stdout))
        retr = re.findall(r'"RETR ([^"]*)"', srv.log.read_text())
        assert all(r.endswith(".manifest.json") for r in retr) and len(retr) == 3, retr
        names = ["s1.tap", "s2.tap", "s3.tap"]
        assert len({j[n]["storeset"] for n in names}) == 1
        assert [j[n]["reel"] for n in names] == [1, 2, 3]
        assert j["s2.tap"]["prev"].endswith("s1.tap") and j["s2.tap"]["next"].endswith("s3.tap")
        secs = [j[n]["labels"]["files"][0] for n in names]
        assert [(f["name"], f["section"], f["sequence"], f["continued"]) for f in secs] == [
            ("BIGFILE.DAT", 1, 1, True), ("BIGFILE.DAT", 2, 1, True),
            ("BIGFILE.DAT", 3, 1, False)]
        first = j["s1.tap"]["labels"]["volume"]
        assert {f["file_set"] for f in secs} == {first}
        assert sum(f["block_count"] for f in secs) == -(-300000 // 8192)
        deep = by_name(json.loads(ok(reel("ls", "--deep", "--json", url,
                                          env=srv.env())).stdout))
        for n in names:
            assert fields(deep[n]["labels"]) == fields(j[n]["labels"]), n
        sid = j["s1.tap"]["storeset"]
        text = ok(reel("map", url + "s2.tap", env=srv.env())).stdout.decode()
        assert re.search(r"^storeset: %s, reel 2; previous reel \S*s1\.tap; next reel "
                         r"\S*s3\.tap$" % re.escape(sid), text, re.M), text
        assert "continued from the previous reel; continues on the next reel (EOV)" in text
        r = ok(reel("cat", url + "s2.tap", env=srv.env()))
        assert "reel 1 of storeset %s" % sid in r.stderr, r.stderr
        assert srv.password not in r.stderr


def test_write_after_read_keeps_labels_honest(tmp_path):
    """Writing after reading a labelled tape (a read mount, mt eod, a new
    tape file) would put an unlabelled file after the labels' end of
    volume: the drive refuses it, and the tape and the labels its manifest
    records stay as they were, read by ls -l and --deep alike."""
    import errno
    import subprocess
    from need import need_binary, need_fuse
    from mount import Mount, reelfs_binary
    need_root()
    need_fuse()
    need_tool("vsftpd")
    need_tool("mt")
    need_binary(reelfs_binary())
    reel_path()
    with Vsftpd(tmp_path / "v") as srv:
        url = srv.url + "war.mtd"
        ok(reel("send", "--quiet", "--label", "FIRST.DAT", "--block-size", "4096", url,
                stdin=os.urandom(20000), env=srv.env()))
        man = srv.root / "war.mtd.manifest.json"
        assert json.loads(man.read_text())["labels"]["files"][0]["name"] == "FIRST.DAT"
        before = man.read_bytes()
        image = (srv.root / "war.mtd").read_bytes()
        with Mount(url, tmp_path / "mnt", ["--read"], env=srv.env()) as m:
            r = subprocess.run(["mt", "-f", str(m.tape), "eod"], capture_output=True)
            assert r.returncode == 0, r.stderr
            with pytest.raises(OSError) as e:
                with open(m.tape, "wb", buffering=0) as f:
                    f.write(b"\x5a" * 4096)
            assert e.value.errno == errno.EPERM
        assert "this is a labelled tape" in m.stderr, m.stderr
        assert man.read_bytes() == before
        assert (srv.root / "war.mtd").read_bytes() == image
        assert not (srv.root / "war.mtd.part").exists()
        j = by_name(json.loads(ok(reel("ls", "-l", "--json", srv.url, env=srv.env())).stdout))
        l = j["war.mtd"]["labels"]
        assert l["read_from"] == "manifest" and l["volume"] == "WAR"
        assert [(f["name"], f["block_count"]) for f in l["files"]] == [("FIRST.DAT", 5)]
        assert not l.get("problem"), l
        deep = by_name(json.loads(ok(reel("ls", "--deep", "--json", srv.url,
                                          env=srv.env())).stdout))
        assert fields(deep["war.mtd"]["labels"]) == fields(l)
