"""Issue 9, points 2 and 5: a password goes only to the server and user it
belongs to, and secrets stay in memory, once.

A recording FTP server (pyftpdlib on 127.0.0.1, in this process) keeps
every USER/PASS pair it receives: with REELFS_PASSWORD or --password-file
and no user in the URL, that password must never arrive (reel refuses,
naming the fix); a ~/.netrc entry for another host, or for the host but
another login, is never sent; anonymous logins get the anonymous password.
A password file or ~/.netrc that group or others can read is refused.
The processes themselves: REELFS_PASSWORD is gone from a mounted daemon's
/proc/PID/environ, the core limit is 0, and `reel`/`reelfs` waiting at a
prompt are not dumpable (their own user cannot read /proc/PID/environ)."""
import os
import pathlib
import select
import signal
import subprocess
import threading
import time

import fcntl
import pytest
import termios

from mount import Mount, MountFailed, is_mounted, reelfs_binary
from need import need_binary, need_fuse, need_root, need_tool
from servers import Vsftpd

pyftpdlib = pytest.importorskip(
    "pyftpdlib", reason="pyftpdlib is missing: install python3-pyftpdlib")
from pyftpdlib.authorizers import DummyAuthorizer  # noqa: E402
from pyftpdlib.handlers import FTPHandler  # noqa: E402
from pyftpdlib.servers import FTPServer  # noqa: E402
from mount import daemon_pids as _daemon_pids, wait_until as _wait

USER = "reeltest"
RIGHT = "right-Pass-1"          # reeltest's real password
SECRET = "S3cret-not-for-anon"  # must never reach the server
NETRC_SECRET = "Netrc-S3cret-other"


class Recorder:
    """A loopback FTP server logging (user, password) of every PASS."""

    def __init__(self, root):
        self.root = pathlib.Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.logins = []
        rec = self

        class Handler(FTPHandler):
            auth_failed_timeout = 0

            def ftp_PASS(self, line):
                rec.logins.append((self.username, line))
                return super().ftp_PASS(line)

        auth = DummyAuthorizer()
        auth.add_user(USER, RIGHT, str(self.root), perm="elradfmwMT")
        auth.add_anonymous(str(self.root))
        Handler.authorizer = auth
        self.server = FTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.address[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.server.serve_forever(timeout=0.05, blocking=False)
        self.server.close_all()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def url(self, user=None):
        at = user + "@" if user else ""
        return "ftp://%s127.0.0.1:%d/" % (at, self.port)

    def passwords(self):
        return [p for _, p in self.logins]


@pytest.fixture
def rec(tmp_path):
    with Recorder(tmp_path / "root") as r:
        yield r


def _env(tmp_path, password=None, netrc=None, netrc_mode=0o600):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(home))
    env.pop("REELFS_PASSWORD", None)
    if password is not None:
        env["REELFS_PASSWORD"] = password
    if netrc is not None:
        p = home / ".netrc"
        p.write_text(netrc)
        os.chmod(p, netrc_mode)
    return env


def _pwfile(tmp_path, text, mode=0o600):
    p = tmp_path / "pw"
    p.write_text(text + "\n")
    os.chmod(p, mode)
    return p


def reel_bin():
    return need_binary(pathlib.Path(os.environ.get("REELFS_BUILD", "")) /
                       "tools" / "reel")


