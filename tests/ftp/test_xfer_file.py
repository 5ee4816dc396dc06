"""file:// targets (and plain paths): the same upload protocol as FTP on a
local directory — NAME.part, then an atomic rename — with the overwrite
policy, --mkdir, --verify and the read side."""
import os
import re

from ftphelp import file_sha, get, send

MiB = 1 << 20


def test_plain_path_and_file_url(tmp_path):
    for url in (tmp_path / "a.tap", "file://%s" % (tmp_path / "b.tap")):
        r = send(url, ["--verify"], size=5 * MiB + 7, seed=3)
        assert r.rc == 0, r
        name = tmp_path / os.path.basename(str(url))
        assert file_sha(name) == r.sha
        assert not (tmp_path / (name.name + ".part")).exists()
        assert r.summary == ("sent 5242887 bytes (5.00 MB); the server holds "
                             "5242887 bytes")
        assert r.stats["published"] == 1 and r.stats["verified"] == 1
        assert r.stats["queued"] == r.stats["sent"] == 5 * MiB + 7


def test_direct_reserve_commit(tmp_path):
    r = send(tmp_path / "d.tap", ["--direct", "--block-size", "100000",
                                  "--buffer", "1M", "--verify"],
             size=7 * MiB + 3, seed=8)
    assert r.rc == 0, r
    assert file_sha(tmp_path / "d.tap") == r.sha
    assert r.stats["queued"] == 7 * MiB + 3 and r.stats["verified"] == 1


def test_existing_name_and_overwrite(tmp_path):
    target = tmp_path / "t.tap"
    target.write_bytes(b"old")
    r = send(target, size=1000, seed=1)
    assert r.rc == 1
    assert "already exists (3 bytes, modified" in r.err
    assert target.read_bytes() == b"old"
    assert not (tmp_path / "t.tap.part").exists()
    r = send(target, ["--overwrite=always"], size=1000, seed=1)
    assert r.rc == 0, r
    assert file_sha(target) == r.sha


def test_missing_directory_and_mkdir(tmp_path):
    r = send(tmp_path / "no" / "such" / "t.tap", size=10)
    assert r.rc == 1
    assert re.search(r'no such directory ".*/no/such"', r.err), r.err
    r = send(tmp_path / "no" / "such" / "t.tap", ["--mkdir"], size=10)
    assert r.rc == 0, r
    assert (tmp_path / "no" / "such" / "t.tap").stat().st_size == 10


def test_abort_keeps_part(tmp_path):
    r = send(tmp_path / "t.tap", ["--abort-after", "2M", "--block-size",
                                  "1M"], size=8 * MiB)
    assert r.rc == 1
    assert "abandoned" in r.err
    assert not (tmp_path / "t.tap").exists()
    assert (tmp_path / "t.tap.part").exists()


def test_read_side(tmp_path):
    data = os.urandom(3 * MiB + 11)
    (tmp_path / "x.tap").write_bytes(data)
    (tmp_path / "sub").mkdir()
    r = get("cat", tmp_path / "x.tap", 1000, 5000)
    assert r.returncode == 0 and r.stdout == data[1000:6000]
    r = get("cat", "file://%s" % (tmp_path / "x.tap"), 3 * MiB)
    assert r.returncode == 0 and r.stdout == data[3 * MiB:]
    r = get("fetch", tmp_path / "x.tap")
    assert r.returncode == 0 and r.stdout == data
    r = get("stat", tmp_path / "x.tap")
    size, mtime = r.stdout.split()
    assert int(size) == len(data)
    assert abs(int(mtime) - (tmp_path / "x.tap").stat().st_mtime) < 2
    r = get("ls", tmp_path)
    lines = r.stdout.decode().splitlines()
    assert lines[0].startswith("d ") and lines[0].endswith(" sub")
    assert lines[1].startswith("- %d " % len(data)) and lines[1].endswith(" x.tap")
    r = get("stat", tmp_path / "missing.tap")
    assert r.returncode == 3


def test_password_in_url_or_argv_refused(tmp_path):
    r = send("ftp://u:secret@127.0.0.1:9/x.tap", size=1)
    assert r.rc == 1
    assert "other users" in r.err and "--password-file" in r.err
    assert "secret" not in r.err + r.out
    r = send(tmp_path / "x.tap", ["--password=secret"], size=1)
    assert r.rc == 64
    assert "other users" in r.err and "secret" not in r.err


def test_progress_and_quiet(tmp_path):
    r = send(tmp_path / "p.tap", ["--progress"], size=3 * MiB)
    assert r.rc == 0, r
    assert "\rp.tap: 3.00 MB sent," in r.err and "reconnects" in r.err
    r = send(tmp_path / "q.tap", ["--quiet"], size=3 * MiB)
    assert r.rc == 0 and r.err == "", r
