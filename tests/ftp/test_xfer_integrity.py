"""Issue 8, points 3, 5b and 6 against pyftpdlib (faultftpd.py): a resume
is made only at a point proven by reading back the end of NAME.part; a
server that lost the content of NAME.part after a drop (same size, zeros)
never gets its zeros published; a server that refuses REST makes the
upload start again from byte 0 while every byte is still held, and fails
with a true sentence otherwise; a server that stops for a few seconds
(mid-upload, or while publishing) is ridden out within --retries."""
import threading
import time

from ftphelp import file_sha, send
from servers import FaultFtpd, free_port

MiB = 1 << 20


def test_zeroed_part_restarts_from_zero(tmp_path):
    """Every byte is still in the replay window: the damaged copy is
    noticed before resuming and the upload starts again from byte 0."""
    size = 8 * MiB
    with FaultFtpd(tmp_path / "srv", drops=[3 * MiB],
                   extra=["--zero-after-drop"]) as srv:
        r = send(srv.url + "z.tap", ["--verify"], size=size, seed=31,
                 env=srv.env())
        assert r.rc == 0, r
        assert "zeroed the %d bytes" % (3 * MiB) in srv.log.read_text()
        assert "does not match what was sent at offset" in r.err, r.err
        assert "starts again from byte 0" in r.err, r.err
        assert "resuming at byte" not in r.err, r.err
        assert file_sha(srv.root / "z.tap") == r.sha
        assert r.stats["verified"] == 1
        assert not (srv.root / "z.tap.part").exists()


def test_zeroed_part_beyond_window_fails_clearly(tmp_path):
    """The start is no longer held: no resume onto zeros, no publish; the
    sentence names the offset and NAME.part stays."""
    # The replay window must cover the drop point, however far the sender
    # got past it into the socket buffers (up to ~12 MiB on loopback),
    # without reaching back to byte 0.
    size = 96 * MiB
    with FaultFtpd(tmp_path / "srv", drops=[48 * MiB],
                   extra=["--zero-after-drop"]) as srv:
        r = send(srv.url + "y.tap", ["--buffer", "64M", "--replay", "40M"],
                 size=size, seed=32, env=srv.env())
        assert r.rc == 1, r
        assert "the server's copy of y.tap.part does not match what was " \
               "sent at offset" in r.err, r.err
        assert "is not published" in r.err, r.err
        assert not (srv.root / "y.tap").exists()
        assert (srv.root / "y.tap.part").stat().st_size == 48 * MiB


def test_rest_refused_starts_again_from_zero(tmp_path):
    size = 8 * MiB
    with FaultFtpd(tmp_path / "srv", drops=[2 * MiB],
                   extra=["--refuse-rest"]) as srv:
        r = send(srv.url + "r.tap", size=size, seed=33, env=srv.env())
        assert r.rc == 0, r
        assert "refusing REST+STOR" in srv.log.read_text()
        assert "refused to resume r.tap.part at byte %d" % (2 * MiB) in r.err
        assert "Append/Restart not permitted" in r.err
        assert "starts again from byte 0" in r.err, r.err
        assert file_sha(srv.root / "r.tap") == r.sha


def test_rest_refused_beyond_window_says_what_is_left(tmp_path):
    size = 96 * MiB
    with FaultFtpd(tmp_path / "srv", drops=[48 * MiB],
                   extra=["--refuse-rest"]) as srv:
        r = send(srv.url + "q.tap", ["--buffer", "64M", "--replay", "40M"],
                 size=size, seed=34, env=srv.env())
        assert r.rc == 1, r
        assert "refused to resume q.tap.part at byte %d" % (48 * MiB) in r.err
        assert "cannot start again from byte 0" in r.err, r.err
        assert "%d bytes are safe on the server in q.tap.part" % (48 * MiB) \
            in r.err, r.err
        assert not (srv.root / "q.tap").exists()
        assert (srv.root / "q.tap.part").stat().st_size == 48 * MiB


def _wait_exit(srv, timeout=60):
    deadline = time.monotonic() + timeout
    while srv.proc.poll() is None:
        assert time.monotonic() < deadline, "the server never stopped"
        time.sleep(0.02)


def _restart_run(tmp_path, knob, size, name):
    """Runs a send against a server that exits at `knob`, keeps the port
    closed for 3 s (the outage), then serves again on the same port."""
    port = free_port()
    out = {}
    first = FaultFtpd(tmp_path / "srv", extra=knob + ["--port", port])
    with first as srv:
        url, env = srv.url + name, srv.env()
        th = threading.Thread(target=lambda: out.update(r=send(
            url, ["--retries=10"], size=size, seed=35, env=env)))
        th.start()
        try:
            _wait_exit(srv)
            t_down = time.monotonic()
            time.sleep(3)  # the outage being simulated, not a synchronisation
            with FaultFtpd(tmp_path / "srv", extra=["--port", port]) as again:
                th.join(300)
                assert not th.is_alive()
                r = out["r"]
                assert r.rc == 0, r
                assert time.monotonic() - t_down >= 3
                assert file_sha(again.root / name) == r.sha
                assert not (again.root / (name + ".part")).exists()
                return r
        finally:
            th.join(300)


def test_server_restart_mid_upload(tmp_path):
    r = _restart_run(tmp_path, ["--exit-at", str(5 * MiB)], 24 * MiB, "m.tap")
    assert "cannot connect" in r.err, r.err
    assert "waiting" in r.err and "for the server" in r.err, r.err
    assert "resuming at byte %d" % (5 * MiB) in r.err, r.err


def test_server_restart_while_publishing(tmp_path):
    r = _restart_run(tmp_path, ["--exit-at-rnfr"], 3 * MiB, "p.tap")
    assert "publishing:" in r.err and "for the server" in r.err, r.err
    assert "cannot connect" in r.err, r.err


def test_server_restart_before_the_manifest(tmp_path):
    """`reel send`: the server stops right after the image is published;
    the manifest waits for it instead of being lost."""
    import pathlib
    import subprocess
    from need import build_dir, need_binary
    reel = need_binary(pathlib.Path(build_dir()) / "tools" / "reel")
    port = free_port()
    out = {}
    with FaultFtpd(tmp_path / "srv", extra=["--exit-after-rnto", "--port",
                                            port]) as srv:
        url, env = srv.url + "m.mtd", srv.env()
        th = threading.Thread(target=lambda: out.update(r=subprocess.run(
            [reel, "send", "--retries=10", url], input=b"x" * 300000,
            capture_output=True, env=env, timeout=300)))
        th.start()
        try:
            _wait_exit(srv)
            time.sleep(3)  # the outage being simulated, not a synchronisation
            with FaultFtpd(tmp_path / "srv", extra=["--port", port]) as again:
                th.join(300)
                r = out["r"]
                err = r.stderr.decode(errors="replace")
                assert r.returncode == 0, err
                assert (again.root / "m.mtd").exists()
                assert (again.root / "m.mtd.manifest.json").exists(), err
                # The image's session is gone with the server, so the
                # manifest's own login waits for it.
                assert "waiting" in err and "for the server" in err, err
        finally:
            th.join(300)
