"""tools/demo, the README's main job, run for real: against its own
vsftpd on 127.0.0.1 (through the reelfs mount when FUSE is here), and
against a file:// target with a build that has no drive yet (the
`tar | reel send` fallback). Either way it must end verified and leave no
mount and no server behind."""
import os
import pathlib
import subprocess


from need import build_dir, need_root, need_tool
from reeltool import ok, reel, reel_path

SRC = pathlib.Path(os.environ.get("REELFS_SOURCE",
                                  pathlib.Path(__file__).resolve().parents[2]))


def small_tree(tmp_path):
    d = tmp_path / "data"
    (d / "sub").mkdir(parents=True)
    for i in range(20):
        (d / ("f%02d.txt" % i)).write_text("line %d\n" % i * (100 + i))
    (d / "sub" / "blob").write_bytes(os.urandom(300000))
    return d


def run_demo(build, data, *args):
    env = dict(os.environ, REELFS_BUILD=str(build), REELFS_DEMO_DIR=str(data))
    env.pop("REELFS_PASSWORD", None)
    return subprocess.run([str(SRC / "tools" / "demo"), *args], env=env,
                          capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def leftovers():
    mounts = pathlib.Path("/proc/mounts").read_text()
    assert "reelfs-demo." not in mounts, mounts
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "reelfs-demo." not in ps, ps


def test_demo_with_its_own_server(tmp_path):
    need_root()
    need_tool("vsftpd")
    need_tool("tar")
    reel_path()
    r = run_demo(build_dir(), small_tree(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "the manifest agrees" in r.stdout
    assert '"reelfs_manifest": 1' in r.stdout
    assert "data/sub/blob" in r.stdout or "data/" in r.stdout
    if (pathlib.Path(build_dir()) / "fs" / "reelfs").exists() and \
            os.path.exists("/dev/fuse"):
        assert "mounting reelfs" in r.stdout
        assert "the server holds" in r.stderr    # reelfs's summary
    leftovers()


def test_demo_file_url_before_the_drive_exists(tmp_path):
    need_tool("tar")
    # A build dir holding only reel: the demo must fall back to
    # `tar | reel send`.
    fake = tmp_path / "build"
    (fake / "tools").mkdir(parents=True)
    (fake / "tools" / "reel").symlink_to(reel_path())
    target = tmp_path / "tapes"
    target.mkdir()
    r = run_demo(fake, small_tree(tmp_path), "file://%s/demo.tap" % target)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "streaming tar through reel send" in r.stdout
    img = target / "demo.tap"
    assert img.exists() and (target / "demo.tap.manifest.json").exists()
    ok(reel("verify", img))
    out = subprocess.run("'%s' cat '%s' | tar -tf -" % (reel_path(), img),
                         shell=True, capture_output=True, text=True)
    assert "data/sub/blob" in out.stdout.split()
    leftovers()
