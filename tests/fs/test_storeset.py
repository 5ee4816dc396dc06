"""Multi-reel storesets: (a) one mount per reel spanned by tar -M through
ENOSPC; (b) reels chained with --next, spanned transparently by dd.
Real mounts against vsftpd on 127.0.0.1."""
import contextlib
import json
import os
import re
import subprocess
import time

import pytest

import need
import tapeimg
from fscommon import (Mount, image_files, is_mounted, make_tree, need_mount_env,
                      reel_binary, reel_check, reelfs_binary, run, vsftpd)

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
        # Each reel's manifest names the next reel (told at the hand-over).
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


# ---- the README's recipes, exactly as printed ---------------------------

@contextlib.contextmanager
def _daemon_mounts(points):
    """Mount points of daemonized reelfs (the README's form, no -f); every
    one still mounted is unmounted on the way out, even on failure."""
    try:
        yield
    finally:
        for p in points:
            if is_mounted(p):
                subprocess.run(["fusermount3", "-u", str(p)], capture_output=True)
                if is_mounted(p):
                    subprocess.run(["fusermount3", "-u", "-z", str(p)],
                                   capture_output=True)


def _unmount(p, timeout=120.0):
    """fusermount3 -u, polled: the reel before this one (a daemon) finishes
    after its own umount returned, and holds this tape until it has offlined
    it."""
    deadline = time.monotonic() + timeout
    while True:
        r = run(["fusermount3", "-u", str(p)])
        if r.returncode == 0 or not is_mounted(p):
            return
        assert "busy" in r.stderr and time.monotonic() < deadline, r.stderr
        time.sleep(0.1)


def _wait_published(srv, names, timeout=120.0):
    """A daemonized reelfs publishes after umount returns: poll for each
    image's manifest."""
    deadline = time.monotonic() + timeout
    for name in names:
        p = srv.root / (name + ".manifest.json")
        while not p.exists():
            assert time.monotonic() < deadline, "%s was never published; " \
                "the directory holds %s" % (name, sorted(os.listdir(srv.root)))
            time.sleep(0.05)


def _reel_cat_tar_x(srv, name, out):
    """The README's restore: reel cat URL | tar -xf -."""
    out.mkdir()
    r = run(["bash", "-o", "pipefail", "-c",
             'reel="$1"; url="$2"; cd "$3" && "$reel" cat "$url" | tar -xf -',
             "restore", reel_binary(), srv.url + name, str(out)], env=srv.env())
    assert r.returncode == 0, r.stderr
    return out


def _same_tree(tree, out):
    n = 0
    for p in tree.rglob("*"):
        if p.is_file():
            q = out / p.relative_to(tree.parent)
            assert q.is_file(), "%s was not restored" % q
            assert q.read_bytes() == p.read_bytes(), "%s differs" % q
            n += 1
    assert n > 0


@pytest.mark.parametrize("writer", ["tar", "dd"])
def test_readme_recipe_b_restores_with_reel_cat(tmp_path, writer):
    """README recipe (b) as printed: later reels first, each mounted with
    nothing but --capacity and --next; a writer that knows nothing of
    volumes fills reel 1 and spills to 2 and 3; `reel cat vol1.mtd | tar
    -xf -` restores everything (one storeset, reels 1-2-3, linked)."""
    need_mount_env("tar", "dd", "bash")
    need.need_binary(reel_binary())
    tree = make_tree(tmp_path / "data", nfiles=10, size=5 * MB)
    names = ["vol1.mtd", "vol2.mtd", "vol3.mtd"]
    pts = [tmp_path / ("r%d" % i) for i in (1, 2, 3)]
    with vsftpd(tmp_path) as srv:
        with _daemon_mounts(pts):
            for p in pts:
                p.mkdir()
            # reelfs --capacity=20G ftp://tape@nas/b/vol3.mtd /mnt/r3
            # reelfs --capacity=20G --next=/mnt/r3/tape ftp://tape@nas/b/vol2.mtd /mnt/r2
            # reelfs --capacity=20G --next=/mnt/r2/tape ftp://tape@nas/b/vol1.mtd /mnt/r1
            for i in (2, 1, 0):
                cmd = [reelfs_binary(), "--capacity=20M"]
                if i < 2:
                    cmd.append("--next=%s/tape" % pts[i + 1])
                r = run(cmd + [srv.url + names[i], str(pts[i])], env=srv.env())
                assert r.returncode == 0, r.stderr
                assert is_mounted(pts[i])
            tape = str(pts[0] / "tape")
            if writer == "tar":
                # tar -b 64 -cf /mnt/reel1/tape /home
                r = run(["tar", "-b", "64", "-cf", tape, "-C", str(tmp_path), "data"])
            else:
                # dd if=/dev/sdb bs=64k of=/mnt/r1/tape (a tar archive here)
                arch = tmp_path / "data.tar"
                r = run(["tar", "-cf", str(arch), "-C", str(tmp_path), "data"])
                assert r.returncode == 0, r.stderr
                r = run(["dd", "if=%s" % arch, "bs=64k", "of=%s" % tape])
            assert r.returncode == 0, r.stderr
            assert "chained" in (pts[0] / "status").read_text()
            for p in pts:
                _unmount(p)
        _wait_published(srv, names)
        mans = [json.loads((srv.root / (n + ".manifest.json")).read_text())
                for n in names]
        assert len({m["storeset"] for m in mans}) == 1, mans
        assert [m["reel"] for m in mans] == [1, 2, 3]
        assert mans[0]["prev"] is None and mans[2]["next"] is None
        for a, b, na, nb in zip(mans, mans[1:], names, names[1:]):
            assert a["next"].endswith("/" + nb) and b["prev"].endswith("/" + na)
        _same_tree(tree, _reel_cat_tar_x(srv, names[0], tmp_path / "restore"))


