"""The shared test servers themselves: vsftpd and the fault-injecting
pyftpdlib server start on 127.0.0.1, take a curl upload, inject the faults
they promise, and are gone after the with-block."""
import os
import socket
import subprocess

import pytest

from need import need_root, need_tool
from servers import FaultFtpd, Vsftpd


def curl_put(srv, src, name, *extra):
    need_tool("curl")
    return subprocess.run(["curl", "-sS", "--netrc-file", str(srv.netrc()),
                           *extra, "-T", str(src), srv.url + name],
                          capture_output=True, text=True, timeout=60)


def refused(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def payload(tmp_path):
    p = tmp_path / "payload"
    p.write_bytes(os.urandom(300000))
    return p


def test_vsftpd_upload(tmp_path, payload):
    need_root()
    need_tool("vsftpd")
    with Vsftpd(tmp_path / "srv") as srv:
        assert srv.password not in srv.url
        r = curl_put(srv, payload, "a.bin")
        assert r.returncode == 0, r.stderr
        assert (srv.root / "a.bin").read_bytes() == payload.read_bytes()
        port = srv.port
    assert refused(port)


@pytest.mark.parametrize("mode", ["implicit", "explicit"])
def test_vsftpd_tls(tmp_path, payload, mode):
    need_root()
    need_tool("vsftpd")
    need_tool("openssl")
    with Vsftpd(tmp_path / "srv", tls=True, tls_mode=mode) as srv:
        # vsftpd 3.0.3 sends TLS 1.3 session tickets on the data connection;
        # curl never reads them, so its close becomes a reset and the server
        # loses the tail of the upload (426). TLS 1.2 has no such tickets.
        extra = ["--tls-max", "1.2"]
        if mode == "explicit":
            extra.append("--ssl-reqd")
        r = curl_put(srv, payload, "a.bin", *extra)
        assert r.returncode != 0, "a self-signed certificate was accepted"
        r = curl_put(srv, payload, "a.bin", "--cacert", str(srv.cacert),
                     *extra)
        assert r.returncode == 0, r.stderr
        assert (srv.root / "a.bin").read_bytes() == payload.read_bytes()


def test_faultftpd_upload_and_faults(tmp_path, payload):
    data = payload.read_bytes()
    with FaultFtpd(tmp_path / "srv", drops=[100000]) as srv:
        r = curl_put(srv, payload, "a.bin")
        assert r.returncode != 0
        assert (srv.root / "a.bin").read_bytes() == data[:100000]
        # the drop fired once; the next upload goes through
        r = curl_put(srv, payload, "a.bin")
        assert r.returncode == 0, r.stderr
        assert (srv.root / "a.bin").read_bytes() == data
        port = srv.port
    assert refused(port)

    with FaultFtpd(tmp_path / "full", full_at=123456) as srv:
        r = curl_put(srv, payload, "a.bin")
        # curl reports 552 (70) or, when the data connection's reset wins
        # the race, a send failure (55): it does not read the late reply.
        assert r.returncode in (55, 70), r.stderr
        assert "answering 552" in srv.log.read_text()
        assert (srv.root / "a.bin").read_bytes() == data[:123456]

    with FaultFtpd(tmp_path / "refuse", refuse_login=True) as srv:
        r = curl_put(srv, payload, "a.bin")
        assert r.returncode != 0
        assert "530" in r.stderr or "Access denied" in r.stderr


def test_faultftpd_throttle_and_stall(tmp_path):
    import time
    # 8 MiB at 2 MiB/s: about 4 s (faultftpd throttles from the first byte)
    data = os.urandom(8 * 1024 * 1024)
    src = tmp_path / "eight"
    src.write_bytes(data)
    with FaultFtpd(tmp_path / "slow", throttle=2 * 1024 * 1024) as srv:
        t0 = time.monotonic()
        r = curl_put(srv, src, "a.bin")
        took = time.monotonic() - t0
        assert r.returncode == 0, r.stderr
        assert took > 1.5, "8 MiB at 2 MiB/s took only %.2f s" % took
        assert (srv.root / "a.bin").read_bytes() == data
    with FaultFtpd(tmp_path / "stall", stalls=[1000000]) as srv:
        r = curl_put(srv, src, "a.bin", "--speed-limit", "1000",
                     "--speed-time", "2")
        assert r.returncode == 28, r.stderr  # curl's low-speed timeout
        assert (srv.root / "a.bin").stat().st_size == 1000000


def test_faultftpd_throttle_slows_the_server(tmp_path):
    """throttle really limits what the server takes: measured on the
    server's side (its log line per upload), 1 MB at 500000 bytes/s must
    take the server about 2 s; allow up to 1.5 times the rate."""
    import re
    size, rate = 1000000, 500000
    src = tmp_path / "one"
    data = os.urandom(size)
    src.write_bytes(data)
    with FaultFtpd(tmp_path / "thr", throttle=rate) as srv:
        r = curl_put(srv, src, "t.bin")
        assert r.returncode == 0, r.stderr
        assert (srv.root / "t.bin").read_bytes() == data
        m = re.findall(r"received (\d+) bytes in ([\d.]+) s",
                       srv.log.read_text())
    assert m, "the server logged no upload"
    got, secs = int(m[-1][0]), float(m[-1][1])
    assert got == size
    assert got / secs <= 1.5 * rate, \
        "the server took %d bytes in %.3f s (%.0f bytes/s) at throttle=%d" % (
            got, secs, got / secs, rate)
