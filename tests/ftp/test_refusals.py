"""Issue 8, points 6, 7 and 11: servers that refuse things.

6. ProFTPD as Debian ships it (AllowStoreRestart off) answers 451 to a
   resume: with every byte still held the upload starts again from byte 0;
   otherwise it fails with a sentence that is true (what the server holds).
7. A refused SIZE (ProFTPD's <Limit SIZE> 550, aioftp-like 502) is not
   absence: --overwrite=never still sees an existing file and publishing
   works (MLST, else the directory listing); messages name the refusal.
11. vsftpd's "530 Non-anonymous sessions must use encryption" says the
   server wants TLS and how to ask for it, not "login refused".
Real ProFTPD (tests/lib/shipped.py), vsftpd and pyftpdlib on 127.0.0.1.
"""
import subprocess
import threading
import time

import pytest

import shipped
from ftphelp import driver, file_sha, send, stream
from need import need_root, need_tool
from servers import FaultFtpd, Vsftpd
from mount import wait_until as _wait

MiB = 1 << 20


def proftpd(tmp_path, **kw):
    need_root()
    shipped.need(shipped.ProFTPD)
    return shipped.ProFTPD(tmp_path / "srv", **kw)


def send_with_session_kill(srv, name, size, kill_at, args=(), seed=61):
    """Runs xfer_send, feeding it up to kill_at + 1 MiB bytes, then kills
    the server's live sessions once NAME.part holds kill_at bytes, then
    feeds the rest. Returns (rc, stderr, sha of what was sent)."""
    import hashlib
    p = subprocess.Popen([driver("xfer_send"), srv.url + name, *args],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=srv.env())
    out = {}
    th = [threading.Thread(target=lambda: out.update(o=p.stdout.read())),
          threading.Thread(target=lambda: out.update(e=p.stderr.read()))]
    for t in th:
        t.start()
    h = hashlib.sha256()
    part = srv.root / (name + ".part")
    fed, killed = 0, False
    try:
        for chunk in stream(seed, size):
            h.update(chunk)
            try:
                p.stdin.write(chunk)
                p.stdin.flush()
            except BrokenPipeError:
                break
            fed += len(chunk)
            if not killed and fed >= kill_at + MiB:
                _wait(lambda: part.exists() and
                      part.stat().st_size >= kill_at,
                      "%s never reached %d bytes" % (part, kill_at))
                assert srv.kill_sessions() >= 1
                killed = True
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
        rc = p.wait(300)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        for t in th:
            t.join()
    return rc, out["e"].decode(errors="replace"), h.hexdigest()


def test_proftpd_rest_refused_starts_again_from_zero(tmp_path):
    with proftpd(tmp_path) as srv:
        rc, err, sha = send_with_session_kill(srv, "a.tap", 16 * MiB, 4 * MiB)
        assert rc == 0, err
        assert "refused to resume a.tap.part" in err, err
        assert "Append/Restart not permitted" in err, err
        assert "starts again from byte 0" in err, err
        assert file_sha(srv.root / "a.tap") == sha
        assert not (srv.root / "a.tap.part").exists()


def test_proftpd_rest_refused_beyond_window_true_sentence(tmp_path):
    with proftpd(tmp_path) as srv:
        rc, err, sha = send_with_session_kill(
            srv, "b.tap", 24 * MiB, 12 * MiB,
            args=["--buffer", "8M", "--replay", "4M"])
        assert rc == 1, err
        assert "refused to resume b.tap.part" in err, err
        assert "cannot start again from byte 0" in err, err
        held = (srv.root / "b.tap.part").stat().st_size
        assert "%d bytes are safe on the server in b.tap.part" % held in err
        assert not (srv.root / "b.tap").exists()


def test_proftpd_size_refused_is_not_absence(tmp_path):
    with proftpd(tmp_path, limit_size=True) as srv:
        r = send(srv.url + "s.tap", size=3 * MiB + 7, seed=62, env=srv.env())
        assert r.rc == 0, r
        assert file_sha(srv.root / "s.tap") == r.sha
        # --overwrite=never sees it although SIZE is refused
        r2 = send(srv.url + "s.tap", size=100, seed=63, env=srv.env())
        assert r2.rc == 1, r2
        assert "already exists (%d bytes" % (3 * MiB + 7) in r2.err, r2.err
        assert file_sha(srv.root / "s.tap") == r.sha
        r3 = send(srv.url + "s.tap", ["--overwrite=always"], size=1000,
                  seed=64, env=srv.env())
        assert r3.rc == 0, r3
        assert file_sha(srv.root / "s.tap") == r3.sha


