"""close() of the tape waits for what it wrote to leave reelfs, as a real
drive flushes its buffer when it writes the filemark at close: a backup
smaller than --buffer whose server fills up, or whose connection drops
and cannot be resumed, fails the writer's close (dd, tar, fsync, MTWEOF)
instead of succeeding with the failure reported only by the log and the
exit status. Many small tape files in a row still come out right.

The fault server is throttled so that its failure comes well after the
writer has handed over its last record (a 20 MB backup fits in the 64 MiB
queue in milliseconds): without the wait in close, the writer would exit 0.
Against vsftpd and the fault-injecting pyftpdlib server on 127.0.0.1."""
import contextlib
import errno
import fcntl
import os
import struct
import time

import pytest

import tapeimg
from fscommon import (Mount, image_files, make_tree, need_mount_env, run,
                      vsftpd)

MB = 1000 * 1000
MTIOCTOP = 0x40086d01  # _IOW('m', 1, struct mtop)
MTWEOF = 5
# The server takes 2 MB/s: it reaches 3 MB after about 1.5 s, long after
# the 20 MB were accepted, and at most some 10 MB can sit in the loopback
# socket buffers by then, so the last bytes were never handed over.
THROTTLE = 2 * 1000 * 1000


@contextlib.contextmanager
def faultftpd(tmp_path, **kw):
    import servers
    with servers.FaultFtpd(tmp_path / "fault", **kw) as srv:
        yield srv


def _write_records(tape, data, bs=65536, then=None):
    """Writes data as records on a descriptor; then(fd) runs before close.
    Returns the close's errno (0 when it succeeded)."""
    fd = os.open(tape, os.O_WRONLY)
    try:
        for i in range(0, len(data), bs):
            assert os.write(fd, data[i:i + bs]) == len(data[i:i + bs])
        if then:
            then(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise
    try:
        os.close(fd)
    except OSError as e:
        return e.errno
    return 0


def _fsync_fails(fd):
    with pytest.raises(OSError) as e:
        os.fsync(fd)
    assert e.value.errno == errno.EIO


def _weof_fails(fd):
    with pytest.raises(OSError) as e:
        fcntl.ioctl(fd, MTIOCTOP, struct.pack("hi", MTWEOF, 1))
    assert e.value.errno == errno.EIO


@pytest.mark.parametrize("writer", ["dd", "tar", "fsync", "weof"])
def test_server_full_after_the_last_write_fails_the_close(tmp_path, writer):
    need_mount_env("dd", "tar")
    src = tmp_path / "src.bin"
    data = os.urandom(20 * MB)
    src.write_bytes(data)
    with faultftpd(tmp_path, full_at=3 * MB, throttle=THROTTLE) as full:
        m = Mount(full.url + "f.mtd", tmp_path / "mnt", env=full.env(),
                  expect_ok=False)
        with m:
            if writer == "dd":
                r = run(["dd", "if=%s" % src, "of=%s" % m.tape, "bs=64k"])
                assert r.returncode != 0, r.stderr
                # Every write was taken; the close is what fails.
                assert "closing output file" in r.stderr, r.stderr
                assert "Input/output error" in r.stderr, r.stderr
            elif writer == "tar":
                r = run(["tar", "-cf", str(m.tape), "-C", str(tmp_path), "src.bin"])
                assert r.returncode != 0, r.stderr
                assert "Cannot close: Input/output error" in r.stderr, r.stderr
            elif writer == "fsync":
                assert _write_records(m.tape, data, then=_fsync_fails) == errno.EIO
            else:
                assert _write_records(m.tape, data, then=_weof_fails) == errno.EIO
            st = m.status()
            assert st["state"] == "failed", st
            assert m.unmount() != 0
        assert not (full.root / "f.mtd").exists()
        assert (full.root / "f.mtd.part").stat().st_size == 3 * MB
        assert "could not be stored" in m.stderr, m.stderr


def test_unresumable_drop_after_the_last_write_fails_the_close(tmp_path):
    """The data connection drops at 2 MB and the server then refuses every
    new login, so the upload cannot resume: dd's close fails."""
    need_mount_env("dd")
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(20 * MB))
    with faultftpd(tmp_path, drops=(2 * MB,), throttle=THROTTLE,
                   refuse_login_after_drop=True) as srv:
        m = Mount(srv.url + "d.mtd", tmp_path / "mnt", ["--retries=2"],
                  env=srv.env(), expect_ok=False)
        with m:
            r = run(["dd", "if=%s" % src, "of=%s" % m.tape, "bs=64k"])
            assert r.returncode != 0, r.stderr
            assert "closing output file" in r.stderr, r.stderr
            assert "Input/output error" in r.stderr, r.stderr
            st = m.status()
            assert st["state"] == "failed", st
            assert st["last_error"], st
            assert m.unmount() != 0
        assert not (srv.root / "d.mtd").exists()
        assert (srv.root / "d.mtd.part").stat().st_size == 2 * MB
        assert "refusing a login after the drop" in srv.log.read_text()
        assert "so the upload cannot resume" in m.stderr, m.stderr


def test_many_small_tape_files_in_a_row(tmp_path):
    """20 x `tar -cf MOUNT/tape smalldir`: every close waits for its bytes
    to go out, and the image holds 20 tape files, each the same archive."""
    need_mount_env("tar")
    make_tree(tmp_path / "small", nfiles=3, size=5000, seed=9)
    ref = run(["tar", "-cf", "-", "-C", str(tmp_path), "small"],
              capture_output=True, text=False)
    assert ref.returncode == 0
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "many.mtd", tmp_path / "mnt", env=srv.env()) as m:
            for i in range(20):
                r = run(["tar", "-cf", str(m.tape), "-C", str(tmp_path), "small"])
                assert r.returncode == 0, "tar %d: %s" % (i, r.stderr)
            # Each close waited for its records to go out; the mark that
            # ends the tape file comes at release, which the kernel sends
            # just after close() returned, and goes out at once.
            deadline = time.monotonic() + 60
            while True:
                st = m.status()
                if st["files"] == "20" and st["sent"] == st["image_bytes"]:
                    break
                assert time.monotonic() < deadline, st
                time.sleep(0.02)
            assert run(["mt", "-f", str(m.tape), "offline"]).returncode == 0
        files = image_files(srv, "many.mtd", "mtd")
    assert len(files) == 20
    for i, recs in enumerate(files):
        assert all(len(r) == 10240 for r in recs), i
        assert b"".join(recs) == ref.stdout, "tape file %d differs" % i
    assert tapeimg.payload(files) == ref.stdout * 20
