"""reelfs against servers as Debian ships them (tests/lib/shipped.py):
ProFTPD (proftpd-core unpacked, its default config where it matters),
pure-ftpd (unpacked) and OpenSSH's SFTP, next to vsftpd. Each: `reel send`
a small image, `reel ls` shows it complete, `reel cat` gives the bytes back.
"""
import pathlib
import subprocess
import time

import pytest

import shipped
from ftphelp import stream
from mount import Mount, reelfs_binary
from need import build_dir, need_binary, need_fuse, need_root, need_tool
from servers import Vsftpd

MiB = 1 << 20


def reel():
    return need_binary(pathlib.Path(build_dir()) / "tools" / "reel")


def run(args, env, data=None, timeout=300):
    return subprocess.run(args, input=data, capture_output=True, env=env,
                          timeout=timeout)


def server(kind, workdir, **kw):
    """A started-later server of kind (skips when it cannot run here)."""
    need_root()
    if kind == "vsftpd":
        need_tool("vsftpd")
        return Vsftpd(workdir)
    cls = {"proftpd": shipped.ProFTPD, "pure-ftpd": shipped.PureFtpd,
           "sftp": shipped.Sshd}[kind]
    shipped.need(cls)
    return cls(workdir, **kw)


def seeded(seed, size):
    return b"".join(stream(seed, size))


@pytest.mark.parametrize("kind", ["proftpd", "pure-ftpd", "sftp"])
def test_smoke_send_ls_cat(tmp_path, kind):
    r = reel()
    data = seeded(8, 3 * MiB + 1234)
    with server(kind, tmp_path / "srv") as srv:
        env = srv.env()
        url = srv.url + "smoke.mtd"
        p = run([r, "send", url], env, data)
        assert p.returncode == 0, p.stderr.decode(errors="replace")
        assert (srv.root / "smoke.mtd").exists()
        assert not (srv.root / "smoke.mtd.part").exists()
        p = run([r, "ls", srv.url], env)
        out = p.stdout.decode(errors="replace")
        assert p.returncode == 0, p.stderr.decode(errors="replace")
        line = [ln for ln in out.splitlines() if "smoke.mtd" in ln]
        assert line and "complete" in line[0], out
        p = run([r, "cat", url], env)
        assert p.returncode == 0, p.stderr.decode(errors="replace")
        assert p.stdout == data


# The matrix: every server as shipped, the same three runs.
KINDS = ["vsftpd", "proftpd", "pure-ftpd", "sftp"]


def _text(b):
    return b.decode(errors="replace") if isinstance(b, bytes) else b


@pytest.mark.parametrize("kind", KINDS)
def test_send_20mib_verify(tmp_path, kind):
    r = reel()
    data = seeded(20, 20 * MiB)
    with server(kind, tmp_path / "srv") as srv:
        env = srv.env()
        url = srv.url + "v.mtd"
        p = run([r, "send", "--verify", url], env, data)
        assert p.returncode == 0, _text(p.stderr)
        p = run([r, "verify", url], env)
        assert p.returncode == 0, _text(p.stdout + p.stderr)
        p = run([r, "cat", url], env)
        assert p.returncode == 0 and p.stdout == data, _text(p.stderr)


def _poll(cond, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.01)  # poll interval, not synchronisation


def _size(path):
    try:
        return path.stat().st_size
    except OSError:
        return 0


@pytest.mark.parametrize("kind", KINDS)
def test_session_killed_mid_upload_completes(tmp_path, kind):
    """A real dropped connection in the middle of `reel send`: the upload
    must finish and verify. ProFTPD as shipped refuses REST (451), so there
    it must start again from byte 0 while everything is still held (issue 8
    point 6)."""
    r = reel()
    first, rest = seeded(21, 6 * MiB), seeded(22, 14 * MiB)
    with server(kind, tmp_path / "srv") as srv:
        env = srv.env()
        url = srv.url + "k.mtd"
        part = srv.root / "k.mtd.part"
        err = open(tmp_path / "send.err", "w+b")
        p = subprocess.Popen([r, "send", "--verify", "--stall-timeout", "15",
                              "--retries", "5", url], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=err, env=env)
        try:
            p.stdin.write(first)
            p.stdin.flush()
            # Bytes are on the server: the upload is live.
            _poll(lambda: _size(part) >= 1 * MiB, "k.mtd.part to grow")
            killed = shipped.kill_sessions(srv)
            assert killed >= 1, "no session to kill"
            p.stdin.write(rest)
            p.stdin.close()
            rc = p.wait(timeout=240)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        err.seek(0)
        log = _text(err.read())
        assert rc == 0, log
        assert (srv.root / "k.mtd").exists(), log
        assert not part.exists(), log
        p2 = run([r, "verify", url], env)
        assert p2.returncode == 0, _text(p2.stdout + p2.stderr) + log
        p2 = run([r, "cat", url], env)
        assert p2.returncode == 0, _text(p2.stderr)
        assert p2.stdout == first + rest


