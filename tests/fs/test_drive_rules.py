"""The drive where tools look at it: tape marks obey --capacity and a
weof count is bounded; the daemon keeps no inherited descriptor and
refuses a mount point that is not a directory; `mt eod` succeeds, `mt asf`
is refused before anything is rewound; refusals show in `status`;
`stat MOUNT/tape` shows the image bytes so far and a moving mtime; reading
the tape fails with a reason the reader sees. Real mounts against vsftpd
on 127.0.0.1."""
import errno
import fcntl
import os
import select
import struct
import subprocess
import time

import pytest

from fscommon import (Mount, image_files, is_mounted, need_mount_env,
                      published, reelfs_binary, run, vsftpd)

MTIOCTOP = 0x40086d01  # _IOW('m', 1, struct mtop)
MTWEOF = 5


def _weof(fd, n):
    fcntl.ioctl(fd, MTIOCTOP, struct.pack("hi", MTWEOF, n))


def test_marks_obey_capacity_and_weof_is_bounded(tmp_path):
    need_mount_env()
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "cap.mtd", tmp_path / "mnt", ["--capacity=100K"],
                   env=srv.env(),
                   allow_errors=[r"does not fit within the capacity",
                                 r"mt weof -?\d+ refused"]) as m:
            fd = os.open(m.tape, os.O_WRONLY)
            try:
                for bad in (-1, 1000001, 2147483647):
                    with pytest.raises(OSError) as e:
                        _weof(fd, bad)
                    assert e.value.errno == errno.EINVAL
                assert "weof" in m.status()["last_error"]
                while True:
                    try:
                        os.write(fd, b"c" * 10240)
                    except OSError as e:
                        assert e.errno == errno.ENOSPC
                        break
                # After the early warning, marks still fit for a while,
                # then one that would cross the capacity gets ENOSPC.
                with pytest.raises(OSError) as e:
                    _weof(fd, 100000)
                assert e.value.errno == errno.ENOSPC
                st = m.status()
                assert int(st["image_bytes"]) <= 100 * 1024, st
                assert "capacity" in st["last_error"], st
                with pytest.raises(OSError) as e:
                    _weof(fd, 1)
                assert e.value.errno == errno.ENOSPC
            finally:
                os.close(fd)
            assert os.stat(m.tape).st_size <= 100 * 1024
        # The marks that fitted stayed within the capacity (100000 marks
        # would be 400000 bytes), and the image still ends with its end
        # of data.
        data = published(srv, "cap.mtd")
        assert len(data) <= 100 * 1024
        assert data.endswith(bytes(8))


