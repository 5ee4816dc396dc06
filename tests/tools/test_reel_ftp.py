"""`reel` against Debian's vsftpd on 127.0.0.1: send, map, verify and cat
of remote images (cat | tar -t), ls of a server directory holding every
kind of file (and its --json), a three-reel storeset written and read back
over FTP, and the clear errors for a wrong password, a missing file and a
file that is not a tape. The password travels only in the environment or a
password file, never in argv."""
import json
import os
import shutil
import subprocess
import time

import pytest

import tapeimg
from need import need_root, need_tool
from reeltool import fails, ok, reel, reel_path
from servers import Vsftpd


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    need_root()
    need_tool("vsftpd")
    reel_path()     # skip early when reel is not built
    with Vsftpd(tmp_path_factory.mktemp("vsftpd")) as s:
        yield s


def r_ftp(srv, *args, stdin=None):
    """reel with the server's password in the environment only."""
    r = reel(*args, stdin=stdin, env=srv.env())
    assert srv.password not in r.stderr
    assert srv.password.encode() not in r.stdout
    return r


def test_send_map_verify_cat(srv):
    data = [os.urandom(70000) for _ in range(3)]
    url = srv.url + "three.mtd"
    r = ok(r_ftp(srv, "send", "--tapemark-every", 70000, url,
                 stdin=b"".join(data)))
    raw = (srv.root / "three.mtd").read_bytes()
    assert "sent %d bytes" % len(raw) in r.stderr
    assert "the server holds %d bytes" % len(raw) in r.stderr
    assert "3 files" in r.stderr
    files, eod = tapeimg.parse(raw, "mtd")
    assert eod and [b"".join(f) for f in files] == data
    man = json.loads((srv.root / "three.mtd.manifest.json").read_text())
    assert man["image_bytes"] == len(raw) and man["files"] == 3
    m = json.loads(ok(r_ftp(srv, "map", "--json", url)).stdout)
    assert m["file_count"] == 3 and m["image_bytes"] == len(raw)
    assert [f["bytes"] for f in m["files"]] == [70000] * 3
    assert b"manifest agrees" in ok(r_ftp(srv, "verify", url)).stdout
    assert ok(r_ftp(srv, "cat", "--file", 2, url)).stdout == data[1]
    # Also with --password-file instead of the environment.
    r = ok(reel("map", "--password-file", srv.password_file(), url))
    assert b"end of data: yes" in r.stdout


def test_cat_ftp_into_tar(srv, tmp_path):
    tar = need_tool("tar")
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(5):
        (tree / ("f%d" % i)).write_bytes(os.urandom(30000 + i))
    t = subprocess.run([tar, "-C", str(tmp_path), "-cf", "-", "tree"],
                       capture_output=True, check=True)
    url = srv.url + "vol1.mtd"
    ok(r_ftp(srv, "send", url, stdin=t.stdout))
    cat = subprocess.Popen([reel_path(), "cat", url, "--file", "1"],
                           stdout=subprocess.PIPE, env=srv.env())
    lst = subprocess.run([tar, "-tf", "-"], stdin=cat.stdout,
                         capture_output=True, text=True)
    cat.stdout.close()
    assert cat.wait() == 0 and lst.returncode == 0, lst.stderr
    assert sorted(lst.stdout.split()) == ["tree/"] + ["tree/f%d" % i for i in range(5)]


