"""The upload ring lives on transparent huge pages (ftp/queue.c, issue
12): with 4 KiB pages every 64 KiB record met 16 TLB misses on the
writer's path. Checked in the daemon itself: after 8 MiB of records its
anonymous memory holds huge pages, and with REELFS_HUGEPAGES=0 (plain
malloc) it holds none when the kernel gives them only on request."""
import pathlib

import pytest

from fscommon import Mount, need_mount_env, run, vsftpd

THP = pathlib.Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _thp_mode():
    if not THP.exists():
        pytest.skip("the kernel has no transparent huge pages (%s missing)" % THP)
    mode = THP.read_text().split("[")[1].split("]")[0]
    if mode == "never":
        pytest.skip("transparent huge pages are off here (%s: never)" % THP)
    return mode


def _huge_kib(pid):
    for line in open("/proc/%d/smaps_rollup" % pid):
        if line.startswith("AnonHugePages:"):
            return int(line.split()[1])
    return 0


def _write(tmp_path, srv, name, env):
    with Mount(srv.url + name, tmp_path / ("m-" + name), ["--format=mtd"],
               env=env) as m:
        r = run(["dd", "if=/dev/zero", "of=" + str(m.tape), "bs=64k",
                 "count=128", "status=none"])
        assert r.returncode == 0, r.stderr
        huge = _huge_kib(m.pid)
        assert run(["mt", "-f", str(m.tape), "offline"]).returncode == 0
    assert (srv.root / name).stat().st_size > 8 << 20
    return huge


def test_the_ring_is_on_huge_pages(tmp_path):
    need_mount_env("dd", "mt")
    mode = _thp_mode()
    with vsftpd(tmp_path) as srv:
        on = _write(tmp_path, srv, "on.mtd", dict(srv.env()))
        env = dict(srv.env())
        env["REELFS_HUGEPAGES"] = "0"
        off = _write(tmp_path, srv, "off.mtd", env)
    assert on >= 2048, "the daemon holds %d KiB of huge pages after 8 MiB" % on
    if mode == "madvise":
        assert off == 0, "REELFS_HUGEPAGES=0 still gave %d KiB of huge pages" % off
