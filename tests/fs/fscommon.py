"""fscommon.py - shared helpers for the reelfs mount tests: what they need
(root, /dev/fuse, tools, the built binary), a real vsftpd on loopback, a
mount per reel, and reading an image back from the served directory."""
import contextlib
import os
import pathlib
import random
import subprocess
import time

import pytest

import need
import tapeimg
from mount import Mount, is_mounted, reelfs_binary  # noqa: F401


def need_mount_env(*tools):
    need.need_root()
    need.need_fuse()
    need.need_binary(reelfs_binary())
    for t in tools:
        need.need_tool(t)


class _LocalTarget:
    """file:// stand-in for a server (REELFS_TEST_TARGET=file): same
    attributes the tests use."""
    def __init__(self, root):
        self.root = pathlib.Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = "file://%s/" % self.root
        self.password = "no-password-here"

    def env(self):
        return dict(os.environ)


@contextlib.contextmanager
def vsftpd(tmp_path):
    if os.environ.get("REELFS_TEST_TARGET") == "file":
        yield _LocalTarget(tmp_path / "target")
        return
    need.need_tool("vsftpd")
    import servers
    with servers.Vsftpd(tmp_path / "ftp") as srv:
        yield srv


def published(srv, name, timeout=60.0):
    """The bytes of a published image (polls: a daemonized reelfs finishes
    after umount returns)."""
    p = pathlib.Path(srv.root) / name
    deadline = time.monotonic() + timeout
    while not p.exists():
        assert time.monotonic() < deadline, "%s was never published; the " \
            "directory holds %s" % (name, sorted(os.listdir(srv.root)))
        time.sleep(0.05)
    return p.read_bytes()


def image_files(srv, name, fmt):
    files, eod = tapeimg.parse(published(srv, name), fmt)
    assert eod, "%s does not end with two tape marks" % name
    return files


def make_tree(root, nfiles=8, size=200_000, seed=1):
    """A directory of random files (incompressible) to back up."""
    rnd = random.Random(seed)
    root = pathlib.Path(root)
    (root / "sub").mkdir(parents=True, exist_ok=True)
    for i in range(nfiles):
        d = root / ("sub" if i % 2 else ".")
        (d / ("f%02d.bin" % i)).write_bytes(rnd.randbytes(size + i * 517))
    (root / "notes.txt").write_text("reelfs test tree\n" * 100)
    return root


def run(cmd, **kw):
    """Runs a command, returns CompletedProcess; text output."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(cmd, **kw)


def tar_list(archive_bytes, tmp_path, blocking=64):
    p = tmp_path / "extracted.tar"
    p.write_bytes(archive_bytes)
    r = run(["tar", "-b", str(blocking), "-tf", str(p)])
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def reel_binary():
    return os.path.join(os.environ.get("REELFS_BUILD", ""), "tools", "reel")


def reel_check(path, fmt=None):
    """`reel map --json` and `reel verify` of a published image, when the
    reel tool is built (it is our decoder; tapeimg is the independent one).
    Returns the map as a dict, or None without the tool."""
    import json
    reel = reel_binary()
    if not os.access(reel, os.X_OK):
        return None
    args = [reel, "map", "--json"] + (["--format", fmt] if fmt else []) + [str(path)]
    r = run(args)
    assert r.returncode == 0, r.stdout + r.stderr
    r2 = run([reel, "verify", str(path)])
    assert r2.returncode == 0, r2.stdout + r2.stderr
    return json.loads(r.stdout)
