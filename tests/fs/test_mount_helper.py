"""reelfs as a mount helper (`mount -t fuse.reelfs URL MNT -o key=value`,
what /etc/fstab does) and its option forms. Real vsftpd on 127.0.0.1."""
import os
import subprocess
import time

import pytest

import need
from fscommon import (image_files, is_mounted, need_mount_env, reelfs_binary,
                      run, vsftpd)


def test_mount_t_fuse_reelfs_with_o_options(tmp_path):
    need_mount_env("umount", "dd")
    need.need_tool("mount.fuse3")
    with vsftpd(tmp_path) as srv:
        mnt = tmp_path / "mnt"
        mnt.mkdir()
        env = srv.env()
        # mount -t fuse.reelfs runs `mount.fuse3 URL MNT -t reelfs -o ...`,
        # which runs `reelfs URL MNT -o ...` from the standard PATH; mount
        # resets PATH, so name this build's binary the way mount.fuse3
        # also accepts: PROGRAM#SOURCE.
        r = run(["mount.fuse3", reelfs_binary() + "#" + srv.url + "helper.img", str(mnt),
                 "-o", "format=simh,block-size=4096,capacity=10M,retries=2"], env=env)
        assert r.returncode == 0, r.stderr
        try:
            assert is_mounted(mnt)
            st = (mnt / "status").read_text()
            assert "format: simh" in st and "capacity: 10485760" in st
            r = run(["dd", "if=/dev/zero", "of=%s" % (mnt / "tape"), "bs=1000", "count=10"])
            assert r.returncode == 0, r.stderr
        finally:
            subprocess.run(["umount", str(mnt)])
        assert not is_mounted(mnt)
        files = image_files(srv, "helper.img", "simh")  # polls: the daemon finishes after umount
        assert [len(x) for x in files[0]] == [4096, 4096, 4096]


def test_bad_options_fail_with_one_sentence(tmp_path):
    need_mount_env()
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    for args, word in ((["--capacity=lots"], "--capacity=lots"),
                       (["--format=reel"], "unknown format"),
                       (["--no-such-option=1"], "unknown option"),
                       (["-o", "password=secret123"], "password")):
        r = run([reelfs_binary(), "-f"] + args + ["file:///tmp/x.mtd", str(mnt)])
        assert r.returncode != 0
        assert word in r.stderr, r.stderr
        assert "secret123" not in r.stderr
        assert not is_mounted(mnt)
    r = run([reelfs_binary(), "--help"])
    assert r.returncode == 0
    for opt in ("--format", "--block-size", "--capacity", "--next"):
        assert opt in r.stdout
