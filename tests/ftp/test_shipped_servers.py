"""reelfs against servers as Debian ships them (tests/lib/shipped.py):
ProFTPD (proftpd-core unpacked, its default config where it matters),
pure-ftpd (unpacked) and OpenSSH's SFTP, next to vsftpd. Each: `reel send`
a small image, `reel ls` shows it complete, `reel cat` gives the bytes back.
"""
import pathlib
import subprocess

import pytest

import shipped
from ftphelp import stream
from need import build_dir, need_binary, need_root, need_tool
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
