"""Issue 8, point 5b: a 3-second vsftpd restart is ridden out, with
--retries=10, by an upload (the transfer library, as `reel send` uses it)
and by the drive: connection refused is retried with backoff, the log says
what it is waiting for, and the result is byte-identical. (The same while
publishing, and against pyftpdlib: test_xfer_integrity.py.)"""
import hashlib
import os
import subprocess
import threading
import time

import shipped
import tapeimg
from ftphelp import driver, file_sha, stream
from mount import Mount
from need import need_fuse, need_root, need_tool
from servers import Vsftpd

MiB = 1 << 20


def _wait(cond, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _outage(srv):
    """vsftpd down (listener and sessions) for 3 s, then up on its port,
    in a thread: the writer goes on meanwhile, so the sender meets the
    closed port. Returns the thread (join it)."""
    def run():
        shipped.stop(srv)
        time.sleep(3)  # the outage being simulated, not a synchronisation
        shipped.start(srv)
    t = threading.Thread(target=run)
    t.start()
    return t


def test_upload_rides_out_vsftpd_restart(tmp_path):
    need_root()
    need_tool("vsftpd")
    with Vsftpd(tmp_path / "srv") as srv:
        part = srv.root / "r.tap.part"
        p = subprocess.Popen([driver("xfer_send"), srv.url + "r.tap",
                              "--retries=10"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=srv.env())
        out = {}
        th = [threading.Thread(target=lambda: out.update(o=p.stdout.read())),
              threading.Thread(target=lambda: out.update(e=p.stderr.read()))]
        for t in th:
            t.start()
        h = hashlib.sha256()
        fed, down = 0, None
        try:
            for chunk in stream(81, 24 * MiB):
                h.update(chunk)
                p.stdin.write(chunk)
                p.stdin.flush()
                fed += len(chunk)
                if not down and fed >= 8 * MiB:
                    _wait(lambda: part.exists() and
                          part.stat().st_size >= 4 * MiB, "no upload")
                    down = _outage(srv)
            p.stdin.close()
            rc = p.wait(300)
        finally:
            if down:
                down.join()
            if p.poll() is None:
                p.kill()
                p.wait()
            for t in th:
                t.join()
        err = out["e"].decode(errors="replace")
        assert rc == 0, err
        assert "cannot connect" in err, err
        assert "for the server, then reconnecting" in err, err
        assert "resuming at byte" in err, err
        assert file_sha(srv.root / "r.tap") == h.hexdigest()


def test_drive_rides_out_vsftpd_restart(tmp_path):
    need_root()
    need_fuse()
    need_tool("vsftpd")
    with Vsftpd(tmp_path / "srv") as srv:
        part = srv.root / "d.mtd.part"
        records = [os.urandom(65536) for _ in range(16)]
        m = Mount(srv.url + "d.mtd", tmp_path / "mnt",
                  args=["--retries=10"], env=srv.env(),
                  allow_errors=[r"for the server, then reconnecting",
                                r"reconnected; resuming", r"sending again"])
        down = None
        with m:
            fd = os.open(m.tape, os.O_WRONLY)
            try:
                for i in range(128):
                    os.write(fd, records[i % 16])
                os.fsync(fd)
                _wait(lambda: part.exists() and part.stat().st_size >= 4 * MiB,
                      "nothing reached the server")
                down = _outage(srv)
                for i in range(128, 256):
                    os.write(fd, records[i % 16])
            finally:
                os.close(fd)
                if down:
                    down.join()
        assert m.returncode == 0, m.stderr
        assert "for the server, then reconnecting" in m.stderr, m.stderr
        assert "cannot connect" in m.stderr, m.stderr
        files, eod = tapeimg.parse((srv.root / "d.mtd").read_bytes(), "mtd")
        assert eod
        assert files == [[records[i % 16] for i in range(256)]]
