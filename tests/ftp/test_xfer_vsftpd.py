"""Uploads to Debian's vsftpd on 127.0.0.1: a 1 GiB stream arrives byte for
byte, pre-data failures come back quickly as one sentence, the overwrite
policies, FTPS with a self-signed certificate, active mode, credentials and
the debug log's masking, and the read side (LIST, SIZE/MDTM, REST)."""
import os
import re
import subprocess
import time

import pytest

from ftphelp import file_sha, get, run_with_tty, send, driver
from need import need_root, need_tool
from servers import Vsftpd

MiB = 1 << 20


@pytest.fixture
def vsftpd(tmp_path):
    need_root()
    need_tool("vsftpd")
    with Vsftpd(tmp_path / "srv") as srv:
        yield srv


def test_one_gib_byte_identical(vsftpd):
    size = 1 << 30
    r = send(vsftpd.url + "big.tap", ["--verify", "--block-size", "65536"],
             size=size, seed=1960, env=vsftpd.env())
    assert r.rc == 0, r
    assert r.summary == ("sent 1073741824 bytes (1.00 GB); the server holds "
                         "1073741824 bytes")
    assert r.stats["verified"] == 1 and r.stats["reconnects"] == 0
    assert file_sha(vsftpd.root / "big.tap") == r.sha
    assert not (vsftpd.root / "big.tap.part").exists()


def test_wrong_password_fast(vsftpd):
    env = vsftpd.env()
    env["REELFS_PASSWORD"] = "not-the-password"
    t0 = time.monotonic()
    r = send(vsftpd.url + "x.tap", size=10, env=env)
    took = time.monotonic() - t0
    assert r.rc == 1
    assert 'login refused (530) for user "reeltest"' in r.err
    assert "nothing was written" in r.err
    assert took < 5.0, "the refusal took %.1f s" % took
    assert list(vsftpd.root.iterdir()) == []


def test_connection_refused_fast(tmp_path):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    env = dict(os.environ, REELFS_PASSWORD="x")
    r = send("ftp://u@127.0.0.1:%d/x.tap" % port, size=1, env=env)
    assert r.rc == 1 and "cannot connect" in r.err, r
    assert time.monotonic() - t0 < 5


def test_missing_directory(vsftpd):
    r = send(vsftpd.url + "nodir/x.tap", size=10, env=vsftpd.env())
    assert r.rc == 1
    assert 'no such directory "/nodir" (550)' in r.err, r.err
    assert "--mkdir" in r.err
    r = send(vsftpd.url + "nodir/deeper/x.tap", ["--mkdir"], size=10,
             env=vsftpd.env())
    assert r.rc == 0, r
    assert (vsftpd.root / "nodir" / "deeper" / "x.tap").stat().st_size == 10
    # a directory the user cannot write in: refused before any data
    (vsftpd.root / "ro").mkdir(mode=0o755)  # owned by root
    r = send(vsftpd.url + "ro/x.tap", size=10, env=vsftpd.env())
    assert r.rc == 1
    assert 'refused to create x.tap.part in "/ro" ("553' in r.err, r.err
    assert "nothing was written" in r.err


def test_existing_name_policies(vsftpd, tmp_path):
    url = vsftpd.url + "t.tap"
    first = send(url, size=12345, seed=1, env=vsftpd.env())
    assert first.rc == 0, first
    # never (the default): refused with the size and the time
    r = send(url, size=100, seed=2, env=vsftpd.env())
    assert r.rc == 1
    assert re.search(r"already exists \(12345 bytes, modified \d{4}-\d\d-\d\d "
                     r"\d\d:\d\d:\d\d UTC\)", r.err), r.err
    assert file_sha(vsftpd.root / "t.tap") == first.sha
    assert not (vsftpd.root / "t.tap.part").exists()
    # ask without a terminal: refused, says why
    r = send(url, ["--overwrite=ask"], size=100, seed=2, env=vsftpd.env(),
             start_new_session=True)
    assert r.rc == 1 and "no terminal" in r.err, r
    # ask on a terminal: "n" keeps, "y" replaces
    data = tmp_path / "data"
    data.write_bytes(os.urandom(4321))
    for answer, replaced in (("n\n", False), ("y\n", True)):
        with open(data, "rb") as f:
            rc, tty, out, err = run_with_tty(
                [driver("xfer_send"), url, "--overwrite=ask"],
                [(r"\[y/N\]", answer)], stdin=f, env=vsftpd.env())
        assert "12345 bytes" in tty and "Replace it?" in tty, tty
        assert re.search(r"modified \d{4}-\d\d-\d\d", tty), tty
        if replaced:
            assert rc == 0, err
            assert (vsftpd.root / "t.tap").read_bytes() == data.read_bytes()
        else:
            assert rc == 1 and "kept as you answered" in err, err
            assert file_sha(vsftpd.root / "t.tap") == first.sha
    # always: replaced without a question
    r = send(url, ["--overwrite=always"], size=777, seed=5, env=vsftpd.env())
    assert r.rc == 0, r
    assert file_sha(vsftpd.root / "t.tap") == r.sha


