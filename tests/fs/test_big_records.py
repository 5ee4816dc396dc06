"""Records above one FUSE request (issue 11, reading): the kernel cuts a
read() larger than 1 MiB into several requests; a read mount answers them
from one record, in order, so a buffer that holds the record gets it
whole, and a smaller one is ENOMEM with nothing read and the record kept
(st). Records written through the drive with dd (up to the format's
largest), read back through `reelfs --read` with dd bs=4M, compared byte
for byte. Real mounts against vsftpd on 127.0.0.1."""
import errno
import os

import pytest

from fscommon import Mount, need_mount_env, published, run, vsftpd
import tapeimg

MIB = 1 << 20


def _write_with_dd(srv, tmp_path, name, bs, count):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(bs * count))
    with Mount(srv.url + name, tmp_path / "wmnt", env=srv.env()) as m:
        r = run(["dd", "if=%s" % src, "of=%s" % m.tape, "bs=%d" % bs,
                 "count=%d" % count])
        assert r.returncode == 0, r.stderr
    return src.read_bytes()


@pytest.mark.parametrize("fmt,bs", [("mtd", 3 * MIB), ("het", 2 * MIB),
                                    ("simh", 4 * MIB)])
def test_dd_bs_4m_reads_records_above_1m_whole(tmp_path, fmt, bs):
    """dd bs=3M count=2 (2M for het, 4M for simh: each format's largest
    the drive takes) through the drive; the image holds two records of
    that size; dd bs=4M from a read mount gets one whole record per read
    and the same bytes."""
    need_mount_env("dd")
    name = "big." + fmt
    with vsftpd(tmp_path) as srv:
        data = _write_with_dd(srv, tmp_path, name, bs, 2)
        files, eod = tapeimg.parse(published(srv, name), fmt)
        assert eod and [len(r) for r in files[0]] == [bs, bs]
        with Mount(srv.url + name, tmp_path / "rmnt", ["--read"],
                   env=srv.env()) as m:
            out = tmp_path / "out.bin"
            r = run(["dd", "if=%s" % m.tape, "of=%s" % out, "bs=4M"])
            assert r.returncode == 0, r.stderr
            full = 2 if bs == 4 * MIB else 0
            assert "%d+%d records in" % (full, 2 - full) in r.stderr, r.stderr
            assert out.read_bytes() == data
            assert m.status()["state"] == "end of data"


def test_short_buffers_are_enomem_and_lose_nothing(tmp_path):
    """Two 3 MiB records: read()s of 1 MiB, 2 MiB and 3 MiB less a byte
    (each split by the kernel, or a single request) are ENOMEM with
    nothing read; the next read() with a buffer as large as the record
    (page-aligned or not) gets it whole; dd bs=1M stops at once with
    ENOMEM and reads nothing."""
    need_mount_env("dd", "mt")
    with vsftpd(tmp_path) as srv:
        data = _write_with_dd(srv, tmp_path, "st.mtd", 3 * MIB, 2)
        rec = [data[:3 * MIB], data[3 * MIB:]]
        with Mount(srv.url + "st.mtd", tmp_path / "rmnt", ["--read"],
                   env=srv.env()) as m:
            fd = os.open(m.tape, os.O_RDONLY)
            try:
                for n in (MIB, 2 * MIB, 3 * MIB - 1, 1000):
                    with pytest.raises(OSError) as e:
                        os.read(fd, n)
                    assert e.value.errno == errno.ENOMEM, n
                # os.read's buffer is not page-aligned: a shorter first
                # piece; exactly the record's size still holds it.
                assert os.read(fd, 3 * MIB) == rec[0]
                with pytest.raises(OSError) as e:
                    os.read(fd, MIB)
                assert e.value.errno == errno.ENOMEM
                assert os.read(fd, 8 * MIB) == rec[1]
                assert os.read(fd, 4 * MIB) == b""      # the tape mark
            finally:
                os.close(fd)
            assert "ENOMEM" in m.status()["last_error"]
            r = run(["mt", "-f", str(m.tape), "rewind"])
            assert r.returncode == 0, r.stderr
            out = tmp_path / "out.bin"
            r = run(["dd", "if=%s" % m.tape, "of=%s" % out, "bs=1M"])
            assert r.returncode != 0
            assert "Cannot allocate memory" in r.stderr, r.stderr
            assert "0+0 records in" in r.stderr, r.stderr
            assert out.read_bytes() == b""
            # dd's close moved past the file, as st: rewind, then a large
            # enough buffer reads the file whole.
            r = run(["mt", "-f", str(m.tape), "rewind"])
            assert r.returncode == 0, r.stderr
            r = run(["dd", "if=%s" % m.tape, "of=%s" % out, "bs=3M"])
            assert r.returncode == 0, r.stderr
            assert "2+0 records in" in r.stderr, r.stderr
            assert out.read_bytes() == data