def test_ls_server_directory(srv):
    d = srv.root / "lsdir"
    d.mkdir()
    shutil.chown(d, srv.user, srv.user)
    base = srv.url + "lsdir/"
    ok(r_ftp(srv, "send", "--format", "simh", "--tapemark-every", 25000,
             base + "good.tap", stdin=os.urandom(50000)))
    raw = reel("send", "--format", "aws", "-", stdin=os.urandom(40000)).stdout
    (d / "cut.aws.part").write_bytes(raw[:15000])
    raw = reel("send", "--format", "e11", "-", stdin=os.urandom(3001)).stdout
    (d / "bare.e11").write_bytes(raw)
    (d / "notes.txt").write_text("a text file, not a tape\n")
    r = ok(r_ftp(srv, "ls", base))
    out = r.stdout.decode()
    tapes, other = out.split("other files")
    rows = {l.split()[0]: l.split() for l in tapes.splitlines()[1:] if l.strip()}
    assert rows["good.tap"][4:6] == ["simh", "complete"]
    assert rows["cut.aws.part"][4:6] == ["aws", "partial"]
    assert rows["bare.e11"][4:6] == ["e11", "unverified"]
    assert "notes.txt" in other and "manifest.json" not in out
    r = ok(r_ftp(srv, "ls", "--tapes", "-l", base))
    assert b"notes.txt" not in r.stdout
    good = [l for l in r.stdout.decode().splitlines() if l.startswith("good.tap")][0]
    man = json.loads((d / "good.tap.manifest.json").read_text())
    assert man["payload_crc32"] in good and " 2 " in good
    j = json.loads(ok(r_ftp(srv, "ls", "--json", "--deep", base)).stdout)
    t = {x["name"]: x for x in j["tapes"]}
    assert set(t) == {"good.tap", "cut.aws.part", "bare.e11"}
    assert t["good.tap"]["state"] == "complete"
    assert t["good.tap"]["size"] == (d / "good.tap").stat().st_size
    assert t["good.tap"]["storeset"] == man["storeset"]
    assert t["good.tap"]["reel"] == 1 and t["good.tap"]["records"] == man["records"]
    assert t["good.tap"]["deep"]["files"] == 2 and t["good.tap"]["deep"]["ok"]
    assert t["cut.aws.part"]["state"] == "partial" and t["cut.aws.part"]["format"] == "aws"
    assert t["bare.e11"]["state"] == "unverified" and t["bare.e11"]["reel"] is None
    assert t["bare.e11"]["deep"]["ok"] and t["bare.e11"]["deep"]["records"] == 1
    assert srv.password not in json.dumps(j)
    assert [o["name"] for o in j["other"]] == ["notes.txt"]


def test_ls_names_are_not_url_text(srv):
    # A listed name is escaped into the URL: "odd%41 #1.tap" must not be
    # read as "oddA #1.tap" (here a text file), nor cut at the '#'.
    d = srv.root / "names"
    d.mkdir()
    shutil.chown(d, srv.user, srv.user)
    img = reel("send", "--format", "simh", "-", stdin=os.urandom(5000)).stdout
    (d / "odd%41 #1.tap").write_bytes(img)
    (d / "oddA #1.tap").write_text("hello, not a tape at all\n")
    j = json.loads(ok(r_ftp(srv, "ls", "--json", "--deep", srv.url + "names/")).stdout)
    assert [t["name"] for t in j["tapes"]] == ["odd%41 #1.tap"]
    assert j["tapes"][0]["deep"]["ok"] and j["tapes"][0]["deep"]["records"] == 1
    assert [o["name"] for o in j["other"]] == ["oddA #1.tap"]


def test_storeset_over_ftp(srv):
    data = os.urandom(600000)
    urls = [srv.url + "set%d.het" % i for i in (1, 2, 3)]
    # Random data does not compress: each 250K reel holds about 240K.
    ok(r_ftp(srv, "send", "--capacity", "250K", "--next", urls[1],
             "--next", urls[2], urls[0], stdin=data))
    ms = [json.loads((srv.root / ("set%d.het.manifest.json" % i)).read_text())
          for i in (1, 2, 3)]
    assert [m["reel"] for m in ms] == [1, 2, 3]
    assert len({m["storeset"] for m in ms}) == 1
    assert ms[0]["next"] == urls[1] and ms[2]["prev"] == urls[1]
    assert ms[2]["next"] is None
    assert ok(r_ftp(srv, "cat", urls[2])).stdout == data
    assert ok(r_ftp(srv, "cat", "--set", *urls)).stdout == data
    for u in urls:
        ok(r_ftp(srv, "verify", u))


def test_verify_damage_on_server(srv):
    url = srv.url + "dmg.mtd"
    ok(r_ftp(srv, "send", url, stdin=os.urandom(80000)))
    p = srv.root / "dmg.mtd"
    raw = p.read_bytes()
    p.write_bytes(raw[:30000])
    fails(r_ftp(srv, "verify", url), "truncated", "offset %d" % (2 * 10248))
    bad = bytearray(raw)
    bad[3 * 10248 + 2] ^= 0x04
    p.write_bytes(bad)
    fails(r_ftp(srv, "verify", url), "framing is damaged", "offset %d" % (3 * 10248))
    fails(r_ftp(srv, "map", url), "damaged")