def test_daemon_keeps_no_inherited_descriptor(tmp_path):
    """A daemon that kept an inherited pipe's write end (tar -M -F script
    mounting the next reel keeps TAR_FD open) would keep the reader of
    that pipe waiting forever."""
    need_mount_env()
    with vsftpd(tmp_path) as srv:
        mnt = tmp_path / "mnt"
        mnt.mkdir()
        r, w = os.pipe()
        os.set_inheritable(w, True)
        try:
            p = subprocess.Popen([reelfs_binary(), srv.url + "fd.mtd", str(mnt)],
                                 env=srv.env(), pass_fds=(w,),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
            assert is_mounted(mnt)
            os.close(w)
            w = -1
            # Our copy is closed: EOF unless the daemon kept one.
            ready, _, _ = select.select([r], [], [], 10)
            assert ready, "the daemon kept the inherited pipe open"
            assert os.read(r, 1) == b""
        finally:
            if w >= 0:
                os.close(w)
            os.close(r)
            if is_mounted(mnt):
                run(["fusermount3", "-u", str(mnt)])
        published(srv, "fd.mtd")  # the daemon finished and published


def test_tar_multivolume_script_mounting_the_next_reel_does_not_hang(tmp_path):
    """tar -M -F script: the script unmounts the full reel and mounts the
    next one at the same place, so it names no new archive, and tar reads
    the script's pipe (TAR_FD) until EOF. The daemon the script started
    inherits that pipe's write end: it must close it, or tar hangs."""
    need_mount_env("tar", "fusermount3")
    data = tmp_path / "data"
    data.mkdir()
    (data / "big.bin").write_bytes(os.urandom(300 * 1024))
    with vsftpd(tmp_path) as srv:
        mnt = tmp_path / "mnt"
        script = tmp_path / "next.sh"
        script.write_text("#!/bin/sh\nfusermount3 -u %s || exit 1\n"
                          "exec %s --capacity=400K %sv2.tar %s\n"
                          % (mnt, reelfs_binary(), srv.url, mnt))
        script.chmod(0o755)
        # Mount unmounts whatever is mounted there at the end (reel 2),
        # then waits for reel 1's daemon.
        with Mount(srv.url + "v1.tar", mnt, ["--capacity=200K"], env=srv.env()):
            try:
                t = subprocess.run(["tar", "-M", "-F", str(script), "-b", "20", "-c",
                                    "-f", str(mnt / "tape"), "-C", str(tmp_path), "data"],
                                   env=srv.env(), capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL, timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail("tar hung waiting for its volume script's pipe")
            assert t.returncode == 0, t.stderr
        published(srv, "v1.tar")
        published(srv, "v2.tar")
        assert len(image_files(srv, "v2.tar", "mtd")[0]) > 0


def test_mount_point_not_a_directory_is_refused_first(tmp_path):
    need_mount_env()
    with vsftpd(tmp_path) as srv:
        f = tmp_path / "afile"
        f.write_text("x")
        try:
            r = run([reelfs_binary(), "-f", srv.url + "nd.mtd", str(f)],
                    env=srv.env(), timeout=30)
        finally:
            if is_mounted(f):
                run(["fusermount3", "-u", "-z", str(f)])
        assert r.returncode != 0
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and "is not a directory" in lines[0], r.stderr
        assert not is_mounted(f)
        assert not any(p.name.startswith("nd.mtd") for p in srv.root.iterdir())


def test_mt_eod_asf_and_refusals_in_status(tmp_path):
    need_mount_env("mt", "dd")
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "mt.mtd", tmp_path / "mnt", env=srv.env(),
                   allow_errors=[r"mt asf 2", r"larger than the largest record",
                                 r"rewound or unloaded"]) as m:
            with open(m.tape, "wb", buffering=0) as t:
                t.write(b"a" * 1000)
            r = run(["mt", "-f", str(m.tape), "eod"])
            assert r.returncode == 0, r.stderr
            # asf is a rewind, then a forward space: refused, and the
            # rewind did not finish the volume.
            r = run(["mt", "-f", str(m.tape), "asf", "2"])
            assert r.returncode != 0
            st = m.status()
            assert st["state"] == "writing", st
            assert "asf 2" in st["last_error"], st
            with open(m.tape, "wb", buffering=0) as t:
                t.write(b"b" * 1000)
                # A refused write shows in status too.
                # The kernel hands over a piece and reports a short
                # count; the retried rest is refused (as dd sees it).
                with pytest.raises(OSError) as e:
                    big = b"x" * (5 << 20)
                    while big:
                        big = big[t.write(big):]
                assert e.value.errno == errno.EINVAL
            assert "larger than" in m.status()["last_error"]
            assert not (srv.root / "mt.mtd").exists()
            # A plain rewind still finishes the volume before mt returns.
            r = run(["mt", "-f", str(m.tape), "rewind"])
            assert r.returncode == 0, r.stderr
            assert (srv.root / "mt.mtd").exists()
            assert m.status()["state"] == "published"
        assert image_files(srv, "mt.mtd", "mtd") == [[b"a" * 1000], [b"b" * 1000]]


def test_stat_shows_progress_and_reading_says_why_not(tmp_path):
    need_mount_env("dd")
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "st.mtd", tmp_path / "mnt", env=srv.env(),
                   allow_errors=[r"reading the tape is not supported"]) as m:
            s0 = os.stat(m.tape)
            assert s0.st_size == 0
            fd = os.open(m.tape, os.O_WRONLY)
            try:
                os.write(fd, b"x" * 10000)
                s1 = os.stat(m.tape)
                assert s1.st_size >= 10000, s1
                assert s1.st_mtime_ns > s0.st_mtime_ns
                os.write(fd, b"y" * 10000)
                s2 = os.stat(m.tape)
                assert s2.st_size >= s1.st_size + 10000
                assert s2.st_mtime_ns > s1.st_mtime_ns
                r = run(["ls", "-l", str(m.tape)])
                assert str(s2.st_size) in r.stdout, r.stdout
            finally:
                os.close(fd)
            r = run(["dd", "if=%s" % m.tape, "of=/dev/null", "count=1"])
            assert r.returncode != 0
            assert "Operation not supported" in r.stderr, r.stderr
            assert "reel cat" in m.status()["last_error"]
        assert "reel cat" in m.stderr


