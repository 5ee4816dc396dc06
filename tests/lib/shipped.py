"""shipped.py - servers as Debian ships them, for reelfs tests, on 127.0.0.1.

  ProFTPD(workdir, allow_store_restart=False, limit_size=False,
          limit_mlsd=False)
      Debian's proftpd-core, unpacked (not installed: it conflicts with
      vsftpd) by tools/setup-debian into $REELFS_SHIPPED_CACHE (default
      /var/cache/reelfs-tests/proftpd), run in the foreground with a config
      written here. Debian's defaults where they matter: AllowStoreRestart
      off (REST before STOR answers 451), AllowOverwrite on, Umask 022.
      limit_size / limit_mlsd add <Limit SIZE|MLSD> DenyAll (550).
  PureFtpd(workdir)
      Debian's pure-ftpd, unpacked the same way; a PureDB virtual user
      'reeltest' (system uid reeltest) chrooted to workdir/root.
  Sshd(workdir)
      Debian's OpenSSH server (installed normally), internal-sftp,
      password login for 'reeltest'. .url is
      "sftp://reeltest@127.0.0.1:PORT/<workdir/root>/" (libcurl's sftp
      paths are absolute; .root is that directory, owned by reeltest).

Same interface as servers.Vsftpd: context managers with .url (no password
in it), .root, .user, .password, .env(), .netrc(), .password_file(), .host,
.port; the whole server (and every session) is stopped in __exit__. Also:

  kill_sessions()  SIGKILL every live client session (the per-session
                   processes, not the listener); returns how many died.
  restart()        stop() then start(): the same port, returns once the
                   server greets again.
  stop(), start()  the two halves, for a test that keeps it down a while.

sessions(srv), kill_sessions(srv), stop(srv), start(srv) and restart(srv) do
the same for servers.Vsftpd (any fixture with .proc and .argv). missing(cls) gives the reason a server cannot run here (or None), and
need(cls) skips the test with that reason.
"""
import os
import pathlib
import shutil
import signal
import subprocess
import time

from servers import (PASSWORD, USER, _Server, _ensure_user, _open_path_for,
                     free_port, free_port_range, wait_banner)

CACHE = pathlib.Path(os.environ.get("REELFS_SHIPPED_CACHE",
                                    "/var/cache/reelfs-tests"))
PROFTPD = CACHE / "proftpd" / "usr" / "sbin" / "proftpd"
PUREFTPD = CACHE / "pure-ftpd" / "usr" / "sbin" / "pure-ftpd"
PUREPW = CACHE / "pure-ftpd" / "usr" / "bin" / "pure-pw"
SSHD = pathlib.Path("/usr/sbin/sshd")


