"""xfer_upload_sync, driven through xfer_send --sync / --sync-each: it
returns once every byte queued so far has been handed to the network
(sent == queued at that moment), it does not wait for the sender's
256 KiB batch to fill (so many small syncs stay quick), and it returns
end of medium when the server fills up behind a writer that has queued
everything already. Against vsftpd, the fault-injecting pyftpdlib
server and file://, all on this machine."""
import re

import pytest

from ftphelp import file_sha, send
from need import need_root, need_tool
from servers import FaultFtpd, Vsftpd

MiB = 1 << 20
SYNC_RE = re.compile(r"^sync: rc=(-?\d+) queued=(\d+) sent=(\d+)$", re.M)


@pytest.fixture
def vsftpd(tmp_path):
    need_root()
    need_tool("vsftpd")
    with Vsftpd(tmp_path / "srv") as srv:
        yield srv


def _syncs(r):
    return [(int(a), int(b), int(c)) for a, b, c in SYNC_RE.findall(r.out)]


def test_sync_returns_when_everything_is_sent(vsftpd):
    size = 5 * MiB + 123
    r = send(vsftpd.url + "s.tap", ["--sync"], size=size, seed=5,
             env=vsftpd.env())
    assert r.rc == 0, r
    assert _syncs(r) == [(0, size, size)], r
    assert file_sha(vsftpd.root / "s.tap") == r.sha


@pytest.mark.parametrize("target", ["ftp", "file"])
def test_each_small_sync_flushes_a_partial_batch(vsftpd, tmp_path, target):
    # 300 records of 1000 bytes, a sync after each. A sync that waited for
    # the sender's batch to fill (20 ms each time) would take >= 6 s.
    n, bs = 300, 1000
    url = vsftpd.url if target == "ftp" else "file://%s/" % tmp_path
    r = send(url + "e.tap", ["--sync-each", "--block-size", bs],
             size=n * bs, seed=6, env=vsftpd.env())
    assert r.rc == 0, r
    s = _syncs(r)
    assert len(s) == n + 1, r
    for i, (rc, queued, sent) in enumerate(s[:n]):
        assert (rc, queued, sent) == (0, (i + 1) * bs, (i + 1) * bs), (i, r)
    m = re.search(r"^syncs: (\d+) in ([\d.]+) s$", r.out, re.M)
    assert m and int(m.group(1)) == n + 1, r
    assert float(m.group(2)) < 3.0, "301 syncs took %s s" % m.group(2)
    root = vsftpd.root if target == "ftp" else tmp_path
    assert file_sha(root / "e.tap") == r.sha


def test_sync_reports_a_full_server(tmp_path):
    # The server takes 2 MB/s and is full at 3 MB: all 20 MiB are queued
    # long before, so the end of medium reaches the sync, not a write.
    with FaultFtpd(tmp_path / "srv", full_at=3000000,
                   throttle=2000000) as srv:
        r = send(srv.url + "f.tap", ["--sync"], size=20 * MiB, seed=7,
                 env=srv.env())
    assert r.rc == 2, r
    s = _syncs(r)
    assert len(s) == 1 and s[0][0] == -28 and s[0][1] == 20 * MiB, r
    assert s[0][2] < 20 * MiB, r
    assert "end of medium" in r.err and "552" in r.err, r
    assert (srv.root / "f.tap.part").stat().st_size == 3000000
    assert not (srv.root / "f.tap").exists()
