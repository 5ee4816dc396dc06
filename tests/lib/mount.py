"""mount.py - a real reelfs mount for tests, always cleaned up.

    with Mount(url, mountpoint, args=[...], env=srv.env()) as m:
        ... write to m.tape ...
    m.returncode, m.stderr      # after the with block

Starts `reelfs -f [args] URL MOUNTPOINT` (foreground, so the daemon's exit
status and stderr can be checked), polls /proc/mounts until the mount is
there, and on exit unmounts (fusermount3 -u, then lazy -u -z if busy),
waits for the daemon and records its exit status and stderr. Lines the
daemon marks "error:" or "warning:" fail the test unless a regex in
allow_errors matches them; a sanitizer report (ASan/UBSan builds) fails
the test even when the mount was expected to fail. Use unmount() to end
the mount early (the storeset tests unmount reels in order).
"""
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time


def reelfs_binary():
    return os.path.join(os.environ.get("REELFS_BUILD", ""), "fs", "reelfs")


def is_mounted(path):
    path = os.path.realpath(str(path))
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 1 and fields[1].replace("\\040", " ") == path:
                return True
    return False


class MountFailed(Exception):
    def __init__(self, returncode, stderr):
        super().__init__("reelfs exited with %s before mounting:\n%s"
                         % (returncode, stderr))
        self.returncode = returncode
        self.stderr = stderr


class Mount:
    def __init__(self, url, mountpoint, args=(), env=None, binary=None,
                 timeout=30.0, allow_errors=(), expect_ok=True):
        self.url = url
        self.mountpoint = pathlib.Path(mountpoint)
        self.args = list(args)
        self.env = dict(env if env is not None else os.environ)
        self.binary = binary or reelfs_binary()
        self.timeout = timeout
        self.allow_errors = [re.compile(a) for a in allow_errors]
        self.expect_ok = expect_ok
        self.proc = None
        self.returncode = None
        self.stderr = ""
        self._errfile = None

    @property
    def tape(self):
        return self.mountpoint / "tape"

    @property
    def status_path(self):
        return self.mountpoint / "status"

    def status(self):
        """MOUNT/status as a dict."""
        out = {}
        for line in self.status_path.read_text().splitlines():
            k, _, v = line.partition(": ")
            out[k] = v
        return out

    @property
    def pid(self):
        return self.proc.pid

    def __enter__(self):
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        self._errfile = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [self.binary, "-f"] + self.args + [self.url, str(self.mountpoint)],
            env=self.env, stdin=subprocess.DEVNULL, stdout=self._errfile,
            stderr=self._errfile)
        deadline = time.monotonic() + self.timeout
        while not is_mounted(self.mountpoint):
            if self.proc.poll() is not None:
                self._collect()
                raise MountFailed(self.returncode, self.stderr)
            if time.monotonic() > deadline:
                self._stop()
                raise TimeoutError("reelfs did not mount %s within %.0f s:\n%s"
                                   % (self.mountpoint, self.timeout, self.stderr))
            time.sleep(0.02)
        return self

    def _collect(self):
        self.returncode = self.proc.wait()
        self._errfile.seek(0)
        self.stderr = self._errfile.read()
        self._errfile.close()

    def _stop(self, timeout=None):
        """Unmount and wait for the daemon; kill -9 only if it hangs."""
        if self.proc is None or self.returncode is not None:
            return
        if is_mounted(self.mountpoint):
            r = subprocess.run(["fusermount3", "-u", str(self.mountpoint)],
                               capture_output=True)
            if r.returncode != 0 and is_mounted(self.mountpoint):
                subprocess.run(["fusermount3", "-u", "-z", str(self.mountpoint)],
                               capture_output=True)
        try:
            self.proc.wait(timeout=timeout or max(self.timeout, 120))
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._collect()

    def unmount(self):
        self._stop()
        return self.returncode

    def kill9(self):
        """kill -9 the daemon, then clear the dead mount."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        subprocess.run(["fusermount3", "-u", "-z", str(self.mountpoint)],
                       capture_output=True)
        self._collect()

    def unexpected_errors(self):
        bad = []
        for line in self.stderr.splitlines():
            if "error:" in line or "warning:" in line:
                if not any(a.search(line) for a in self.allow_errors):
                    bad.append(line)
        return bad

    def sanitizer_reports(self):
        """ASan/UBSan reports in the daemon's output. A mount expected to
        fail (expect_ok=False) must still not fail by crashing."""
        return [l for l in self.stderr.splitlines()
                if "Sanitizer" in l or "runtime error:" in l]

    def __exit__(self, exc_type, exc, tb):
        self._stop()
        if exc_type is not None and self.stderr.strip():
            # The test failed for its own reason; what the daemon said is
            # often why (a crashed reel of a chain, say), so show it.
            sys.stderr.write("--- reelfs %s (exit %s) said:\n%s\n"
                             % (self.mountpoint, self.returncode, self.stderr))
        if exc_type is None:
            bad = self.sanitizer_reports()
            assert not bad, "reelfs reported memory errors:\n%s" % self.stderr
        if exc_type is None and self.expect_ok:
            assert self.returncode == 0, \
                "reelfs exited with %s:\n%s" % (self.returncode, self.stderr)
            bad = self.unexpected_errors()
            assert not bad, "reelfs logged unexpected errors:\n%s" % "\n".join(bad)
        return False


def wait_until(cond, what, timeout=60, step=0.02):
    """Polls cond() until it is true; fails the test saying what was
    awaited after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(step)


def daemon_pids(mnt):
    """Our reelfs daemons: their command line names this mount point."""
    want = str(mnt).encode()
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if want in argv and argv[0].endswith(b"reelfs"):
                pids.append(int(d))
    return pids