@pytest.mark.parametrize("kind", KINDS)
def test_drive_tar_through_to_server(tmp_path, kind):
    need_fuse()
    need_tool("tar")
    r = reel()
    need_binary(reelfs_binary())
    src = tmp_path / "data"
    (src / "sub").mkdir(parents=True)
    for i in range(10):
        (src / ("sub" if i % 2 else ".") / ("f%02d" % i)).write_bytes(
            seeded(40 + i, 300_000 + i * 517))
    with server(kind, tmp_path / "srv") as srv:
        env = srv.env()
        url = srv.url + "drive.mtd"
        with Mount(url, tmp_path / "mnt", env=env) as m:
            t = subprocess.run(["tar", "-b", "64", "-cf", str(m.tape), "-C",
                                str(tmp_path), "data"], capture_output=True)
            assert t.returncode == 0, _text(t.stderr)
        out = tmp_path / "out"
        out.mkdir()
        c = subprocess.run("%s cat %s | tar -b 64 -xf - -C %s"
                           % (r, url, out), shell=True, env=env,
                           capture_output=True, timeout=300)
        assert c.returncode == 0, _text(c.stderr)
        d = subprocess.run(["diff", "-r", str(src), str(out / "data")],
                           capture_output=True)
        assert d.returncode == 0, _text(d.stdout + d.stderr)


def test_proftpd_size_refused_overwrite_never(tmp_path):
    """ProFTPD with <Limit SIZE> DenyAll answers 550 to SIZE, which is not
    "no such file" (issue 8 point 7): --overwrite=never must still see an
    existing image, and publishing a new one works."""
    r = reel()
    data = seeded(7, 2 * MiB + 77)
    with server("proftpd", tmp_path / "srv", limit_size=True) as srv:
        env = srv.env()
        url = srv.url + "s.mtd"
        p = run([r, "send", url], env, data)
        assert p.returncode == 0, _text(p.stderr)
        assert (srv.root / "s.mtd").exists()
        assert (srv.root / "s.mtd.manifest.json").exists()
        before = (srv.root / "s.mtd").read_bytes()
        p = run([r, "send", "--overwrite=never", url], env, seeded(9, MiB))
        assert p.returncode != 0, "an existing image was overwritten"
        assert b"already exists" in p.stderr, _text(p.stderr)
        assert (srv.root / "s.mtd").read_bytes() == before
        # Size found another way: ls and verify agree with the manifest.
        p = run([r, "ls", srv.url], env)
        line = [ln for ln in _text(p.stdout).splitlines() if "s.mtd" in ln]
        assert line and "complete" in line[0], _text(p.stdout + p.stderr)
        p = run([r, "verify", url], env)
        assert p.returncode == 0, _text(p.stdout + p.stderr)
        p = run([r, "cat", url], env)
        assert p.returncode == 0 and p.stdout == data, _text(p.stderr)


def test_proftpd_mlsd_refused_ls_uses_list(tmp_path):
    """ProFTPD with <Limit MLSD> DenyAll answers 550 to MLSD: `reel ls`
    falls back to LIST (issue 8 point 8)."""
    r = reel()
    with server("proftpd", tmp_path / "srv", limit_mlsd=True) as srv:
        env = srv.env()
        p = run([r, "send", srv.url + "m.mtd"], env, seeded(3, MiB))
        assert p.returncode == 0, _text(p.stderr)
        p = run([r, "ls", srv.url], env)
        out = _text(p.stdout)
        assert p.returncode == 0, _text(p.stderr)
        line = [ln for ln in out.splitlines() if "m.mtd" in ln]
        assert line and "complete" in line[0], out + _text(p.stderr)


