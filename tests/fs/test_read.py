"""Reading a loaded tape (issue 11 points 1-5): the manifest's file index
the drive writes, read mounts (`reelfs --read URL MOUNT`) driven by tar,
cpio, pax, afio, dump/restore, dd and mt, positioning, storesets, faults.
Real mounts against vsftpd (or the fault-injecting server) on 127.0.0.1."""
import json
import os
import pathlib

from fscommon import Mount, need_mount_env, published, run, vsftpd
import tapeimg


def _manifest(srv, name):
    published(srv, name)
    p = pathlib.Path(srv.root) / (name + ".manifest.json")
    from mount import wait_until
    wait_until(p.exists, "%s has no manifest" % name)
    return json.loads(p.read_text())


def test_manifest_lists_file_offsets(tmp_path):
    """Three tape files, the middle one empty (mt weof 2): the manifest's
    file_offsets are where each begins in the image, file_records their
    records."""
    need_mount_env("mt")
    recs = [[os.urandom(1000), os.urandom(3)], [], [os.urandom(70000)]]
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "idx.mtd", tmp_path / "mnt", env=srv.env()) as m:
            with open(m.tape, "wb", buffering=0) as f:
                for r in recs[0]:
                    f.write(r)
            r = run(["mt", "-f", str(m.tape), "weof", "1"])
            assert r.returncode == 0, r.stderr
            with open(m.tape, "wb", buffering=0) as f:
                f.write(recs[2][0])
        man = _manifest(srv, "idx.mtd")
        data = published(srv, "idx.mtd")
    # SIMH framing: record = 4 + len (+1 pad when odd) + 4; mark = 4.
    f1 = (8 + 1000) + (8 + 4)
    assert man["files"] == 3
    assert man["file_offsets"] == [0, f1 + 4, f1 + 8]
    assert man["file_records"] == [2, 0, 1]
    # The offsets are where the files' first elements are in the image.
    assert int.from_bytes(data[f1 + 8:f1 + 12], "little") == 70000
    files, eod = tapeimg.parse(data, "mtd")
    assert eod and [len(f) for f in files] == [2, 0, 1]


# ---- read mounts ---------------------------------------------------------

import contextlib
import errno
import fcntl
import struct
import subprocess

import pytest

import need
from fscommon import make_tree, reel_binary

MB = 1000 * 1000
MTIOCTOP = 0x40086d01


def _mt(tape, *args, ok=True):
    r = run(["mt", "-f", str(tape)] + [str(a) for a in args])
    if ok:
        assert r.returncode == 0, "mt %s: %s" % (" ".join(map(str, args)), r.stderr)
    return r


def _status(tape):
    """mt status: (file number, block number, the general status bits)."""
    r = _mt(tape, "status")
    fileno = int(r.stdout.split("File number=")[1].split(",")[0])
    blkno = int(r.stdout.split("block number=")[1].split(",")[0])
    bits = r.stdout.split("General status bits on")[1]
    return fileno, blkno, bits


def _tars(tmp_path, n=3, **kw):
    """n source trees, one per tape file."""
    return [make_tree(tmp_path / ("t%d" % i) / ("data%d" % i), nfiles=4,
                      size=kw.get("size", 150_000), seed=i) for i in range(n)]


def _same_tree(tree, out):
    n = 0
    for p in tree.rglob("*"):
        if p.is_file():
            q = out / p.relative_to(tree.parent)
            assert q.is_file(), "%s was not restored" % q
            assert q.read_bytes() == p.read_bytes(), "%s differs" % q
            n += 1
    assert n > 0


def _write_tars(srv, name, tmp_path, trees, args=()):
    with Mount(srv.url + name, tmp_path / "wmnt", list(args), env=srv.env()) as m:
        for t in trees:
            r = run(["tar", "-b", "20", "-cf", str(m.tape), "-C", str(t.parent), t.name])
            assert r.returncode == 0, r.stderr
    published(srv, name)


def test_tar_t_x_and_fsf_from_a_read_mount(tmp_path):
    """Three tar archives on one reel. A read mount: tar -t lists the
    first; the close leaves the tape after its mark (as st), so tar -x
    reads the second; `mt rewind; mt fsf 2; tar -x` the third; status and
    mt status say where the tape is; end of data reads 0 with EOD set."""
    need_mount_env("tar", "mt")
    trees = _tars(tmp_path)
    with vsftpd(tmp_path) as srv:
        _write_tars(srv, "three.mtd", tmp_path, trees)
        with Mount(srv.url + "three.mtd", tmp_path / "rmnt", ["--read"],
                   env=srv.env()) as m:
            st = m.status()
            assert st["mode"] == "read" and st["manifest"] == "indexed", st
            r = run(["tar", "-tf", str(m.tape)])
            assert r.returncode == 0, r.stderr
            assert "data0/notes.txt" in r.stdout.split()
            assert _status(m.tape)[:2] == (1, 0)
            out = tmp_path / "out1"
            out.mkdir()
            r = run(["tar", "-xf", str(m.tape), "-C", str(out)])
            assert r.returncode == 0, r.stderr
            _same_tree(trees[1], out)
            _mt(m.tape, "rewind")
            f, b, bits = _status(m.tape)
            assert (f, b) == (0, 0) and "BOT" in bits
            _mt(m.tape, "fsf", 2)
            assert m.status()["jumps"] == "1"   # one ranged download
            out = tmp_path / "out2"
            out.mkdir()
            r = run(["tar", "-xf", str(m.tape), "-C", str(out)])
            assert r.returncode == 0, r.stderr
            _same_tree(trees[2], out)
            # After the third file: the end of data.
            with open(m.tape, "rb", buffering=0) as f:
                assert f.read(65536) == b""
                assert f.read(65536) == b""
            f, b, bits = _status(m.tape)
            assert f == 3 and "EOD" in bits, bits
            assert m.status()["state"] == "end of data"
            # fsf past the end of data fails, as st does.
            assert _mt(m.tape, "fsf", 1, ok=False).returncode != 0
            # asf 1 (rewind, fsf 1), and tell.
            _mt(m.tape, "asf", 1)
            assert _status(m.tape)[:2] == (1, 0)
            r = _mt(m.tape, "tell")
            assert "At block" in r.stdout


