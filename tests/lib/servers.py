"""servers.py - real FTP servers for reelfs tests, on 127.0.0.1 only.

  Vsftpd(workdir, tls=False, tls_mode="implicit")
      Debian's vsftpd with a config written here: local user 'reeltest'
      (created if missing) with a known password, jailed in workdir/root,
      passive ports in a small free range on loopback. With tls=True a
      self-signed certificate for 127.0.0.1 is made with openssl;
      tls_mode "implicit" (default) serves ftps:// (TLS from the first
      byte, .url starts with ftps://), "explicit" serves ftp:// and demands
      AUTH TLS (use --tls=require). .cacert is the certificate.
      Note: vsftpd 3.0.3 with TLS 1.3 loses the tail of uploads from clients
      that close the data connection without reading the server's session
      tickets (curl does): use TLS 1.2 on the client (curl --tls-max 1.2).
  FaultFtpd(workdir, drops=(), full_at=None, throttle=None,
            refuse_login=False, drop_kind="data", stalls=(),
            refuse_login_after_drop=False, extra=())
      pyftpdlib with fault knobs (see faultftpd.py), run by /usr/bin/python3.
      .log holds its log: one "received N bytes in T s" per upload.

Both are context managers with .url ("ftp://reeltest@127.0.0.1:PORT/", no
password in it), .root (pathlib.Path served as "/"), .user, .password,
.env() (os.environ + REELFS_PASSWORD), .netrc() (writes a netrc file for
curl --netrc-file and returns its path), .host, .port. They stop their
server (the whole process group) in __exit__, even when the test failed.
Never pass the password in argv: use .env() or a password file.
"""
import os
import pathlib
import random
import selectors
import signal
import socket
import subprocess
import time

USER = "reeltest"
# A fixed, known password: several test runs (several build dirs) may share
# the one system user at the same time, so it must not change per run.
PASSWORD = "reel-Test.pw-4711"
PYTHON = "/usr/bin/python3"
HERE = pathlib.Path(__file__).resolve().parent


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_is_free(p):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", p))
            return True
        except OSError:
            return False


def free_port_range(n=8):
    """n consecutive ports that are free now (for passive data ports)."""
    for _ in range(200):
        base = random.randrange(30000, 60000 - n)
        if all(_port_is_free(p) for p in range(base, base + n)):
            return base, base + n - 1
    raise RuntimeError("no free range of %d ports on 127.0.0.1" % n)