_WEOF_WRITER = """
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
rec = os.urandom(65536)
for _ in range(512):  # 32 MiB: into the 64 MiB queue at once, and far
    os.write(fd, rec)  # more than loopback socket buffers take
print("written", flush=True)
try:
    fcntl.ioctl(fd, 0x40086d01, struct.pack("hi", 5, 1))
    print("weof ok", flush=True)
except OSError as e:
    print("weof", e.errno, flush=True)
try:
    os.close(fd)
except OSError:
    pass
"""


def test_mt_status_never_waits_behind_a_waiting_writer(tmp_path):
    """The writer's MTWEOF waits for the upload (the server stopped
    reading) while holding the drive; `mt status` (open, MTIOCGET, close)
    must still answer at once: the close of a descriptor that is not the
    writer's takes no drive lock. The writer is another process: any
    process that holds the writer's descriptor and starts a program
    closes it in the child, and that close does wait, as it must."""
    need_mount_env("mt")
    import sys
    import servers
    with servers.FaultFtpd(tmp_path / "fault", stalls=(1000 * 1000,)) as srv:
        m = Mount(srv.url + "bp.mtd", tmp_path / "mnt",
                  ["--retries=0", "--stall-timeout=8"], env=srv.env(), expect_ok=False)
        with m:
            w = subprocess.Popen([sys.executable, "-c", _WEOF_WRITER, str(m.tape)],
                                 stdout=subprocess.PIPE, text=True)
            try:
                assert w.stdout.readline().strip() == "written"
                # Wait until the upload is stuck: nothing sent for 1 s.
                deadline = time.monotonic() + 30
                last, since = -1, time.monotonic()
                while True:
                    n = int(m.status()["sent"])
                    if n != last:
                        last, since = n, time.monotonic()
                    elif time.monotonic() - since > 1.0:
                        break
                    assert time.monotonic() < deadline, "the upload never got stuck"
                    time.sleep(0.05)
                assert w.poll() is None, "the mark did not wait for the upload"
                t0 = time.monotonic()
                r = run(["mt", "-f", str(m.tape), "status"], timeout=60)
                took = time.monotonic() - t0
                assert r.returncode == 0, r.stderr
                assert took < 2, "mt status waited %.1f s behind the writer" % took
                assert w.poll() is None, "the test did not overlap the wait"
            finally:
                out, _ = w.communicate(timeout=120)
            assert out.strip() == "weof 5", out


@pytest.mark.parametrize("fmt,largest", [("mtd", 4 << 20), ("aws", 2 << 20)])
def test_mt_setblk_agrees_with_block_size(tmp_path, fmt, largest):
    """`mt setblk` takes the same largest record as --block-size (4 MiB,
    2 MiB for aws and het); one byte more is refused and says so."""
    need_mount_env("mt")
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "sb." + fmt, tmp_path / "mnt", env=srv.env(),
                   allow_errors=[r"mt setblk \d+ refused"]) as m:
            r = run(["mt", "-f", str(m.tape), "setblk", str(largest + 1)])
            assert r.returncode != 0
            assert "setblk %d refused" % (largest + 1) in m.status()["last_error"]
            r = run(["mt", "-f", str(m.tape), "setblk", str(largest)])
            assert r.returncode == 0, r.stderr
            r = run(["mt", "-f", str(m.tape), "status"])
            assert "Tape block size %d bytes" % largest in r.stdout, r.stdout
        # The option agrees: one byte more is refused before anything.
        (tmp_path / "mnt2").mkdir()
        try:
            p = subprocess.run([reelfs_binary(), "-f", "--block-size=%d" % (largest + 1),
                                srv.url + "bs." + fmt, str(tmp_path / "mnt2")],
                               env=srv.env(), capture_output=True, text=True, timeout=30)
        finally:
            if is_mounted(tmp_path / "mnt2"):
                run(["fusermount3", "-u", "-z", str(tmp_path / "mnt2")])
        assert p.returncode != 0 and "block" in p.stderr, p.stderr
