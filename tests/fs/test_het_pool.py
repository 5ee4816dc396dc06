"""HET through the drive: blocks compressed on a pool of threads (the
default: online cores) make byte for byte the image one thread makes
(REELFS_HET_THREADS=1), Hercules' hetmap reads it, and a capacity that
ends the reel falls at exactly the same record either way (the pool waits
for its pending blocks before it refuses one; issue 12 point 4)."""
import os
import re
import subprocess

import pytest

from fscommon import Mount, need_mount_env, run, vsftpd


def _records(path, n):
    """n records of 1..65535 bytes, a mix of text and noise, written with
    one write() each (dd would re-block)."""
    code = (
        "import os, random, sys\n"
        "r = random.Random(12)\n"
        "fd = os.open(sys.argv[1], os.O_WRONLY)\n"
        "for i in range(%d):\n"
        "    n = r.randint(1, 65535)\n"
        "    b = (b'text of record %%d ' %% i * 4000)[:n] if i %% 2 else r.randbytes(n)\n"
        "    assert os.write(fd, b) == n\n"
        "os.close(fd)\n" % n)
    return run(["/usr/bin/python3", "-c", code, str(path)])


def _write(tmp_path, srv, name, threads, extra=(), n=300):
    env = dict(srv.env())
    env["REELFS_HET_THREADS"] = str(threads)
    mnt = tmp_path / ("mnt-" + name)
    with Mount(srv.url + name, mnt, ["--format=het"] + list(extra), env=env) as m:
        r = _records(m.tape, n)
    return r, (srv.root / name).read_bytes() if (srv.root / name).exists() else None


def test_pool_image_is_the_single_thread_image(tmp_path):
    need_mount_env("hetmap")
    with vsftpd(tmp_path) as srv:
        r1, one = _write(tmp_path, srv, "one.het", 1)
        assert r1.returncode == 0, r1.stderr
        r4, four = _write(tmp_path, srv, "four.het", 4)
        assert r4.returncode == 0, r4.stderr
        assert one is not None and four is not None
        assert len(one) == len(four) and one == four
        h = run(["hetmap", "-f", str(srv.root / "four.het")])
        assert h.returncode == 0, h.stdout + h.stderr
        blocks = [int(x) for x in re.findall(r"^Blocks\s*:\s*(\d+)", h.stdout, re.M)]
        assert blocks and blocks[-1] == 300


def test_pool_capacity_ends_at_the_same_record(tmp_path):
    """A capacity reached in the middle: both drives refuse the same record
    (ENOSPC), so the published images are identical."""
    need_mount_env("hetmap")
    with vsftpd(tmp_path) as srv:
        out = {}
        for threads in (1, 3):
            name = "cap%d.het" % threads
            r, img = _write(tmp_path, srv, name, threads, ["--capacity=4M"], n=400)
            assert r.returncode != 0 and "No space left" in r.stderr, r.stderr
            out[threads] = img
        assert out[1] is not None and out[1] == out[3]
        assert 3 * 1024 * 1024 < len(out[1]) <= 4 * 1024 * 1024
