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


def test_cpio_pax_afio_from_a_read_mount(tmp_path):
    """cpio -o, pax -w and afio -o write three tape files; from a read
    mount cpio -i, pax -r and afio -i restore them in turn (each close
    leaves the tape after its file's mark). pax reads a regular file as a
    byte stream (8 bytes first), so it reads after `mt setblk 1`."""
    need_mount_env("cpio", "pax", "afio", "find")
    trees = _tars(tmp_path, size=60_000)
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "arch.mtd", tmp_path / "wmnt", env=srv.env()) as m:
            lists = []
            for t in trees:
                r = run(["find", t.name], cwd=t.parent)
                assert r.returncode == 0, r.stderr
                lists.append(r.stdout)
            r = run(["cpio", "-o", "-H", "newc", "-B", "-O", str(m.tape)],
                    cwd=trees[0].parent, input=lists[0])
            assert r.returncode == 0, r.stderr
            r = run(["pax", "-w", "-b", "10240", "-f", str(m.tape), trees[1].name],
                    cwd=trees[1].parent)
            assert r.returncode == 0, r.stderr
            r = run(["afio", "-o", "-b", "10240", "-c", "1", str(m.tape)],
                    cwd=trees[2].parent, input=lists[2])
            assert r.returncode == 0, r.stdout + r.stderr
        published(srv, "arch.mtd")
        with Mount(srv.url + "arch.mtd", tmp_path / "rmnt", ["--read"],
                   env=srv.env()) as m:
            outs = [tmp_path / ("o%d" % i) for i in range(3)]
            for o in outs:
                o.mkdir()
            r = run(["cpio", "-i", "-d", "-B", "-I", str(m.tape)], cwd=outs[0])
            assert r.returncode == 0, r.stderr
            # pax takes a regular file for a byte stream (its first read
            # is 8 bytes): setblk 1 makes the tape file one.
            _mt(m.tape, "setblk", 1)
            r = run(["pax", "-r", "-f", str(m.tape)], cwd=outs[1])
            assert r.returncode == 0, r.stderr
            _mt(m.tape, "setblk", 0)
            r = run(["afio", "-i", "-b", "10240", "-c", "1", str(m.tape)], cwd=outs[2])
            assert r.returncode == 0, r.stdout + r.stderr
            for t, o in zip(trees, outs):
                _same_tree(t, o)


def test_dump_three_times_restore_s2_from_the_mount(tmp_path):
    """dump three file systems onto one reel; `restore -r -s 2 -f
    MOUNT/tape` restores the second, read straight from a read mount."""
    need_mount_env("dump", "restore", "mke2fs", "losetup", "diff")
    from test_tape_files import _loop_device, _tree
    trees = [_tree(tmp_path / ("src%d" % i), i) for i in (1, 2, 3)]
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "dumps.mtd", tmp_path / "wmnt", env=srv.env()) as m:
            for i, t in enumerate(trees, 1):
                img = tmp_path / ("fs%d.ext4" % i)
                r = run(["mke2fs", "-q", "-t", "ext4", "-d", str(t), str(img), "32M"])
                assert r.returncode == 0, r.stderr
                with _loop_device(img) as dev:
                    r = run(["dump", "-0", "-b", "64", "-f", str(m.tape), dev])
                assert r.returncode == 0, r.stdout + r.stderr
        published(srv, "dumps.mtd")
        with Mount(srv.url + "dumps.mtd", tmp_path / "rmnt", ["--read"],
                   env=srv.env()) as m:
            out = tmp_path / "restored"
            out.mkdir()
            # restore's scratch directory is TMPDIR/rstdirTIME: one of its
            # own, so a run beside this one (the ASan build's) in the same
            # second cannot collide with it.
            rtmp = tmp_path / "rtmp"
            rtmp.mkdir()
            r = run(["restore", "-r", "-y", "-b", "64", "-s", "2", "-f", str(m.tape)],
                    cwd=out, env=dict(os.environ, TMPDIR=str(rtmp)))
            assert r.returncode == 0, r.stdout + r.stderr
            d = run(["diff", "-r", "-x", "lost+found", "-x", "restoresymtable",
                     "--no-dereference", str(trees[1]), str(out)])
            assert d.returncode == 0, d.stdout + d.stderr


