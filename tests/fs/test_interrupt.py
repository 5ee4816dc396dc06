"""A signal while a writer holds the tape open in the middle of a tape
file (records since its last mark) must not publish what is, to that
writer, a cut-off archive: the reel stays NAME.part, the log says why and
the daemon exits non-zero. (With no writer open a signal finishes the
volume cleanly: test_tar.test_signal_finishes_the_volume.) A long
`mt weof N` stops on a signal instead of holding the drive. Real mounts
against vsftpd and the throttled fault server on 127.0.0.1."""
import contextlib
import fcntl
import os
import signal
import struct
import subprocess
import threading
import time

import pytest

from fscommon import Mount, make_tree, need_mount_env, vsftpd

MTIOCTOP = 0x40086d01  # _IOW('m', 1, struct mtop)
MTWEOF = 5


def _poll(cond, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_signal_while_tar_writes_leaves_part(tmp_path, sig):
    need_mount_env("tar")
    tree = make_tree(tmp_path / "data", nfiles=6, size=20000)
    names = sorted(str(p.relative_to(tmp_path)) for p in tree.rglob("*") if p.is_file())
    with vsftpd(tmp_path) as srv:
        m = Mount(srv.url + "cut.tar", tmp_path / "mnt", env=srv.env(), expect_ok=False)
        with m:
            # tar reads the names to archive from a pipe we control, so it
            # holds the tape open, mid-archive, for as long as we like.
            tar = subprocess.Popen(["tar", "-c", "-b", "1", "-f", str(m.tape),
                                    "-C", str(tmp_path), "-T", "-"],
                                   stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
            try:
                for n in names[:3]:
                    tar.stdin.write((n + "\n").encode())
                tar.stdin.flush()
                _poll(lambda: int(m.status()["records"]) >= 40,
                      "tar never wrote its first files")
                os.kill(m.pid, getattr(signal, sig))
                m.proc.wait(timeout=60)
            finally:
                with contextlib.suppress(OSError):
                    tar.stdin.close()
                try:
                    tar.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    tar.kill()
                    tar.wait()
                tar.stderr.close()
        assert m.returncode != 0, m.stderr
        assert not (srv.root / "cut.tar").exists()
        assert (srv.root / "cut.tar.part").exists()
        assert "interrupted" in m.stderr and "since the last tape mark" in m.stderr, m.stderr
        assert "stays cut.tar.part" in m.stderr, m.stderr
        assert m.sanitizer_reports() == []


def test_weof_loop_stops_on_a_signal(tmp_path):
    """mt weof 1000000 at 4 bytes a mark into a server taking 200 kB/s
    would hold the drive some 20 s; SIGTERM ends it at once."""
    need_mount_env()
    import servers
    with servers.FaultFtpd(tmp_path / "fault", throttle=200 * 1000) as srv:
        m = Mount(srv.url + "w.mtd", tmp_path / "mnt", ["--buffer=1M", "--replay=256K"],
                  env=srv.env(), expect_ok=False)
        with m:
            fd = os.open(m.tape, os.O_WRONLY)
            result = {}

            def weof():
                try:
                    fcntl.ioctl(fd, MTIOCTOP, struct.pack("hi", MTWEOF, 1000000))
                    result["rc"] = 0
                except OSError as e:
                    result["rc"] = e.errno

            t = threading.Thread(target=weof)
            try:
                os.write(fd, b"r" * 4096)
                t.start()
                _poll(lambda: int(m.status()["image_bytes"]) > 100000,
                      "no marks were written")
                t0 = time.monotonic()
                os.kill(m.pid, signal.SIGTERM)
                m.proc.wait(timeout=60)
                took = time.monotonic() - t0
            finally:
                t.join(timeout=60)
                with contextlib.suppress(OSError):
                    os.close(fd)
        assert not t.is_alive()
        assert result.get("rc", 0) != 0, result
        # Stopped within a few seconds (finishing drains at most the 1 MiB
        # queue at 200 kB/s), not after the 20 s the loop would take.
        assert took < 12, (took, m.stderr)
        assert "stopped after" in m.stderr, m.stderr
        assert m.sanitizer_reports() == []
        size = max((p.stat().st_size for p in srv.root.iterdir()
                    if p.name.startswith("w.mtd") and not p.name.endswith(".json")),
                   default=0)
        assert 0 < size < 4 * 1000000
