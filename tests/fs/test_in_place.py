"""Frame in place (issue 12.1): a write's payload read from /dev/fuse
straight into the upload queue and framed where it lies. The images are
byte for byte the ones the copying path makes (REELFS_LANDING=0) in every
format, records the landing cannot take go the ordinary way (HET, an aws
record over one chunk, the possible first piece of a split write), a reel
boundary under --next loses nothing, and a signal while the leader waits
in an armed read still ends the daemon at once."""
import json
import os
import signal
import subprocess
import time
import zlib

import pytest

import tapeimg
from fscommon import (Mount, need_mount_env, reel_binary, run, vsftpd)

# Sizes that cover odd lengths (simh pads), the aws chunk limit (65535),
# the largest write the kernel sends whole (1 MiB: held, never in place)
# and small records.
SIZES = [10240, 1, 65535, 65536, 70001, 4095, 1 << 20, 777, 10240, 131072]


def _writer(path, rounds, marks=True):
    """Writes SIZES `rounds` times, one write() per record, a tape mark
    (MTWEOF) after each round; returns the records written per file."""
    code = (
        "import fcntl, os, random, struct, sys\n"
        "r = random.Random(7)\n"
        "fd = os.open(sys.argv[1], os.O_WRONLY)\n"
        "for k in range(%d):\n"
        "    for n in %r:\n"
        "        assert os.write(fd, r.randbytes(n)) == n\n"
        "    if %r:\n"
        "        fcntl.ioctl(fd, 0x40086d01, struct.pack('hi', 5, 1))\n"
        "os.close(fd)\n" % (rounds, SIZES, marks))
    r = run(["/usr/bin/python3", "-c", code, str(path)])
    assert r.returncode == 0, r.stderr
    rnd = __import__("random").Random(7)
    return [[rnd.randbytes(n) for n in SIZES] for _ in range(rounds)]


def _write(tmp_path, srv, fmt, landing, rounds=20):
    env = dict(srv.env())
    env["REELFS_LANDING"] = "1" if landing else "0"
    name = "%s-%d.%s" % (fmt, landing, fmt)
    with Mount(srv.url + name, tmp_path / ("m-" + name), ["--format=" + fmt],
               env=env) as m:
        files = _writer(m.tape, rounds)
        in_place = int(m.status()["in_place"])
    man = json.loads((srv.root / (name + ".manifest.json")).read_text())
    return (srv.root / name).read_bytes(), files, in_place, man


@pytest.mark.parametrize("fmt", ["mtd", "simh", "e11", "aws", "het"])
def test_in_place_image_is_the_copied_image(tmp_path, fmt):
    need_mount_env()
    with vsftpd(tmp_path) as srv:
        img1, files, n1, man1 = _write(tmp_path, srv, fmt, True)
        img0, _, n0, man0 = _write(tmp_path, srv, fmt, False)
    assert img1 == img0, "framing in place changed the %s image" % fmt
    # The CRCs of records framed in place are computed after the reply
    # (issue 12.2): the manifest's must still be those of the bytes.
    payload = b"".join(r for f in files for r in f)
    for man in (man1, man0):
        assert man["image_crc32"] == "%08x" % zlib.crc32(img1), man
        assert man["payload_crc32"] == "%08x" % zlib.crc32(payload), man
        assert int(man["records"]) == sum(len(f) for f in files), man
    got, _ = tapeimg.parse(img1, fmt)
    assert [[bytes(r) for r in f] for f in got if f] == files
    assert n0 == 0
    total = sum(len(f) for f in files)
    # Never for what the landing cannot take; for most of the rest (a
    # read finding the queue without room for the largest write, or
    # wrapping, takes the copying path).
    too_big = [n for n in SIZES if n + 4096 > (1 << 20) or
               (fmt == "aws" and n > 65535)]
    eligible = total - len(too_big) * len(files)
    if fmt == "het":
        assert n1 == 0
    else:
        assert eligible // 2 <= n1 <= eligible, (n1, eligible)


def test_in_place_across_a_reel_boundary(tmp_path):
    """--capacity ends reel 1 at a record that landed in place: it goes
    onto reel 2 (copied out of reel 1's queue first), and `reel cat`
    joins the reels back into exactly what dd wrote."""
    need_mount_env("dd")
    need_bin = reel_binary()
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(6 * 1000 * 1000 + 123))
    with vsftpd(tmp_path) as srv:
        m2 = Mount(srv.url + "b2.mtd", tmp_path / "r2", env=srv.env())
        with m2:
            m1 = Mount(srv.url + "b1.mtd", tmp_path / "r1",
                       ["--capacity=2500000", "--next=%s" % m2.tape], env=srv.env())
            with m1:
                r = run(["dd", "if=%s" % src, "of=%s" % m1.tape, "bs=10240"])
                assert r.returncode == 0, r.stderr
                n1 = int(m1.status()["in_place"])
                assert m1.unmount() == 0, m1.stderr
            n2 = int(m2.status()["in_place"])
        assert n1 > 100, n1
        r = subprocess.run([need_bin, "cat", srv.url + "b1.mtd"], env=srv.env(),
                           capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert r.stdout == src.read_bytes()
        # Reel 2 took its records by a write(2) from reel 1's daemon:
        # through its own drive, framed in place too.
        assert n2 > 0, n2


def test_signal_while_the_leader_waits_armed(tmp_path):
    """The writer holds the tape open and idle after records that were
    framed in place, so the reading worker waits in a read with the
    landing armed (the drive held): SIGTERM still ends the daemon at once
    (the main thread kicks that read), leaving NAME.part."""
    need_mount_env()
    with vsftpd(tmp_path) as srv:
        m = Mount(srv.url + "idle.mtd", tmp_path / "mnt", env=srv.env(),
                  expect_ok=False)
        with m:
            fd = os.open(m.tape, os.O_WRONLY)
            try:
                for _ in range(50):
                    assert os.write(fd, os.urandom(10240)) == 10240
                assert int(m.status()["in_place"]) > 0
                t0 = time.monotonic()
                os.kill(m.pid, signal.SIGTERM)
                m.proc.wait(timeout=30)
                took = time.monotonic() - t0
            finally:
                try:
                    os.close(fd)
                except OSError:
                    pass
        assert m.returncode != 0, m.stderr
        assert took < 10, took
        assert "interrupted" in m.stderr, m.stderr
        assert (srv.root / "idle.mtd.part").exists()
        assert m.sanitizer_reports() == []
