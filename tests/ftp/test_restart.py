"""Issue 8, point 5b: a 3-second vsftpd restart is ridden out, with
--retries=10, by an upload (the transfer library, which `reel send` and
the drive use): connection refused is retried with backoff, the log says
what it is waiting for, and the result is byte-identical. (The same while
publishing and before the manifest, and against pyftpdlib:
test_xfer_integrity.py.)"""
import hashlib
import subprocess
import threading
import time

import shipped
from ftphelp import driver, file_sha, stream
from need import need_root, need_tool
from servers import Vsftpd
from mount import wait_until as _wait

MiB = 1 << 20


class Outage:
    """vsftpd down (listener and sessions) for 3 s, then up on its port
    again, run by a thread of its own while the writer goes on (so the
    sender meets the closed port). The thread lives until close():
    vsftpd asks for SIGTERM when the thread that started it ends."""

    def __init__(self, srv):
        self.srv = srv
        self.up = threading.Event()
        self.done = threading.Event()
        self.error = None
        self.t = threading.Thread(target=self._run)
        self.t.start()

    def _run(self):
        try:
            shipped.stop(self.srv)
            time.sleep(3)  # the outage being simulated, not a synchronisation
            shipped.start(self.srv)
        except Exception as e:  # reported by close()
            self.error = e
        finally:
            self.up.set()
        self.done.wait()

    def is_down(self):
        return not self.up.is_set()

    def close(self):
        self.up.wait(60)
        self.done.set()
        self.t.join()
        if self.error:
            raise self.error


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
                    down = Outage(srv)
                if down and down.is_down():
                    # Data keeps coming while the server is away, so the
                    # sender meets the closed port (paced, about 20 MB/s).
                    time.sleep(0.05)
            p.stdin.close()
            rc = p.wait(300)
        finally:
            if down:
                down.close()
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
