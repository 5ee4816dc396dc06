"""`reel cp SRC DST`: a tape copied between every pair of the five formats
(sources written by the tests' own writer, tapeimg.write, from the format
descriptions), locally, through stdin/stdout, to and from vsftpd on
127.0.0.1, and from images Hercules' hetinit/hetupd wrote. Each copy is
read back by tapeimg's independent reader: the same records, byte for
byte, and the same marks in the same places. Then the clear errors: a
damaged source, a source that is no tape, an unknown format, a record
too large for the target format; none of them publishes DST."""
import os
import shutil
import subprocess

import pytest

import tapeimg
from need import need_root, need_tool
from reeltool import fails, manifest, ok, reel, reel_path
from servers import Vsftpd

FORMATS = ["mtd", "simh", "e11", "aws", "het"]
EXT = {"mtd": "mtd", "simh": "tap", "e11": "e11", "aws": "aws", "het": "het"}


def layout():
    """Odd and even records, a record spanning AWS chunks, an empty tape
    file in the middle, a one-byte record, then end of data; the records
    compress in part (het keeps some blocks compressed, some not)."""
    r = lambda n, c: os.urandom(n // 2) + bytes([c]) * (n - n // 2)
    return [r(4097, 1), r(10240, 2), None, None, b"x", None,
            r(70001, 3), r(80, 4), None, None]


def img(tmp_path, fmt, evs, stem="src"):
    p = tmp_path / ("%s.%s" % (stem, EXT[fmt]))
    p.write_bytes(tapeimg.write(evs, fmt))
    return p


def check(path, fmt, want):
    got = tapeimg.events(path.read_bytes(), fmt)
    assert [e if e is None else len(e) for e in got] == \
        [e if e is None else len(e) for e in want], "layout differs"
    assert got == want, "payload differs"


@pytest.mark.parametrize("dst_fmt", FORMATS)
@pytest.mark.parametrize("src_fmt", FORMATS)
def test_cp_every_pair_local(tmp_path, src_fmt, dst_fmt):
    evs = layout()
    src = img(tmp_path, src_fmt, evs)
    dst = tmp_path / ("dst.%s" % EXT[dst_fmt])
    r = ok(reel("cp", src, dst))
    assert "(the same as the source's)" in r.stderr
    check(dst, dst_fmt, evs)
    assert not (tmp_path / (dst.name + ".part")).exists()
    m = manifest(dst)
    assert m["format"] == dst_fmt and m["records"] == 5 and m["marks"] == 5
    assert m["image_bytes"] == dst.stat().st_size


def test_cp_stdin_stdout_and_format_option(tmp_path):
    evs = layout()
    src = img(tmp_path, "aws", evs)
    with open(src, "rb") as f:
        r = ok(reel("cp", "-", "--format", "e11", "-", stdin=f))
    assert tapeimg.events(r.stdout, "e11") == evs
    # A name without a known extension takes --format.
    out = tmp_path / "plain.img"
    ok(reel("cp", "--format", "het", src, out))
    check(out, "het", evs)
    # --from-format overrides the sniffing (an e11 image read as e11).
    e11 = tmp_path / "x.bin"
    e11.write_bytes(tapeimg.write(evs, "e11"))
    ok(reel("cp", "--from-format", "e11", e11, tmp_path / "y.tap"))
    check(tmp_path / "y.tap", "simh", evs)


def test_cp_errors_publish_nothing(tmp_path):
    evs = layout()
    good = tapeimg.write(evs, "simh")
    # A damaged source: a trailer that disagrees with its header.
    bad = bytearray(good)
    bad[4 + 4097 + 1] ^= 0x01
    (tmp_path / "bad.tap").write_bytes(bytes(bad))
    fails(reel("cp", tmp_path / "bad.tap", tmp_path / "o1.aws"),
          "is damaged", "header/trailer mismatch")
    # The first record was the damaged one: the target was never opened.
    assert not (tmp_path / "o1.aws").exists()
    assert not (tmp_path / "o1.aws.part").exists()
    # Cut short inside the second record, after the first was copied.
    (tmp_path / "cut.tap").write_bytes(good[:5000])
    fails(reel("cp", tmp_path / "cut.tap", tmp_path / "o2.mtd"), "is damaged",
          "stays incomplete as")
    assert not (tmp_path / "o2.mtd").exists()
    # Not a tape at all.
    (tmp_path / "text.tap").write_bytes(b"hello, this is not a tape\n" * 10)
    fails(reel("cp", tmp_path / "text.tap", tmp_path / "o3.mtd"),
          "is not a tape image")
    # Nothing was ready to go, so nothing was opened at the target.
    assert not (tmp_path / "o3.mtd.part").exists()
    # Unknown formats, and a DST whose name names none.
    fails(reel("cp", "--format", "vhs", tmp_path / "bad.tap", tmp_path / "o.x"),
          "vhs", code=2)
    fails(reel("cp", tmp_path / "bad.tap", tmp_path / "o.x"),
          "cannot tell DST's format", code=2)
    fails(reel("cp", tmp_path / "missing.tap", tmp_path / "o4.mtd"),
          "no such file")
    # A record larger than AWS and HET allow (2 MiB).
    big = tmp_path / "big.tap"
    big.write_bytes(tapeimg.write(
        [b"a" * 100, b"b" * ((2 << 20) + 1), None, None], "simh"))
    for fmt in ("aws", "het"):
        out = tmp_path / ("o5.%s" % fmt)
        fails(reel("cp", big, out), "record of 2097153 bytes",
              "larger than %s can hold" % fmt)
        assert not out.exists()
    ok(reel("cp", big, tmp_path / "o6.e11"))
    check(tmp_path / "o6.e11", "e11", tapeimg.events(big.read_bytes(), "simh"))


def test_cp_memory_is_bounded(tmp_path):
    """A 256 MiB tape copied with --buffer 8M: peak RSS far below the tape
    (the figure for 2 GiB is in the README; this keeps it honest)."""
    src = tmp_path / "big.tap"
    with open(src, "wb") as f:
        proc = subprocess.Popen([reel_path(), "send", "--block-size", "65536",
                                 "-"], stdin=subprocess.PIPE, stdout=f,
                                stderr=subprocess.DEVNULL)
        block = os.urandom(1 << 20)
        for _ in range(256):
            proc.stdin.write(block)
        proc.stdin.close()
        assert proc.wait() == 0
    # A fresh process runs the copy and reports its child's peak RSS
    # alone (this process's children include every earlier test's).
    probe = ("import resource, subprocess, sys\n"
             "r = subprocess.run(sys.argv[1:], stderr=subprocess.PIPE)\n"
             "sys.stderr.buffer.write(r.stderr)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
             "sys.exit(r.returncode)\n")
    r = subprocess.run(["/usr/bin/python3", "-c", probe, str(reel_path()), "cp",
                        "--buffer", "8M", str(src), str(tmp_path / "big.aws")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "(the same as the source's)" in r.stderr
    peak = int(r.stdout.split()[-1])     # KiB
    assert peak < 64 * 1024, "peak RSS %d KiB" % peak


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    need_root()
    need_tool("vsftpd")
    reel_path()
    with Vsftpd(tmp_path_factory.mktemp("vsftpd")) as s:
        yield s


def test_cp_to_and_from_ftp(srv, tmp_path):
    evs = layout()
    src = img(tmp_path, "simh", evs)
    env = srv.env()
    r = ok(reel("cp", src, srv.url + "cp.aws", env=env))
    raw = (srv.root / "cp.aws").read_bytes()
    assert "sent %d bytes" % len(raw) in r.stderr
    assert "the server holds %d bytes" % len(raw) in r.stderr
    assert srv.password not in r.stderr
    check(srv.root / "cp.aws", "aws", evs)
    assert (srv.root / "cp.aws.manifest.json").exists()
    # Server to server, and back to a local file.
    ok(reel("cp", srv.url + "cp.aws", srv.url + "cp2.het", env=env))
    check(srv.root / "cp2.het", "het", evs)
    ok(reel("cp", srv.url + "cp2.het", tmp_path / "back.mtd", env=env))
    check(tmp_path / "back.mtd", "mtd", evs)


def test_cp_from_hetinit(tmp_path):
    exe = need_tool("hetinit")
    for opts, name in (([], "init.het"), (["-d"], "init.aws")):
        src = tmp_path / name
        r = subprocess.run([exe, *opts, str(src), "VOL001", "OWNER"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        want = tapeimg.events(src.read_bytes(), "het")
        assert want[0][:4] == "VOL1".encode("cp500")
        # hetinit ends its tape with one mark; a copy ends with end of
        # data (two marks), and says it added one.
        assert want[-2:] == [want[-2], None] and want[-2] is not None
        for fmt in FORMATS:
            dst = tmp_path / ("%s-%s.%s" % (name, fmt, EXT[fmt]))
            r = ok(reel("cp", src, dst))
            assert "the copy ends with 1 more" in r.stderr
            check(dst, fmt, want + [None])


@pytest.mark.parametrize("how", [["-s"], ["-z", "-9"], ["-c", "8000"]])
def test_cp_from_hetupd(tmp_path, how):
    exe = need_tool("hetupd")
    evs = [os.urandom(30000) + b"z" * 35535, b"q" * 65535, None,
           os.urandom(777), None, None]
    src = img(tmp_path, "aws", evs)
    upd = tmp_path / "upd.het"
    r = subprocess.run([exe, *how, str(src), str(upd)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert tapeimg.events(upd.read_bytes(), "het") == evs
    for fmt in FORMATS:
        dst = tmp_path / ("o.%s" % EXT[fmt])
        ok(reel("cp", upd, dst))
        check(dst, fmt, evs)


def test_cp_over_ftps_and_sftp(tmp_path):
    """The same copy through ftps:// (vsftpd with TLS) and sftp://
    (OpenSSH): up from a local file, then back down into another format."""
    import shipped
    need_root()
    reel_path()
    evs = layout()
    src = img(tmp_path, "e11", evs)
    ran = []
    if shutil.which("vsftpd") and shutil.which("openssl"):
        with Vsftpd(tmp_path / "tls", tls=True) as s:
            ca = ["--cacert", str(s.cacert)]
            url = s.url + "t.het"
            assert url.startswith("ftps://")
            r = ok(reel("cp", *ca, src, url, env=s.env()))
            assert "the server holds" in r.stderr
            check(s.root / "t.het", "het", evs)
            ok(reel("cp", *ca, url, tmp_path / "from-ftps.tap", env=s.env()))
            check(tmp_path / "from-ftps.tap", "simh", evs)
            ran.append("ftps")
    if not shipped.missing(shipped.Sshd):
        with shipped.Sshd(tmp_path / "ssh") as s:
            url = s.url + "t.aws"
            r = ok(reel("cp", src, url, env=s.env()))
            check(s.root / "t.aws", "aws", evs)
            ok(reel("cp", url, tmp_path / "from-sftp.mtd", env=s.env()))
            check(tmp_path / "from-sftp.mtd", "mtd", evs)
            ran.append("sftp")
    if not ran:
        pytest.skip("neither vsftpd with openssl nor sshd is here")