def _chain_write(srv, tmp_path, names, tree, cap="20M"):
    """A --next chain (later reels mounted first) written by tar."""
    with contextlib.ExitStack() as stack:
        ms = [None] * len(names)
        for i in reversed(range(len(names))):
            args = ["--capacity=%s" % cap]
            if i + 1 < len(names):
                args.append("--next=%s" % ms[i + 1].tape)
            ms[i] = stack.enter_context(Mount(srv.url + names[i],
                                              tmp_path / ("w%d" % i), args,
                                              env=srv.env()))
        r = run(["tar", "-b", "64", "-cf", str(ms[0].tape), "-C",
                 str(tree.parent), tree.name])
        assert r.returncode == 0, r.stderr
        for m in ms:
            assert m.unmount() == 0, m.stderr
    for n in names:
        _manifest(srv, n)


def test_tar_x_over_a_read_mount_of_a_next_set(tmp_path):
    """A storeset written through a --next chain reads as one tape: the
    read mount of reel 1 goes on to reels 2 and 3 at their ends, and
    tar -x restores the whole tree."""
    need_mount_env("tar")
    tree = make_tree(tmp_path / "src" / "data", nfiles=10, size=5 * MB)
    names = ["s1.mtd", "s2.mtd", "s3.mtd"]
    with vsftpd(tmp_path) as srv:
        _chain_write(srv, tmp_path, names, tree)
        assert _manifest(srv, "s3.mtd")["reel"] == 3
        with Mount(srv.url + names[0], tmp_path / "rmnt", ["--read"],
                   env=srv.env()) as m:
            out = tmp_path / "out"
            out.mkdir()
            r = run(["tar", "-b", "64", "-xf", str(m.tape), "-C", str(out)])
            assert r.returncode == 0, r.stderr
            _same_tree(tree, out)
            assert m.status()["reel"] == "3"
        assert "reading goes on with the next reel" in m.stderr


def test_tar_M_x_over_three_read_mounts(tmp_path):
    """tar -M wrote three reels (one mount each, ENOSPC at the capacity);
    three read mounts serve `tar -M -x -f r1 -f r2 -f r3`."""
    need_mount_env("tar")
    tree = make_tree(tmp_path / "src" / "data", nfiles=10, size=5 * MB)
    names = ["m1.mtd", "m2.mtd", "m3.mtd"]
    with vsftpd(tmp_path) as srv:
        with contextlib.ExitStack() as stack:
            ms = [stack.enter_context(Mount(srv.url + n, tmp_path / ("w%d" % i),
                                            ["--capacity=20M"], env=srv.env()))
                  for i, n in enumerate(names)]
            cmd = ["tar", "-M", "-b", "20", "-c", "-C", str(tree.parent), tree.name]
            for m in ms:
                cmd[2:2] = []
                cmd += ["-f", str(m.tape)]
            r = run(cmd, stdin=subprocess.DEVNULL)
            assert r.returncode == 0, r.stderr
            for m in ms:
                assert m.unmount() == 0, m.stderr
        for n in names:
            _manifest(srv, n)
        with contextlib.ExitStack() as stack:
            rs = [stack.enter_context(Mount(srv.url + n, tmp_path / ("r%d" % i),
                                            ["--read"], env=srv.env()))
                  for i, n in enumerate(names)]
            out = tmp_path / "out"
            out.mkdir()
            cmd = ["tar", "-M", "-b", "20", "-x", "-C", str(out)]
            for m in rs:
                cmd += ["-f", str(m.tape)]
            r = run(cmd, stdin=subprocess.DEVNULL)
            assert r.returncode == 0, r.stderr
            _same_tree(tree, out)


def test_dropped_download_resumes_from_the_byte_reached(tmp_path):
    """The server resets the download twice (faultftpd --retr-drops): the
    reader resumes from the byte it reached (REST), the data is whole, and
    status counts the resumes."""
    need_mount_env("tar")
    import servers
    tree = make_tree(tmp_path / "src" / "data", nfiles=6, size=1 * MB)
    with servers.FaultFtpd(tmp_path / "fault",
                           extra=["--retr-drops", "1500000,4000000"]) as srv:
        _write_tars(srv, "drop.mtd", tmp_path, [tree])
        with Mount(srv.url + "drop.mtd", tmp_path / "rmnt", ["--read"],
                   env=srv.env()) as m:
            out = tmp_path / "out"
            out.mkdir()
            r = run(["tar", "-xf", str(m.tape), "-C", str(out)])
            assert r.returncode == 0, r.stderr
            _same_tree(tree, out)
            assert int(m.status()["resumes"]) >= 2, m.status()
        assert "resuming there" in m.stderr
        log = (tmp_path / "fault" / "faultftpd.log").read_text()
        assert log.count("download drop at offset") == 2, log