def wait_banner(port, proc, timeout=10.0, tls=False, greeting=b"220"):
    """Polls until the server on port accepts a connection (and, without
    TLS, greets with greeting: FTP's 220, SSH's "SSH-"). Raises with the
    server's output if it died."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("FTP server exited with %s before listening"
                               % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                if tls:
                    return
                s.settimeout(5)
                data = s.recv(256)
                if data.startswith(greeting):
                    return
                last = data
        except OSError as e:
            last = e
        time.sleep(0.02)  # poll interval, not synchronisation
    raise RuntimeError("FTP server on port %d not ready: %r" % (port, last))


def _stop(proc, timeout=5.0):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _kill_group_leftovers(pgid):
    # vsftpd forks a process per session; they share the listener's group.
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class _Server:
    user = USER
    password = PASSWORD
    host = "127.0.0.1"
    scheme = "ftp"

    def __init__(self, workdir):
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.root = self.workdir / "root"
        self.port = None
        self.proc = None
        self.cacert = None

    @property
    def url(self):
        return "%s://%s@127.0.0.1:%d/" % (self.scheme, self.user, self.port)

    def env(self):
        e = dict(os.environ)
        e["REELFS_PASSWORD"] = self.password
        return e

    def netrc(self):
        p = self.workdir / "netrc"
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("machine 127.0.0.1 login %s password %s\n"
                    % (self.user, self.password))
        return p

    def password_file(self):
        p = self.workdir / "password"
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.password + "\n")
        return p

    def __exit__(self, *exc):
        pid = self.proc.pid if self.proc else None
        _stop(self.proc)
        if pid:
            _kill_group_leftovers(pid)
        return False


def _ensure_user():
    if subprocess.run(["id", "-u", USER], capture_output=True).returncode != 0:
        r = subprocess.run(["useradd", "--no-create-home", "--shell",
                            "/bin/bash", "--home-dir", "/", USER],
                           capture_output=True, text=True)
        # Another test run may have created it in the meantime.
        if r.returncode not in (0, 9):
            raise RuntimeError("useradd %s failed: %s" % (USER, r.stderr))
    import pwd
    if not os.path.isdir(pwd.getpwnam(USER).pw_dir):
        # vsftpd changes into the home directory before local_root.
        subprocess.run(["usermod", "--home", "/", USER], check=True,
                       capture_output=True)
    r = subprocess.run(["chpasswd"], input="%s:%s\n" % (USER, PASSWORD),
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("chpasswd failed: %s" % r.stderr)


PAM_SERVICE = "reelfs-vsftpd"
PAM_TEXT = """# Written by reelfs tests (tests/lib/servers.py) for their vsftpd:
# like Debian's vsftpd service, but without pam_unix's 2-second delay
# after a wrong password, so a refused login is reported at once.
auth     required pam_unix.so nodelay
account  required pam_unix.so
session  required pam_permit.so
"""


def _ensure_pam():
    path = "/etc/pam.d/" + PAM_SERVICE
    try:
        with open(path) as f:
            if f.read() == PAM_TEXT:
                return PAM_SERVICE
    except FileNotFoundError:
        pass
    except OSError:
        return "vsftpd"
    try:
        tmp = path + ".tmp%d" % os.getpid()
        with open(tmp, "w") as f:
            f.write(PAM_TEXT)
        os.replace(tmp, path)
        return PAM_SERVICE
    except OSError:
        return "vsftpd"  # Debian's own service works too, a bit slower


def _open_path_for(path, uid):
    """Lets user uid traverse every directory above path (pytest's temporary
    directories are 0700), adding only the search bit for others."""
    for d in list(path.parents):
        try:
            st = d.stat()
        except OSError:
            continue
        if not st.st_mode & 0o001:
            os.chmod(d, st.st_mode | 0o001)


def make_cert(workdir):
    """A self-signed certificate for 127.0.0.1; returns (cert, key)."""
    cert = pathlib.Path(workdir) / "cert.pem"
    key = pathlib.Path(workdir) / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


class Vsftpd(_Server):
    def __init__(self, workdir, tls=False, tls_mode="implicit"):
        super().__init__(workdir)
        self.tls = tls
        self.tls_mode = tls_mode
        if tls and tls_mode == "implicit":
            self.scheme = "ftps"
        self.log = self.workdir / "vsftpd.log"

    def _config(self, pasv):
        empty = self.workdir / "empty"
        empty.mkdir(exist_ok=True)
        os.chmod(empty, 0o755)
        lines = [
            "listen=YES", "listen_ipv6=NO", "listen_address=127.0.0.1",
            "listen_port=%d" % self.port, "background=NO",
            "anonymous_enable=NO", "local_enable=YES", "write_enable=YES",
            "local_umask=022", "chroot_local_user=YES",
            "allow_writeable_chroot=YES", "local_root=%s" % self.root,
            "pasv_enable=YES", "pasv_min_port=%d" % pasv[0],
            "pasv_max_port=%d" % pasv[1], "pasv_address=127.0.0.1",
            "pasv_addr_resolve=NO", "port_enable=YES",
            "connect_from_port_20=NO", "seccomp_sandbox=NO",
            "secure_chroot_dir=%s" % empty,
            "pam_service_name=%s" % _ensure_pam(),
            "userlist_enable=NO", "tcp_wrappers=NO", "use_localtime=NO",
            "xferlog_enable=YES", "vsftpd_log_file=%s" % self.log,
            "dual_log_enable=NO", "delay_failed_login=1",
            "ftpd_banner=vsftpd for reelfs tests",
        ]
        if self.tls:
            cert, key = make_cert(self.workdir)
            self.cacert = cert
            lines += [
                "ssl_enable=YES", "rsa_cert_file=%s" % cert,
                "rsa_private_key_file=%s" % key, "allow_anon_ssl=NO",
                "force_local_logins_ssl=YES", "force_local_data_ssl=YES",
                "require_ssl_reuse=NO", "ssl_ciphers=HIGH",
                # curl may close the data channel without close_notify;
                # OpenSSL 3 then reports an unexpected EOF.
                "strict_ssl_read_eof=NO",
                "implicit_ssl=%s" % ("YES" if self.tls_mode == "implicit"
                                     else "NO"),
            ]
        conf = self.workdir / "vsftpd.conf"
        conf.write_text("\n".join(lines) + "\n")
        os.chmod(conf, 0o600)  # vsftpd refuses a config others can write
        return conf

    def __enter__(self):
        _ensure_user()
        import pwd
        pw = pwd.getpwnam(USER)
        self.root.mkdir(parents=True, exist_ok=True)
        os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o755)
        _open_path_for(self.root, pw.pw_uid)
        self.port = free_port()
        conf = self._config(free_port_range())
        self.argv = ["vsftpd", str(conf)]
        out = open(self.workdir / "vsftpd.out", "wb")
        try:
            self.proc = subprocess.Popen(["vsftpd", str(conf)], stdout=out,
                                         stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        finally:
            out.close()
        try:
            wait_banner(self.port, self.proc,
                        tls=self.tls and self.tls_mode == "implicit")
        except Exception:
            self.__exit__(None, None, None)
            raise RuntimeError("vsftpd did not start: %s" % (
                (self.workdir / "vsftpd.out").read_text(errors="replace")))
        return self

    def __exit__(self, *exc):
        super().__exit__(*exc)
        # Session processes call setsid(), so the group kill misses them;
        # a client that is still connected would keep one alive.
        for pid in _pids_with_cmdline(getattr(self, "argv", None) or ["-"]):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return False


def _pids_with_cmdline(argv):
    """Our own server processes, found by their exact command line."""
    want = "\0".join(argv).encode() + b"\0"
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if f.read() == want:
                        pids.append(int(d))
            except OSError:
                pass
    return pids


class FaultFtpd(_Server):
    def __init__(self, workdir, drops=(), full_at=None, throttle=None,
                 refuse_login=False, drop_kind="data", stalls=(),
                 refuse_login_after_drop=False, extra=()):
        super().__init__(workdir)
        self.extra = [str(x) for x in extra]  # more faultftpd.py options
        self.refuse_login_after_drop = refuse_login_after_drop
        self.drops = list(drops)
        self.full_at = full_at
        self.throttle = throttle
        self.refuse_login = refuse_login
        self.drop_kind = drop_kind
        self.stalls = list(stalls)
        self.log = self.workdir / "faultftpd.log"

    def __enter__(self):
        self.root.mkdir(parents=True, exist_ok=True)
        args = [PYTHON, str(HERE / "faultftpd.py"), "--root", str(self.root),
                "--user", self.user, "--log", str(self.log),
                "--drop-kind", self.drop_kind]
        if self.drops:
            args += ["--drops", ",".join(str(int(d)) for d in self.drops)]
        if self.stalls:
            args += ["--stalls", ",".join(str(int(d)) for d in self.stalls)]
        if self.full_at is not None:
            args += ["--full-at", str(int(self.full_at))]
        if self.throttle:
            args += ["--throttle", str(int(self.throttle))]
        if self.refuse_login:
            args.append("--refuse-login")
        if self.refuse_login_after_drop:
            args.append("--refuse-login-after-drop")
        args += self.extra
        env = dict(os.environ)
        env["FAULTFTPD_PASSWORD"] = self.password
        env.pop("REELFS_PASSWORD", None)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=open(self.workdir /
                                                 "faultftpd.err", "wb"),
                                     stdin=subprocess.DEVNULL, env=env,
                                     start_new_session=True)
        try:
            self.port = self._read_port()
            wait_banner(self.port, self.proc)
        except Exception:
            self.__exit__(None, None, None)
            err = (self.workdir / "faultftpd.err").read_text(errors="replace")
            raise RuntimeError("faultftpd did not start: %s" % err)
        return self

    def _read_port(self, timeout=15.0):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        buf = b""
        deadline = time.monotonic() + timeout
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise RuntimeError("faultftpd printed no port")
                chunk = os.read(self.proc.stdout.fileno(), 256)
                if not chunk:
                    raise RuntimeError("faultftpd exited early")
                buf += chunk
        finally:
            sel.close()
        line = buf.split(b"\n", 1)[0].decode()
        if not line.startswith("PORT "):
            raise RuntimeError("faultftpd said %r" % line)
        return int(line.split()[1])

    def __exit__(self, *exc):
        super().__exit__(*exc)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        return False
