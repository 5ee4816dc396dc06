"""`reel ls` and the read side against real servers on 127.0.0.1 (issue 8):
one login for a directory of tapes (vsftpd's protocol log counts them), a
live upload's .part listed as partial without waiting for it, MLSD refused
(ProFTPD's <Limit MLSD>, the fault server) or closed oddly falls back to
LIST, an MLSD size of -1 shown as unknown, and a server that streams past
the size it declared stopped within seconds by map, cat and verify."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import time

import pytest

import shipped
from need import build_dir, need_root, need_tool
from reeltool import fails, ok, reel, reel_path
from servers import FaultFtpd, Vsftpd


class LoggingVsftpd(Vsftpd):
    """vsftpd that logs every command it receives (log_ftp_protocol)."""

    def _config(self, pasv):
        conf = super()._config(pasv)
        conf.write_text(conf.read_text() + "log_ftp_protocol=YES\n")
        return conf

    def commands(self):
        return re.findall(r'FTP command: Client "[^"]*", "([A-Z]+)',
                          self.log.read_text(errors="replace"))


def make_tapes(d, n, manifests=True, owner=None):
    """n small SIMH images t00.tap.. in d, each with its manifest."""
    d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        p = d / ("t%02d.tap" % i)
        ok(reel("send", "--quiet", "--format", "simh", p,
                stdin=os.urandom(20000 + i)))
        if not manifests:
            os.unlink(str(p) + ".manifest.json")
    if owner:
        for p in [d, *d.iterdir()]:
            shutil.chown(p, owner, owner)


def ls_json(srv, url, *extra, timeout=60):
    r = ok(reel("ls", "--json", *extra, url, env=srv.env(), timeout=timeout))
    return json.loads(r.stdout)


def test_ls_twenty_tapes_one_login(tmp_path):
    need_root()
    need_tool("vsftpd")
    reel_path()
    with LoggingVsftpd(tmp_path / "v") as srv:
        make_tapes(srv.root / "set", 20, owner=srv.user)
        srv.log.write_text("")
        t0 = time.monotonic()
        j = ls_json(srv, srv.url + "set/")
        took = time.monotonic() - t0
        assert [t["state"] for t in j["tapes"]] == ["complete"] * 20
        assert {t["format"] for t in j["tapes"]} == {"simh"}
        cmds = srv.commands()
        assert cmds.count("USER") <= 2, cmds
        # Per tape: SIZE, EPSV, RETR of its manifest; before them the
        # login and the listing, once (TYPE and QUIT once each).
        assert cmds.count("RETR") == 20, cmds
        last_list = max(i for i, c in enumerate(cmds) if c in ("LIST", "MLSD"))
        per_tape = [c for c in cmds[last_list + 1:] if c not in ("TYPE", "QUIT")]
        assert len(per_tape) <= 3 * 20, cmds
        assert last_list < 16, cmds
        assert took < 10


def test_ls_tapes_without_manifests_one_login(tmp_path):
    """Images other programs wrote have no manifest. Over 64 KiB a read of
    the head would be cut short, which costs libcurl its connection: one
    whose name names a format is taken at its name; a short file is read
    whole; only a long one with another name is sniffed (one login)."""
    need_root()
    need_tool("vsftpd")
    reel_path()
    with LoggingVsftpd(tmp_path / "v") as srv:
        d = srv.root / "raw"
        d.mkdir()
        img = reel("send", "--format", "simh", "-",
                   stdin=os.urandom(100000)).stdout
        for i in range(20):
            (d / ("r%02d.tap" % i)).write_bytes(img)
        (d / "tape.img").write_bytes(img)       # a tape by its bytes only
        (d / "text.tap").write_text("not a tape, whatever its name\n")
        (d / "big.bin").write_bytes(b"\x01" * 100000)
        srv.log.write_text("")
        j = ls_json(srv, srv.url + "raw/")
        t = {x["name"]: x for x in j["tapes"]}
        assert len(t) == 21 and t["tape.img"]["format"] == "simh"
        assert {x["state"] for x in t.values()} == {"unverified"}
        assert {x["format"] for x in t.values()} == {"simh"}
        assert sorted(o["name"] for o in j["other"]) == ["big.bin", "text.tap"]
        cmds = srv.commands()
        # One session, plus one login after each of the two cut reads
        # (tape.img and big.bin).
        assert cmds.count("USER") <= 3, cmds
        assert cmds.count("RETR") == 3, cmds


def test_ls_live_part_is_not_waited_for(tmp_path):
    """vsftpd makes a RETR of a file being uploaded wait for the upload's
    lock (until the stall timeout): ls must not read a .part at all."""
    need_root()
    need_tool("vsftpd")
    reel_path()
    with Vsftpd(tmp_path / "v") as srv:
        make_tapes(srv.root / "d", 2, owner=srv.user)
        url = srv.url + "d/live.tap"
        p = subprocess.Popen([reel_path(), "send", "--quiet", url],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=srv.env())
        try:
            p.stdin.write(os.urandom(3000000))  # past reel send's 1 MiB reads
            p.stdin.flush()
            parts = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                parts = [x for x in (srv.root / "d").iterdir()
                         if x.name.endswith(".part") and x.stat().st_size]
                if parts:
                    break
                time.sleep(0.05)  # polling the upload's progress
            assert parts, "the upload never reached the server"
            t0 = time.monotonic()
            j = ls_json(srv, srv.url + "d/", timeout=50)
            took = time.monotonic() - t0
            assert took < 5, "ls waited %.1f s on a live upload" % took
            live = [t for t in j["tapes"] if t["name"].endswith(".part")]
            assert len(live) == 1 and live[0]["state"] == "partial"
            assert live[0]["format"] == "simh"
            assert sorted(t["state"] for t in j["tapes"]) == \
                ["complete", "complete", "partial"]
            r = ok(reel("ls", srv.url + "d/", env=srv.env(), timeout=50))
            assert re.search(rb"live\.tap\S*\.part .* partial", r.stdout)
        finally:
            p.stdin.close()
            try:
                p.wait(60)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        assert p.returncode == 0, p.stderr.read()


@pytest.mark.parametrize("fault", [["--refuse", "MLSD=550"],
                                   ["--refuse", "MLSD=502"],
                                   ["--mlsd-close", "200"]],
                         ids=["mlsd-550", "mlsd-502", "mlsd-odd-close"])
def test_ls_falls_back_to_list(tmp_path, fault):
    need_root()
    reel_path()
    with FaultFtpd(tmp_path / "f", extra=fault) as srv:
        make_tapes(srv.root, 3)
        (srv.root / "notes.txt").write_text("not a tape\n")
        j = ls_json(srv, srv.url)
        assert [t["name"] for t in j["tapes"]] == ["t00.tap", "t01.tap", "t02.tap"]
        assert [t["state"] for t in j["tapes"]] == ["complete"] * 3
        assert [t["size"] for t in j["tapes"]] == \
            [(srv.root / t["name"]).stat().st_size for t in j["tapes"]]
        assert [o["name"] for o in j["other"]] == ["notes.txt"]


def test_ls_proftpd_limit_mlsd(tmp_path):
    need_root()
    shipped.need(shipped.ProFTPD)
    reel_path()
    with shipped.ProFTPD(tmp_path / "p", limit_mlsd=True) as srv:
        make_tapes(srv.root / "d", 3, owner=srv.user)
        j = ls_json(srv, srv.url + "d/")
        assert [t["state"] for t in j["tapes"]] == ["complete"] * 3


def test_ls_unknown_mlsd_size(tmp_path):
    need_root()
    reel_path()
    with FaultFtpd(tmp_path / "f", extra=["--mlsd-size", "-1"]) as srv:
        make_tapes(srv.root, 1)
        (srv.root / "other.bin").write_bytes(b"x" * 100)
        j = ls_json(srv, srv.url)
        t = j["tapes"][0]
        # The size comes from SIZE when the listing gives none: the
        # manifest can still be checked.
        assert t["state"] == "complete"
        assert t["size"] == (srv.root / "t00.tap").stat().st_size
        assert j["other"][0]["name"] == "other.bin"
        assert j["other"][0]["size"] is None
        r = ok(reel("ls", srv.url, env=srv.env()))
        out = r.stdout.decode()
        assert "18446744073709551615" not in out
        line = [l for l in out.splitlines() if l.startswith("other.bin")][0]
        assert line.split()[1] == "?"


@pytest.mark.parametrize("size_refused", [False, True, "-1"],
                         ids=["size-told", "size-refused", "size-negative"])
def test_endless_server_is_stopped(tmp_path, size_refused):
    """A server that keeps sending after the size it declared (by SIZE, or
    by MLST when SIZE is refused or answers a negative number, which must
    not read as 2^64-1 and lift the bound): map, cat and verify stop within
    seconds and say so."""
    need_root()
    reel_path()
    extra = ["--endless", "img.tap"]
    if size_refused == "-1":
        extra += ["--size-reply", "-1"]
    elif size_refused:
        extra += ["--refuse", "SIZE=550"]
    with FaultFtpd(tmp_path / "f", extra=extra) as srv:
        ok(reel("send", "--quiet", "--format", "simh", srv.root / "img.tap",
                stdin=os.urandom(50000)))
        url = srv.url + "img.tap"
        for cmd in (["map"], ["cat", "--file", "1"], ["verify"]):
            t0 = time.monotonic()
            r = reel(*cmd, url, env=srv.env(), timeout=120)
            assert time.monotonic() - t0 < 20, cmd
            fails(r, "went on sending after the %d bytes it had declared"
                  % (srv.root / "img.tap").stat().st_size)


def test_read_when_size_is_refused_proftpd(tmp_path):
    """ProFTPD with <Limit SIZE> answers 550 to SIZE; libcurl asks SIZE
    before every RETR and takes that for "no such file". map, cat, verify
    and ls still read the image."""
    need_root()
    shipped.need(shipped.ProFTPD)
    reel_path()
    with shipped.ProFTPD(tmp_path / "p", limit_size=True) as srv:
        data = os.urandom(70000)
        make_tapes(srv.root / "d", 1, owner=srv.user)
        p = srv.root / "d" / "img.tap"
        ok(reel("send", "--quiet", "--format", "simh", p, stdin=data))
        # reel publishes 0600 files (docs/security.md point 1): the server's
        # user gets the image and its manifest.
        shutil.chown(p, srv.user, srv.user)
        shutil.chown(str(p) + ".manifest.json", srv.user, srv.user)
        url = srv.url + "d/img.tap"
        assert b"end of data: yes" in ok(reel("map", url, env=srv.env())).stdout
        assert ok(reel("cat", url, env=srv.env())).stdout == data
        ok(reel("verify", url, env=srv.env()))
        fails(reel("map", srv.url + "d/missing.tap", env=srv.env()), "no such file")
        j = ls_json(srv, srv.url + "d/")
        assert [t["state"] for t in j["tapes"]] == ["complete"] * 2
        # A read from an offset (REST) too, through both read paths.
        raw = p.read_bytes()
        get = pathlib.Path(build_dir()) / "tests" / "ftp" / "xfer_get"
        if get.exists():
            for how in ("cat", "fetch"):
                r = subprocess.run([str(get), how, url, "1000"], env=srv.env(),
                                   capture_output=True, timeout=60)
                assert r.returncode == 0, r.stderr
                assert r.stdout == raw[1000:]


def test_read_side_messages_stay_true(tmp_path):
    """A server that wants TLS before the login is not a wrong password; a
    read never offers to create a missing directory."""
    need_root()
    need_tool("vsftpd")
    need_tool("openssl")
    reel_path()
    with Vsftpd(tmp_path / "tls", tls=True, tls_mode="explicit") as srv:
        make_tapes(srv.root / "d", 1, owner=srv.user)
        for cmd in (["ls", srv.url + "d/"], ["map", srv.url + "d/t00.tap"]):
            r = reel(*cmd, env=srv.env())
            fails(r, "requires TLS", "--tls=require")
            assert "login refused" not in r.stderr
        ca = ["--tls=require", "--cacert", str(srv.cacert)]
        j = json.loads(ok(reel("ls", "--json", *ca, srv.url + "d/",
                               env=srv.env())).stdout)
        assert [t["state"] for t in j["tapes"]] == ["complete"]
        r = fails(reel("ls", *ca, srv.url + "nodir/", env=srv.env()),
                  "no such directory")
        assert "--mkdir" not in r.stderr
        fails(reel("map", *ca, srv.url + "d/none.tap", env=srv.env()),
              "no such file", "Failed to open file")


@pytest.mark.parametrize("kind", ["pure-ftpd", "sshd"])
def test_ls_on_shipped_servers(tmp_path, kind):
    """The same listing over pure-ftpd (MLSD) and OpenSSH's sftp."""
    need_root()
    cls = {"pure-ftpd": shipped.PureFtpd, "sshd": shipped.Sshd}[kind]
    shipped.need(cls)
    reel_path()
    with cls(tmp_path / "s") as srv:
        make_tapes(srv.root / "d", 3, owner=srv.user)
        p = srv.root / "d" / "cut.tap.part"
        p.write_bytes(b"\0" * 100)
        shutil.chown(p, srv.user, srv.user)
        t0 = time.monotonic()
        j = ls_json(srv, srv.url + "d/")
        assert time.monotonic() - t0 < 20
        assert [(t["name"], t["state"]) for t in j["tapes"]] == [
            ("cut.tap.part", "partial"), ("t00.tap", "complete"),
            ("t01.tap", "complete"), ("t02.tap", "complete")]
        assert all(t["size"] == (srv.root / "d" / t["name"]).stat().st_size
                   for t in j["tapes"])