def test_password_sources(vsftpd, tmp_path):
    env = dict(os.environ)
    env.pop("REELFS_PASSWORD", None)
    env["HOME"] = str(tmp_path / "home")
    os.makedirs(env["HOME"])
    # no password anywhere and no terminal: a sentence naming the sources
    r = send(vsftpd.url + "a.tap", size=10, env=env, start_new_session=True)
    assert r.rc == 1 and "no password" in r.err and "REELFS_PASSWORD" in r.err
    # --password-file
    r = send(vsftpd.url + "a.tap", ["--password-file", vsftpd.password_file()],
             size=10, env=env)
    assert r.rc == 0, r
    # ~/.netrc
    nrc = vsftpd.netrc()
    os.rename(nrc, os.path.join(env["HOME"], ".netrc"))
    r = send(vsftpd.url + "b.tap", size=10, env=env)
    assert r.rc == 0, r
    os.unlink(os.path.join(env["HOME"], ".netrc"))
    # the prompt on the terminal, without echo
    with open(os.devnull, "rb") as f:
        rc, tty, out, err = run_with_tty(
            [driver("xfer_send"), vsftpd.url + "c.tap"],
            [(r"Password for reeltest@127\.0\.0\.1: ", vsftpd.password + "\n")],
            stdin=f, env=env)
    assert rc == 0, err
    assert vsftpd.password not in tty
    assert (vsftpd.root / "c.tap").exists()


def test_debug_brief_masks_password(vsftpd):
    r = send(vsftpd.url + "a.tap", ["--debug=brief"], size=10, env=vsftpd.env())
    assert r.rc == 0, r
    assert "> USER reeltest" in r.err
    assert "> PASS ****" in r.err
    assert vsftpd.password not in r.err + r.out
    r = send(vsftpd.url + "b.tap", ["--debug=sensitive"], size=10,
             env=vsftpd.env())
    assert r.rc == 0, r
    assert "> PASS " + vsftpd.password in r.err


def test_active_mode(vsftpd):
    r = send(vsftpd.url + "a.tap", ["--active=127.0.0.1", "--debug=brief"],
             size=3 * MiB, seed=9, env=vsftpd.env())
    assert r.rc == 0, r
    assert re.search(r"> (EPRT|PORT) ", r.err), r.err
    assert file_sha(vsftpd.root / "a.tap") == r.sha


def test_read_side(vsftpd):
    data = os.urandom(2 * MiB + 3)
    r = send(vsftpd.url + "r.tap", data=data, env=vsftpd.env())
    assert r.rc == 0, r
    (vsftpd.root / "sub").mkdir()
    env = vsftpd.env()
    g = get("cat", vsftpd.url + "r.tap", 1000, 4096, env=env)
    assert g.returncode == 0 and g.stdout == data[1000:5096]
    g = get("cat", vsftpd.url + "r.tap", 2 * MiB, env=env)
    assert g.returncode == 0 and g.stdout == data[2 * MiB:]
    g = get("fetch", vsftpd.url + "r.tap", env=env)
    assert g.returncode == 0 and g.stdout == data
    g = get("stat", vsftpd.url + "r.tap", env=env)
    size, mtime = map(int, g.stdout.split())
    assert size == len(data)
    assert abs(mtime - (vsftpd.root / "r.tap").stat().st_mtime) < 2
    assert get("stat", vsftpd.url + "none.tap", env=env).returncode == 3
    # vsftpd has no MLSD: this is the LIST fallback
    g = get("ls", vsftpd.url, env=env)
    assert g.returncode == 0, g.stderr
    lines = g.stdout.decode().splitlines()
    assert lines[0].startswith("- %d " % len(data)) and lines[0].endswith(" r.tap")
    assert lines[1].startswith("d ") and lines[1].endswith(" sub")


@pytest.mark.parametrize("mode", ["implicit", "explicit"])
def test_ftps_self_signed(tmp_path, mode):
    need_root()
    need_tool("vsftpd")
    need_tool("openssl")
    extra = ["--tls=require"] if mode == "explicit" else []
    with Vsftpd(tmp_path / "srv", tls=True, tls_mode=mode) as srv:
        r = send(srv.url + "a.tap", extra, size=MiB, env=srv.env())
        assert r.rc == 1
        assert "certificate is not trusted" in r.err and "--cacert" in r.err
        assert "nothing was written" in r.err
        r = send(srv.url + "a.tap", extra + ["--cacert", srv.cacert, "--verify"],
                 size=20 * MiB + 5, seed=4, env=srv.env())
        assert r.rc == 0, r
        assert file_sha(srv.root / "a.tap") == r.sha
        assert r.stats["verified"] == 1


def test_real_disk_full_is_end_of_medium(tmp_path):
    """vsftpd on a 3 MiB tmpfs: its write fails, it resets the data
    connection and says 451; twice at the same offset is end of medium."""
    need_root()
    need_tool("vsftpd")
    small = tmp_path / "small"
    small.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs",
                        str(small)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("mount -t tmpfs is missing here: %s" % r.stderr.strip())
    try:
        with Vsftpd(small / "srv") as srv:
            r = send(srv.url + "f.tap", size=10 * MiB, seed=6, env=srv.env())
            assert r.rc == 2, r
            assert "end of medium" in r.err and "451" in r.err
            held = (srv.root / "f.tap.part").stat().st_size
            assert 0 < held < 3 * MiB
            assert "after accepting %d bytes" % held in r.err
            assert r.stats["confirmed"] == held
            assert not (srv.root / "f.tap").exists()
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)
