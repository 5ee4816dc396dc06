"""Reading a loaded tape (issue 11 points 1-5): the manifest's file index
the drive writes, read mounts (`reelfs --read URL MOUNT`) driven by tar,
cpio, pax, afio, dump/restore, dd and mt, positioning, storesets, faults.
Real mounts against vsftpd (or the fault-injecting server) on 127.0.0.1."""
import json
import os
import pathlib

from fscommon import Mount, need_mount_env, published, run, vsftpd
import tapeimg


def _manifest(srv, name):
    published(srv, name)
    p = pathlib.Path(srv.root) / (name + ".manifest.json")
    from mount import wait_until
    wait_until(p.exists, "%s has no manifest" % name)
    return json.loads(p.read_text())


def test_manifest_lists_file_offsets(tmp_path):
    """Three tape files, the middle one empty (mt weof 2): the manifest's
    file_offsets are where each begins in the image, file_records their
    records."""
    need_mount_env("mt")
    recs = [[os.urandom(1000), os.urandom(3)], [], [os.urandom(70000)]]
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "idx.mtd", tmp_path / "mnt", env=srv.env()) as m:
            with open(m.tape, "wb", buffering=0) as f:
                for r in recs[0]:
                    f.write(r)
            r = run(["mt", "-f", str(m.tape), "weof", "1"])
            assert r.returncode == 0, r.stderr
            with open(m.tape, "wb", buffering=0) as f:
                f.write(recs[2][0])
        man = _manifest(srv, "idx.mtd")
        data = published(srv, "idx.mtd")
    # SIMH framing: record = 4 + len (+1 pad when odd) + 4; mark = 4.
    f1 = (8 + 1000) + (8 + 4)
    assert man["files"] == 3
    assert man["file_offsets"] == [0, f1 + 4, f1 + 8]
    assert man["file_records"] == [2, 0, 1]
    # The offsets are where the files' first elements are in the image.
    assert int.from_bytes(data[f1 + 8:f1 + 12], "little") == 70000
    files, eod = tapeimg.parse(data, "mtd")
    assert eod and [len(f) for f in files] == [2, 0, 1]