@pytest.mark.parametrize("kind", KINDS)
def test_server_restart_ridden_out(tmp_path, kind):
    """The server goes away in the middle of `reel send` (every session
    and the listener) and comes back on the same port once reel has seen
    it gone: connection refused is retried within --retries (issue 8
    point 5b), and the image completes and verifies."""
    r = reel()
    first, rest = seeded(31, 6 * MiB), seeded(32, 10 * MiB)
    with server(kind, tmp_path / "srv") as srv:
        env = srv.env()
        url = srv.url + "r.mtd"
        part = srv.root / "r.mtd.part"
        errpath = tmp_path / "send.err"
        err = open(errpath, "w+b")
        p = subprocess.Popen([r, "send", "--verify", "--stall-timeout", "15",
                              "--retries", "10", url], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=err, env=env)
        try:
            p.stdin.write(first)
            p.stdin.flush()
            _poll(lambda: _size(part) >= 1 * MiB, "r.mtd.part to grow")
            said = _size(errpath)
            shipped.stop(srv)
            down = time.monotonic()
            p.stdin.write(rest)
            p.stdin.close()
            # The outage the issue describes: 3 s, and at least until reel
            # has noticed (said something), unless it gave up.
            _poll(lambda: p.poll() is not None or (
                _size(errpath) > said and time.monotonic() - down >= 3.0),
                "reel to notice the server is gone")
            shipped.start(srv)
            rc = p.wait(timeout=240)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        err.seek(0)
        log = _text(err.read())
        assert rc == 0, log
        p2 = run([r, "cat", url], env)
        assert p2.returncode == 0, _text(p2.stderr)
        assert p2.stdout == first + rest


@pytest.mark.parametrize("kind", KINDS)
def test_drive_session_killed_mid_write(tmp_path, kind):
    """The drive's upload loses its session while a writer is writing:
    the reel is published whole (on ProFTPD as shipped, by starting again
    from byte 0, issue 8 point 6)."""
    need_fuse()
    r = reel()
    need_binary(reelfs_binary())
    first, rest = seeded(51, 6 * MiB), seeded(52, 10 * MiB)
    rec = 10240
    with server(kind, tmp_path / "srv") as srv:
        env = srv.env()
        url = srv.url + "dk.mtd"
        part = srv.root / "dk.mtd.part"
        with Mount(url, tmp_path / "mnt", env=env,
                   allow_errors=[r"then reconnecting \(attempt 1 ",
                                 r"reconnected; resuming at byte",
                                 r"upload starts again from byte 0"]) as m:
            with open(m.tape, "wb", buffering=0) as t:
                for i in range(0, len(first), rec):
                    t.write(first[i:i + rec])
                _poll(lambda: _size(part) >= 1 * MiB, "dk.mtd.part to grow")
                assert shipped.kill_sessions(srv) >= 1
                for i in range(0, len(rest), rec):
                    t.write(rest[i:i + rec])
        assert "reconnected" in m.stderr, m.stderr
        if kind == "proftpd":
            assert "starts again from byte 0" in m.stderr, m.stderr
        p = run([r, "verify", url], env)
        assert p.returncode == 0, _text(p.stdout + p.stderr)
        p = run([r, "cat", url], env)
        assert p.returncode == 0, _text(p.stderr)
        assert p.stdout == first + rest


def test_proftpd_fixture_behaves_as_shipped(tmp_path):
    """The ProFTPD fixture really refuses what the tests above rely on it
    refusing (else they would pass for nothing): REST before STOR (451) as
    Debian ships it, SIZE and MLSD (550) with the knobs."""
    import ftplib
    import io

    def session(srv):
        f = ftplib.FTP()
        f.connect("127.0.0.1", srv.port, timeout=30)
        f.login(srv.user, srv.password)
        f.voidcmd("TYPE I")
        f.storbinary("STOR x.part", io.BytesIO(b"a" * 1000))
        return f

    with server("proftpd", tmp_path / "plain") as srv:
        f = session(srv)
        with pytest.raises(ftplib.error_temp, match="^451 .*Append/Restart"):
            f.storbinary("STOR x.part", io.BytesIO(b"b"), rest=1000)
        assert f.sendcmd("SIZE x.part") == "213 1000"
        assert len(list(f.mlsd())) >= 1
        f.quit()
    with server("proftpd", tmp_path / "lim", limit_size=True,
                limit_mlsd=True) as srv:
        f = session(srv)
        with pytest.raises(ftplib.error_perm, match="^550 "):
            f.sendcmd("SIZE x.part")
        with pytest.raises(ftplib.error_perm, match="^550 "):
            list(f.mlsd())
        f.quit()
    with server("proftpd", tmp_path / "rest",
                allow_store_restart=True) as srv:
        f = session(srv)
        f.storbinary("STOR x.part", io.BytesIO(b"b"), rest=1000)
        assert f.sendcmd("SIZE x.part") == "213 1001"
        f.quit()
