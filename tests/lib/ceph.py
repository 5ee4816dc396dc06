"""ceph.py - a real single-node Ceph with one RADOS Gateway (S3) on
127.0.0.1, for reelfs tests of s3:// targets.

  with Ceph(workdir) as c:
      c.endpoint        "http://127.0.0.1:PORT" (path-style S3)
      c.access, c.secret  the S3 keys of user "reeltest"
      c.env()           os.environ + AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
                        + REELFS_S3_ENDPOINT
      c.bucket(name)    creates a bucket (signed PUT with curl --aws-sigv4)
      c.quota(max_bytes)  a user quota (radosgw-admin), enabled
      c.admin(*args)    radosgw-admin ... (JSON output parsed when it is)

One monitor, one OSD on memstore (sized by `store_mib`, default 512: a full
memstore hangs writes instead of failing them), pool size 1, one radosgw
(beast) on a free port; auth none. Everything lives under workdir (short
admin socket paths under /tmp: they must fit in 107 bytes). __exit__ kills
every daemon (SIGTERM, SIGKILL after a second: memstore keeps nothing),
even when the test failed. skip_reason() names what is missing when the
Debian packages (ceph-mon ceph-osd radosgw) are not installed.
"""
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time

DAEMONS = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool",
           "ceph-authtool")
USER = "reeltest"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def skip_reason():
    """None when a cluster can be started here, else why not."""
    missing = [d for d in DAEMONS if not shutil.which(d)]
    if missing:
        return ("Ceph is not installed (missing %s; Debian packages ceph-mon "
                "ceph-osd radosgw)" % ", ".join(missing))
    if not shutil.which("curl"):
        return "curl is not installed"
    return None


