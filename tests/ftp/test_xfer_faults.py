"""Faults injected by a pyftpdlib server: dropped data and control
connections are survived by resuming from the server's SIZE, a drop the
replay window cannot cover fails clearly with NAME.part kept, a full
server is end of medium with the accepted count, a stalled server is
noticed by the stall timeout, and a refused login is quick."""
import time

import pytest

from ftphelp import file_sha, send
from servers import FaultFtpd

MiB = 1 << 20


@pytest.mark.parametrize("how", ["write", "direct"])
def test_five_drops_survived(tmp_path, how):
    size = 96 * MiB
    drops = [1 * MiB + 17, 13 * MiB, 40 * MiB + 1, 71 * MiB - 3, size - 1]
    args = ["--verify"] + (["--direct"] if how == "direct" else [])
    with FaultFtpd(tmp_path / "srv", drops=drops) as srv:
        r = send(srv.url + "d.tap", args, size=size, seed=77, env=srv.env())
        assert r.rc == 0, r
        assert r.stats["reconnects"] == 5
        assert r.err.count("reconnected; resuming at byte") == 5
        for d in drops:
            assert "resuming at byte %d " % d in r.err
        assert file_sha(srv.root / "d.tap") == r.sha
        assert r.summary == ("sent %d bytes (96.00 MB); the server holds %d "
                             "bytes" % (size, size))
        assert not (srv.root / "d.tap.part").exists()


def test_control_connection_drops(tmp_path):
    size = 24 * MiB
    with FaultFtpd(tmp_path / "srv", drops=[5 * MiB, 17 * MiB],
                   drop_kind="control") as srv:
        r = send(srv.url + "c.tap", size=size, seed=78, env=srv.env())
        assert r.rc == 0, r
        assert r.stats["reconnects"] == 2
        assert file_sha(srv.root / "c.tap") == r.sha


def test_drop_beyond_replay_window(tmp_path):
    with FaultFtpd(tmp_path / "srv", drops=[300000]) as srv:
        r = send(srv.url + "w.tap", ["--buffer", "1M", "--replay", "16K",
                                     "--block-size", "65536"],
                 size=20 * MiB, seed=79, env=srv.env())
        assert r.rc == 1, r
        assert "cannot resume" in r.err
        assert "300000 bytes are safe on the server in w.tap.part" in r.err
        assert not (srv.root / "w.tap").exists()
        assert (srv.root / "w.tap.part").stat().st_size == 300000


def test_server_full_is_end_of_medium(tmp_path):
    with FaultFtpd(tmp_path / "srv", full_at=3000000) as srv:
        r = send(srv.url + "f.tap", size=16 * MiB, seed=80, env=srv.env())
        assert r.rc == 2, r
        assert "end of medium" in r.err and "552" in r.err
        assert "after accepting 3000000 bytes" in r.err
        assert r.stats["confirmed"] == 3000000
        assert not (srv.root / "f.tap").exists()
        assert (srv.root / "f.tap.part").stat().st_size == 3000000


def test_stall_is_noticed(tmp_path):
    # Much more than the loopback socket buffers hold (several MiB), so
    # the sender is still handing over data when the server stops reading
    # (with 8 MiB, everything could be in the kernel already, and the
    # stall showed up as a timeout of the final reply instead).
    size = 32 * MiB
    with FaultFtpd(tmp_path / "srv", stalls=[3 * MiB]) as srv:
        t0 = time.monotonic()
        r = send(srv.url + "s.tap", ["--stall-timeout", "2"], size=size,
                 seed=81, env=srv.env())
        assert r.rc == 0, r
        assert "no progress for 2 seconds" in r.err
        assert r.stats["reconnects"] == 1
        assert time.monotonic() - t0 < 30
        assert file_sha(srv.root / "s.tap") == r.sha


def test_refused_login_fast(tmp_path):
    with FaultFtpd(tmp_path / "srv", refuse_login=True) as srv:
        t0 = time.monotonic()
        r = send(srv.url + "x.tap", size=10, env=srv.env())
        assert r.rc == 1
        assert "login refused (530)" in r.err
        assert time.monotonic() - t0 < 5
        assert list(srv.root.iterdir()) == []


def test_mlsd_listing(tmp_path):
    from ftphelp import get
    with FaultFtpd(tmp_path / "srv") as srv:
        (srv.root / "b.tap").write_bytes(b"x" * 1234)
        (srv.root / "a dir").mkdir()
        g = get("ls", srv.url, env=srv.env())
        assert g.returncode == 0, g.stderr
        lines = g.stdout.decode().splitlines()
        assert lines[0].startswith("d ") and lines[0].endswith(" a dir")
        assert lines[1].startswith("- 1234 ") and lines[1].endswith(" b.tap")
        mtime = int(lines[1].split()[2])
        assert abs(mtime - (srv.root / "b.tap").stat().st_mtime) < 2
