"""The drive (reelfs) writing to s3:// on a real Ceph RADOS Gateway: tar
through the drive restored with `reel cat`, the manifest as the sibling
object NAME.manifest.json; and a user quota of a few MiB, whose
QuotaExceeded is the end of the medium: ENOSPC reaches the chain, the
records the gateway did not keep go onto the --next reel, and the two
reels together hold exactly what dd wrote."""
import contextlib
import json
import os
import subprocess

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "fs"))
from fscommon import Mount, make_tree, need_mount_env, reel_binary, run, tar_list
from s3help import gateway

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    with gateway(tmp_path_factory) as c:
        c.bucket("tapes")
        yield c


def reel(env, *args, **kw):
    return subprocess.run([reel_binary(), *map(str, args)], env=env,
                          capture_output=True, timeout=300, **kw)


def test_tar_through_the_drive_restored_with_reel_cat(gw, tmp_path):
    need_mount_env("tar")
    make_tree(tmp_path / "data", nfiles=12, size=1_500_000)
    with Mount("s3://tapes/site/backup.mtd", tmp_path / "mnt", ["--buffer=32M"],
               env=gw.env()) as m:
        r = run(["tar", "-b", "64", "-cf", str(m.tape), "-C", str(tmp_path), "data"])
        assert r.returncode == 0, r.stderr
        # The secret key is in neither the daemon's environment nor argv.
        for f in ("environ", "cmdline"):
            assert gw.secret.encode() not in open("/proc/%d/%s" % (m.pid, f), "rb").read()
    assert m.returncode == 0, m.stderr
    assert gw.secret not in m.stderr
    cat = reel(gw.env(), "cat", "--single", "s3://tapes/site/backup.mtd")
    assert cat.returncode == 0, cat.stderr
    names = tar_list(cat.stdout, tmp_path)
    assert "data/f00.bin" in " ".join(names) or len(names) > 10, names
    out = tmp_path / "out"
    out.mkdir()
    x = subprocess.run(["tar", "-x", "-C", str(out)], input=cat.stdout,
                       capture_output=True)
    assert x.returncode == 0, x.stderr
    for p in (tmp_path / "data").rglob("*"):
        if p.is_file():
            assert (out / p.relative_to(tmp_path)).read_bytes() == p.read_bytes()
    man = reel(gw.env(), "cat", "s3://tapes/site/backup.mtd.manifest.json")
    if man.returncode != 0:   # reel cat reads tapes; the manifest via curl
        code, body = gw.curl("GET", "/tapes/site/backup.mtd.manifest.json")
        assert code == 200
        man = json.loads(body)
    ls = reel(gw.env(), "ls", "-l", "s3://tapes/site/")
    assert ls.returncode == 0, ls.stderr
    assert b"backup.mtd" in ls.stdout
    v = reel(gw.env(), "verify", "s3://tapes/site/backup.mtd")
    assert v.returncode == 0, v.stderr
    # The drive's read mode loads it back (ranged GETs).
    with Mount("s3://tapes/site/backup.mtd", tmp_path / "rd", ["--read"],
               env=gw.env()) as m:
        t = run(["tar", "-b", "64", "-tf", str(m.tape)])
        assert t.returncode == 0, t.stderr
        assert "data/notes.txt" in t.stdout.split()


def test_quota_ends_the_reel_and_next_takes_the_rest(gw, tmp_path):
    need_mount_env("dd")
    gw.bucket("small")
    gw.bucket_quota("small", 12 * MiB)
    qenv = gw.env()
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(30 * MiB))
    opts = ["--s3-part-size=5M", "--buffer=11M"]
    with contextlib.ExitStack() as st:
        m2 = st.enter_context(Mount("s3://tapes/set/r2.mtd", tmp_path / "r2",
                                    opts, env=gw.env()))
        m1 = st.enter_context(Mount("s3://small/set/r1.mtd", tmp_path / "r1",
                                    opts + ["--next=%s" % m2.tape], env=qenv,
                                    allow_errors=[r"QuotaExceeded", r"out of space",
                                                  r"end of medium", r"full"]))
        r = run(["dd", "if=%s" % src, "of=%s" % m1.tape, "bs=64k"])
        assert r.returncode == 0, r.stderr + m1.status_path.read_text()
        assert m1.unmount() == 0, m1.stderr
        assert m2.unmount() == 0, m2.stderr
    assert "is full; continuing on the next reel" in m1.stderr, m1.stderr
    # The gateway kept two whole parts of reel 1; its manifest fits beside.
    st = subprocess.run([reel_binary(), "ls", "-l", "s3://small/set/"], env=qenv,
                        capture_output=True)
    assert st.returncode == 0 and b"r1.mtd" in st.stdout, st
    both = reel(gw.env(), "cat", "--set", "s3://small/set/r1.mtd",
                "s3://tapes/set/r2.mtd")
    assert both.returncode == 0, both.stderr
    assert both.stdout == src.read_bytes()