class Ceph:
    def __init__(self, workdir, store_mib=512, timeout=60.0):
        self.work = pathlib.Path(workdir) / "ceph"
        self.store_mib = store_mib
        self.timeout = timeout
        self.procs = []
        self.run = None
        self.access = self.secret = None

    # ---- configuration -------------------------------------------------
    def _conf(self):
        w = self.work
        return f"""[global]
fsid = {self.fsid}
mon host = 127.0.0.1:{self.mon_port}
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind msgr2 = true
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
keyring = /dev/null
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
paxos propose interval = 0.1
paxos min wait = 0.01
run dir = {self.run}
admin socket = {self.run}/$name.asok
pid file = {self.run}/$name.pid
log file = {w}/log/$name.log
mon data = {w}/mon/$name
osd data = {w}/osd/$name
osd objectstore = memstore
memstore device bytes = {self.store_mib * 1024 * 1024}
osd max object size = 134217728
mon osd full ratio = 0.99
mon osd nearfull ratio = 0.98
mon osd backfillfull ratio = 0.985
osd heartbeat grace = 60
mon data avail crit = 1
mon data avail warn = 2
debug ms = 0
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:{self.port}
rgw data = {w}/rgw
ms mon client mode = crc
rgw dns name = 127.0.0.1
rgw enable usage log = false
rgw thread pool size = 64
rgw max chunk size = 4194304
rgw user quota bucket sync interval = 1
rgw user quota sync interval = 1
rgw bucket quota ttl = 0
rgw user quota sync wait time = 0
rgw user default quota max size = -1
"""

    def _cmd(self, *args, check=True, timeout=60):
        r = subprocess.run(list(args) + ["-c", str(self.conf)],
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode:
            raise RuntimeError("%s failed (%d): %s" % (
                " ".join(args[:3]), r.returncode, (r.stderr or r.stdout)[-2000:]))
        return r

    def _daemon(self, *args):
        p = subprocess.Popen(list(args) + ["-c", str(self.conf), "-f"],
                             stdout=subprocess.DEVNULL,
                             stderr=open(self.work / "log" / (args[0] + ".err"), "ab"),
                             start_new_session=True)
        self.procs.append(p)
        return p

    def _wait(self, what, cond, timeout=None):
        end = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < end:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError("%s exited (%d) while waiting for %s; see %s"
                                       % (p.args[0], p.returncode, what, self.work / "log"))
            if cond():
                return
            time.sleep(0.05)
        raise RuntimeError("timed out waiting for %s; see %s" % (what, self.work / "log"))

    def _rgw_up(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                return s.recv(12).startswith(b"HTTP/1.")
        except OSError:
            return False

    # ---- lifecycle -----------------------------------------------------
    def __enter__(self):
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self):
        import uuid
        if self.work.exists():
            shutil.rmtree(self.work)
        for d in ("log", "mon/mon.a", "osd/osd.0", "rgw"):
            (self.work / d).mkdir(parents=True)
        self.run = tempfile.mkdtemp(prefix="rceph", dir="/tmp")
        self.fsid = str(uuid.uuid4())
        self.mon_port = free_port()
        self.port = free_port()
        self.conf = self.work / "ceph.conf"
        self.conf.write_text(self._conf())
        monmap = self.work / "monmap"
        subprocess.run(["monmaptool", "--create", "--fsid", self.fsid,
                        "--addv", "a", "[v2:127.0.0.1:%d]" % self.mon_port,
                        str(monmap)], check=True, capture_output=True)
        self._cmd("ceph-mon", "--mkfs", "-i", "a", "--monmap", str(monmap))
        self._daemon("ceph-mon", "-i", "a")
        self._cmd("ceph-osd", "--mkfs", "-i", "0", "--osd-uuid", str(uuid.uuid4()))
        # The OSD registers itself (osd crush update on start); the mon must
        # know the id first.
        self._wait("the monitor", lambda: self._cmd(
            "ceph", "--connect-timeout", "2", "osd", "create", check=False,
            timeout=10).returncode == 0)
        self._daemon("ceph-osd", "-i", "0")
        self._wait("the OSD", lambda: '"num_up_osds":1' in self._cmd(
            "ceph", "--connect-timeout", "5", "osd", "stat", "-f", "json",
            check=False, timeout=10).stdout.replace(" ", ""))
        self._daemon("radosgw", "-n", "client.rgw.a")
        self._wait("radosgw on port %d" % self.port, self._rgw_up, timeout=90)
        out = self.admin("user", "create", "--uid", USER, "--display-name", USER)
        self.access = out["keys"][0]["access_key"]
        self.secret = out["keys"][0]["secret_key"]
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        end = time.monotonic() + 1.0
        for p in self.procs:
            try:
                p.wait(timeout=max(0.01, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        self.procs = []
        if self.run:
            shutil.rmtree(self.run, ignore_errors=True)
        return False

    # ---- helpers -------------------------------------------------------
    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def env(self, **extra):
        e = dict(os.environ)
        e["AWS_ACCESS_KEY_ID"] = self.access
        e["AWS_SECRET_ACCESS_KEY"] = self.secret
        e["REELFS_S3_ENDPOINT"] = self.endpoint
        e.update(extra)
        return e

    def admin(self, *args):
        r = self._cmd("radosgw-admin", *args, "-n", "client.rgw.a",
                      timeout=60)
        try:
            return json.loads(r.stdout) if r.stdout.strip() else None
        except ValueError:
            return r.stdout

    def quota(self, max_bytes, uid=USER):
        self.admin("quota", "set", "--quota-scope=user", "--uid", uid,
                   "--max-size", str(max_bytes))
        self.admin("quota", "enable", "--quota-scope=user", "--uid", uid)

    def bucket_quota(self, bucket, max_bytes):
        """A quota on one bucket: the gateway reads the bucket's own index
        stats for it, which follow every write (a user quota's stats are
        synced in the background and lag behind)."""
        self.admin("quota", "set", "--quota-scope=bucket", "--bucket", bucket,
                   "--max-size", str(max_bytes))
        self.admin("quota", "enable", "--quota-scope=bucket", "--bucket", bucket)

    def user(self, uid):
        """Another user: (access, secret)."""
        out = self.admin("user", "create", "--uid", uid, "--display-name", uid)
        return out["keys"][0]["access_key"], out["keys"][0]["secret_key"]

    def curl(self, method, path, data=None, extra=(), keys=None):
        """A signed request with curl --aws-sigv4; returns (code, body).
        The secret goes to curl through a config file, never argv."""
        cfg = self.work / "curl.cfg"
        fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write('user = "%s:%s"\n' % (keys or (self.access, self.secret)))
        args = ["curl", "-sS", "-K", str(cfg), "--aws-sigv4", "aws:amz:us-east-1:s3",
                "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-X", method,
                "-o", "-", "-w", "\n%{http_code}", *extra,
                self.endpoint + path]
        if data is not None:
            args[1:1] = ["--data-binary", "@-"]
        r = subprocess.run(args, input=data, capture_output=True, timeout=60)
        body, _, code = r.stdout.rpartition(b"\n")
        return int(code or 0), body

    def bucket(self, name, keys=None):
        code, body = self.curl("PUT", "/" + name, keys=keys)
        if code != 200:
            raise RuntimeError("creating bucket %s: HTTP %d %r" % (name, code, body[:300]))
        return name