@pytest.mark.parametrize("refuse", ["SIZE=550", "SIZE=502,MLST=502"])
def test_pyftpdlib_size_refused(tmp_path, refuse):
    with FaultFtpd(tmp_path / "srv", extra=["--refuse", refuse]) as srv:
        r = send(srv.url + "t.tap", size=2 * MiB + 3, seed=65, env=srv.env())
        assert r.rc == 0, r
        assert file_sha(srv.root / "t.tap") == r.sha
        assert "refusing SIZE" in srv.log.read_text()
        r2 = send(srv.url + "t.tap", size=10, seed=66, env=srv.env())
        assert r2.rc == 1, r2
        assert "already exists (%d bytes" % (2 * MiB + 3) in r2.err, r2.err


def test_pyftpdlib_size_refused_messages_name_the_refusal(tmp_path):
    """SIZE, MLST and the listing all refused: the message quotes the
    refusals, not some other line of the dialogue."""
    with FaultFtpd(tmp_path / "srv",
                   extra=["--refuse", "SIZE=502,MLST=502,MLSD=550,LIST=550"]) as srv:
        r = send(srv.url + "u.tap", size=10, env=srv.env())
        assert r.rc == 1, r
        assert 'the server refused SIZE ("502 Command not implemented.")' \
            in r.err, r.err
        assert 'MLST ("502' in r.err, r.err
        assert "listing the directory to find u.tap failed" in r.err, r.err


def test_vsftpd_wants_tls(tmp_path):
    need_root()
    need_tool("vsftpd")
    need_tool("openssl")
    with Vsftpd(tmp_path / "srv", tls=True, tls_mode="explicit") as srv:
        t0 = time.monotonic()
        r = send(srv.url + "x.tap", size=10, env=srv.env())
        assert r.rc == 1, r
        assert "requires TLS" in r.err and "--tls=require" in r.err, r.err
        assert "Non-anonymous sessions must use encryption" in r.err, r.err
        assert "login refused" not in r.err, r.err
        assert time.monotonic() - t0 < 5
        r = send(srv.url + "x.tap", ["--tls=require", "--cacert", srv.cacert],
                 size=10, env=srv.env())
        assert r.rc == 0, r


def test_sftp_drop_resumes_at_proven_point(tmp_path):
    """OpenSSH's SFTP (where point 3 was seen): a killed session is
    resumed at the size the server reports, after the read-back of its
    tail matched; the image is byte-identical."""
    need_root()
    shipped.need(shipped.Sshd)
    with shipped.Sshd(tmp_path / "srv") as srv:
        rc, err, sha = send_with_session_kill(srv, "s.tap", 16 * MiB, 4 * MiB)
        assert rc == 0, err
        assert "resuming at byte" in err or "sending again from byte 0" \
            in err, err
        assert file_sha(srv.root / "s.tap") == sha
        assert not (srv.root / "s.tap.part").exists()


class Aioftpd:
    """Debian's aioftp (tests/ftp/aioftpd.py): SIZE and MDTM answer 502,
    MLST and MLSD are there."""

    user = "reeltest"
    password = "aio-Test.pw-4712"

    def __init__(self, workdir):
        self.workdir = workdir
        self.root = workdir / "root"
        self.proc = None

    def env(self):
        import os
        e = dict(os.environ)
        e["REELFS_PASSWORD"] = self.password
        return e

    def __enter__(self):
        import os
        import pathlib
        try:
            import aioftp  # noqa: F401
        except ImportError:
            pytest.skip("python3-aioftp is missing: install it "
                        "(tools/setup-debian)")
        self.root.mkdir(parents=True)
        env = dict(os.environ, AIOFTPD_PASSWORD=self.password)
        here = pathlib.Path(__file__).resolve().parent
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", str(here / "aioftpd.py"), "--root",
             str(self.root), "--user", self.user], stdout=subprocess.PIPE,
            stderr=open(self.workdir / "aioftpd.err", "wb"),
            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            line = self.proc.stdout.readline().decode()
            assert line.startswith("PORT "), (self.workdir /
                                              "aioftpd.err").read_text()
            self.port = int(line.split()[1])
        except BaseException:
            self.__exit__()
            raise
        self.url = "ftp://%s@127.0.0.1:%d/" % (self.user, self.port)
        return self

    def __exit__(self, *exc):
        import os
        import signal
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        return False


def test_aioftp_size_502(tmp_path):
    """aioftp answers SIZE with 502: uploads publish (MLST gives the
    size), --overwrite=never sees an existing file, and no message quotes
    an unrelated line."""
    with Aioftpd(tmp_path / "srv") as srv:
        r = send(srv.url + "a.tap", ["--verify"], size=2 * MiB + 5, seed=67,
                 env=srv.env())
        assert r.rc == 0, r
        assert file_sha(srv.root / "a.tap") == r.sha
        assert not (srv.root / "a.tap.part").exists()
        r2 = send(srv.url + "a.tap", size=10, seed=68, env=srv.env())
        assert r2.rc == 1, r2
        assert "already exists (%d bytes" % (2 * MiB + 5) in r2.err, r2.err
        assert "Content-Length" not in r2.err and "Accept" not in r2.err
        assert file_sha(srv.root / "a.tap") == r.sha
