"""`reel` on s3:// (a real Ceph RADOS Gateway on 127.0.0.1): `reel ls -l`
and `reel ls --json` of a bucket folder with 100 tapes (ListObjectsV2
pages parsed by expat; manifests read with ranged GETs), `map`, `verify`
and `cat` of one, and `reel cp` from FTP (vsftpd) to S3 and back, byte
for byte the same records and marks."""
import json
import os
import subprocess
import time

import pytest

import tapeimg
from need import need_root, need_tool
from s3help import gateway, tool


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    with gateway(tmp_path_factory) as c:
        c.bucket("tapes")
        yield c


def reel(env, *args, stdin=None):
    return subprocess.run([tool("tools", "reel"), *map(str, args)], env=env,
                          input=stdin, capture_output=True, timeout=600)


def ok(r):
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r


def test_ls_a_hundred_tapes(gw):
    for i in range(100):
        ok(reel(gw.env(), "send", "--quiet", "--format", "simh",
                "s3://tapes/vault/t%03d.tap" % i, stdin=os.urandom(2000 + i)))
    t0 = time.monotonic()
    r = ok(reel(gw.env(), "ls", "-l", "s3://tapes/vault/"))
    took = time.monotonic() - t0
    out = r.stdout.decode()
    assert sum(1 for line in out.splitlines() if ".tap" in line) == 100, out
    assert "t000.tap" in out and "t099.tap" in out
    assert ".manifest.json" not in out
    j = json.loads(ok(reel(gw.env(), "ls", "--json", "s3://tapes/vault/")).stdout)
    assert [t["state"] for t in j["tapes"]] == ["complete"] * 100
    assert {t["format"] for t in j["tapes"]} == {"simh"}
    print("reel ls -l of 100 tapes: %.2f s" % took)
    assert took < 60
    # One tape read through map, verify and cat (ranged GETs).
    ok(reel(gw.env(), "map", "s3://tapes/vault/t007.tap"))
    ok(reel(gw.env(), "verify", "s3://tapes/vault/t007.tap"))
    assert len(ok(reel(gw.env(), "cat", "s3://tapes/vault/t007.tap")).stdout) == 2007


def test_cp_ftp_to_s3_and_back(gw, tmp_path):
    need_root()
    need_tool("vsftpd")
    from servers import Vsftpd
    r = lambda n, c: os.urandom(n // 2) + bytes([c]) * (n - n // 2)
    evs = [r(4097, 1), r(10240, 2), None, None, b"x", None, r(70001, 3), None, None]
    with Vsftpd(tmp_path / "ftp") as srv:
        (srv.root / "a.tap").write_bytes(tapeimg.write(evs, "simh"))
        os.chown(srv.root / "a.tap", *_ids(srv))
        env = dict(srv.env(), **{k: v for k, v in gw.env().items()
                                 if k.startswith(("AWS_", "REELFS_S3"))})
        ok(reel(env, "cp", srv.url + "a.tap", "s3://tapes/cp/a.aws", "--format", "aws"))
        got = ok(reel(env, "cat", "--records", "s3://tapes/cp/a.aws"))
        ok(reel(env, "cp", "s3://tapes/cp/a.aws", srv.url + "b.tap", "--format", "simh"))
        back = (srv.root / "b.tap").read_bytes()
        assert tapeimg.events(back, "simh") == evs
        assert got.returncode == 0


def _ids(srv):
    import pwd
    pw = pwd.getpwnam(srv.user)
    return pw.pw_uid, pw.pw_gid