def test_errors(srv, tmp_path):
    ok(r_ftp(srv, "send", srv.url + "e.mtd", stdin=b"data" * 1000))
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password\n")
    os.chmod(wrong, 0o600)  # a readable one is refused (docs/security.md)
    t0 = time.monotonic()
    r = reel("map", "--password-file", wrong, srv.url + "e.mtd")
    fails(r, "login refused (530)")
    assert time.monotonic() - t0 < 10
    assert "not-the-password" not in r.stderr
    fails(reel("ls", "--password-file", wrong, srv.url), "login refused")
    fails(r_ftp(srv, "map", srv.url + "missing.mtd"), "no such file")
    fails(r_ftp(srv, "cat", srv.url + "missing.mtd"), "no such file")
    fails(r_ftp(srv, "verify", srv.url + "missing.mtd"), "missing.mtd")
    fails(r_ftp(srv, "ls", srv.url + "nodir/"), "no such directory")
    (srv.root / "words.txt").write_text("hello tape world\n" * 500)
    fails(r_ftp(srv, "map", srv.url + "words.txt"), "not a tape image")
    fails(r_ftp(srv, "cat", srv.url + "words.txt"), "not a tape image")
    # A password in the URL is refused, and not repeated.
    r = reel("map", srv.url.replace("reeltest@", "reeltest:s3cr3t@") + "e.mtd")
    assert r.returncode != 0 and "s3cr3t" not in r.stderr
    assert "password" in r.stderr
    # Bad URL.
    fails(r_ftp(srv, "map", "ftp://"), "ftp://")


def test_send_server_full_leaves_part(tmp_path):
    need_root()
    from servers import FaultFtpd
    with FaultFtpd(tmp_path / "full", full_at=200000) as s:
        r = reel("send", s.url + "full.mtd", stdin=os.urandom(1000000),
                 env=s.env())
        fails(r, "out of space", "200000 bytes", "full.mtd.part")
        assert sorted(os.listdir(s.root)) == ["full.mtd.part"]
        assert (s.root / "full.mtd.part").stat().st_size == 200000


def test_ftps_with_cacert(tmp_path):
    need_root()
    need_tool("vsftpd")
    need_tool("openssl")
    with Vsftpd(tmp_path / "tls", tls=True) as s:
        ca = ["--cacert", str(s.cacert)]
        data = os.urandom(120000)
        url = s.url + "t.e11"
        assert url.startswith("ftps://")
        r = ok(reel("send", *ca, url, stdin=data, env=s.env()))
        assert "the server holds" in r.stderr
        assert ok(reel("cat", *ca, url, env=s.env())).stdout == data
        ok(reel("verify", *ca, url, env=s.env()))
        j = json.loads(ok(reel("ls", "--json", *ca, s.url, env=s.env())).stdout)
        assert [t["state"] for t in j["tapes"]] == ["complete"]
        # Without the CA the self-signed certificate is refused, clearly.
        fails(reel("map", url, env=s.env()), "not trusted", "--cacert")


def _logins(srv):
    return srv.log.read_text(errors="replace").count("OK LOGIN")


def test_send_logs_in_once(srv):
    """The manifest goes through the image's own session (no second
    login: on this vsftpd a login costs about 0.2 s), and both files are
    whole and published."""
    before = _logins(srv)
    data = os.urandom(200000)
    url = srv.url + "once.mtd"
    ok(r_ftp(srv, "send", "--block-size", 10000, url, stdin=data))
    assert _logins(srv) - before == 1, srv.log.read_text()[-2000:]
    files, eod = tapeimg.parse((srv.root / "once.mtd").read_bytes(), "mtd")
    assert eod and b"".join(files[0]) == data
    man = json.loads((srv.root / "once.mtd.manifest.json").read_text())
    assert man["payload_bytes"] == len(data) and man["records"] == 20
    assert not list(srv.root.glob("once.mtd*.part"))
    # In a subdirectory too: the manifest is always beside its image.
    (srv.root / "sub").mkdir(exist_ok=True)
    os.chmod(srv.root / "sub", 0o777)
    before = _logins(srv)
    ok(r_ftp(srv, "send", srv.url + "sub/two.mtd", stdin=data))
    assert _logins(srv) - before == 1, srv.log.read_text()[-2000:]
    man = json.loads((srv.root / "sub" / "two.mtd.manifest.json").read_text())
    assert man["payload_bytes"] == len(data)
