"""Issue 9 point 4: no terminal escapes from the outside. A hostile FTP
server on 127.0.0.1 (faultftpd.py --hostile) ends every refusal with an OSC
retitle (ESC ] 0;pwned BEL), a screen clear (ESC [2J), CSI as UTF-8 (C2 9B)
and a raw CSI byte (0x9b), and serves files whose names carry the same.
`reel ls|map|cat|send`, a reelfs mount (its log and its status file) must
quote all of it escaped (\\x1b, \\u009b, \\x9b), never raw; and a manifest
holding a C1 control (raw, in UTF-8 or as \\u009b) is refused by
`reel manifest` and `reel verify`."""
import os
import pathlib
import subprocess

import pytest

from need import need_binary, need_fuse, need_root, need_tool
from reeltool import fails, ok, reel, reel_path
from servers import FaultFtpd

# What a terminal acts on; none of it may come out of reelfs or reel.
FORBIDDEN = (b"\x1b", b"\x07", b"\x9b", b"\xc2\x9b")
# The names the server lists (bytes: one holds a raw 0x9b, not UTF-8).
NAMES = [b"plain.tap", b"t\x1b]0;pwned\x07.tap", b"c\x1b[2J.tap", b"u\xc2\x9b" b"2J.tap",
         b"r\x9b" b"31m.tap"]


def assert_clean(what, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    for f in FORBIDDEN:
        assert f not in data, "%s holds %r:\n%r" % (what, f, data)


def assert_quoted(text):
    """The hostile reply was shown (escaped), not dropped."""
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\u009b2J\\x9b31m" in text, text


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    need_root()
    reel_path()
    with FaultFtpd(tmp_path_factory.mktemp("hostile"),
                   extra=["--hostile", "--refuse", "STOR=550,RETR=550"]) as s:
        root = pathlib.Path(s.root)
        for n in NAMES:
            with open(os.path.join(bytes(root), n), "wb") as f:
                f.write(b"not a tape image, just bytes\n" * 10)
        yield s


def r_ftp(srv, *args, stdin=None):
    r = reel(*args, stdin=stdin, env=srv.env())
    assert_clean("stdout", r.stdout)
    assert_clean("stderr", r.stderr)
    assert srv.password not in r.stderr
    return r


def test_ls_shows_hostile_names_escaped(hostile):
    r = r_ftp(hostile, "ls", hostile.url)
    out = r.stdout.decode()
    assert "t\\x1b]0;pwned\\x07.tap" in out + r.stderr
    assert "u\\u009b2J.tap" in out + r.stderr
    assert "r\\x9b31m.tap" in out + r.stderr
    r = r_ftp(hostile, "ls", "--json", hostile.url)
    assert "\\u001b" in r.stdout.decode() and "\\u009b" in r.stdout.decode()


def test_map_and_cat_quote_the_refusal_escaped(hostile):
    """RETR is refused with the hostile words, which come out escaped;
    a name holding CSI in UTF-8 is quoted escaped too."""
    for cmd in ("map", "cat", "verify"):
        r = fails(r_ftp(hostile, cmd, hostile.url + "plain.tap"))
        assert_quoted(r.stderr)
        r = fails(r_ftp(hostile, cmd, hostile.url + "u%C2%9B2J.tap"))
        assert_quoted(r.stderr)


def test_send_refused_stor_and_login(hostile, tmp_path):
    r = fails(r_ftp(hostile, "send", hostile.url + "new.mtd",
                    stdin=os.urandom(20000)))
    assert_quoted(r.stderr)
    # A refused login, with the same words after the 530.
    with FaultFtpd(tmp_path / "refusing",
                   extra=["--hostile", "--refuse-login"]) as s:
        for args in (["send", s.url + "x.mtd"], ["ls", s.url]):
            r = r_ftp(s, *args, stdin=b"x" * 100)
            assert r.returncode != 0
            assert "530" in r.stderr
            assert_quoted(r.stderr)


def mount_env():
    need_fuse()
    from mount import reelfs_binary
    need_binary(reelfs_binary())


def test_reelfs_refused_at_mount_logs_clean(hostile, tmp_path):
    """The server refuses STOR with the hostile words as reelfs mounts."""
    mount_env()
    from mount import Mount, MountFailed
    with pytest.raises(MountFailed) as e:
        with Mount(hostile.url + "vol1.mtd", tmp_path / "mnt",
                   env=hostile.env(), expect_ok=False):
            pass
    assert_clean("the daemon log", e.value.stderr)
    assert_quoted(e.value.stderr)


def test_reelfs_log_and_status_stay_clean(tmp_path):
    """A server that takes the tape but refuses to publish it (RNFR) with
    the hostile words: the daemon's log (stderr in the foreground) and
    MOUNT/status quote them escaped."""
    mount_env()
    need_tool("mt")
    from mount import Mount
    with FaultFtpd(tmp_path / "norename",
                   extra=["--hostile", "--refuse", "RNFR=550"]) as s:
        m = Mount(s.url + "vol1.mtd", tmp_path / "mnt", env=s.env(),
                  expect_ok=False)
        status = b""
        with m:
            try:
                with open(m.tape, "wb", buffering=0) as f:
                    for _ in range(20):
                        f.write(b"\x55" * 10240)
            except OSError:
                pass    # the refusal surfaces on write or close
            # Publishing (RNFR) is refused: the error lands in status.
            r = subprocess.run(["mt", "-f", str(m.tape), "offline"],
                               capture_output=True)
            assert r.returncode != 0
            assert_clean("mt's stderr", r.stderr)
            status = m.status_path.read_bytes()
    assert_clean("the status file", status)
    assert_clean("the daemon log", m.stderr)
    assert b"last_error: " in status
    assert_quoted(status.decode())
    assert_quoted(m.stderr)


# ---- manifests ----------------------------------------------------------

@pytest.mark.parametrize("storeset", [
    b'"s\xc2\x9b2J"',           # CSI in UTF-8, raw in the JSON text
    b'"s\\u009b2J"',            # the same as a JSON escape
    b'"s\x9b31m"',              # a raw C1 byte
    b'"s\\u001b]0;pwned\\u0007"',
])
def test_manifest_with_c1_is_refused(tmp_path, storeset):
    import json
    img = tmp_path / "vol1.mtd"
    ok(reel("send", img, stdin=b"x" * 5000))
    mpath = tmp_path / "vol1.mtd.manifest.json"
    m = json.loads(mpath.read_text())
    m["storeset"] = "@@STORESET@@"
    mpath.write_bytes(json.dumps(m).encode().replace(b'"@@STORESET@@"',
                                                      storeset))
    for cmd in ("manifest", "verify", "ls"):
        target = tmp_path if cmd == "ls" else img
        r = reel(cmd, target)
        assert_clean("reel %s stdout" % cmd, r.stdout)
        assert_clean("reel %s stderr" % cmd, r.stderr)
        if cmd != "ls":
            fails(r, "control character")
        else:
            assert "control character" in r.stdout.decode() + r.stderr
