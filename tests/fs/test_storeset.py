"""Multi-reel storesets: (a) one mount per reel spanned by tar -M through
ENOSPC; (b) reels chained with --next, spanned transparently by dd.
Real mounts against vsftpd on 127.0.0.1."""
import contextlib
import json
import os
import subprocess

import tapeimg
from fscommon import (Mount, image_files, make_tree, need_mount_env, reel_check,
                      run, vsftpd)

MB = 1000 * 1000


def _reels(stack, srv, tmp_path, names, extra):
    mounts = []
    for i, name in enumerate(names):
        args = ["--capacity=20M", "--storeset=test-set", "--reel=%d" % (i + 1)]
        args += extra(i, tmp_path)
        m = stack.enter_context(Mount(srv.url + name, tmp_path / ("r%d" % (i + 1)),
                                      args, env=srv.env()))
        mounts.append(m)
    return mounts


def test_a_tar_multivolume_across_three_reels(tmp_path):
    need_mount_env("tar")
    tree = make_tree(tmp_path / "data", nfiles=10, size=5 * MB)
    names = ["set-a1.mtd", "set-a2.mtd", "set-a3.mtd"]
    with vsftpd(tmp_path) as srv:
        with contextlib.ExitStack() as stack:
            ms = _reels(stack, srv, tmp_path, names, lambda i, t: [])
            cmd = ["tar", "-M", "-b", "20"]
            for m in ms:
                cmd += ["-f", str(m.tape)]
            r = run(cmd + ["-c", "-C", str(tmp_path), "data"], stdin=subprocess.DEVNULL)
            assert r.returncode == 0, r.stderr
            assert ms[0].status()["state"] in ("full", "writing")
            for m in ms:
                assert m.unmount() == 0, m.stderr
        vols = []
        for i, name in enumerate(names):
            files = image_files(srv, name, "mtd")
            assert files, "%s holds no data" % name
            data = tapeimg.payload(files)
            assert (srv.root / name).stat().st_size <= 20 * 1024 * 1024
            v = tmp_path / ("vol%d.tar" % (i + 1))
            v.write_bytes(data)
            vols.append(v)
            man = json.loads((srv.root / (name + ".manifest.json")).read_text())
            assert man["reel"] == i + 1 and man["storeset"] == "test-set"
        out = tmp_path / "restore"
        out.mkdir()
        cmd = ["tar", "-M", "-b", "20", "-x", "-C", str(out)]
        for v in vols:
            cmd += ["-f", str(v)]
        r = run(cmd, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        for p in tree.rglob("*"):
            if p.is_file():
                q = out / p.relative_to(tmp_path)
                assert q.read_bytes() == p.read_bytes(), "%s differs" % q


def test_b_chained_reels_take_dd_transparently(tmp_path):
    need_mount_env("dd")
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(50 * MB))
    names = ["set-b1.mtd", "set-b2.mtd", "set-b3.mtd"]

    def nxt(i, t):
        return ["--next=%s" % (t / ("r%d" % (i + 2)) / "tape")] if i < 2 else []

    with vsftpd(tmp_path) as srv:
        with contextlib.ExitStack() as stack:
            # Later reels first: each --next must already be mounted.
            ms = [None] * 3
            for i in (2, 1, 0):
                args = ["--capacity=20M", "--storeset=chain", "--reel=%d" % (i + 1)] + nxt(i, tmp_path)
                ms[i] = stack.enter_context(Mount(srv.url + names[i], tmp_path / ("r%d" % (i + 1)),
                                                  args, env=srv.env()))
            r = run(["dd", "if=%s" % src, "of=%s" % ms[0].tape, "bs=64k"])
            assert r.returncode == 0, r.stderr + "".join(
                "\n--- reel %d status:\n%s" % (i + 1, m.status_path.read_text())
                for i, m in enumerate(ms))
            # Reel 1 was published as soon as it was full.
            assert (srv.root / names[0]).exists()
            for m in ms:
                assert m.unmount() == 0, m.stderr
        # Each reel's manifest names the next reel (read from its status).
        man1 = json.loads((srv.root / (names[0] + ".manifest.json")).read_text())
        assert man1["next"].endswith(names[1]) and man1["reel"] == 1
        payload = b""
        for name in names:
            files = image_files(srv, name, "mtd")
            assert files, "%s holds no data" % name
            reel_check(srv.root / name)
            assert all(len(x) == 65536 for f in files for x in f[:-1])
            payload += tapeimg.payload(files)
        assert payload == src.read_bytes()