def _ppids():
    """{pid: ppid} of every process now."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after it.
        rest = s[s.rfind(")") + 2:].split()
        out[int(d)] = int(rest[1])
    return out


def descendants(pid):
    """Every process below pid (children, grandchildren, ...)."""
    tree = _ppids()
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in tree.items() if pp == p]
        found += kids
        todo += kids
    return found


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return False
    return s[s.rfind(")") + 2:].split()[0] != "Z"


def _kill_all(pids, timeout=5.0):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.01)  # poll interval, not synchronisation


def sessions(srv):
    """The pids of srv's live session processes (below its listener). Works
    for any fixture with .proc, servers.Vsftpd too."""
    proc = srv.proc
    if proc is None or proc.poll() is not None:
        return []
    return [p for p in descendants(proc.pid) if _alive(p)]


def kill_sessions(srv):
    """Drops every client session of srv at once (SIGKILL), the listener
    kept; returns how many processes died. Works for servers.Vsftpd too."""
    pids = sessions(srv)
    _kill_all(pids)
    return len(pids)


def _out_path(srv):
    out = getattr(srv, "out", None)
    return out or srv.workdir / (pathlib.Path(srv.argv[0]).name + ".out")


def start(srv):
    """Starts srv's server again from its command line (srv.argv) on the
    same port; returns once it greets. For these fixtures and
    servers.Vsftpd after stop(srv)."""
    path = _out_path(srv)
    out = open(path, "ab")
    try:
        srv.proc = subprocess.Popen(srv.argv, stdout=out,
                                    stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL,
                                    start_new_session=True)
    finally:
        out.close()
    try:
        if getattr(srv, "scheme", "ftp") == "ftps":
            wait_banner(srv.port, srv.proc, tls=True)
        else:
            wait_banner(srv.port, srv.proc,
                        greeting=getattr(srv, "greeting", b"220"))
    except Exception as e:
        stop(srv)
        raise RuntimeError("%s did not start (%s): %s" % (
            srv.argv[0], e, path.read_text(errors="replace")[-2000:]))


def stop(srv):
    """Stops srv's listener and every session (SIGTERM, then SIGKILL);
    the port is free after. For these fixtures and servers.Vsftpd."""
    proc = srv.proc
    if proc is None:
        return
    kids = descendants(proc.pid)
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
    _kill_all(kids + [proc.pid])
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def restart(srv):
    """stop(srv), then start(srv) on the same port."""
    stop(srv)
    start(srv)


def missing(cls):
    """Why cls cannot run on this machine, or None."""
    if os.geteuid() != 0:
        return "root is missing: %s needs root to switch users" % cls.__name__
    return cls.missing()


def need(cls):
    """Skips the calling test when cls cannot run here."""
    import pytest
    why = missing(cls)
    if why:
        pytest.skip(why)


class _Shipped(_Server):
    name = "server"
    greeting = b"220"

    def __init__(self, workdir):
        super().__init__(workdir)
        self.out = self.workdir / (self.name + ".out")
        self.argv = None

    # Subclasses: _prepare() writes configs once; _argv() the command line.
    def _prepare(self, pw):
        raise NotImplementedError

    def _chown_root(self, pw):
        self.root.mkdir(parents=True, exist_ok=True)
        os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o755)
        _open_path_for(self.root, pw.pw_uid)

    def __enter__(self):
        why = missing(type(self))
        if why:
            raise RuntimeError(why)
        _ensure_user()
        import pwd
        pw = pwd.getpwnam(USER)
        self._chown_root(pw)
        self.port = free_port()
        self.pasv = free_port_range()
        self._prepare(pw)
        try:
            self.start()
        except Exception:
            self.__exit__(None, None, None)
            raise
        return self

    def start(self):
        """Starts the server on self.port; returns once it greets."""
        start(self)

    def stop(self):
        """Stops the listener and every session; the port is free after."""
        stop(self)

    def restart(self):
        """Stops the server and starts it again on the same port."""
        restart(self)

    def sessions(self):
        return sessions(self)

    def kill_sessions(self):
        return kill_sessions(self)

    def __exit__(self, *exc):
        self.stop()
        return False


class ProFTPD(_Shipped):
    name = "proftpd"

    def __init__(self, workdir, allow_store_restart=False, limit_size=False,
                 limit_mlsd=False):
        super().__init__(workdir)
        self.allow_store_restart = allow_store_restart
        self.limit_size = limit_size
        self.limit_mlsd = limit_mlsd
        self.log = self.workdir / "proftpd.log"

    @staticmethod
    def missing():
        if not os.access(PROFTPD, os.X_OK):
            return ("%s is missing: run tools/setup-debian (it unpacks "
                    "Debian's proftpd-core there)" % PROFTPD)
        return None

    def _prepare(self, pw):
        w = self.workdir
        lines = [
            'ServerType standalone',
            'ServerName "ProFTPD for reelfs tests"',
            'ServerIdent on "ProFTPD for reelfs tests"',
            'DefaultServer on',
            'Port %d' % self.port,
            'DefaultAddress 127.0.0.1',
            'SocketBindTight on',
            'UseIPv6 off',
            'UseReverseDNS off',
            'User nobody',
            'Group nogroup',
            'Umask 022 022',
            'AllowOverwrite on',
            'MaxInstances 30',
            'ShowSymlinks on',
            'ListOptions "-l"',
            'DenyFilter \\*.*/',
            'TimeoutNoTransfer 600',
            'TimeoutStalled 600',
            'TimeoutIdle 1200',
            'PassivePorts %d %d' % self.pasv,
            'PidFile %s' % (w / "proftpd.pid"),
            'ScoreboardFile %s' % (w / "proftpd.scoreboard"),
            'SystemLog %s' % self.log,
            'TransferLog %s' % (w / "xferlog"),
            'WtmpLog off',
            'AuthPAM off',
            'AuthOrder mod_auth_unix.c',
            'RequireValidShell off',
            'DefaultRoot %s' % self.root,
            # Debian has it on; its login delay only slows tests down.
            'DelayEngine off',
            'AllowStoreRestart %s' % ("on" if self.allow_store_restart
                                      else "off"),
        ]
        if self.limit_size:
            lines += ['<Limit SIZE>', '  DenyAll', '</Limit>']
        if self.limit_mlsd:
            lines += ['<Limit MLSD>', '  DenyAll', '</Limit>']
        conf = w / "proftpd.conf"
        conf.write_text("\n".join(lines) + "\n")
        os.chmod(conf, 0o600)
        self.argv = [str(PROFTPD), "-n", "-q", "-c", str(conf)]


class PureFtpd(_Shipped):
    name = "pure-ftpd"

    @staticmethod
    def missing():
        for p in (PUREFTPD, PUREPW):
            if not os.access(p, os.X_OK):
                return ("%s is missing: run tools/setup-debian (it unpacks "
                        "Debian's pure-ftpd there)" % p)
        if shutil.which("openssl") is None:
            return "openssl is missing: install it (tools/setup-debian)"
        return None

    def _prepare(self, pw):
        w = self.workdir
        # A crypt(3) SHA-512 hash: pure-pw's own argon2 takes a second per
        # login, which would make every reconnect slow.
        h = subprocess.run(["openssl", "passwd", "-6", "-stdin"],
                           input=self.password + "\n", capture_output=True,
                           text=True, check=True).stdout.strip()
        passwd = w / "pureftpd.passwd"
        pdb = w / "pureftpd.pdb"
        # The trailing /./ chroots the user to its home directory.
        passwd.write_text("%s:%s:%d:%d::%s/./::::::::::::\n" % (
            self.user, h, pw.pw_uid, pw.pw_gid, self.root))
        os.chmod(passwd, 0o600)
        subprocess.run([str(PUREPW), "mkdb", str(pdb), "-f", str(passwd)],
                       check=True, capture_output=True)
        self.log = w / "transfer.log"
        self.argv = [str(PUREFTPD), "-S", "127.0.0.1,%d" % self.port, "-4",
                     "-l", "puredb:%s" % pdb, "-E", "-H", "-A",
                     "-p", "%d:%d" % self.pasv, "-P", "127.0.0.1",
                     "-u", "1", "-c", "30", "-C", "30",
                     "-g", str(w / "pure-ftpd.pid"),
                     "-O", "clf:%s" % self.log]


class Sshd(_Shipped):
    """OpenSSH's sftp on 127.0.0.1. reelfs checks host keys (issue 9,
    point 7), so env() sets HOME to workdir/home, whose .ssh/known_hosts
    holds this server's key (known_hosts() writes such a file anywhere;
    host_key_pin() is the key's "SHA256:..." for --ssh-host-key).
    user_key(kind) makes a key pair for reeltest's authorized_keys.
    home_root=True starts sessions in .root, so sftp://.../~/ is .root."""
    name = "sshd"
    scheme = "sftp"
    greeting = b"SSH-"

    def __init__(self, workdir, home_root=False):
        super().__init__(workdir)
        self.home_root = home_root

    def known_hosts(self, path=None, key=None):
        """Writes a known_hosts holding this server's host key (or the
        public key file key) for [127.0.0.1]:PORT; returns its path."""
        path = pathlib.Path(path or self.workdir / "home/.ssh/known_hosts")
        path.parent.mkdir(parents=True, exist_ok=True)
        pub = pathlib.Path(key or self.workdir / "hostkey.pub")
        kind, blob = pub.read_text().split()[:2]
        path.write_text("[127.0.0.1]:%d %s %s\n" % (self.port, kind, blob))
        return path

    def host_key_pin(self):
        """The host key's fingerprint as ssh prints it ("SHA256:...")."""
        r = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f",
                            str(self.workdir / "hostkey.pub")],
                           capture_output=True, text=True, check=True)
        return r.stdout.split()[1]

    def env(self):
        e = super().env()
        home = self.workdir / "home"
        if not (home / ".ssh/known_hosts").exists():
            self.known_hosts()
        e["HOME"] = str(home)
        return e

    def user_key(self, kind="ed25519"):
        """A new key pair (no passphrase) whose public half reeltest's
        authorized_keys accepts; returns the private key's path."""
        d = self.workdir / "keys"
        d.mkdir(exist_ok=True)
        key = d / ("id_" + kind)
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f",
                            str(key)], check=True, capture_output=True)
        ak = self.workdir / "authorized_keys"
        with open(ak, "a") as f:
            f.write((d / (key.name + ".pub")).read_text())
        os.chmod(ak, 0o644)
        return key

    @staticmethod
    def missing():
        if not os.access(SSHD, os.X_OK):
            return ("%s is missing: install Debian's openssh-server "
                    "(tools/setup-debian)" % SSHD)
        if shutil.which("ssh-keygen") is None:
            return "ssh-keygen is missing: install Debian's openssh-client"
        r = subprocess.run(["curl", "-V"], capture_output=True, text=True)
        if r.returncode != 0 or " sftp" not in r.stdout:
            return "sftp is missing from Debian's libcurl (curl -V)"
        return None

    @property
    def url(self):
        return "sftp://%s@127.0.0.1:%d%s/" % (self.user, self.port,
                                                self.root)

    def _prepare(self, pw):
        w = self.workdir
        key = w / "hostkey"
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                            "-f", str(key)], check=True, capture_output=True)
        # sshd wants /run/sshd for privilege separation.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        lines = [
            "ListenAddress 127.0.0.1",
            "AddressFamily inet",
            "HostKey %s" % key,
            "PidFile %s" % (w / "sshd.pid"),
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "AuthorizedKeysFile %s/authorized_keys" % w,
            "PermitRootLogin no",
            "AllowUsers %s" % self.user,
            "UsePAM no",
            "UseDNS no",
            "StrictModes no",
            "MaxStartups 50:30:100",
            "MaxSessions 50",
            "LogLevel VERBOSE",
            "Subsystem sftp internal-sftp" +
            (" -d %s" % self.root if self.home_root else ""),
        ]
        conf = w / "sshd_config"
        conf.write_text("\n".join(lines) + "\n")
        os.chmod(conf, 0o600)
        self.argv = [str(SSHD), "-D", "-e", "-f", str(conf),
                     "-p", str(self.port)]

    def netrc(self):
        # curl reads sftp passwords from netrc too.
        return super().netrc()


__all__ = ["ProFTPD", "PureFtpd", "Sshd", "missing", "need", "descendants",
           "sessions", "kill_sessions", "start", "stop", "restart",
           "USER", "PASSWORD", "CACHE"]
