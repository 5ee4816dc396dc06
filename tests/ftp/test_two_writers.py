"""Issue 8, point 5a: two uploads to one URL never damage each other.
While a first upload is live, a second (`reel send`, the drive, anything
through the transfer library) is refused before any data: by default
because NAME.part exists, and under --overwrite=always because NAME.part
is still growing. The first is then published intact. A stale NAME.part
left by an interrupted upload is reported, kept under --overwrite=never
and replaced under --overwrite=always. On vsftpd (whose second STOR waits
for the first and then truncates it) and pyftpdlib (no upload locks)."""
import hashlib
import os
import pathlib
import subprocess
import threading
import time

import pytest

from ftphelp import driver, file_sha, send, stream
from need import build_dir, need_binary, need_root, need_tool
from servers import FaultFtpd, Vsftpd

MiB = 1 << 20


def server(kind, tmp_path):
    if kind == "vsftpd":
        need_root()
        need_tool("vsftpd")
        return Vsftpd(tmp_path / "srv")
    return FaultFtpd(tmp_path / "srv")


def _wait(cond, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


class SlowWriter:
    """xfer_send fed by a thread at about 5 MiB/s until stop()."""

    def __init__(self, url, env, args=()):
        self.p = subprocess.Popen([driver("xfer_send"), url, *args],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env)
        self.sha = hashlib.sha256()
        self.fed = 0
        self._stop = threading.Event()
        self.out = {}
        self.th = [threading.Thread(target=self._feed),
                   threading.Thread(target=lambda: self.out.update(
                       o=self.p.stdout.read())),
                   threading.Thread(target=lambda: self.out.update(
                       e=self.p.stderr.read()))]
        for t in self.th:
            t.start()

    def _feed(self):
        try:
            for chunk in stream(71, 64 * MiB):
                for i in range(0, len(chunk), 256 << 10):
                    if self._stop.is_set():
                        return
                    piece = chunk[i:i + (256 << 10)]
                    self.p.stdin.write(piece)
                    self.p.stdin.flush()
                    self.sha.update(piece)
                    self.fed += len(piece)
                    time.sleep(0.05)  # pacing the producer, not synchronising
        except (BrokenPipeError, ValueError):
            pass
        finally:
            try:
                self.p.stdin.close()
            except (BrokenPipeError, ValueError):
                pass

    def finish(self):
        self._stop.set()
        rc = self.p.wait(120)
        for t in self.th:
            t.join()
        return rc, self.out.get("e", b"").decode(errors="replace")

    def kill(self):
        self._stop.set()
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for t in self.th:
            t.join()


@pytest.mark.parametrize("kind", ["vsftpd", "pyftpdlib"])
def test_second_writer_refused_first_published_intact(tmp_path, kind):
    with server(kind, tmp_path) as srv:
        url = srv.url + "w.tap"
        part = srv.root / "w.tap.part"
        a = SlowWriter(url, srv.env())
        try:
            _wait(lambda: part.exists() and part.stat().st_size >= MiB,
                  "the first upload never started")
            t0 = time.monotonic()
            b = send(url, size=3 * MiB, seed=72, env=srv.env())
            assert b.rc == 1, b
            assert "w.tap.part already exists" in b.err, b.err
            assert "another upload to this name is running now" in b.err
            assert "nothing was written" in b.err
            assert time.monotonic() - t0 < 10
            # --overwrite=always: still refused, the .part is growing
            b = send(url, ["--overwrite=always"], size=3 * MiB, seed=73,
                     env=srv.env())
            assert b.rc == 1, b
            assert "being written by another upload right now" in b.err, b.err
            rc, err = a.finish()
        finally:
            a.kill()
        assert rc == 0, err
        assert file_sha(srv.root / "w.tap") == a.sha.hexdigest()
        assert not part.exists()


def test_second_reel_send_refused(tmp_path):
    """The same through `reel send` (the drive opens uploads the same way)."""
    reel = need_binary(pathlib.Path(build_dir()) / "tools" / "reel")
    with FaultFtpd(tmp_path / "srv") as srv:
        url = srv.url + "r.mtd"
        part = srv.root / "r.mtd.part"
        a = SlowWriter(url, srv.env())
        try:
            _wait(lambda: part.exists() and part.stat().st_size >= MiB,
                  "the first upload never started")
            r = subprocess.run([reel, "send", url], input=b"x" * 100000,
                               capture_output=True, env=srv.env(), timeout=60)
            assert r.returncode != 0
            err = r.stderr.decode(errors="replace")
            assert "r.mtd.part already exists" in err, err
            rc, err = a.finish()
        finally:
            a.kill()
        assert rc == 0, err
        assert file_sha(srv.root / "r.mtd") == a.sha.hexdigest()


@pytest.mark.parametrize("kind", ["vsftpd", "pyftpdlib"])
def test_stale_part_reported_and_replaced_only_as_allowed(tmp_path, kind):
    with server(kind, tmp_path) as srv:
        stale = srv.root / "s.tap.part"
        stale.write_bytes(b"left by a crash" * 1000)
        if kind == "vsftpd":
            import pwd
            pw = pwd.getpwnam(srv.user)
            os.chown(stale, pw.pw_uid, pw.pw_gid)
        old = stale.read_bytes()
        r = send(srv.url + "s.tap", size=MiB, seed=74, env=srv.env())
        assert r.rc == 1, r
        assert "s.tap.part already exists (15000 bytes" in r.err, r.err
        assert stale.read_bytes() == old
        assert not (srv.root / "s.tap").exists()
        r = send(srv.url + "s.tap", ["--overwrite=always"], size=MiB, seed=74,
                 env=srv.env())
        assert r.rc == 0, r
        assert "replacing s.tap.part (15000 bytes" in r.err, r.err
        assert file_sha(srv.root / "s.tap") == r.sha


def test_name_published_meanwhile_is_not_replaced(tmp_path):
    """--overwrite=always replaces what was there at the start, never what
    another upload published while this one was sending."""
    with FaultFtpd(tmp_path / "srv") as srv:
        url = srv.url + "p.tap"
        part = srv.root / "p.tap.part"
        a = SlowWriter(url, srv.env(), ["--overwrite=always"])
        try:
            _wait(lambda: part.exists() and part.stat().st_size >= MiB,
                  "the upload never started")
            # another writer publishes p.tap meanwhile (by hand here)
            (srv.root / "p.tap").write_bytes(b"the other backup")
            rc, err = a.finish()
        finally:
            a.kill()
        assert rc == 1, err
        assert "p.tap was published by another upload while this one was " \
            "sending" in err, err
        assert (srv.root / "p.tap").read_bytes() == b"the other backup"
        assert part.exists()
