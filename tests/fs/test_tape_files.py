"""One tape file per open file description, as Linux st: the tape mark is
written when the last descriptor of an open goes away (FUSE release), not
at every close. Forked children that share the parent's open (dump's
slaves, a shell's `{ dd; dd; } > tape`) add records to one tape file; the
next open's first record comes after the mark. A real dump(8) through the
drive, three dumps on one reel, each restored with restore -r from
`reel cat --file N` equal to its source tree. Real mounts against vsftpd
on 127.0.0.1."""
import contextlib
import os
import pathlib
import subprocess

import pytest

from fscommon import (Mount, image_files, need_mount_env, published,
                      reel_binary, reel_check, run, vsftpd)


def test_forked_children_and_parent_write_one_tape_file(tmp_path):
    need_mount_env()
    recs = [os.urandom(n) for n in (1000, 2000, 3000, 4000)]
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "fork.mtd", tmp_path / "mnt", env=srv.env()) as m:
            fd = os.open(m.tape, os.O_WRONLY)
            try:
                for rec in recs[:2]:
                    pid = os.fork()
                    if pid == 0:
                        # The child writes one record and exits: its
                        # close of the inherited descriptor is not the
                        # last one, so no mark.
                        code = 0 if os.write(fd, rec) == len(rec) else 1
                        os._exit(code)
                    _, status = os.waitpid(pid, 0)
                    assert os.waitstatus_to_exitcode(status) == 0
                assert os.write(fd, recs[2]) == len(recs[2])
            finally:
                os.close(fd)
            # The next open at once: its first record comes after the mark
            # the last close wrote (release runs after close returned).
            fd = os.open(m.tape, os.O_WRONLY)
            try:
                assert os.write(fd, recs[3]) == len(recs[3])
            finally:
                os.close(fd)
            assert m.status()["files"] == "2"
        assert image_files(srv, "fork.mtd", "mtd") == [recs[:3], recs[3:]]
        tmap = reel_check(srv.root / "fork.mtd")
        if tmap is not None:
            assert [f["records"] for f in tmap["files"]] == [3, 1], tmap


def test_shell_group_of_dd_is_one_tape_file(tmp_path):
    need_mount_env("dd", "sh")
    a, b, c = (tmp_path / n for n in "abc")
    a.write_bytes(os.urandom(3 * 8192))
    b.write_bytes(os.urandom(2 * 4096))
    c.write_bytes(os.urandom(512))
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "grp.mtd", tmp_path / "mnt", env=srv.env()) as m:
            r = run(["sh", "-c", "{ dd if=%s bs=8192 status=none; "
                     "dd if=%s bs=4096 status=none; } > %s" % (a, b, m.tape)])
            assert r.returncode == 0, r.stderr
            r = run(["dd", "if=%s" % c, "of=%s" % m.tape, "bs=512", "status=none"])
            assert r.returncode == 0, r.stderr
        files = image_files(srv, "grp.mtd", "mtd")
        assert [[len(x) for x in f] for f in files] == [[8192] * 3 + [4096] * 2, [512]]
        assert b"".join(files[0]) == a.read_bytes() + b.read_bytes()


def _tree(root, seed):
    """A small source tree for one dump: files of several sizes, a
    subdirectory, a symlink, an empty file."""
    import random
    rnd = random.Random(seed)
    root.mkdir(parents=True)
    (root / "sub" / "deeper").mkdir(parents=True)
    for i in range(6):
        d = root if i % 2 else root / "sub"
        (d / ("f%d_%d.bin" % (seed, i))).write_bytes(rnd.randbytes(1000 + i * 37011))
    (root / "sub" / "deeper" / "note.txt").write_text("dump %d\n" % seed * 50)
    (root / "empty").write_bytes(b"")
    os.symlink("sub/deeper/note.txt", root / "link")
    return root


@contextlib.contextmanager
def _loop_device(image):
    """dump reads a filesystem from a device: a loop device over the
    image made by mke2fs -d (nothing is ever mounted)."""
    r = run(["losetup", "--find", "--show", str(image)])
    if r.returncode != 0:
        pytest.skip("a loop device is missing: losetup failed: %s" % r.stderr.strip())
    dev = r.stdout.strip()
    try:
        yield dev
    finally:
        run(["losetup", "-d", dev])


