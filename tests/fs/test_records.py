"""reelfs records: one write() is one record (dd, cpio), fixed blocks by
--block-size and mt setblk, the largest record, and the drive's rules
(one writer, O_TRUNC, lseek). Real mounts against vsftpd on 127.0.0.1."""
import errno
import fcntl
import os
import struct

import pytest

import tapeimg
from fscommon import Mount, image_files, make_tree, need_mount_env, run, vsftpd

MAX_RECORD = 1 << 20	# libfuse 3.14: max_write is 256 pages (1 MiB)
MTIOCTOP = 0x40086d01	# _IOW('m', 1, struct mtop)
MTWEOF = 5


def _dd(src, tape, bs, count=None):
    cmd = ["dd", "if=" + str(src), "of=" + str(tape), "bs=" + str(bs)]
    if count is not None:
        cmd.append("count=%d" % count)
    return run(cmd)


def test_dd_record_sizes(tmp_path):
    need_mount_env("dd")
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(6 * MAX_RECORD + 12345))
    data = src.read_bytes()
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "dd.mtd", tmp_path / "mnt", env=srv.env(),
                   allow_errors=[r"larger than the largest record"]) as m:
            for bs in (8192, "1M", 1001, 1, 65535, "2M"):
                r = _dd(src, m.tape, bs, count=3)
                assert r.returncode == 0, r.stderr
            r = _dd(src, m.tape, 1001)          # all of it, last record short
            assert r.returncode == 0, r.stderr
            # Larger than the largest record (4 MiB): refused, not cut up.
            r = _dd(src, m.tape, "5M", count=1)
            assert r.returncode != 0 and "Invalid argument" in r.stderr
            # An unaligned buffer makes the kernel split even 1 MiB; the
            # pieces are joined again.
            fd = os.open(m.tape, os.O_WRONLY)
            try:
                assert os.write(fd, data[1:MAX_RECORD + 1]) == MAX_RECORD
                assert os.write(fd, data[:3 * MAX_RECORD + 7]) == 3 * MAX_RECORD + 7
            finally:
                os.close(fd)
        files = image_files(srv, "dd.mtd", "mtd")
        sizes = [[len(x) for x in f] for f in files]
        assert sizes[:6] == [[8192] * 3, [MAX_RECORD] * 3, [1001] * 3, [1] * 3,
                             [65535] * 3, [2 * MAX_RECORD] * 3]
        assert files[0][0] == data[:8192] and files[1][2] == data[2 * MAX_RECORD:3 * MAX_RECORD]
        assert files[5][1] == data[2 * MAX_RECORD:4 * MAX_RECORD]
        assert tapeimg.payload([files[6]]) == data
        assert sizes[6][-1] == len(data) % 1001
        # The refused 5 MiB write wrote nothing and made no file.
        assert files[7] == [data[1:MAX_RECORD + 1], data[:3 * MAX_RECORD + 7]]
        assert len(files) == 8


def test_cpio_newc(tmp_path):
    need_mount_env("cpio")
    tree = make_tree(tmp_path / "data", nfiles=3)
    names = sorted(str(p.relative_to(tmp_path)) for p in tree.rglob("*"))
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "c.mtd", tmp_path / "mnt", env=srv.env()) as m:
            r = run("cd %s && find data | cpio -o -H newc -B -O %s" % (tmp_path, m.tape),
                    shell=True)
            assert r.returncode == 0, r.stderr
        files = image_files(srv, "c.mtd", "mtd")
        assert len(files) == 1 and all(len(x) == 5120 for x in files[0][:-1])
        arc = tmp_path / "out.cpio"
        arc.write_bytes(tapeimg.payload(files))
        r = run(["cpio", "-it", "-F", str(arc)])
        assert r.returncode == 0, r.stderr
        assert sorted(n for n in r.stdout.split() if n != "data") == \
            sorted(n for n in names if n != "data")


def test_block_size_reblocks_dd_bs1000(tmp_path):
    need_mount_env("dd")
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(10240 * 50))
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "fb.mtd", tmp_path / "mnt", ["--block-size=10240"],
                   env=srv.env()) as m:
            r = _dd(src, m.tape, 1000)
            assert r.returncode == 0, r.stderr
        files = image_files(srv, "fb.mtd", "mtd")
        assert len(files) == 1 and len(files[0]) == 50
        assert all(len(x) == 10240 for x in files[0])
        assert tapeimg.payload(files) == src.read_bytes()