def test_readv_falls_back_to_the_request_size(tmp_path):
    """readv (whose size the drive cannot learn from the reader): a 4 MiB
    buffer still gets the 3 MiB record whole; a 1 MiB one gets its first
    MiB (the kernel's request does not show the buffer), the record
    stays, the next 1 MiB readv is ENOMEM, and a large one reads it
    whole: nothing lost, no loop of first pieces."""
    need_mount_env("dd")
    with vsftpd(tmp_path) as srv:
        data = _write_with_dd(srv, tmp_path, "rv.mtd", 3 * MIB, 2)
        rec = [data[:3 * MIB], data[3 * MIB:]]
        with Mount(srv.url + "rv.mtd", tmp_path / "rmnt", ["--read"],
                   env=srv.env()) as m:
            fd = os.open(m.tape, os.O_RDONLY)
            try:
                big = bytearray(4 * MIB)
                assert os.readv(fd, [big]) == 3 * MIB
                assert bytes(big[:3 * MIB]) == rec[0]
                small = bytearray(MIB)
                assert os.readv(fd, [small]) == MIB
                assert bytes(small) == rec[1][:MIB]
                with pytest.raises(OSError) as e:
                    os.readv(fd, [small])
                assert e.value.errno == errno.ENOMEM
                assert os.readv(fd, [big]) == 3 * MIB
                assert bytes(big[:3 * MIB]) == rec[1]
            finally:
                os.close(fd)
            assert "ENOMEM" in m.status()["last_error"]
        assert "ended after the first 1048576 bytes of the record" in m.stderr


def test_fixed_blocks_above_1m_and_marks(tmp_path):
    """mt setblk 2 MiB (a block above one request): dd bs=4M gets two
    whole blocks a read(), dd bs=1M is EINVAL and reads nothing, a read() of exactly a
    block (not page-aligned) gets it whole. mt setblk 512: a split 4 MiB
    read() (not page-aligned) gets 4 MiB of whole blocks, one that meets
    the tape mark ends before it, and the mark still reads as 0 once
    before the next file."""
    need_mount_env("dd", "mt")
    with vsftpd(tmp_path) as srv:
        src = tmp_path / "src.bin"
        data = os.urandom(6 * MIB)
        src.write_bytes(data)
        with Mount(srv.url + "fx.mtd", tmp_path / "wmnt", env=srv.env()) as m:
            r = run(["dd", "if=%s" % src, "of=%s" % m.tape, "bs=3M"])
            assert r.returncode == 0, r.stderr
            with open(m.tape, "wb", buffering=0) as f:
                f.write(b"second")
        with Mount(srv.url + "fx.mtd", tmp_path / "rmnt", ["--read"],
                   env=srv.env()) as m:
            tape = str(m.tape)

            def mt(*a):
                r = run(["mt", "-f", tape] + list(a))
                assert r.returncode == 0, r.stderr

            def dd(bs):
                out = tmp_path / "out.bin"
                r = run(["dd", "if=" + tape, "of=%s" % out, "bs=" + bs])
                return r, out.read_bytes()

            mt("setblk", str(2 * MIB))
            r, got = dd("4M")
            assert r.returncode == 0, r.stderr
            # Two whole blocks per 4 MiB read(), as st: 4 MiB, then 2.
            assert "1+1 records in" in r.stderr, r.stderr
            assert got == data
            mt("rewind")
            r, got = dd("1M")
            assert r.returncode != 0 and "Invalid argument" in r.stderr, r.stderr
            assert got == b""
            mt("rewind")
            fd = os.open(tape, os.O_RDONLY)
            try:
                assert os.read(fd, 2 * MIB) == data[:2 * MIB]
            finally:
                os.close(fd)
            mt("rewind")
            mt("setblk", "512")
            fd = os.open(tape, os.O_RDONLY)
            try:
                assert os.read(fd, 4 * MIB) == data[:4 * MIB]
                assert os.read(fd, 4 * MIB) == data[4 * MIB:]
                assert os.read(fd, 4 * MIB) == b""          # the mark
                assert os.read(fd, 4 * MIB) == b"second"
            finally:
                os.close(fd)


def test_a_users_read_mount_learns_the_buffer_size(tmp_path):
    """Served by a non-root user for that same user (no CAP_SYS_PTRACE):
    the drive still learns the size of the reader's read() (same user),
    so dd bs=1M of a 3 MiB record is ENOMEM with nothing read (not the
    first MiB, as where the size cannot be learnt), and dd bs=4M reads
    both records whole."""
    need_mount_env("dd", "setpriv")
    import test_drive_owner as owner
    uid, gid = owner.other_user()
    data = os.urandom(6 * MIB)
    with owner.shared_dir() as d:
        target = os.path.join(d, "target")
        mnt = os.path.join(d, "mnt")
        os.mkdir(target)
        os.mkdir(mnt)
        img = os.path.join(target, "u.mtd")
        with open(img, "wb") as f:
            f.write(tapeimg.write([data[:3 * MIB], data[3 * MIB:], None, None],
                                  "mtd"))
        for p in (target, mnt, img):
            os.chown(p, uid, gid)
        log = tmp_path / "daemon.log"
        out = os.path.join(target, "out.bin")      # the user's to write
        tape = os.path.join(mnt, "tape")
        with owner.user_mount("file://%s" % img, mnt, uid, gid, log,
                              args=["--read"]) as proc:
            r = run(owner.as_other(["dd", "if=" + tape, "of=" + out, "bs=1M"]))
            assert r.returncode != 0, r.stderr
            assert "Cannot allocate memory" in r.stderr, r.stderr
            assert "0+0 records in" in r.stderr, r.stderr
            r = run(owner.as_other(["mt", "-f", tape, "rewind"]))
            assert r.returncode == 0, r.stderr
            r = run(owner.as_other(["dd", "if=" + tape, "of=" + out, "bs=4M"]))
            assert r.returncode == 0, r.stderr
            assert "0+2 records in" in r.stderr, r.stderr
            with open(out, "rb") as f:
                assert f.read() == data
        assert proc.returncode == 0, log.read_text()
        assert "ENOMEM" in log.read_text()
