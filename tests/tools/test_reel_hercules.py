"""Interop with Hercules (Debian's hercules 3.13), the independent judge of
AWS and HET: images written by `reel send` (records of at most 65535
bytes, which Hercules 3.13 requires) are mapped by `hetmap` with the same
files, blocks and sizes, and `hetget` extracts the same bytes; images that
Hercules writes (hetinit, hetupd) are read by `reel map` and `reel cat`.
Skips with a message when hercules is not installed."""
import os
import re
import subprocess

import pytest

from need import need_tool
from reeltool import map_json, ok, reel


def hetmap(path):
    """hetmap's per-file blocks/sizes/bytes, trailing empty files dropped
    (hetmap counts the end-of-data mark as an empty file)."""
    exe = need_tool("hetmap")
    r = subprocess.run([exe, "-f", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    files, cur = [], None
    for line in r.stdout.splitlines():
        if line.startswith("Summary"):
            break
        m = re.match(r"^(File #|Blocks|Min Blocksize|Max Blocksize|"
                     r"Uncompressed bytes)\s*:\s*(\d+)", line)
        if not m:
            continue
        key, val = m.group(1), int(m.group(2))
        if key == "File #":
            cur = {"file": val}
            files.append(cur)
        elif cur is not None:
            cur[key] = val
    while files and files[-1].get("Blocks", 0) == 0:
        files.pop()
    return files


def hetget(img, n, out, bs):
    exe = need_tool("hetget")
    # -n: no labels; RECFM U with the block size: each block as it is.
    r = subprocess.run([exe, "-n", str(img), str(out), str(n), "U", str(bs),
                        str(bs)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return out.read_bytes()


def sample(n, size):
    # Half random, half runs: het compresses some blocks, not others.
    return [os.urandom(size // 2) + bytes([65 + i]) * (size - size // 2)
            for i in range(n)]


@pytest.mark.parametrize("fmt", ["aws", "het"])
@pytest.mark.parametrize("bs", [65535, 4096, 999])
def test_hetmap_and_hetget_read_reel_send(tmp_path, fmt, bs):
    need_tool("hetmap")
    data = sample(3, 150001)
    img = tmp_path / ("t." + fmt)
    ok(reel("send", "--block-size", bs, "--tapemark-every", len(data[0]),
            img, stdin=b"".join(data)))
    hm = hetmap(img)
    ours = map_json(img)["files"]
    assert len(hm) == len(ours) == 3
    for h, o, d in zip(hm, ours, data):
        blocks = -(-len(d) // bs)
        assert h["Blocks"] == o["records"] == blocks
        assert h["Uncompressed bytes"] == o["bytes"] == len(d)
        assert h["Max Blocksize"] == bs
        assert h["Min Blocksize"] == (len(d) % bs or bs)
        sizes = {s["size"] for s in o["sizes"]}
        assert sizes == {bs, len(d) % bs or bs}
    for n in (1, 2, 3):
        assert hetget(img, n, tmp_path / ("out%d" % n), bs) == data[n - 1]


def test_reel_reads_hetinit_tapes(tmp_path):
    exe = need_tool("hetinit")
    for opts, name, fmt in (([], "init.het", "het"), (["-d"], "init.aws", "aws")):
        img = tmp_path / name
        r = subprocess.run([exe, *opts, str(img), "VOL001", "OWNER"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        m = map_json(img)
        assert m["error"] is None and m["format"] == fmt
        # VOL1 and HDR1 labels, 80 bytes each, then a tape mark.
        assert m["files"][0]["records"] == 2
        assert m["files"][0]["sizes"] == [{"size": 80, "count": 2}]
        hm = hetmap(img)
        assert hm[0]["Blocks"] == 2 and hm[0]["Uncompressed bytes"] == 160
        assert ok(reel("cat", img)).stdout[:4] == "VOL1".encode("cp500")


@pytest.mark.parametrize("how", [["-s"], ["-z", "-9"], ["-c", "8000"], ["-d"]])
def test_reel_reads_hetupd_output(tmp_path, how):
    exe = need_tool("hetupd")
    data = sample(2, 200000)
    src = tmp_path / "src.het"
    ok(reel("send", "--block-size", 65535, "--tapemark-every", 200000, src,
            stdin=b"".join(data)))
    # Named .het: Hercules, too, takes the name's word for whether blocks
    # may be compressed (-d leaves none, and het reads that as well).
    dst = tmp_path / "dst.het"
    r = subprocess.run([exe, *how, str(src), str(dst)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # -s rechunks to 4096 (records span chunks); -z compresses; -c sets
    # the chunk size; -d decompresses. reel reads each the same way.
    m = map_json(dst)
    assert m["error"] is None and m["file_count"] == 2
    assert [f["bytes"] for f in m["files"]] == [200000, 200000]
    assert [f["records"] for f in m["files"]] == [4, 4]
    for n in (1, 2):
        assert ok(reel("cat", "--file", n, dst)).stdout == data[n - 1]