def test_chain_not_spilled_names_no_next(tmp_path):
    """A --next chain whose data fits on reel 1: reel 1's manifest names no
    next reel (the next one was never written), so `reel cat` restores it
    alone."""
    need_mount_env("tar", "bash")
    need.need_binary(reel_binary())
    tree = make_tree(tmp_path / "data", nfiles=2, size=100_000)
    with vsftpd(tmp_path) as srv:
        with contextlib.ExitStack() as stack:
            m2 = stack.enter_context(Mount(srv.url + "n2.mtd", tmp_path / "r2",
                                           ["--capacity=20M"], env=srv.env()))
            m1 = stack.enter_context(Mount(srv.url + "n1.mtd", tmp_path / "r1",
                                           ["--capacity=20M", "--next=%s" % m2.tape],
                                           env=srv.env()))
            r = run(["tar", "-cf", str(m1.tape), "-C", str(tmp_path), "data"])
            assert r.returncode == 0, r.stderr
            assert m1.unmount() == 0, m1.stderr
            assert m2.unmount() == 0, m2.stderr
        man = json.loads((srv.root / "n1.mtd.manifest.json").read_text())
        assert man["next"] is None and man["reel"] == 1
        _same_tree(tree, _reel_cat_tar_x(srv, "n1.mtd", tmp_path / "restore"))