def test_endless_server_without_any_size(tmp_path):
    """A server that tells no size at all (SIZE, MLST and listings refused,
    no byte count in its 150 reply) and then streams zeros (SIMH tape
    marks) for ever: map, cat and verify stop soon after the image's end
    of data and say so."""
    need_root()
    reel_path()
    extra = ["--endless", "img.tap",
             "--refuse", "SIZE=550,MLST=550,MLSD=550,LIST=550,NLST=550,STAT=550"]
    with FaultFtpd(tmp_path / "f", extra=extra) as srv:
        ok(reel("send", "--quiet", "--format", "simh", srv.root / "img.tap",
                stdin=os.urandom(50000)))
        url = srv.url + "img.tap"
        for cmd in (["map"], ["verify", "--framing-only"]):
            t0 = time.monotonic()
            r = reel(*cmd, url, env=srv.env(), timeout=120)
            assert time.monotonic() - t0 < 30, cmd
            fails(r, "after the image's end of data", "without declaring a size")
        # cat of one file stops at its tape mark, as always.
        r = reel("cat", "--file", "1", url, env=srv.env(), timeout=120)
        assert r.returncode == 0 and len(r.stdout) == 50000, r.stderr


def test_send_verify_read_back_is_bounded(tmp_path):
    """--verify reads the upload back: a server that keeps sending past
    the size it holds fails the send within seconds, naming that."""
    need_root()
    reel_path()
    with FaultFtpd(tmp_path / "f", extra=["--endless", "v.tap.part"]) as srv:
        t0 = time.monotonic()
        r = reel("send", "--verify", "--format", "simh", srv.url + "v.tap",
                 stdin=os.urandom(60000), env=srv.env(), timeout=120)
        assert time.monotonic() - t0 < 30
        fails(r, "went on sending")
        assert not (srv.root / "v.tap").exists()