def reel(*args, env=None, timeout=60):
    """Runs the built reel; stderr as text, stdin closed."""
    r = subprocess.run([reel_bin(), *map(str, args)], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    r.stderr = r.stderr.decode(errors="replace")
    assert "Sanitizer" not in r.stderr, r.stderr
    return r


# ---- point 2: a password goes only to its user and server ----------------

def test_env_password_never_goes_to_anonymous(rec, tmp_path):
    env = _env(tmp_path, password=SECRET)
    # no user named: an anonymous login, with the anonymous password only
    r = reel("ls", rec.url(), env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert SECRET not in rec.passwords(), rec.logins
    assert rec.logins == [("anonymous", "ftp@example.com")], rec.logins
    # user anonymous (or ftp) by name: the anonymous password, not ours
    r = reel("ls", rec.url("anonymous"), env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert SECRET not in rec.passwords(), rec.logins
    assert rec.logins[-1] == ("anonymous", "ftp@example.com"), rec.logins
    assert SECRET not in r.stderr
    # the named user does get it (the server checks it: wrong, refused)
    r = reel("ls", rec.url(USER), env=env, timeout=60)
    assert r.returncode != 0 and "530" in r.stderr, r.stderr
    assert rec.logins[-1] == (USER, SECRET)


def test_password_file_never_goes_to_anonymous(rec, tmp_path):
    pw = _pwfile(tmp_path, RIGHT)
    env = _env(tmp_path)
    r = reel("ls", "--password-file", pw, rec.url(), env=env, timeout=60)
    assert r.returncode != 0
    assert "--password-file" in r.stderr and "names no user" in r.stderr
    # user ftp by name (pyftpdlib knows only "anonymous": it refuses)
    reel("ls", "--password-file", pw, rec.url("ftp"), env=env, timeout=60)
    assert rec.logins == [("ftp", "ftp@example.com")], rec.logins
    r = reel("ls", "--password-file", pw, "--user", USER, rec.url(),
             env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert rec.logins[-1] == (USER, RIGHT)
    assert [p for p in rec.passwords() if p == RIGHT] == [RIGHT]


def test_anonymous_without_any_password(rec, tmp_path):
    r = reel("ls", rec.url(), env=_env(tmp_path), timeout=60)
    assert r.returncode == 0, r.stderr
    assert rec.logins == [("anonymous", "ftp@example.com")]


def test_netrc_entry_of_another_host_never_sent(rec, tmp_path):
    env = _env(tmp_path, netrc="machine 127.0.0.2 login %s password %s\n"
               "machine localhost login %s password %s\n"
               % (USER, NETRC_SECRET, USER, NETRC_SECRET))
    r = reel("ls", rec.url(USER), env=env, timeout=60)
    assert r.returncode != 0 and "no password" in r.stderr, r.stderr
    r = reel("ls", rec.url(), env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert NETRC_SECRET not in rec.passwords(), rec.logins
    assert rec.logins == [("anonymous", "ftp@example.com")]


def test_netrc_entry_of_another_login_never_sent(rec, tmp_path):
    env = _env(tmp_path, netrc="machine 127.0.0.1 login someone password %s\n"
               "default login other password %s\n"
               % (NETRC_SECRET, NETRC_SECRET))
    r = reel("ls", rec.url(USER), env=env, timeout=60)
    assert r.returncode != 0 and "no password" in r.stderr, r.stderr
    assert NETRC_SECRET not in rec.passwords(), rec.logins
    # a `default` entry never serves an unnamed user either
    env = _env(tmp_path, netrc="default login %s password %s\n"
               % (USER, NETRC_SECRET))
    r = reel("ls", rec.url(), env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert NETRC_SECRET not in rec.passwords(), rec.logins


def test_netrc_entry_of_this_host_and_login_used(rec, tmp_path):
    env = _env(tmp_path, netrc="machine 127.0.0.1 login someone password x\n"
               "machine 127.0.0.1 login %s password \"%s\"\n" % (USER, RIGHT))
    r = reel("ls", rec.url(USER), env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert rec.logins == [(USER, RIGHT)]
    # no user named: the first entry for the host gives login and password
    r = reel("ls", rec.url(), env=env, timeout=60)
    assert rec.logins[-1] == ("someone", "x")


# ---- point 5: readable secrets refused; one copy; no core ----------------

def test_readable_password_file_refused(rec, tmp_path):
    pw = _pwfile(tmp_path, RIGHT, mode=0o644)
    env = _env(tmp_path)
    r = reel("ls", "--password-file", pw, rec.url(USER), env=env, timeout=60)
    assert r.returncode != 0
    assert "mode 0644" in r.stderr and "chmod 600 %s" % pw in r.stderr
    assert "--allow-readable-password-file" in r.stderr
    assert rec.logins == []
    r = reel("ls", "--password-file", pw, "--allow-readable-password-file",
             rec.url(USER), env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert rec.logins == [(USER, RIGHT)]


def test_reelfs_readable_password_file(rec, tmp_path):
    """reelfs: refused at mount (nothing mounted, nothing sent), accepted
    with -o allow-readable-password-file."""
    need_root()
    need_fuse()
    need_binary(reelfs_binary())
    pw = _pwfile(tmp_path, RIGHT, mode=0o640)
    env = _env(tmp_path)
    with pytest.raises(MountFailed) as e:
        with Mount(rec.url(USER) + "r.mtd", tmp_path / "mnt",
                   args=["-o", "password-file=%s" % pw], env=env):
            pass
    assert "mode 0640" in e.value.stderr and "chmod 600" in e.value.stderr
    assert rec.logins == [] and not is_mounted(tmp_path / "mnt")
    with Mount(rec.url(USER) + "r.mtd", tmp_path / "mnt", env=env,
               args=["-o", "allow-readable-password-file,password-file=%s"
                     % pw]) as m:
        assert rec.logins[0] == (USER, RIGHT)
    assert m.returncode == 0, m.stderr


def test_readable_netrc_refused(rec, tmp_path):
    env = _env(tmp_path, netrc="machine 127.0.0.1 login %s password %s\n"
               % (USER, RIGHT), netrc_mode=0o640)
    r = reel("ls", rec.url(USER), env=env, timeout=60)
    assert r.returncode != 0
    assert "mode 0640" in r.stderr and "chmod 600" in r.stderr, r.stderr
    assert rec.logins == []
    os.chmod(tmp_path / "home" / ".netrc", 0o600)
    r = reel("ls", rec.url(USER), env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert rec.logins == [(USER, RIGHT)]


def _limits_core(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4:6]
    return None


def _environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return f.read()


def test_reel_drops_password_from_environment(rec, tmp_path):
    """reel send holds the upload open (stdin stays open): its environment
    no longer holds the variable nor the password, and no core."""
    env = _env(tmp_path, password=RIGHT)
    p = subprocess.Popen([reel_bin(), "send", rec.url(USER) + "x.mtd"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 30
        while not rec.logins:
            assert p.poll() is None, p.stderr.read()
            assert time.monotonic() < deadline, "reel send never logged in"
            time.sleep(0.02)
        assert rec.logins == [(USER, RIGHT)]
        envb = _environ(p.pid)
        assert b"REELFS_PASSWORD" not in envb
        assert RIGHT.encode() not in envb
        assert _limits_core(p.pid) == ["0", "0"]
    finally:
        p.kill()
        p.wait()
        p.stderr.close()
        p.stdin.close()


def _at_prompt_as_nobody(cmd, tmp_path):
    """Runs cmd as nobody with a terminal, waits for its password prompt,
    and returns what nobody gets reading its /proc/PID/environ (and the
    core limit). The process is killed before returning."""
    need_root()
    setpriv = need_tool("setpriv")
    master, slave = os.openpty()
    name = os.ttyname(slave)
    os.chown(name, 65534, -1)

    def ctty():
        fd = os.open(name, os.O_RDWR)
        fcntl.ioctl(fd, termios.TIOCSCTTY, 0)

    p = subprocess.Popen([setpriv, "--reuid=65534", "--regid=65534",
                          "--clear-groups", "--"] + cmd,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, cwd="/",
                         env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent",
                              "LANG": "C"},
                         start_new_session=True, preexec_fn=ctty)
    try:
        text, deadline = b"", time.monotonic() + 30
        while b"Password for" not in text:
            assert p.poll() is None, "exited before the prompt: %r" % text
            assert time.monotonic() < deadline, "no prompt: %r" % text
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                text += os.read(master, 4096)
        pids = [p.pid] + _children(p.pid)
        got = []
        for pid in pids:
            c = subprocess.run([setpriv, "--reuid=65534", "--regid=65534",
                                "--clear-groups", "--", "cat",
                                "/proc/%d/environ" % pid],
                               capture_output=True, text=True)
            got.append((c.returncode, c.stderr, _limits_core(pid)))
        return got
    finally:
        for pid in [p.pid] + _children(p.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        p.wait()
        os.close(master)
        os.close(slave)


def _children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def test_control_same_user_can_read_a_dumpable_process(tmp_path):
    """Without PR_SET_DUMPABLE, nobody reads its own process's environ:
    the check in the next tests means something."""
    need_root()
    setpriv = need_tool("setpriv")
    p = subprocess.Popen([setpriv, "--reuid=65534", "--regid=65534",
                          "--clear-groups", "--", "sleep", "30"])
    try:
        # setpriv itself, between setresuid and exec, is not dumpable
        _wait(lambda: open("/proc/%d/comm" % p.pid).read() == "sleep\n",
              "sleep did not start")
        c = subprocess.run([setpriv, "--reuid=65534", "--regid=65534",
                            "--clear-groups", "--", "cat",
                            "/proc/%d/environ" % p.pid], capture_output=True)
        assert c.returncode == 0, c.stderr
    finally:
        p.kill()
        p.wait()


def test_reel_not_dumpable(rec, tmp_path):
    got = _at_prompt_as_nobody([reel_bin(), "ls", rec.url("someone")], tmp_path)
    for rc, err, core in got:
        assert rc != 0 and "Permission denied" in err, got
        assert core == ["0", "0"], got


def test_reelfs_not_dumpable(rec, tmp_path):
    """reelfs forks first, then asks (before detaching): both processes
    are undumpable with no core."""
    binary = need_binary(reelfs_binary())
    got = _at_prompt_as_nobody([binary, rec.url("someone") + "t.mtd", "/"],
                               tmp_path)
    assert len(got) == 2, got
    for rc, err, core in got:
        assert rc != 0 and "Permission denied" in err, got
        assert core == ["0", "0"], got


def test_daemon_environment_and_core_limit(tmp_path):
    """A mounted reelfs daemon: no REELFS_PASSWORD in /proc/PID/environ,
    core limit 0, and the manifest is still published after unmount (the
    one cached copy serves the later login)."""
    need_root()
    need_fuse()
    need_tool("vsftpd")
    binary = need_binary(reelfs_binary())
    with Vsftpd(tmp_path / "srv") as srv:
        mnt = tmp_path / "mnt"
        mnt.mkdir()
        env = _env(tmp_path, password=srv.password)
        try:
            r = subprocess.run([binary, srv.url + "d.mtd", str(mnt)],
                               env=env, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            assert is_mounted(mnt)
            pids = _daemon_pids(mnt)
            assert len(pids) == 1, pids
            envb = _environ(pids[0])
            assert b"REELFS_PASSWORD" not in envb
            assert srv.password.encode() not in envb
            assert b"HOME=" in envb  # the rest of the environment is there
            assert _limits_core(pids[0]) == ["0", "0"]
            with open(mnt / "tape", "wb", buffering=0) as f:
                f.write(b"x" * 10240)
        finally:
            subprocess.run(["fusermount3", "-u", str(mnt)], capture_output=True)
            try:
                _wait(lambda: not _daemon_pids(mnt), "the daemon did not exit")
            finally:
                if is_mounted(mnt):
                    subprocess.run(["fusermount3", "-u", "-z", str(mnt)],
                                   capture_output=True)
                for pid in _daemon_pids(mnt):
                    os.kill(pid, signal.SIGKILL)
        assert (srv.root / "d.mtd").exists()
        assert (srv.root / "d.mtd.manifest.json").exists()
