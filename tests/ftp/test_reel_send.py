"""`reel send ftp://…` (the TOOLS command over this library) against real
servers: a 1 GiB stream arrives whole and `reel map` of the image on the
server agrees with what was sent; a run through dropped connections
yields the same image as a clean one."""
import json
import pathlib
import subprocess

from ftphelp import file_sha, run_stream
from need import build_dir, need_binary, need_root, need_tool
from servers import FaultFtpd, Vsftpd

MiB = 1 << 20


def reel():
    return need_binary(pathlib.Path(build_dir()) / "tools" / "reel")


def reel_send(url, size, seed, args, env):
    r = run_stream([reel(), "send", *args, url], size, seed, env)
    return r.rc, r.out, r.err, r.sha


def reel_map_json(url, env):
    r = subprocess.run([reel(), "map", "--json", url], capture_output=True,
                       env=env, timeout=600)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return json.loads(r.stdout)


def test_reel_send_one_gib_and_map(tmp_path):
    need_root()
    need_tool("vsftpd")
    r = reel()
    size = 1 << 30
    with Vsftpd(tmp_path / "srv") as srv:
        rc, out, err, sha = reel_send(srv.url + "big.mtd", size, 1961,
                                      ["--block-size", "65536", "--verify"],
                                      srv.env())
        assert rc == 0, err
        assert "the server holds" in err
        m = reel_map_json(srv.url + "big.mtd", srv.env())
        # 16384 records of 64 KiB in one tape file, as sent, and the image
        # the decoder walked is the file the server holds
        assert m["file_count"] == 1 and m["records"] == 16384, m
        assert m["payload_bytes"] == size and m["end_of_data"] and not m["error"]
        assert m["files"][0]["sizes"] == [{"size": 65536, "count": 16384}]
        assert m["image_bytes"] == (srv.root / "big.mtd").stat().st_size
        assert not (srv.root / "big.mtd.part").exists()


def test_reel_send_through_drops_same_image(tmp_path):
    size = 40 * MiB
    args = ["--block-size", "10240"]
    with FaultFtpd(tmp_path / "clean") as srv:
        rc, out, err, sha = reel_send(srv.url + "t.mtd", size, 5, args, srv.env())
        assert rc == 0, err
        clean = file_sha(srv.root / "t.mtd")
    with FaultFtpd(tmp_path / "drops", drops=[3 * MiB, 11 * MiB + 5, 29 * MiB]) as srv:
        rc, out, err, sha = reel_send(srv.url + "t.mtd", size, 5, args, srv.env())
        assert rc == 0, err
        assert err.count("reconnected; resuming") == 3, err
        assert file_sha(srv.root / "t.mtd") == clean