def test_dump_three_dumps_on_one_reel_restore_identical(tmp_path):
    need_mount_env("dump", "restore", "mke2fs", "losetup", "diff")
    reel = reel_binary()
    if not os.access(reel, os.X_OK):
        pytest.skip("%s is missing: build it first" % reel)
    trees = [_tree(tmp_path / ("src%d" % i), i) for i in (1, 2, 3)]
    images = []
    for i, t in enumerate(trees, 1):
        img = tmp_path / ("fs%d.ext4" % i)
        r = run(["mke2fs", "-q", "-t", "ext4", "-d", str(t), str(img), "32M"])
        assert r.returncode == 0, r.stderr
        images.append(img)
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "dumps.mtd", tmp_path / "mnt", env=srv.env()) as m:
            for i, img in enumerate(images, 1):
                with _loop_device(img) as dev:
                    r = run(["dump", "-0", "-b", "64", "-f", str(m.tape), dev])
                assert r.returncode == 0, r.stdout + r.stderr
                assert "DUMP IS DONE" in r.stdout + r.stderr
                assert m.status()["files"] == str(i), m.status()
        published(srv, "dumps.mtd")
        tmap = reel_check(srv.root / "dumps.mtd")
        assert tmap is not None and len(tmap["files"]) == 3, tmap
        for n, src in enumerate(trees, 1):
            out = tmp_path / ("restored%d" % n)
            out.mkdir()
            cat = subprocess.Popen([reel, "cat", "--file", str(n), srv.url + "dumps.mtd"],
                                   env=srv.env(), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
            try:
                # restore's scratch directory is TMPDIR/rstdirTIME: one of
                # its own (another run in the same second would collide).
                rtmp = tmp_path / ("rtmp%d" % n)
                rtmp.mkdir()
                rr = subprocess.run(["restore", "-r", "-y", "-f", "-"], cwd=out,
                                    stdin=cat.stdout, capture_output=True, text=True,
                                    env=dict(os.environ, TMPDIR=str(rtmp)))
            finally:
                cat.stdout.close()
                cat_err = cat.stderr.read().decode()
                cat.stderr.close()
                cat.wait()
            assert cat.returncode == 0, cat_err
            assert rr.returncode == 0, rr.stdout + rr.stderr
            d = run(["diff", "-r", "-x", "lost+found", "-x", "restoresymtable",
                     "--no-dereference", str(src), str(out)])
            assert d.returncode == 0, "tape file %d differs from %s:\n%s%s" % (
                n, src, d.stdout, d.stderr)
            assert pathlib.Path(out / "link").is_symlink()


def test_fixed_block_tail_that_no_longer_fits_fails_the_close(tmp_path):
    """--block-size: the partly filled last block is padded and written
    when the last descriptor goes (release). When it cannot fit under
    --capacity any more, the close says so (ENOSPC) instead of
    succeeding, and the drive reports the lost bytes afterwards."""
    import errno
    need_mount_env()
    with vsftpd(tmp_path) as srv:
        m = Mount(srv.url + "fb.mtd", tmp_path / "mnt",
                  ["--block-size=10240", "--capacity=100K"], env=srv.env(),
                  expect_ok=False)
        with m:
            fd = os.open(m.tape, os.O_WRONLY)
            try:
                for _ in range(9):
                    assert os.write(fd, b"b" * 10240) == 10240
                assert os.write(fd, b"t" * 100) == 100  # the tail, held
            except BaseException:
                os.close(fd)
                raise
            with pytest.raises(OSError) as e:
                os.close(fd)
            assert e.value.errno == errno.ENOSPC
        assert m.returncode != 0
        assert "could not be written" in m.stderr, m.stderr
        # The reel holds what it holds (the nine whole blocks); the exit
        # status says the backup is incomplete.
        assert image_files(srv, "fb.mtd", "mtd") == [[b"b" * 10240] * 9]