def test_mt_setblk_reblocks(tmp_path):
    need_mount_env("dd", "mt")
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(4096 * 10 + 100))
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "sb.mtd", tmp_path / "mnt", env=srv.env()) as m:
            assert run(["mt", "-f", str(m.tape), "setblk", "4096"]).returncode == 0
            r = _dd(src, m.tape, 333)
            assert r.returncode == 0, r.stderr
        files = image_files(srv, "sb.mtd", "mtd")
        assert [len(x) for x in files[0]] == [4096] * 11
        # The short last block is padded with zeros, as fixed blocks are.
        assert tapeimg.payload(files) == src.read_bytes() + bytes(4096 - 100)


def test_one_writer_trunc_and_lseek(tmp_path):
    need_mount_env()
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "w.mtd", tmp_path / "mnt", env=srv.env(),
                   allow_errors=[r"ioctl 0x12345678 on the tape is not supported",
                                 r"already open for writing"]) as m:
            fd = os.open(m.tape, os.O_WRONLY | os.O_TRUNC | os.O_CREAT)
            try:
                with pytest.raises(OSError) as e:
                    os.open(m.tape, os.O_WRONLY)
                assert e.value.errno == errno.EBUSY
                rfd = os.open(m.tape, os.O_RDONLY)  # mt status does this
                os.close(rfd)
                os.ftruncate(fd, 0)
                with pytest.raises(OSError) as e:
                    os.lseek(fd, 0, os.SEEK_SET)
                assert e.value.errno == errno.ESPIPE
                assert os.write(fd, b"abc") == 3
                with pytest.raises(OSError) as e:
                    fcntl.ioctl(fd, 0x12345678)
                assert e.value.errno in (errno.ENOTTY, errno.EINVAL)
            finally:
                os.close(fd)
            fd = os.open(m.tape, os.O_WRONLY)  # the writer is gone
            os.close(fd)
        files = image_files(srv, "w.mtd", "mtd")
        assert files == [[b"abc"]]


def test_capacity_early_warning_enospc_then_marks(tmp_path):
    need_mount_env("mt")
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "cap.mtd", tmp_path / "mnt", ["--capacity=100K"],
                   env=srv.env()) as m:
            fd = os.open(m.tape, os.O_WRONLY)
            written = 0
            try:
                while True:
                    try:
                        assert os.write(fd, b"c" * 10240) == 10240
                        written += 1
                    except OSError as e:
                        assert e.errno == errno.ENOSPC
                        break
                    assert written < 20, "no ENOSPC within twice the capacity"
                # Still ENOSPC, still nothing written; marks go on.
                with pytest.raises(OSError) as e:
                    os.write(fd, b"x")
                assert e.value.errno == errno.ENOSPC
                r = run(["mt", "-f", str(m.tape), "status"])
                assert "EOT" in r.stdout, r.stdout
                st = m.status()
                assert st["state"] == "full" and st["remaining"] == "0"
                # The refused write says why in status.
                assert "capacity" in st["last_error"] and "ENOSPC" in st["last_error"], st
                assert st["records"] == str(written)
                # weof on the writer's own descriptor (a second open for
                # writing would get EBUSY, as on st).
                fcntl.ioctl(fd, MTIOCTOP, struct.pack("hi", MTWEOF, 1))
            finally:
                os.close(fd)  # close writes no second mark: weof ended the file
        assert 8 <= written <= 10
        files = image_files(srv, "cap.mtd", "mtd")
        assert [len(f) for f in files] == [written]
        assert (srv.root / "cap.mtd").stat().st_size <= 100 * 1024


def test_status_survives_many_readers(tmp_path):
    """Many threads opening, reading and closing `status` at once, as the
    previous reel of a --next chain and a watching operator do. Each read
    must be a whole snapshot, and the daemon must stay up and clean: a
    reply sent from a snapshot that another worker's release had freed
    once crashed it under AddressSanitizer (the Mount fails on any
    sanitizer report and on a non-zero exit)."""
    import concurrent.futures
    need_mount_env()
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "st.mtd", tmp_path / "mnt", env=srv.env()) as m:
            def reader(n):
                for _ in range(n):
                    text = m.status_path.read_text()
                    assert text.startswith("url: ") and text.endswith("\n"), text
                    assert "last_error:" in text
                return n

            with concurrent.futures.ThreadPoolExecutor(8) as ex:
                assert sum(ex.map(reader, [400] * 8)) == 3200
            assert m.status()["state"] == "writing"