def test_a_corrupt_record_is_eio_at_its_position(tmp_path):
    """A record whose trailing length word was damaged: the records before
    it read, it is EIO (never its bytes), and the log and status name its
    file, block and image offset; the daemon exits 1."""
    need_mount_env("dd")
    recs = [[os.urandom(1000) for _ in range(3)], [os.urandom(2000) for _ in range(5)]]
    img = bytearray(tapeimg.write(recs[0] + [None] + recs[1] + [None, None], "mtd"))
    # File 1 (from 0), block 3: its trailer.
    f1 = 3 * (8 + 1000) + 4
    bad = f1 + 3 * (8 + 2000)
    img[bad + 4 + 2000] ^= 0x40
    with vsftpd(tmp_path) as srv:
        (pathlib.Path(srv.root) / "bad.mtd").write_bytes(bytes(img))
        os.chmod(pathlib.Path(srv.root) / "bad.mtd", 0o644)
        m = Mount(srv.url + "bad.mtd", tmp_path / "rmnt", ["--read"],
                  env=srv.env(), expect_ok=False)
        with m:
            fd = os.open(m.tape, os.O_RDONLY)
            try:
                got = []
                with pytest.raises(OSError) as e:
                    while True:
                        b = os.read(fd, 65536)
                        got.append(b)
                assert e.value.errno == errno.EIO
            finally:
                os.close(fd)
            assert got == recs[0] + [b""] + recs[1][:3]
            st = m.status()
            assert "file 1, block 3" in st["last_error"], st
            # The first bad byte: the damaged trailer.
            assert "image offset %d" % (bad + 4 + 2000) in st["last_error"], st
            assert st["state"] == "failed"
        assert m.returncode == 1
        assert "file 1, block 3" in m.stderr


@pytest.mark.parametrize("fmt", ["mtd", "e11", "aws", "het"])
def test_positioning_without_a_manifest(tmp_path, fmt):
    """An image with no manifest (written by another program): fsf reads
    and discards; bsf, bsr space backward by the trailing length words
    (SIMH family) or the previous-length fields (AWS, HET); eod, seek and
    tell agree with the image."""
    need_mount_env("mt")
    files = [[os.urandom(n) for n in (5000, 301, 70000, 10)],
             [os.urandom(n) for n in (1, 2, 3)],
             [],
             [os.urandom(n) for n in (140000, 17)]]
    evs = []
    for f in files:
        evs += f + [None]
    evs.append(None)
    root = tmp_path / "img"
    root.mkdir()
    (root / ("t." + fmt)).write_bytes(tapeimg.write(evs, fmt))
    url = "file://%s/t.%s" % (root, fmt)
    with Mount(url, tmp_path / "rmnt", ["--read"]) as m:
        assert m.status()["manifest"] == "none"
        _mt(m.tape, "fsf", 3)
        assert m.status()["jumps"] == "0"     # read and discarded
        with open(m.tape, "rb", buffering=0) as f:
            assert f.read(1 << 20) == files[3][0]
        # The close left the tape after file 3's mark (as st): the end.
        f_, b_, bits = _status(m.tape)
        assert (f_, b_) == (4, 0) and "EOD" in bits
        _mt(m.tape, "bsf", 3)      # before the mark that ends file 1
        f_, b_, _ = _status(m.tape)
        assert f_ == 1 and b_ == -1
        _mt(m.tape, "bsr", 2)
        with open(m.tape, "rb", buffering=0) as f:
            assert f.read(100) == files[1][1]
        _mt(m.tape, "rewind")
        _mt(m.tape, "fsr", 2)
        _mt(m.tape, "bsr", 1)
        with open(m.tape, "rb", buffering=0) as f:
            assert f.read(1 << 20) == files[0][1]
        # bsr never crosses a mark: from file 1 block 0.
        _mt(m.tape, "asf", 1)
        assert _mt(m.tape, "bsr", 1, ok=False).returncode != 0
        assert _status(m.tape)[:2] == (1, 0)
        _mt(m.tape, "eod")
        f_, _, bits = _status(m.tape)
        assert f_ == 4 and "EOD" in bits
        # seek: block 6 is file 1's second record (4 records, a mark, 1).
        _mt(m.tape, "seek", 6)
        assert "At block 6." in _mt(m.tape, "tell").stdout
        with open(m.tape, "rb", buffering=0) as f:
            assert f.read(100) == files[1][1]


