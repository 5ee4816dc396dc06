"""Issue 8, point 4: credentials are resolved once, at start, and kept for
the daemon's life. reelfs in daemon mode (no -f) changes to "/" and drops
its terminal after mounting, then logs in again to publish the manifest:
a relative --password-file and a password typed at the prompt must both
still work, so the manifest is published next to the image. Real vsftpd
on 127.0.0.1, real FUSE mounts."""
import os
import signal
import subprocess

from ftphelp import run_with_tty
from mount import is_mounted, reelfs_binary
from need import need_binary, need_fuse, need_root, need_tool
from servers import Vsftpd
from mount import daemon_pids as _daemon_pids, wait_until as _wait


def _write_and_unmount(mnt, srv, name):
    """Writes three records, unmounts, and waits until the daemon has
    published the image and (or not) its manifest and exited."""
    try:
        with open(mnt / "tape", "wb", buffering=0) as f:
            for i in range(3):
                f.write(bytes([i]) * 10240)
    finally:
        subprocess.run(["fusermount3", "-u", str(mnt)], capture_output=True)
    _wait(lambda: not is_mounted(mnt), "the mount did not go away")
    _wait(lambda: not _daemon_pids(mnt), "the daemon did not exit")
    assert (srv.root / name).exists(), sorted(os.listdir(srv.root))
    return srv.root / (name + ".manifest.json")


def _cleanup(mnt):
    if is_mounted(mnt):
        subprocess.run(["fusermount3", "-u", "-z", str(mnt)],
                       capture_output=True)
    for pid in _daemon_pids(mnt):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _env(tmp_path):
    env = dict(os.environ)
    env.pop("REELFS_PASSWORD", None)
    env["HOME"] = str(tmp_path / "home")  # no ~/.netrc to fall back on
    os.makedirs(env["HOME"], exist_ok=True)
    return env


def _needs():
    need_root()
    need_fuse()
    need_tool("vsftpd")
    need_binary(reelfs_binary())


def test_relative_password_file_daemon_publishes_manifest(tmp_path):
    _needs()
    with Vsftpd(tmp_path / "srv") as srv:
        work = tmp_path / "work"
        work.mkdir()
        (work / "pw").write_text(srv.password + "\n")
        os.chmod(work / "pw", 0o600)
        mnt = tmp_path / "mnt"
        mnt.mkdir()
        try:
            r = subprocess.run([reelfs_binary(), "--password-file", "pw",
                                srv.url + "rel.mtd", str(mnt)],
                               cwd=work, env=_env(tmp_path),
                               stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            assert is_mounted(mnt)
            manifest = _write_and_unmount(mnt, srv, "rel.mtd")
            assert manifest.exists(), sorted(os.listdir(srv.root))
            assert b'"storeset"' in manifest.read_bytes()
        finally:
            _cleanup(mnt)


def test_prompted_password_daemon_publishes_manifest(tmp_path):
    _needs()
    with Vsftpd(tmp_path / "srv") as srv:
        mnt = tmp_path / "mnt"
        mnt.mkdir()
        try:
            rc, tty, out, err = run_with_tty(
                [reelfs_binary(), srv.url + "asked.mtd", str(mnt)],
                [(r"Password for reeltest@127\.0\.0\.1: ",
                  srv.password + "\n")], env=_env(tmp_path))
            assert rc == 0, err
            assert srv.password not in tty
            assert is_mounted(mnt)
            manifest = _write_and_unmount(mnt, srv, "asked.mtd")
            assert manifest.exists(), sorted(os.listdir(srv.root))
        finally:
            _cleanup(mnt)
