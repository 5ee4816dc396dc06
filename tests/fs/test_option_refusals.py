"""Options that disagree with each other or with the drive are refused
before anything is mounted or uploaded: exit status 1, one sentence, no
mount, no NAME.part (issue 8, point 15, reelfs side)."""
import os
import shutil
import subprocess

import pytest

from fscommon import Mount, is_mounted, need_mount_env, reelfs_binary, run
import need


def _refused(tmp_path, args, words, name="x.mtd"):
    target = tmp_path / "target"
    target.mkdir(exist_ok=True)
    mnt = tmp_path / "mnt"
    mnt.mkdir(exist_ok=True)
    try:
        r = run([reelfs_binary(), "-f"] + args + ["file://%s/%s" % (target, name),
                                                  str(mnt)], timeout=60)
    finally:
        if is_mounted(mnt):
            subprocess.run(["fusermount3", "-u", "-z", str(mnt)])
    assert r.returncode == 1, (args, r.returncode, r.stderr)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, (args, r.stderr)
    assert "error:" in lines[0] and lines[0].rstrip().endswith("."), lines
    for w in words:
        assert w in lines[0], (args, lines[0])
    assert not is_mounted(mnt)
    assert os.listdir(target) == [], os.listdir(target)
    return lines[0]


@pytest.mark.parametrize("args,words,name", [
    (["--block-size=8M"], ["--block-size=8M", "4194304", "largest record"], "x.mtd"),
    (["--block-size=4194305"], ["4194304"], "x.tap"),
    (["--block-size=3M"], ["2097152", "aws"], "x.aws"),
    (["--format=het", "--block-size=2097153"], ["2097152", "het"], "x.img"),
    (["--block-size=99999999999999999999"], ["--block-size"], "x.mtd"),
])
def test_block_size_over_the_largest_record_is_refused(tmp_path, args, words, name):
    need_mount_env()
    _refused(tmp_path, args, words, name)


@pytest.mark.parametrize("sid,words", [
    ("s" * 40, ["40 bytes", "1 to 39 bytes"]),
    ("s" * 300, ["300 bytes"]),
    ("set\nnext", ["control character"]),
    ("set\x1b[31m", ["control character"]),
    ("set\u009b", ["control character"]),
    ("set\x7f", ["control character"]),
    ("set\udc9b", ["control character"]),     # a raw C1 byte 0x9b in argv
])
def test_storeset_id_cut_or_with_control_characters_is_refused(tmp_path, sid, words):
    need_mount_env()
    line = _refused(tmp_path, ["--storeset=" + sid], words)
    assert "\x1b" not in line


@pytest.mark.parametrize("args,name,words", [
    (["--next-url=file:///srv/vol2\x1b[2J.mtd"], "x.mtd", ["--next-url"]),
    (["--prev=/srv/vol0\u009b.mtd"], "x.mtd", ["--prev"]),
    (["--prev=/srv/vol0\udc9b.mtd"], "x.mtd", ["--prev"]),    # raw 0x9b
    ([], "x\x1b]0;pwned\x07.mtd", ["the URL"]),
])
def test_links_with_control_characters_are_refused(tmp_path, args, name, words):
    """A URL a manifest will name (this reel's, --prev, --next-url) with a
    control character would make a manifest the reader refuses (issue 9
    point 4): refused at mount, and the refusal itself holds no escape."""
    need_mount_env()
    line = _refused(tmp_path, args, words + ["control character"], name)
    assert "\x1b" not in line and "\x9b" not in line


@pytest.mark.parametrize("args", [
    ["--replay=64M", "--buffer=32M"],
    ["--buffer=8M", "--replay=8M"],
    ["--replay=100M"],
])
def test_replay_not_smaller_than_buffer_is_refused(tmp_path, args):
    need_mount_env()
    _refused(tmp_path, args, ["--replay", "--buffer", "smaller"])


@pytest.mark.parametrize("reel", ["99999999999999999999", "4294967296", "0", "-1", "2x"])
def test_reel_number_out_of_range_is_refused(tmp_path, reel):
    need_mount_env()
    _refused(tmp_path, ["--reel=" + reel], ["--reel=" + reel, "4294967295"])


def test_capacity_that_overflows_is_refused(tmp_path):
    need_mount_env()
    _refused(tmp_path, ["--capacity=99999999999999999999"], ["--capacity"])
    _refused(tmp_path, ["--capacity=20000000T"], ["--capacity"])


def test_next_that_is_not_a_reelfs_tape_is_refused(tmp_path):
    need_mount_env()
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "tape").write_bytes(b"")
    (plain / "status").write_text("url: x\n")
    _refused(tmp_path, ["--next=%s" % (tmp_path / "nowhere" / "tape")],
             ["--next=", "No such file or directory", "mount the next reel first"])
    _refused(tmp_path, ["--next=%s" % (plain / "tape")], ["not the tape of a reelfs mount",
                                                         "not a reelfs mount"])
    _refused(tmp_path, ["--next=%s" % plain], ["not named tape"])
    # A real reelfs mount, but its status file is not its tape.
    t2 = tmp_path / "t2"
    t2.mkdir()
    with Mount("file://%s/next.mtd" % t2, tmp_path / "r2", []) as m2:
        _refused(tmp_path, ["--next=%s" % m2.status_path], ["not named tape"])
        # ... and its tape is accepted.
        with Mount("file://%s/first.mtd" % t2, tmp_path / "r1",
                   ["--next=%s" % m2.tape]) as m1:
            assert m1.unmount() == 0, m1.stderr
        assert m2.unmount() == 0, m2.stderr


def test_largest_record_block_size_and_storeset_at_the_limit_work(tmp_path):
    """The limits themselves are accepted: --block-size=4M on mtd, a
    39-byte id (kept whole in the manifest), and mt setblk refuses 8 MiB."""
    need_mount_env("dd")
    import json
    t = tmp_path / "t"
    t.mkdir()
    sid = "s" * 39
    with Mount("file://%s/big.mtd" % t, tmp_path / "m",
               ["--block-size=4M", "--storeset=" + sid, "--replay=16M",
                "--buffer=32M"], allow_errors=[r"setblk"]) as m:
        r = run(["dd", "if=/dev/zero", "of=%s" % m.tape, "bs=1M", "count=4"])
        assert r.returncode == 0, r.stderr
        if shutil.which("mt"):
            r = run(["mt", "-f", str(m.tape), "setblk", str(8 << 20)])
            assert r.returncode != 0
        assert m.unmount() == 0, m.stderr
    man = json.loads((t / "big.mtd.manifest.json").read_text())
    assert man["storeset"] == sid and man["records"] == 1
    assert man["payload_bytes"] == 4 << 20