def test_mt_rewind_after_writing_loads_the_reel(tmp_path):
    """A drive that wrote: `mt rewind` publishes the reel, and the next
    read loads it: tar -t of the first file, mt fsf 1 and tar -x of the
    second, without remounting."""
    need_mount_env("tar", "mt")
    trees = _tars(tmp_path, n=2)
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "rw.mtd", tmp_path / "mnt", env=srv.env()) as m:
            for t in trees:
                r = run(["tar", "-cf", str(m.tape), "-C", str(t.parent), t.name])
                assert r.returncode == 0, r.stderr
            _mt(m.tape, "rewind")
            assert (pathlib.Path(srv.root) / "rw.mtd").exists()
            r = run(["tar", "-tf", str(m.tape)])
            assert r.returncode == 0, r.stderr
            assert "data0/notes.txt" in r.stdout.split()
            _mt(m.tape, "rewind")
            _mt(m.tape, "fsf", 1)
            out = tmp_path / "out"
            out.mkdir()
            r = run(["tar", "-xf", str(m.tape), "-C", str(out)])
            assert r.returncode == 0, r.stderr
            _same_tree(trees[1], out)
            assert m.status()["mode"] == "read"


def test_write_after_read_appends_a_tape_file(tmp_path):
    """On a loaded tape at the end of data (mt eod), tar -c appends a new
    tape file: a new upload that keeps the old image's bytes, which
    replaces the image when published (mt rewind); the old files read as
    before, the new one after them, and the manifest counts all three.
    Inside a file, writing is refused (it would cut the file)."""
    need_mount_env("tar", "mt")
    trees = _tars(tmp_path, n=3)
    with vsftpd(tmp_path) as srv:
        _write_tars(srv, "app.mtd", tmp_path, trees[:2])
        old = published(srv, "app.mtd")
        with Mount(srv.url + "app.mtd", tmp_path / "rmnt", ["--read"],
                   env=srv.env()) as m:
            _mt(m.tape, "fsr", 1)
            r = run(["tar", "-cf", str(m.tape), "-C", str(trees[2].parent),
                     trees[2].name])
            assert r.returncode != 0
            assert "cut that file" in m.status()["last_error"]
            _mt(m.tape, "eod")
            r = run(["tar", "-cf", str(m.tape), "-C", str(trees[2].parent),
                     trees[2].name])
            assert r.returncode == 0, r.stderr
            # Not published yet: the old image is whole.
            assert (pathlib.Path(srv.root) / "app.mtd").read_bytes() == old
            _mt(m.tape, "rewind")
            man = _manifest(srv, "app.mtd")
            assert man["files"] == 3 and len(man["file_offsets"]) == 3, man
            new = (pathlib.Path(srv.root) / "app.mtd").read_bytes()
            eod = len(old) - 4          # after file 2's mark: the end of data
            assert new[:eod] == old[:eod]
            assert man["file_offsets"][2] == eod
            _mt(m.tape, "fsf", 2)
            out = tmp_path / "out"
            out.mkdir()
            r = run(["tar", "-xf", str(m.tape), "-C", str(out)])
            assert r.returncode == 0, r.stderr
            _same_tree(trees[2], out)
            _mt(m.tape, "rewind")
            out = tmp_path / "out0"
            out.mkdir()
            r = run(["tar", "-xf", str(m.tape), "-C", str(out)])
            assert r.returncode == 0, r.stderr
            _same_tree(trees[0], out)
        files, eod_ok = tapeimg.parse(new, "mtd")
        assert eod_ok and len(files) == 3
        import shutil
        if os.access(reel_binary(), os.X_OK):
            r = run([reel_binary(), "verify", srv.url + "app.mtd"], env=srv.env())
            assert r.returncode == 0, r.stdout + r.stderr


def test_write_after_rewind_on_a_writing_drive_appends(tmp_path):
    """The drive that wrote a file: mt rewind publishes it, mt eod loads
    it and goes to its end, and the next tar -c is a second tape file on
    the same reel."""
    need_mount_env("tar", "mt")
    trees = _tars(tmp_path, n=2)
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "rw2.mtd", tmp_path / "mnt", env=srv.env()) as m:
            r = run(["tar", "-cf", str(m.tape), "-C", str(trees[0].parent), trees[0].name])
            assert r.returncode == 0, r.stderr
            _mt(m.tape, "rewind")
            _mt(m.tape, "eod")
            r = run(["tar", "-cf", str(m.tape), "-C", str(trees[1].parent), trees[1].name])
            assert r.returncode == 0, r.stderr
        man = _manifest(srv, "rw2.mtd")
        assert man["files"] == 2, man
        files, _ = tapeimg.parse(published(srv, "rw2.mtd"), "mtd")
        assert len(files) == 2
