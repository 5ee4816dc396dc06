"""reelfs when things go wrong: a refused login stops the mount before it
appears; a dropped connection is resumed invisibly; a full server is end
of medium for tar -M; a killed daemon leaves NAME.part, never NAME.
Against vsftpd and the fault-injecting pyftpdlib server on 127.0.0.1."""
import contextlib
import filecmp
import os
import subprocess
import time

import pytest

import need
import tapeimg
from fscommon import (Mount, image_files, is_mounted, make_tree,
                      need_mount_env, run, vsftpd)
from mount import MountFailed

MB = 1000 * 1000


@contextlib.contextmanager
def faultftpd(tmp_path, **kw):
    import servers
    with servers.FaultFtpd(tmp_path / "fault", **kw) as srv:
        yield srv


def _same_tree(a, b):
    for p in a.rglob("*"):
        if p.is_file():
            q = b / p.relative_to(a.parent)
            assert q.read_bytes() == p.read_bytes(), "%s differs" % q


def test_wrong_password_fails_before_mounting(tmp_path):
    need_mount_env()
    with vsftpd(tmp_path) as srv:
        if not srv.url.startswith("ftp"):
            pytest.skip("a server is missing: REELFS_TEST_TARGET=file has no login")
        env = srv.env()
        env["REELFS_PASSWORD"] = "not-the-password"
        mnt = tmp_path / "mnt"
        with pytest.raises(MountFailed) as e:
            with Mount(srv.url + "pw.mtd", mnt, env=env, timeout=60):
                pass
        assert e.value.returncode != 0
        assert not is_mounted(mnt)
        lines = [l for l in e.value.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and "error:" in lines[0], e.value.stderr
        assert "not-the-password" not in e.value.stderr
        assert not any(p.name.startswith("pw.mtd") for p in srv.root.iterdir())


def test_dropped_connection_backup_completes_identical(tmp_path):
    need_mount_env("tar")
    tree = make_tree(tmp_path / "data", nfiles=6, size=3 * MB)
    with faultftpd(tmp_path, drops=(4 * MB, 11 * MB)) as srv:
        with Mount(srv.url + "drop.mtd", tmp_path / "mnt", env=srv.env(),
                   allow_errors=[r"reconnect", r"resuming at byte"]) as m:
            r = run(["tar", "-b", "64", "-cf", str(m.tape), "-C", str(tmp_path), "data"])
            assert r.returncode == 0, r.stderr
            assert run(["mt", "-f", str(m.tape), "offline"]).returncode == 0
            assert int(m.status()["reconnects"]) >= 1
        files = image_files(srv, "drop.mtd", "mtd")
        arc = tmp_path / "back.tar"
        arc.write_bytes(tapeimg.payload(files))
        out = tmp_path / "restore"
        out.mkdir()
        r = run(["tar", "-xf", str(arc), "-C", str(out)])
        assert r.returncode == 0, r.stderr
        _same_tree(tree, out)


def test_server_full_is_end_of_medium_for_tar_multivolume(tmp_path):
    need_mount_env("tar")
    make_tree(tmp_path / "data", nfiles=6, size=3 * MB)
    with faultftpd(tmp_path, full_at=6 * MB) as full, vsftpd(tmp_path) as srv:
        # A small queue, so the server's 552 comes back while tar writes.
        m1 = Mount(full.url + "full1.mtd", tmp_path / "r1",
                   ["--buffer=1M", "--replay=256K"], env=full.env(), expect_ok=False)
        with m1, Mount(srv.url + "full2.mtd", tmp_path / "r2", env=srv.env()) as m2:
            r = run(["tar", "-M", "-b", "20", "-c", "-f", str(m1.tape), "-f", str(m2.tape),
                     "-C", str(tmp_path), "data"], stdin=subprocess.DEVNULL)
            assert r.returncode == 0, r.stderr + m1.status_path.read_text()
            assert m1.status()["state"] in ("full", "failed")
            assert m1.unmount() != 0
        # The full server keeps a visibly incomplete reel.
        assert not (full.root / "full1.mtd").exists()
        assert (full.root / "full1.mtd.part").exists()
        assert "out of space" in m1.stderr
        assert image_files(srv, "full2.mtd", "mtd")


def test_kill9_leaves_part_not_name(tmp_path):
    need_mount_env("dd")
    with vsftpd(tmp_path) as srv:
        m = Mount(srv.url + "k.mtd", tmp_path / "mnt", env=srv.env(), expect_ok=False)
        with m:
            fd = os.open(m.tape, os.O_WRONLY)
            try:
                for _ in range(64):
                    os.write(fd, os.urandom(65536))
                deadline = time.monotonic() + 30
                while int(m.status()["sent"]) == 0:
                    assert time.monotonic() < deadline, "nothing was ever sent"
                    time.sleep(0.05)
                m.kill9()
            finally:
                with contextlib.suppress(OSError):
                    os.close(fd)
        assert m.returncode == -9
        assert not is_mounted(m.mountpoint)
        assert not (srv.root / "k.mtd").exists()
        assert (srv.root / "k.mtd.part").exists()
