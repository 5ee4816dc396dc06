"""`reel cat` of ANSI labelled tapes (docs/labels.md, "Reading a labelled
tape back"): the data of one labelled file without its labels, the
sections of a file continued over reels (EOV) joined along the storeset,
each next section checked (name, file set id, sequence, section + 1).
The tapes are made by the real writers: `reel send --label --capacity
--next` and the drive `reelfs --label --next`; tar restores from the
output. Missing and misordered reels fail with a sentence; `--raw` gives
the labels as before; an unlabelled tape reads as it always did."""
import contextlib
import io
import os
import random
import shutil
import struct
import subprocess
import tarfile

import pytest

import tapeimg
from need import need_binary, need_fuse, need_root, need_tool
from reeltool import fails, ok, reel, reel_path
from servers import Vsftpd

KB = 1024


def tar_of(files):
    """A tar archive (bytes) of {name: bytes}, 10240-byte blocked."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for n, d in files.items():
            ti = tarfile.TarInfo(n)
            ti.size = len(d)
            t.addfile(ti, io.BytesIO(d))
    return buf.getvalue()


def sample_files(seed=7, n=6, size=90_000):
    rnd = random.Random(seed)
    return {"data/f%02d.bin" % i: rnd.randbytes(size + 311 * i) for i in range(n)}


def restore(stream_cmd, dest, env=None):
    """`reel cat ... | tar -xf - -C dest`: both exit 0."""
    need_tool("tar")
    dest.mkdir(parents=True, exist_ok=True)
    cat = subprocess.Popen([str(reel_path()), *map(str, stream_cmd)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    tar = subprocess.run(["tar", "-xf", "-", "-C", str(dest)], stdin=cat.stdout,
                         capture_output=True, text=True)
    cat.stdout.close()
    err = cat.stderr.read().decode(errors="replace")
    assert cat.wait() == 0, err
    assert tar.returncode == 0, tar.stderr
    return err


def same_files(files, dest):
    for n, d in files.items():
        assert (dest / n).read_bytes() == d, n


def send_set(d, data, names, *opts, env=None):
    """reel send --label over the reels names (in d, a dir or URL prefix)."""
    nexts = []
    for n in names[1:]:
        nexts += ["--next", "%s%s" % (d, n)]
    ok(reel("send", "--quiet", *opts, *nexts, "%s%s" % (d, names[0]),
            stdin=data, env=env))


def sections(path, fmt):
    """[(first label ids of the file's groups, data records)] per reel."""
    files, eod = tapeimg.parse(path.read_bytes(), fmt)
    assert eod
    return files


SET3 = ["r1.tap", "r2.tap", "r3.tap"]


@pytest.fixture
def labelled_set(tmp_path):
    """A labelled tar over three reels by `reel send --label --next`."""
    reel_path()
    files = sample_files()
    arc = tar_of(files)
    d = tmp_path / "set"
    d.mkdir()
    send_set("%s/" % d, arc, SET3, "--label", "DATA.TAR,VOL001", "--block-size",
             10240, "--capacity", 220000)
    for n in SET3:
        assert (d / n).exists(), "the set did not need three reels"
    return d, files, arc


def test_labelled_tar_over_three_reels_restores(labelled_set, tmp_path):
    d, files, arc = labelled_set
    # Every reel holds one section of DATA.TAR: EOV on reels 1 and 2.
    for i, n in enumerate(SET3):
        recs = [r for f in sections(d / n, "simh") for r in f]
        assert recs[0][:4] == b"VOL1"
        kinds = [r[:4] for r in recs if len(r) == 80 and r[:3] in (b"EOF", b"EOV")]
        assert kinds[0] == (b"EOV1" if i < 2 else b"EOF1"), kinds
    err = restore(["cat", d / "r1.tap"], tmp_path / "out1")
    same_files(files, tmp_path / "out1")
    for n in (1, 2, 3):
        assert "reel %d of storeset" % n in err, err
    # Named by a later reel: cat walks back to the first.
    assert ok(reel("cat", d / "r3.tap")).stdout == arc
    assert ok(reel("cat", "--set", *[d / n for n in SET3])).stdout == arc
    # --records: the data records only, each behind its length.
    out = ok(reel("cat", "--records", d / "r2.tap")).stdout
    got, i = [], 0
    while i < len(out):
        (n,) = struct.unpack_from("<I", out, i)
        got.append(out[i + 4:i + 4 + n])
        i += 4 + n
    assert b"".join(got) == arc and all(len(r) == 10240 for r in got)


def test_missing_and_misordered_reels_fail_with_a_sentence(labelled_set):
    d, files, arc = labelled_set
    r = [d / n for n in SET3]
    # Without manifests only the labels tell the reels apart.
    for n in SET3:
        (d / (n + ".manifest.json")).unlink()
    x = fails(reel("cat", "--set", r[0], r[2]), "r3.tap: its first labelled file is "
              "DATA.TAR (file 1, section 3 of file set VOL001)", "section 2",
              "a reel of the storeset is missing")
    assert len(x.stdout) < len(arc) and arc.startswith(x.stdout)
    fails(reel("cat", "--set", r[1], r[0], r[2]), "r2.tap: DATA.TAR (file 1, "
          "section 2 of file set VOL001) comes before any of its earlier sections",
          "out of order")
    fails(reel("cat", "--set", r[0], r[1]), "goes on after", "r2.tap",
          "no reel follows it")
    # A reel that is not labelled in a labelled set.
    plain = d / "plain.tap"
    ok(reel("send", "--quiet", plain, stdin=b"p" * 5000))
    fails(reel("cat", "--set", r[0], plain), "plain.tap begins with a data record "
          "of 5000 bytes, not a VOL1 label")
    # With manifests: a reel gone from the chain.
    shutil.rmtree(d)
    d.mkdir()
    send_set("%s/" % d, arc, SET3, "--label", "DATA.TAR,VOL001", "--block-size",
             10240, "--capacity", 220000)
    (d / "r2.tap").unlink()
    (d / "r2.tap.manifest.json").unlink()
    x = fails(reel("cat", r[0]), "r2.tap")
    assert arc.startswith(x.stdout)
    # --single reads one reel alone: its section, and says so.
    x = ok(reel("cat", "--single", r[2]))
    assert x.stdout and arc.endswith(x.stdout)
    assert "only this reel was read (--single" in x.stderr


def test_raw_gives_the_labels_and_file_counts_tape_files(labelled_set):
    d, files, arc = labelled_set
    first = ok(reel("cat", "--raw", "--single", d / "r1.tap")).stdout
    assert first[:4] == b"VOL1" and first[80:84] == b"HDR1"
    assert first[84:92] == b"DATA.TAR"
    # --raw --file 2 of one reel: its data (tape file 1 is VOL1 and HDRs).
    data2 = ok(reel("cat", "--raw", "--single", "--file", 2, d / "r1.tap")).stdout
    assert arc.startswith(data2) and len(data2) % 10240 == 0
    # --raw over the set: today's join, labels in the stream.
    whole = ok(reel("cat", "--raw", "--records", d / "r1.tap")).stdout
    assert whole[4:8] == b"VOL1"
    # From stdin: one reel alone, its section, and a note.
    with open(d / "r1.tap", "rb") as f:
        x = ok(reel("cat", "-", stdin=f))
    assert x.stdout == data2 and "only this reel was read" in x.stderr
    # The usage errors.
    fails(reel("cat", "--name", "X", "--file", 1, d / "r1.tap"), "--name", code=2)
    fails(reel("cat", "--name", "X", "--raw", d / "r1.tap"), "--name", code=2)


def saveset(name, bs, nblocks):
    """A synthetic BACKUP saveset (as test_reel_send_labels.py makes it)."""
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


def test_name_and_file_pick_labelled_files_and_saveset_comes_back(tmp_path):
    reel_path()
    img = tmp_path / "vms.mtd"
    ss = saveset("NIGHTLY.BCK", 8192, 12)
    other = os.urandom(70001)
    long_name = "A_SECOND_FILE_WITH_A_LONG_NAME.DAT"
    ok(reel("send", "--quiet", "--append", "--volume", "VMS001", img, stdin=ss))
    ok(reel("send", "--quiet", "--append", "--label", long_name.lower(), img,
            stdin=other))
    ok(reel("send", "--quiet", "--append", "--label", "NIGHTLY.BCK", img,
            stdin=b"again" * 100))
    # The first file by default, byte for byte.
    assert ok(reel("cat", img)).stdout == ss
    assert ok(reel("cat", "--name", "nightly.bck", img)).stdout == ss
    assert ok(reel("cat", "--file", 2, img)).stdout == other
    assert ok(reel("cat", "--name", long_name.lower(), img)).stdout == other
    assert ok(reel("cat", "--file", 3, img)).stdout == b"again" * 100
    # The same saveset over three reels, by --vms-saveset.
    big = saveset("USERS.BCK", 8192, 40)
    src = tmp_path / "USERS.BCK"
    src.write_bytes(big)
    d = tmp_path / "vset"
    d.mkdir()
    ok(reel("send", "--vms-saveset", src, "--capacity", 140000, "--next",
            d / "v2.mtd", "--next", d / "v3.mtd", d / "v1.mtd"))
    assert (d / "v3.mtd").exists()
    assert ok(reel("cat", "--name", "users.bck", d / "v1.mtd")).stdout == big
    x = fails(reel("cat", "--file", 9, img), "there is no labelled file with "
              "sequence number 9 on the tape: it holds 3 labelled files: NIGHTLY.BCK, "
              "A_SECOND_FILE_WITH_A_LONG_NAME.DAT, NIGHTLY.BCK")
    assert x.stdout == b""
    fails(reel("cat", "--name", "MISSING.BCK", img), "no labelled file named "
          "MISSING.BCK")


def test_unlabelled_tapes_read_as_before(tmp_path):
    reel_path()
    img = tmp_path / "plain.tap"
    a, b = os.urandom(30000), os.urandom(5000)
    ok(reel("send", "--quiet", "--tapemark-every", 30000, img, stdin=a + b))
    assert ok(reel("cat", img)).stdout == a
    assert ok(reel("cat", "--file", 2, img)).stdout == b
    assert ok(reel("cat", "--raw", "--file", 2, img)).stdout == b
    fails(reel("cat", "--name", "A", img), "has no ANSI labels")
    # 80-byte records that merely look like labels, not first: data.
    rec = b"HDR1" + b" " * 76
    img2 = tmp_path / "look.tap"
    ok(reel("send", "--quiet", "--block-size", 80, img2, stdin=b"x" * 80 + rec))
    assert ok(reel("cat", img2)).stdout == b"x" * 80 + rec


def test_drive_label_chain_restores_with_reel_cat(tmp_path):
    """The drive's --label over a --next chain of three reels: tar through
    MOUNT/tape (FILE0001, spread over the reels), then a file by name that
    lands on reel 3 as file 2; reel cat of reel 1 restores both."""
    need_root()
    need_fuse()
    need_tool("vsftpd")
    need_tool("tar")
    from mount import Mount, reelfs_binary
    need_binary(reelfs_binary())
    reel_path()
    files = sample_files(seed=3, n=10, size=250_000)
    tree = tmp_path / "tree"
    for n, d in files.items():
        (tree / n).parent.mkdir(parents=True, exist_ok=True)
        (tree / n).write_bytes(d)
    after = os.urandom(3 * 4096)
    names = ["c1.mtd", "c2.mtd", "c3.mtd"]
    with Vsftpd(tmp_path / "v") as srv:
        with contextlib.ExitStack() as stack:
            ms = [None] * 3
            for i in (2, 1, 0):
                args = ["--capacity=1M"] + (["--label=CHAIN1"] if i == 0 else [])
                if i < 2:
                    args.append("--next=%s" % (tmp_path / ("m%d" % (i + 2)) / "tape"))
                ms[i] = stack.enter_context(Mount(srv.url + names[i],
                                                  tmp_path / ("m%d" % (i + 1)), args,
                                                  env=srv.env()))
            r = subprocess.run(["tar", "-b", "20", "-cf", str(ms[0].tape), "-C",
                                str(tree), "data"], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            (ms[0].mountpoint / "files" / "after.bin").write_bytes(after)
            for m in ms:
                assert m.unmount() == 0, m.stderr
        assert all((srv.root / n).exists() for n in names)
        err = restore(["cat", srv.url + names[0]], tmp_path / "out", env=srv.env())
        same_files(files, tmp_path / "out")
        assert "reel 3 of storeset" in err and srv.password not in err
        assert ok(reel("cat", "--name", "AFTER.BIN", srv.url + names[0],
                       env=srv.env())).stdout == after
        assert ok(reel("cat", "--file", 2, srv.url + names[1],
                       env=srv.env())).stdout == after


def test_labelled_set_on_vsftpd(tmp_path):
    need_root()
    need_tool("vsftpd")
    reel_path()
    files = sample_files(seed=11)
    arc = tar_of(files)
    with Vsftpd(tmp_path / "v") as srv:
        d = srv.root / "set"
        d.mkdir()
        shutil.chown(d, srv.user, srv.user)
        url = srv.url + "set/"
        send_set(url, arc, SET3, "--label", "FTP.TAR,FTP001", "--block-size", 10240,
                 "--capacity", 220000, env=srv.env())
        err = restore(["cat", url + "r2.tap"], tmp_path / "out", env=srv.env())
        same_files(files, tmp_path / "out")
        assert srv.password not in err
        assert ok(reel("cat", "--name", "ftp.tar", url + "r1.tap",
                       env=srv.env())).stdout == arc
        # Reels 1 and 3 only, named in order: the labels tell one is missing.
        x = fails(reel("cat", "--set", url + "r1.tap", url + "r3.tap",
                       env=srv.env()), "is reel 3, but comes where reel 2 belongs")
        for n in SET3:
            (d / (n + ".manifest.json")).unlink()
        x = fails(reel("cat", "--set", url + "r1.tap", url + "r3.tap",
                       env=srv.env()), "section 3 of file set FTP001",
                  "a reel of the storeset is missing")
        assert srv.password not in x.stderr and arc.startswith(x.stdout)


def test_independent_writer_and_damaged_labels(tmp_path):
    """Tapes from ansitape.py (written from ECMA-13, not by reelfs): two
    reels joined; a wrong block count, a data record where HDR1 belongs and
    a next reel that goes on with another file each fail with a sentence."""
    import ansitape as at
    reel_path()
    a = [os.urandom(2048) for _ in range(5)]
    b = [os.urandom(2048) for _ in range(3)]
    c = [os.urandom(512)]
    r1 = at.volume("IND001", [at.File("BIG.DAT", a, eov=True)])
    r2 = at.volume("IND002", [at.File("BIG.DAT", b, set_id="IND001", section=2,
                                      sequence=1),
                              at.File("SMALL.DAT", c, set_id="IND001", sequence=2)])
    p1, p2 = tmp_path / "i1.tap", tmp_path / "i2.tap"
    p1.write_bytes(at.simh(r1))
    p2.write_bytes(at.simh(r2))
    assert ok(reel("cat", "--set", p1, p2)).stdout == b"".join(a + b)
    assert ok(reel("cat", "--set", "--name", "small.dat", p1, p2)).stdout == c[0]
    assert ok(reel("cat", "--single", "--file", 2, p2)).stdout == c[0]
    # EOF1 counting another number of blocks than were read.
    bad = [e for e in r2]
    i = next(k for k, e in enumerate(bad) if e and e[:4] == b"EOF1")
    bad[i] = bad[i][:54] + b"000007" + bad[i][60:]
    p3 = tmp_path / "count.tap"
    p3.write_bytes(at.simh(bad))
    fails(reel("cat", "--set", p1, p3), "EOF1 of BIG.DAT (file 1, section 2 of file "
          "set IND001) counts 7 blocks, but 3 data records came before it")
    # A data record where the next file's HDR1 belongs.
    j = next(k for k, e in enumerate(bad) if e and e[:4] == b"HDR1" and b"SMALL" in e)
    bad2 = list(r2)
    bad2[j] = b"x" * 100
    p4 = tmp_path / "nohdr.tap"
    p4.write_bytes(at.simh(bad2))
    fails(reel("cat", "--set", "--file", 2, p1, p4), "a data record of 100 bytes "
          "comes where the HDR1 label of the next labelled file")
    # The next reel goes on with another file than the one EOV left open.
    r5 = at.volume("IND002", [at.File("OTHER.DAT", b, set_id="IND001", section=2,
                                      sequence=1)])
    p5 = tmp_path / "other.tap"
    p5.write_bytes(at.simh(r5))
    fails(reel("cat", "--set", p1, p5), "its first labelled file is OTHER.DAT",
          "ended inside BIG.DAT (file 1, section 1 of file set IND001) with EOV")
    # Cut short inside a file: no trailer labels.
    p6 = tmp_path / "cut.tap"
    p6.write_bytes(at.simh(r1[:r1.index(None) + 3]))
    fails(reel("cat", "--single", p6), "ends inside BIG.DAT")


def test_verify_compares_the_labels_with_the_manifest(labelled_set):
    """reel verify reads the labels too: it names them when they agree
    with the manifest, and fails when the manifest recorded others."""
    import json
    d, files, arc = labelled_set
    r = ok(reel("verify", d / "r2.tap"))
    assert b"ANSI labels: volume " in r.stdout and \
        b"1 labelled file section; the manifest agrees" in r.stdout, r.stdout
    man = d / "r2.tap.manifest.json"
    m = json.loads(man.read_text())
    m["labels"]["files"][0]["block_count"] += 1
    man.write_text(json.dumps(m))
    fails(reel("verify", d / "r2.tap"), "labels differ: labelled file section 1 is "
          "DATA.TAR (file 1, section 2 of file set VOL001")
    m["labels"] = None
    man.write_text(json.dumps(m))
    fails(reel("verify", d / "r2.tap"), "labels differ: the image starts with a VOL1 "
          "label, the manifest says it is not labelled")
    # An unlabelled tape: no labels line, as before.
    ok(reel("send", "--quiet", d / "plain.tap", stdin=b"q" * 4000))
    r = ok(reel("verify", d / "plain.tap"))
    assert b"ANSI labels" not in r.stdout and b"labels differ" not in r.stdout, r.stdout