def test_readme_recipe_a_tar_multivolume_restores(tmp_path):
    """README recipe (a) as printed: one daemonized mount per reel, tar -M
    across them; each reel read back with `reel cat` and tar -M restores."""
    need_mount_env("tar", "bash")
    need.need_binary(reel_binary())
    tree = make_tree(tmp_path / "data", nfiles=10, size=5 * MB)
    names = ["vol1.mtd", "vol2.mtd", "vol3.mtd"]
    pts = [tmp_path / ("r%d" % i) for i in (1, 2, 3)]
    with vsftpd(tmp_path) as srv:
        with _daemon_mounts(pts):
            # for i in 1 2 3; do reelfs --capacity=20G ftp://tape@nas/b/vol$i.mtd /mnt/r$i; done
            for p, n in zip(pts, names):
                p.mkdir()
                r = run([reelfs_binary(), "--capacity=20M", srv.url + n, str(p)],
                        env=srv.env())
                assert r.returncode == 0, r.stderr
            # tar -M -cf /mnt/r1/tape -f /mnt/r2/tape -f /mnt/r3/tape /data
            r = run(["tar", "-M", "-cf", str(pts[0] / "tape"), "-f", str(pts[1] / "tape"),
                     "-f", str(pts[2] / "tape"), "-C", str(tmp_path), "data"],
                    stdin=subprocess.DEVNULL)
            assert r.returncode == 0, r.stderr
            for p in pts:
                _unmount(p)
        _wait_published(srv, names)
        vols = []
        for n in names:
            v = tmp_path / (n + ".tar")
            with open(v, "wb") as f:
                r = subprocess.run([reel_binary(), "cat", srv.url + n], stdout=f,
                                   stderr=subprocess.PIPE, text=True, env=srv.env())
            assert r.returncode == 0, r.stderr
            vols.append(v)
        out = tmp_path / "restore"
        out.mkdir()
        cmd = ["tar", "-M", "-x", "-C", str(out)]
        for v in vols:
            cmd += ["-f", str(v)]
        r = run(cmd, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        _same_tree(tree, out)


# ---- a full server in a chain loses nothing (issue 8, point 5d) ---------

@contextlib.contextmanager
def _faultftpd(tmp_path, **kw):
    import servers
    with servers.FaultFtpd(tmp_path / "fault", **kw) as srv:
        yield srv


@pytest.mark.parametrize("fmt,buf,nreels,nfiles,full", [
    pytest.param("mtd", [], 3, 4, 4, id="mtd-at-finish"),
    pytest.param("aws", [], 3, 4, 4, id="aws-at-finish"),
    pytest.param("het", [], 3, 4, 4, id="het-at-finish"),
    pytest.param("mtd", ["--buffer=16M", "--replay=12M"], 4, 12, 8, id="mtd-by-a-write"),
    pytest.param("het", ["--buffer=16M", "--replay=12M"], 4, 12, 8, id="het-by-a-write")])
def test_full_server_in_a_chain_carries_the_lost_records_on(tmp_path, fmt, buf,
                                                            nreels, nfiles, full):
    """Reel 1's server fills up (552) after the drive accepted records it
    could not store: those records, still in the upload queue, go onto reel
    2 ahead of the new ones; reel 1 is published ending at its last whole
    record (truncated_at), and `reel cat vol1 | tar -xf -` restores the
    whole tree. All reels on one server, so reel cat follows the links; the
    server takes at most `full` MB per file, later reels end by --capacity.
    With the default buffer the whole backup is queued and the 552 is met
    when the volume is finished; with a 16 MiB buffer and 24 MB of data, by
    a write while tar is still writing. (The replay window must cover what
    the sender pushed past the server's last kept byte: on loopback the
    socket buffers take up to some 6 MB after the server stopped keeping;
    the server's receive buffer is held at 256 KiB, as autotuned it grew
    past 8 MB on a loaded machine.)"""
    need_mount_env("tar", "bash")
    need.need_binary(reel_binary())
    tree = make_tree(tmp_path / "data", nfiles=nfiles, size=2 * MB)
    names = ["full%d.%s" % (i + 1, fmt) for i in range(nreels)]
    with _faultftpd(tmp_path, full_at=full * MB,
                    extra=["--rcvbuf", str(256 * 1024)]) as srv:
        with contextlib.ExitStack() as stack:
            ms = [None] * nreels
            for i in reversed(range(nreels)):
                args = ["--capacity=%dM" % (full - 1)] if i else list(buf)
                if i < nreels - 1:
                    args.append("--next=%s" % ms[i + 1].tape)
                ms[i] = stack.enter_context(Mount(
                    srv.url + names[i], tmp_path / ("r%d" % (i + 1)), args,
                    env=srv.env(), allow_errors=[r"carried onto the next reel"]))
            r = run(["tar", "-b", "64", "-cf", str(ms[0].tape), "-C", str(tmp_path), "data"])
            assert r.returncode == 0, r.stderr + "".join(
                "\n--- reel %d:\n%s" % (i + 1, m.status_path.read_text())
                for i, m in enumerate(ms))
            if buf:
                # Met by a write: reel 1 was published then, not at the end.
                assert (srv.root / names[0]).exists()
                assert ms[0].status()["state"] == "chained"
            for m in ms:
                assert m.unmount() == 0, m.stderr
        assert "carried onto the next reel" in ms[0].stderr, ms[0].stderr
        mans = [json.loads((srv.root / (n + ".manifest.json")).read_text())
                for n in names]
        assert [m["reel"] for m in mans] == list(range(1, nreels + 1))
        assert len({m["storeset"] for m in mans}) == 1
        t = mans[0]["truncated_at"]
        size1 = (srv.root / names[0]).stat().st_size
        assert size1 == mans[0]["image_bytes"] == full * MB and 0 < t <= size1
        assert "truncated_at" not in mans[1]
        # reel verify checks the cut reel up to truncated_at, and the rest.
        r = run([reel_binary(), "verify", srv.url + names[0]], env=srv.env())
        assert r.returncode == 0 and "truncated_at" in r.stdout, r.stdout + r.stderr
        _same_tree(tree, _reel_cat_tar_x(srv, names[0], tmp_path / "restore"))


MTIOCTOP = 0x40086d01  # _IOW('m', 1, struct mtop)
MTOFFL = 7


@pytest.mark.parametrize("fmt", ["mtd", "aws"])
def test_full_server_met_by_the_finish_still_names_the_next_reel(tmp_path, fmt):
    """The 552 is met only while the volume is finished (MTOFFL on the
    writer's descriptor, the server throttled so it fills up long after the
    last write was accepted): the hand-over still names reel 2 in reel 1's
    manifest (it used to be dropped because the volume counted as finished,
    so reel 1 said next null and `reel cat` stopped after it), and reel cat
    gives back every record."""
    import fcntl
    import struct
    need_mount_env()
    need.need_binary(reel_binary())
    data = os.urandom(5 * MB)
    names = ["late1." + fmt, "late2." + fmt]
    with _faultftpd(tmp_path, full_at=3 * MB, throttle=2 * MB) as srv:
        with contextlib.ExitStack() as stack:
            m2 = stack.enter_context(Mount(srv.url + names[1], tmp_path / "r2",
                                           [], env=srv.env()))
            m1 = stack.enter_context(Mount(
                srv.url + names[0], tmp_path / "r1", ["--next=%s" % m2.tape],
                env=srv.env(), allow_errors=[r"carried onto the next reel"]))
            fd = os.open(m1.tape, os.O_WRONLY)
            try:
                for i in range(0, len(data), 65536):
                    assert os.write(fd, data[i:i + 65536]) == len(data[i:i + 65536])
                # Every write was taken before the server filled up.
                assert m1.status()["state"] == "writing", m1.status()
                fcntl.ioctl(fd, MTIOCTOP, struct.pack("hi", MTOFFL, 1))
            finally:
                os.close(fd)
            assert m1.unmount() == 0, m1.stderr
            assert m2.unmount() == 0, m2.stderr
        assert "carried onto the next reel" in m1.stderr, m1.stderr
        assert "manifest was written already" not in m1.stderr, m1.stderr
        mans = [json.loads((srv.root / (n + ".manifest.json")).read_text())
                for n in names]
        assert 0 < mans[0]["truncated_at"] <= 3 * MB, mans[0]
        assert mans[0]["next"] and mans[0]["next"].endswith("/" + names[1]), mans[0]
        assert mans[1]["prev"].endswith("/" + names[0]), mans[1]
        assert [m["reel"] for m in mans] == [1, 2]
        r = subprocess.run([reel_binary(), "cat", srv.url + names[0]],
                           env=srv.env(), capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert r.stdout == data


def test_carrying_over_that_fails_part_way_fails_the_writer(tmp_path):
    """Reel 2 is too small for what reel 1's full server did not keep: the
    first records went onto it, then it is at its end. The writer was told
    long ago that those records were written, so its MTOFFL fails with EIO,
    reelfs exits 1, and the log says how much went onto the next reel."""
    import errno
    import fcntl
    import struct
    need_mount_env()
    data = os.urandom(5 * MB)
    with _faultftpd(tmp_path, full_at=3 * MB, throttle=2 * MB) as srv:
        with contextlib.ExitStack() as stack:
            m2 = stack.enter_context(Mount(srv.url + "part2.mtd", tmp_path / "r2",
                                           ["--capacity=1M"], env=srv.env(),
                                           expect_ok=False))
            m1 = stack.enter_context(Mount(
                srv.url + "part1.mtd", tmp_path / "r1", ["--next=%s" % m2.tape],
                env=srv.env(), expect_ok=False))
            fd = os.open(m1.tape, os.O_WRONLY)
            try:
                for i in range(0, len(data), 65536):
                    assert os.write(fd, data[i:i + 65536]) == len(data[i:i + 65536])
                with pytest.raises(OSError) as e:
                    fcntl.ioctl(fd, MTIOCTOP, struct.pack("hi", MTOFFL, 1))
                assert e.value.errno == errno.EIO
            finally:
                with contextlib.suppress(OSError):   # EIO too: it failed
                    os.close(fd)
            st = m1.status()
            assert st["state"] == "failed", st
            assert m1.unmount() != 0
            m2.unmount()
        assert "carrying over the records the full server did not keep " \
            "failed" in m1.stderr, m1.stderr
        assert re.search(r"[1-9][0-9]* records and [0-9]+ tape marks \([1-9][0-9]* "
                         r"bytes of data\) of what the full server did not keep "
                         r"went onto the next reel", m1.stderr), m1.stderr
        assert not (srv.root / "part1.mtd").exists()
        assert (srv.root / "part1.mtd.part").exists()


def test_full_server_without_next_still_fails_loudly(tmp_path):
    """No next reel: the records the full server lost are reported as
    before (EIO at close, reel stays .part, exit status 1).

    dd must write more past the server's limit than the sockets between
    reelfs and the server can hold (send buffer up to tcp_wmem's 4 MiB,
    receive buffer autotuned up to tcp_rmem's 32 MiB): a close returns
    once its bytes are in the kernel's socket buffers, so with only 4 MB
    past the limit it could return before the server read up to it and
    answered 552 (flaky under load). 40 MB past it cannot all be in
    flight, so dd fails on a write or at close; a 1 MiB queue keeps the
    daemon's memory small."""
    need_mount_env("dd")
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(44 * MB))
    with _faultftpd(tmp_path, full_at=4 * MB) as srv:
        m = Mount(srv.url + "alone.mtd", tmp_path / "r1",
                  ["--buffer=1M", "--replay=256K"], env=srv.env(),
                  expect_ok=False)
        with m:
            r = run(["dd", "if=%s" % src, "of=%s" % m.tape, "bs=64k"])
            assert r.returncode != 0
            assert m.unmount() != 0
        assert (srv.root / "alone.mtd.part").exists()
        assert not (srv.root / "alone.mtd").exists()
        assert "could not be stored" in m.stderr, m.stderr
