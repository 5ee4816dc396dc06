"""`reel` against local files and file:// URLs: send/map round trips in
every format (checked by an independent reader, tapeimg.py), cat of one
tape file and across a three-reel storeset, verify and its refusals, ls of
a directory with every kind of file, and the error sentences."""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

import tapeimg
from reeltool import chunks, fails, manifest, map_json, ok, reel, reel_path

FORMATS = ["mtd", "simh", "e11", "aws", "het"]
EXT = {"mtd": "mtd", "simh": "tap", "e11": "e11", "aws": "aws", "het": "het"}


def parts(n=3, size=50001):
    # Compressible enough for het to matter, odd sizes for padding.
    return [os.urandom(size // 2) + bytes([i + 1]) * (size - size // 2)
            for i in range(n)]


def test_version_and_help():
    r = ok(reel("--version"))
    assert b"reel (reelfs)" in r.stdout
    r = ok(reel("--help"))
    for cmd in ("ls", "map", "cat", "verify", "send"):
        assert cmd.encode() in r.stdout
        h = ok(reel(cmd, "--help"))
        assert h.stdout.startswith(b"usage: reel " + cmd.encode())
        # Transfer options are forwarded to every subcommand.
        assert b"--password-file" in h.stdout
    fails(reel("frobnicate"), "unknown command", code=2)


@pytest.mark.parametrize("fmt", FORMATS)
def test_send_map_roundtrip(tmp_path, fmt):
    data = parts()
    img = tmp_path / ("t." + EXT[fmt])
    # Block size 777: odd records, so padding (mtd/simh) and its absence
    # (e11) both show; one tape file per part.
    r = ok(reel("send", "--block-size", "777", "--tapemark-every",
                len(data[0]), img, stdin=b"".join(data)))
    assert "3 files, %d records" % (3 * -(-len(data[0]) // 777)) in r.stderr
    assert "CRC32 payload" in r.stderr
    raw = img.read_bytes()
    files, eod = tapeimg.parse(raw, fmt)
    assert eod
    assert [b"".join(f) for f in files] == data
    assert all(len(rec) == 777 for f in files for rec in f[:-1])
    m = map_json(img)
    assert m["format"] == fmt and m["error"] is None and m["end_of_data"]
    assert m["file_count"] == 3 and m["image_bytes"] == len(raw)
    for f, want in zip(m["files"], data):
        assert f["bytes"] == len(want)
        assert f["records"] == -(-len(want) // 777)
        sizes = {s["size"]: s["count"] for s in f["sizes"]}
        assert sizes[777] == len(want) // 777
        assert sizes[len(want) % 777] == 1
    man = manifest(img)
    assert man["format"] == fmt and man["image_bytes"] == len(raw)
    assert man["files"] == 3 and man["reel"] == 1 and man["next"] is None
    # The same bytes to stdout (no volume, no manifest), and mapped from
    # stdin: the image is the same.
    r = ok(reel("send", "--format", fmt, "--block-size", "777",
                "--tapemark-every", len(data[0]), "-", stdin=b"".join(data)))
    assert r.stdout == raw
    m2 = json.loads(ok(reel("map", "--json", "--format", fmt, "-",
                            stdin=raw)).stdout)
    assert m2["files"] == m["files"]


def test_send_file_url_and_default_format(tmp_path):
    data = os.urandom(100000)
    ok(reel("send", "file://%s/x.img" % tmp_path, stdin=data))
    raw = (tmp_path / "x.img").read_bytes()
    files, eod = tapeimg.parse(raw, "mtd")     # no extension: mtd
    assert eod and b"".join(files[0]) == data
    assert [len(r) for r in files[0][:-1]] == [10240] * 9  # tar's record
    assert manifest(tmp_path / "x.img")["format"] == "mtd"
    # never: an existing NAME is refused, and left alone.
    fails(reel("send", tmp_path / "x.img", stdin=b"other"))
    assert (tmp_path / "x.img").read_bytes() == raw


def test_map_damaged_names_offset(tmp_path):
    data = os.urandom(30000)
    img = tmp_path / "d.tap"
    ok(reel("send", img, stdin=data))
    raw = bytearray(img.read_bytes())
    # The trailer of the first record (10240 bytes) sits at 4 + 10240.
    raw[4 + 10240] ^= 0x01
    img.write_bytes(raw)
    r = fails(reel("map", img), "damaged", "10244")
    assert b"error: at offset 10244" in r.stdout
    r = reel("map", "--json", img)
    assert r.returncode == 1
    m = json.loads(r.stdout)
    assert m["error"]["offset"] == 10244 and m["error"]["kind"]
    # Truncated inside a record.
    img.write_bytes(bytes(raw[:5000]))
    fails(reel("map", img), "damaged")


def test_map_not_a_tape_and_missing(tmp_path):
    t = tmp_path / "notes.txt"
    t.write_text("these are not the records you are looking for\n" * 100)
    fails(reel("map", t), "not a tape image")
    fails(reel("map", tmp_path / "absent.mtd"), "no such file")
    fails(reel("map", tmp_path), "is a directory")
    fails(reel("map", "--format", "qic", t), "unknown format", code=2)
    fails(reel("map"), "name the image", code=2)
    fails(reel("map", "--bogus", t), "unknown option --bogus", code=2)


def test_cat_file_two_of_three(tmp_path):
    data = parts(3, 40000)
    img = tmp_path / "three.mtd"
    ok(reel("send", "--tapemark-every", 40000, img, stdin=b"".join(data)))
    for n in (1, 2, 3):
        r = ok(reel("cat", "--file", n, img))
        assert r.stdout == data[n - 1]
    fails(reel("cat", "--file", 4, img), "no tape file 4", "holds 3 files")
    fails(reel("cat", "--file", 0, img), "--file", code=2)
    # --records: 4-byte little-endian length before each record.
    r = ok(reel("cat", "--file", 2, "--records", img))
    out, recs = r.stdout, []
    while out:
        n = int.from_bytes(out[:4], "little")
        recs.append(out[4:4 + n])
        out = out[4 + n:]
    assert recs == chunks(data[1], 10240)


def test_cat_pipes_into_tar(tmp_path):
    tar = shutil.which("tar")
    if not tar:
        pytest.skip("tar is missing: install it (tools/setup-debian)")
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha\n")
    (src / "sub" / "b.bin").write_bytes(os.urandom(70000))
    img = tmp_path / "t.mtd"
    t = subprocess.run([tar, "-b", "64", "-C", str(tmp_path), "-cf", "-",
                        "tree"], capture_output=True, check=True)
    ok(reel("send", "--block-size", 32768, img, stdin=t.stdout))
    cat = subprocess.Popen([reel_path(), "cat", str(img)],
                           stdout=subprocess.PIPE)
    lst = subprocess.run([tar, "-tf", "-"], stdin=cat.stdout,
                         capture_output=True, text=True)
    cat.stdout.close()
    assert cat.wait() == 0 and lst.returncode == 0, lst.stderr
    assert "tree/sub/b.bin" in lst.stdout.split()


def test_cat_into_head_is_quiet(tmp_path):
    img = tmp_path / "big.mtd"
    ok(reel("send", img, stdin=os.urandom(3 << 20)))
    p = subprocess.Popen("'%s' cat '%s' | head -c 100 >/dev/null; "
                         "exit ${PIPESTATUS[0]}" % (reel_path(), img),
                         shell=True, executable="/bin/bash",
                         stderr=subprocess.PIPE)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0 and err == b"", err


def storeset(tmp_path, data, n=3, capacity="200K", **kw):
    urls = [tmp_path / ("vol%d.mtd" % i) for i in range(1, n + 1)]
    args = ["send", "--capacity", capacity]
    for u in urls[1:]:
        args += ["--next", u]
    for k, v in kw.items():
        args += ["--" + k.replace("_", "-"), v]
    return urls, reel(*args, urls[0], stdin=data)


def test_cat_across_three_reels(tmp_path):
    data = os.urandom(500000)
    urls, r = storeset(tmp_path, data)
    ok(r)
    ms = [manifest(u) for u in urls]
    assert len({m["storeset"] for m in ms}) == 1
    assert [m["reel"] for m in ms] == [1, 2, 3]
    assert ms[0]["prev"] is None and ms[2]["next"] is None
    assert ms[0]["next"] == str(urls[1]) and ms[1]["prev"] == str(urls[0])
    assert ms[1]["next"] == str(urls[2]) and ms[2]["prev"] == str(urls[1])
    for u, m in zip(urls, ms):
        assert u.stat().st_size == m["image_bytes"] <= 200 * 1024
        ok(reel("verify", u))
    # From the first reel, from a middle one (walks back), and by --set.
    assert ok(reel("cat", urls[0])).stdout == data
    assert ok(reel("cat", urls[1])).stdout == data
    assert ok(reel("cat", "--set", *urls)).stdout == data
    # One reel alone holds only its part.
    one = ok(reel("cat", "--single", urls[1])).stdout
    assert 0 < len(one) < len(data) and one in data


def test_storeset_keeps_file_boundaries(tmp_path):
    data = parts(5, 60000)
    urls, r = storeset(tmp_path, b"".join(data), tapemark_every=60000)
    ok(r)
    for n in range(1, 6):
        assert ok(reel("cat", "--file", n, urls[0])).stdout == data[n - 1]
    fails(reel("cat", "--file", 6, urls[0]), "no tape file 6")


def test_storeset_unused_reel_and_too_much_data(tmp_path):
    data = os.urandom(250000)
    urls, r = storeset(tmp_path, data)
    ok(r)
    assert "not used" in r.stderr
    assert not urls[2].exists()
    assert manifest(urls[1])["next"] is None
    assert ok(reel("cat", urls[0])).stdout == data
    big = tmp_path / "big"
    big.mkdir()
    urls, r = storeset(big, os.urandom(900000))
    fails(r, "no --next URL is left", ".part")
    assert pathlib.Path(str(urls[2]) + ".part").exists()
    assert not urls[2].exists()


def test_send_then_verify(tmp_path):
    img = tmp_path / "v.het"
    ok(reel("send", "--tapemark-every", 70000, img, stdin=os.urandom(200000)))
    r = ok(reel("verify", img))
    assert b"verified" in r.stdout and b"manifest agrees" in r.stdout


def test_verify_truncated(tmp_path):
    img = tmp_path / "v.mtd"
    ok(reel("send", img, stdin=os.urandom(100000)))
    raw = img.read_bytes()
    img.write_bytes(raw[:50000])
    r = fails(reel("verify", img), "FAILED", "truncated")
    # The record cut short starts at a record boundary: 4 records of
    # 10240 + 8 bytes of framing each come before it.
    assert "offset %d" % (4 * 10248) in r.stderr
    assert "differ from offset 50000" in r.stderr
    # Cut exactly at the end-of-data marks: framing sound, EOD missing.
    img.write_bytes(raw[:-8])
    fails(reel("verify", img), "end of data is missing",
          "offset %d" % (len(raw) - 8))


def test_verify_flipped_bit(tmp_path):
    img = tmp_path / "v.mtd"
    ok(reel("send", img, stdin=os.urandom(100000)))
    raw = img.read_bytes()
    # In a length header: framing breaks exactly there.
    bad = bytearray(raw)
    bad[10248 + 1] ^= 0x10
    img.write_bytes(bad)
    fails(reel("verify", img), "framing is damaged", "offset 10248")
    # In the payload: the framing holds, the CRCs differ, and the CRC
    # differences themselves place the flipped bit exactly.
    bad = bytearray(raw)
    bad[20000] ^= 0x04
    img.write_bytes(bad)
    r = fails(reel("verify", img), "payload CRC32 differs",
              "image CRC32 differs")
    # 20000 = 1 record of 10248 + 4-byte header of the second + 9748.
    assert ("one flipped bit (value 0x04) at image offset 20000: byte 9748 "
            "of record 2 of tape file 1 (payload offset 19988)") in r.stderr
    # Two bytes changed: no single bit explains it, and verify says so.
    bad[30000] ^= 0x10
    img.write_bytes(bad)
    fails(reel("verify", img), "more than one bit differs")
    # Undamaged again: agrees.
    img.write_bytes(raw)
    ok(reel("verify", img))


def test_verify_flipped_bit_aws(tmp_path):
    img = tmp_path / "v.aws"
    ok(reel("send", img, stdin=os.urandom(50000)))
    raw = bytearray(img.read_bytes())
    raw[33333] ^= 0x40
    img.write_bytes(raw)
    fails(reel("verify", img), "image CRC32 differs",
          "value 0x40 at image offset 33333")


def test_verify_refusals(tmp_path):
    t = tmp_path / "plain.txt"
    t.write_text("hello\n")
    fails(reel("verify", tmp_path / "none.mtd"), "no such file")
    fails(reel("verify", t), "not a tape image")
    fails(reel("verify", "--require-manifest", t), "has no manifest",
          "--require-manifest")
    fails(reel("verify", "--framing-only", t), "not a tape image")
    fails(reel("verify", "--framing-only", "--strict", t), "contradict",
          code=2)
    img = tmp_path / "x.tap"
    ok(reel("send", img, stdin=b"x" * 5000))
    pathlib.Path(str(img) + ".manifest.json").write_text('{"reelfs_manifest": 1}')
    fails(reel("verify", img), "not a reelfs manifest", "is missing")


def make_listing_dir(d):
    """A complete tape, a partial one, one without manifest, a text file."""
    d.mkdir(exist_ok=True)
    ok(reel("send", "--tapemark-every", 30000, d / "good.mtd",
            stdin=os.urandom(90000)))
    raw = ok(reel("send", "--format", "aws", "-", stdin=os.urandom(20000))).stdout
    (d / "half.aws.part").write_bytes(raw[:9000])
    raw = reel("send", "--format", "het", "-", stdin=b"z" * 30000).stdout
    (d / "bare.het").write_bytes(raw)
    (d / "readme.txt").write_text("not a tape\n")
    return d


def test_ls_local_directory(tmp_path):
    d = make_listing_dir(tmp_path / "dir")
    r = ok(reel("ls", d))
    out = r.stdout.decode()
    rows = {l.split()[0]: l.split() for l in out.splitlines() if l.strip()}
    assert rows["good.mtd"][4:6] == ["mtd", "complete"]
    assert rows["half.aws.part"][4:6] == ["aws", "partial"]
    assert rows["bare.het"][4:6] == ["het", "unverified"]
    head, other = out.split("other files")
    assert "readme.txt" in other and "readme.txt" not in head
    assert ".manifest.json" not in out
    r = ok(reel("ls", "--tapes", "-l", "--deep", d))
    out = r.stdout.decode()
    assert "readme.txt" not in out
    good = [l for l in out.splitlines() if l.startswith("good.mtd")][0]
    assert "ok, 3 files, 9 records" in good
    half = [l for l in out.splitlines() if l.startswith("half.aws.part")][0]
    assert "damaged at offset" in half
    # A damaged image that is not .part makes --deep fail.
    raw = bytearray((d / "bare.het").read_bytes())
    raw[7] ^= 0xff
    (d / "bare.het").write_bytes(raw)
    r = reel("ls", "--deep", d)
    assert r.returncode == 1
    bare = [l for l in r.stdout.decode().splitlines() if l.startswith("bare.het")]
    assert "damaged at offset" in bare[0]


def test_ls_json_fields(tmp_path):
    d = make_listing_dir(tmp_path / "dir")
    r = ok(reel("ls", "--json", "--deep", d))
    j = json.loads(r.stdout)
    tapes = {t["name"]: t for t in j["tapes"]}
    assert set(tapes) == {"good.mtd", "half.aws.part", "bare.het"}
    g = tapes["good.mtd"]
    man = manifest(d / "good.mtd")
    assert g["size"] == (d / "good.mtd").stat().st_size
    assert g["state"] == "complete" and g["manifest"] is True
    assert g["format"] == "mtd" and g["storeset"] == man["storeset"]
    assert g["reel"] == 1 and g["files"] == 3 and g["records"] == 9
    assert g["payload_crc32"] == man["payload_crc32"]
    assert g["image_crc32"] == man["image_crc32"]
    assert g["mtime"].endswith("Z") and g["next"] is None
    assert g["deep"]["ok"] and g["deep"]["files"] == 3
    assert tapes["half.aws.part"]["state"] == "partial"
    assert tapes["half.aws.part"]["deep"]["error"]["kind"]
    b = tapes["bare.het"]
    assert b["state"] == "unverified" and b["manifest"] is False
    assert b["storeset"] is None and b["files"] is None
    assert [o["name"] for o in j["other"]] == ["readme.txt"]
    assert j["other"][0]["type"] == "file" and j["other"][0]["size"] == 11


def test_ls_and_send_errors(tmp_path):
    fails(reel("ls", tmp_path / "nowhere"), "nowhere")
    fails(reel("send", "--block-size", "lots", tmp_path / "a.mtd"),
          "--block-size", code=2)
    fails(reel("send", "--format", "aws", "--block-size", "3M",
               tmp_path / "a.aws"), "larger than aws allows", code=2)
    fails(reel("send", "--next", tmp_path / "b.mtd", tmp_path / "a.mtd"),
          "--next needs --capacity", code=2)
    # A password never comes from argv.
    r = reel("send", "--password", "hunter2", tmp_path / "a.mtd")
    assert r.returncode == 2 and "hunter2" not in r.stderr
    assert not (tmp_path / "a.mtd").exists()


def test_cat_refuses_a_broken_chain(tmp_path):
    data = os.urandom(500000)
    urls, r = storeset(tmp_path, data)
    ok(r)
    # Reel 2's manifest now points back at itself: no endless walk.
    mp = pathlib.Path(str(urls[1]) + ".manifest.json")
    m = json.loads(mp.read_text())
    m["prev"] = str(urls[1])
    mp.write_text(json.dumps(m))
    fails(reel("cat", urls[1]), "chain of reels is broken")
    # A reel from another storeset in the chain is refused too.
    m["prev"] = str(urls[0])
    mp.write_text(json.dumps(m))
    m0p = pathlib.Path(str(urls[0]) + ".manifest.json")
    m0 = json.loads(m0p.read_text())
    m0["storeset"] = "someone-else"
    m0p.write_text(json.dumps(m0))
    fails(reel("cat", urls[1]), "belongs to storeset someone-else")


def simh_image(*elements):
    """A SIMH image by hand: bytes are a record, None a tape mark."""
    out = b""
    for e in elements:
        if e is None:
            out += b"\0\0\0\0"
        else:
            n = len(e).to_bytes(4, "little")
            out += n + e + (b"\0" if len(e) & 1 else b"") + n
    return out


def test_end_of_data_is_at_the_end(tmp_path):
    # R M M R M M: the middle pair of marks ends an empty file 2; the
    # image ends with end of data. Cut after the third record, the image
    # no longer ends with two marks: framing-only verify must fail even
    # though two marks in a row appear earlier.
    a, b = b"a" * 101, b"b" * 64
    whole = simh_image(a, None, None, b, None, None)
    img = tmp_path / "e.tap"
    img.write_bytes(whole)
    r = ok(reel("verify", "--framing-only", img))
    assert b"3 files" in r.stdout
    assert ("end of data at offset %d" % (len(whole) - 8)).encode() in r.stdout
    m = map_json(img)
    assert m["file_count"] == 3 and m["end_of_data"]
    assert m["end_of_data_offset"] == len(whole) - 8
    assert m["data_after_end_of_data"]
    cut = simh_image(a, None, None, b)
    img.write_bytes(cut)
    fails(reel("verify", "--framing-only", img), "end of data is missing",
          "offset %d" % len(cut))
    m = map_json(img)
    assert not m["end_of_data"] and m["end_of_data_offset"] is None
    # Records after the last mark are listed, but are not a tape file yet:
    # the total is the rule verify and the manifest use.
    assert m["file_count"] == 2 and len(m["files"]) == 3
    assert m["files"][2]["ended_by_mark"] is False
    r = ok(reel("map", img))
    assert b"total: 2 files (and records after the last tape mark)" in r.stdout


def test_stdout_write_errors_fail(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full is missing")
    img = tmp_path / "w.mtd"
    ok(reel("send", "--tapemark-every", 20000, img, stdin=os.urandom(50000)))
    for args in (["map", img], ["map", "--json", img], ["verify", img],
                 ["ls", tmp_path], ["manifest", img], ["cat", img],
                 ["map", "--help"]):
        with open("/dev/full", "wb") as full:
            r = reel(*args, stdout=full)
        fails(r, "writing to stdout failed")
    with open("/dev/full", "wb") as full:
        r = reel("send", "-", stdin=os.urandom(50000), stdout=full)
    fails(r, "writing the image to stdout failed", "incomplete")
    # A reader that stops early is not a failure, and stays quiet.
    p = subprocess.Popen("'%s' map '%s' | head -c 10 >/dev/null; "
                         "exit ${PIPESTATUS[0]}" % (reel_path(), img),
                         shell=True, executable="/bin/bash",
                         stderr=subprocess.PIPE)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0 and err == b"", err


def test_ls_json_is_valid_for_any_name(tmp_path):
    # Names on disk (or on a server) need not be UTF-8, and may hold
    # control bytes: the JSON must still parse, and text rows stay clean.
    d = tmp_path / "names"
    d.mkdir()
    img = reel("send", "--format", "simh", "-", stdin=b"x" * 3000).stdout
    latin1 = os.path.join(os.fsencode(d), b"caf\xe9.tap")
    with open(latin1, "wb") as f:
        f.write(img)
    with open(os.path.join(os.fsencode(d), b"esc\x1b[2J.tap"), "wb") as f:
        f.write(img)
    j = json.loads(ok(reel("ls", "--json", d)).stdout)
    names = sorted(t["name"] for t in j["tapes"])
    assert names == ["caf\ufffd.tap", "esc\x1b[2J.tap"]
    out = ok(reel("ls", d)).stdout
    # No raw escape reaches the terminal; ftp/safetext.c shows it as text.
    assert b"\x1b" not in out and (b"esc?[2J.tap" in out or
                                   b"esc\\x1b[2J.tap" in out)


def test_storeset_reels_ending_on_a_file_boundary(tmp_path):
    # One record per tape file: every full reel ends right after a tape
    # mark the user wrote. send repeats that mark on the next reel, since
    # cat drops the last two marks of each reel but the last; without it
    # files would merge across reels.
    data = [bytes([65 + i]) * 10000 for i in range(10)]
    urls, r = storeset(tmp_path, b"".join(data), n=5, block_size=10000,
                       tapemark_every=10000, capacity=35000)
    ok(r)
    assert [manifest(u)["records"] for u in urls[:4]] == [3, 3, 3, 1]
    for n in range(1, 11):
        assert ok(reel("cat", "--file", n, urls[0])).stdout == data[n - 1]
    fails(reel("cat", "--file", 11, urls[2]), "no tape file 11", "10 files")
    for u in urls[:4]:
        ok(reel("verify", u))


def test_cat_with_a_broken_manifest_points_at_single(tmp_path):
    data = os.urandom(30000)
    img = tmp_path / "m.mtd"
    ok(reel("send", img, stdin=data))
    pathlib.Path(str(img) + ".manifest.json").write_text("{bad")
    fails(reel("cat", img), "not a reelfs manifest", "--single")
    assert ok(reel("cat", "--single", img)).stdout == data
    # stdin has no manifest to follow.
    assert ok(reel("cat", "-", stdin=img.read_bytes())).stdout == data


def test_map_stops_reading_when_its_reader_goes(tmp_path):
    # `reel map URL | head` must not go on downloading a huge image for
    # nobody: once stdout is gone, map stops reading its input and ends
    # quietly. The input here is a pipe that would go on for 1 GiB.
    import threading
    head = simh_image(*[x for _ in range(30000) for x in (b"x", None)])
    rec = simh_image(*([b"r" * 65536] * 16))
    p = subprocess.Popen("'%s' map - | head -n 1 >/dev/null; "
                         "exit ${PIPESTATUS[0]}" % reel_path(), shell=True,
                         executable="/bin/bash", stdin=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    sent = [0]

    def feed():
        try:
            p.stdin.write(head)
            while sent[0] < (1 << 30):
                p.stdin.write(rec)
                sent[0] += len(rec)
        except BrokenPipeError:
            return
        finally:
            try:
                p.stdin.close()
            except BrokenPipeError:
                pass

    t = threading.Thread(target=feed)
    t.start()
    err = p.stderr.read()
    t.join(timeout=120)
    assert p.wait(timeout=120) == 0 and err == b"", err
    assert sent[0] < (1 << 30), "map read all of its input"


def test_cat_follows_links_only_to_the_same_place(tmp_path):
    # A manifest is forgeable by whoever can write beside the image: its
    # links must not take the reader's credentials elsewhere.
    data = os.urandom(500000)
    urls, r = storeset(tmp_path, data)
    ok(r)
    mp = pathlib.Path(str(urls[0]) + ".manifest.json")
    m = json.loads(mp.read_text())
    m["next"] = "ftp://someone@127.0.0.1:9/vol2.mtd"
    mp.write_text(json.dumps(m))
    fails(reel("cat", urls[0]), "another server", "--set")
    # --set names the reels explicitly, and still works.
    assert ok(reel("cat", "--set", *urls)).stdout == data


def test_verify_without_manifest(tmp_path):
    """An image another program wrote has no manifest: verify checks the
    framing and the end of data, says there was nothing to compare, and
    passes; --require-manifest (--strict) keeps the old refusal."""
    img = tmp_path / "other.tap"
    raw = reel("send", "--format", "simh", "-", stdin=os.urandom(30000)).stdout
    img.write_bytes(raw)
    r = ok(reel("verify", img))
    assert b"verified: simh" in r.stdout
    assert b"no manifest" in r.stdout and b"framing and the end of data only" in r.stdout
    fails(reel("verify", "--require-manifest", img), "has no manifest")
    fails(reel("verify", "--strict", img), "has no manifest")
    r = ok(reel("verify", "-", stdin=raw))
    assert b"no manifest" in r.stdout
    fails(reel("verify", "--strict", "-", stdin=raw), "stdin has no manifest")
    # Sound framing is still required: a cut image fails.
    img.write_bytes(raw[:-8])
    fails(reel("verify", img), "end of data is missing")


def test_numbers_that_overflow_are_refused(tmp_path):
    big = "99999999999999999999"
    fails(reel("cat", "--file", big, tmp_path / "x.tap"), "--file",
          "too large", code=2)
    fails(reel("cat", "--file", "0", tmp_path / "x.tap"), "too small", code=2)
    fails(reel("cat", "--file", "-1", tmp_path / "x.tap"), "whole number",
          code=2)
    for opt in ("--het-level", "--chunk-size"):
        fails(reel("send", opt, big, "-"), opt, "too large", code=2)
    for opt in ("--capacity", "--tapemark-every", "--block-size"):
        fails(reel("send", opt, big, "-"), opt, "too large", code=2)
        fails(reel("send", opt, "20000000T", "-"), "too large", code=2)
    for opt in ("--retries", "--buffer", "--replay", "--connect-timeout",
                "--stall-timeout"):
        r = reel("ls", opt, big, tmp_path)
        assert r.returncode == 2 and opt in r.stderr, r.stderr