def test_records_one_per_read_enomem_and_setblk(tmp_path):
    """Variable-block reads: one record per read(), a buffer smaller than
    the record is ENOMEM with nothing lost; records above the largest FUSE
    request (1 MiB) come whole to a large enough buffer; dd bs=1M sees the
    image's record lengths; a mark reads 0 once; mt setblk N gives N-byte
    reads."""
    need_mount_env("dd", "mt")
    sizes = [10240, 1, 777, 65536, 1048576, 2500000, 10240]
    recs = [os.urandom(n) for n in sizes]
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "recs.mtd", tmp_path / "wmnt", env=srv.env()) as m:
            fd = os.open(m.tape, os.O_WRONLY)
            try:
                for rec in recs:
                    assert os.write(fd, rec) == len(rec)
            finally:
                os.close(fd)
            with open(m.tape, "wb", buffering=0) as f:
                f.write(b"second file")
        data = published(srv, "recs.mtd")
        files, _ = tapeimg.parse(data, "mtd")
        assert [len(r) for r in files[0]] == sizes
        with Mount(srv.url + "recs.mtd", tmp_path / "rmnt", ["--read"],
                   env=srv.env()) as m:
            fd = os.open(m.tape, os.O_RDONLY)
            try:
                assert os.read(fd, 1 << 22) == recs[0]
                assert os.read(fd, 1 << 22) == recs[1]
                with pytest.raises(OSError) as e:
                    os.read(fd, 100)            # 777 bytes do not fit
                assert e.value.errno == errno.ENOMEM
                assert os.read(fd, 1000) == recs[2]   # nothing was lost
                for rec in recs[3:]:
                    assert os.read(fd, 4 << 20) == rec
                assert os.read(fd, 1 << 20) == b""     # the tape mark, once
                assert os.read(fd, 1 << 20) == b"second file"
            finally:
                os.close(fd)
            assert "ENOMEM" in m.status()["last_error"]
            _mt(m.tape, "rewind")
            # dd with a buffer as large as the largest record: one
            # record per read, up to the tape mark.
            out = tmp_path / "out"
            r = run(["dd", "if=%s" % m.tape, "of=%s" % out, "bs=4M"])
            assert r.returncode == 0, r.stderr
            assert "0+%d records in" % len(sizes) in r.stderr, r.stderr
            assert out.read_bytes() == b"".join(recs)
            _mt(m.tape, "rewind")
            _mt(m.tape, "setblk", 512)
            fd = os.open(m.tape, os.O_RDONLY)
            try:
                got = [os.read(fd, 512) for _ in range(21)]
            finally:
                os.close(fd)
            assert all(len(g) == 512 for g in got[:20])
            assert b"".join(got) == b"".join(recs)[:21 * 512]


def test_dd_bs_1m_record_lengths_equal_the_image(tmp_path):
    """`dd if=MOUNT/tape bs=1M` (one read per record): the lengths dd
    reports are the image's record lengths, the bytes the payload."""
    need_mount_env("dd")
    sizes = [512, 10240, 65536, 300001, 1048576, 4096, 3]
    recs = [os.urandom(n) for n in sizes]
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "dd.het", tmp_path / "wmnt", env=srv.env()) as m:
            fd = os.open(m.tape, os.O_WRONLY)
            try:
                for rec in recs:
                    assert os.write(fd, rec) == len(rec)
            finally:
                os.close(fd)
        published(srv, "dd.het")
        with Mount(srv.url + "dd.het", tmp_path / "rmnt", ["--read"],
                   env=srv.env()) as m:
            out = tmp_path / "out.bin"
            r = run(["dd", "if=%s" % m.tape, "of=%s" % out, "bs=1M"])
            assert r.returncode == 0, r.stderr
            full = sum(1 for s in sizes if s == 1 << 20)
            assert "%d+%d records in" % (full, len(sizes) - full) in r.stderr, r.stderr
            assert out.read_bytes() == b"".join(recs)
            _mt(m.tape, "rewind")
            with open(m.tape, "rb", buffering=0) as f:
                assert [len(f.read(1 << 20)) for _ in sizes] == sizes
