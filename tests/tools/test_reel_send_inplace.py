"""`reel send` framing in place (issue 12.1, tools/cmd_send_inplace.c):
the input read straight into the upload queue gives byte for byte the
image the copying loop gives (REELFS_LANDING=0), in every format, with
odd block sizes, tape files cut mid-block (--tapemark-every), a padded or
short last record, stdin a pipe (its first bytes read to probe for a
saveset) or a file, and a storeset whose reels fill up (--capacity)."""
import os
import subprocess

import pytest

import tapeimg
from reeltool import ok, reel_path

FORMATS = ["mtd", "simh", "e11", "aws", "het"]
EXT = {"mtd": "mtd", "simh": "tap", "e11": "e11", "aws": "aws", "het": "het"}


def _send(tmp_path, data, args, names, landing, pipe):
    env = dict(os.environ, REELFS_LANDING="1" if landing else "0")
    out = tmp_path / ("l%d" % landing)
    out.mkdir(exist_ok=True)
    urls = ["file://%s" % (out / n) for n in names]
    cmd = [reel_path(), "send", *args]
    for u in urls[1:]:
        cmd += ["--next", u]
    cmd.append(urls[0])
    src = tmp_path / "input.bin"
    src.write_bytes(data)
    if pipe:
        # A pipe: reel reads its first bytes to probe after opening.
        p = subprocess.Popen(["cat", str(src)], stdout=subprocess.PIPE)
        r = subprocess.run(cmd, stdin=p.stdout, env=env, capture_output=True,
                           timeout=300)
        p.stdout.close()
        p.wait()
    else:
        with open(src, "rb") as f:
            r = subprocess.run(cmd, stdin=f, env=env, capture_output=True,
                               timeout=300)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return [(out / n).read_bytes() if (out / n).exists() else None for n in names]


CASES = [
    # block, --tapemark-every, --pad-last, size, stdin a pipe
    (8191, 100000, False, 3 * 1000 * 1000 + 17, True),
    (10240, None, True, 2 * 1000 * 1000 + 5, False),
    (512, 7000, True, 300001, True),
    (65535, None, False, 4 * 1000 * 1000 + 1, True),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("block,every,pad,size,pipe", CASES)
def test_in_place_send_is_the_copied_send(tmp_path, fmt, block, every, pad,
                                          size, pipe):
    data = os.urandom(size // 2) + bytes(size - size // 2)
    args = ["--format", fmt, "--block-size", str(block)]
    if every:
        args += ["--tapemark-every", str(every)]
    if pad:
        args.append("--pad-last")
    name = ["t." + EXT[fmt]]
    a = _send(tmp_path, data, args, name, True, pipe)[0]
    b = _send(tmp_path, data, args, name, False, pipe)[0]
    assert a == b, "framing in place changed the %s image" % fmt
    files, _ = tapeimg.parse(a, fmt)
    got = [[bytes(r) for r in f] for f in files if f]
    assert got == _expected(data, block, every, pad)


def _expected(data, block, every, pad):
    """The tape files and records the reblocker cuts: blocks, a tape file
    after each `every` bytes, its last record short or zero-padded."""
    out = []
    step = every or len(data)
    for i in range(0, len(data), step):
        part = data[i:i + step]
        recs = [part[j:j + block] for j in range(0, len(part), block)]
        if pad and len(recs[-1]) < block:
            recs[-1] += bytes(block - len(recs[-1]))
        out.append(recs)
    return out


@pytest.mark.parametrize("fmt", ["mtd", "aws"])
def test_in_place_send_across_full_reels(tmp_path, fmt):
    """Reels of 1.5 MB: the record that meets the capacity is copied out
    of the full reel's queue before it is finished, and goes first on the
    next; every reel is the one the copying loop writes."""
    data = os.urandom(5 * 1000 * 1000 + 99)
    names = ["r%d.%s" % (i, EXT[fmt]) for i in range(1, 6)]
    args = ["--format", fmt, "--block-size", "20000", "--capacity", "1500000"]
    a = _send(tmp_path, data, args, names, True, True)
    b = _send(tmp_path, data, args, names, False, True)
    assert a == b
    got = b""
    for img in a:
        if img is not None:
            files, _ = tapeimg.parse(img, fmt)
            got += b"".join(bytes(r) for f in files for r in f)
    assert got == data
