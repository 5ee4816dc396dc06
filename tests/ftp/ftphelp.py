"""ftphelp.py - helpers for the ftp/ integration tests: run the xfer_send
and xfer_get drivers, feed them a seeded pseudo-random stream (hashed on
the way, never stored), parse their statistics, and run a program with a
pseudo-terminal as its controlling terminal (for prompts)."""
import fcntl
import hashlib
import os
import pathlib
import random
import re
import select
import subprocess
import termios
import threading
import time

from need import build_dir, need_binary

CHUNK = 1 << 20


def driver(name):
    return need_binary(pathlib.Path(build_dir()) / "tests" / "ftp" / name)


def stream(seed, size):
    """The same pseudo-random bytes for the same (seed, size)."""
    r = random.Random(seed)
    left = size
    while left:
        n = min(CHUNK, left)
        yield r.randbytes(n)
        left -= n


def stream_sha(seed, size):
    h = hashlib.sha256()
    for b in stream(seed, size):
        h.update(b)
    return h.hexdigest()


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                return h.hexdigest()
            h.update(b)


class Result:
    def __init__(self, rc, out, err, sha, elapsed):
        self.rc, self.out, self.err = rc, out, err
        self.sha, self.elapsed = sha, elapsed
        self.stats = {}
        m = re.search(r"^stats: (.*)$", out, re.M)
        if m:
            for kv in m.group(1).split():
                k, v = kv.split("=", 1)
                self.stats[k] = float(v) if "." in v else (
                    int(v, 16) if k == "crc" else int(v))
        m = re.search(r"^sent \d+ bytes .*$", out, re.M)
        self.summary = m.group(0) if m else None

    def __repr__(self):
        return "rc=%s\nstdout=%s\nstderr=%s" % (self.rc, self.out, self.err)


def _drain(f, sink):
    sink.append(f.read())


def send(url, args=(), size=0, seed=1, env=None, data=None, timeout=900,
         **popen):
    """Runs xfer_send URL ARGS with the seeded stream (or data) on stdin."""
    cmd = [driver("xfer_send"), str(url), *map(str, args)]
    return run_stream(cmd, size, seed, env, data, timeout, **popen)


def run_stream(cmd, size=0, seed=1, env=None, data=None, timeout=900,
               **popen):
    """Runs cmd with the seeded stream (or data) on stdin, hashing it."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, **popen)
    out, err = [], []
    th = [threading.Thread(target=_drain, args=(p.stdout, out)),
          threading.Thread(target=_drain, args=(p.stderr, err))]
    for t in th:
        t.start()
    h = hashlib.sha256()
    try:
        chunks = [data] if data is not None else stream(seed, size)
        for b in chunks:
            h.update(b)
            p.stdin.write(b)
        p.stdin.close()
    except BrokenPipeError:
        pass
    rc = p.wait(timeout)
    for t in th:
        t.join()
    return Result(rc, out[0].decode(errors="replace"),
                  err[0].decode(errors="replace"), h.hexdigest(),
                  time.monotonic() - t0)


def get(*args, env=None, timeout=300):
    cmd = [driver("xfer_get"), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, env=env, timeout=timeout)


def run_with_tty(cmd, answers, stdin=None, env=None, timeout=60):
    """Runs cmd with a fresh pseudo-terminal as its controlling terminal
    (stdin/stdout/stderr stay what the caller gives). answers: list of
    (prompt_regex, reply). Returns (rc, tty_text, stdout, stderr)."""
    master, slave = os.openpty()
    slave_name = os.ttyname(slave)

    def make_ctty():
        fd = os.open(slave_name, os.O_RDWR)
        fcntl.ioctl(fd, termios.TIOCSCTTY, 0)

    p = subprocess.Popen(cmd, stdin=stdin if stdin is not None else
                         subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env,
                         start_new_session=True, preexec_fn=make_ctty)
    # Keep our end of the slave open: if no process held it, reads on the
    # master would fail (EIO) before the child opened /dev/tty.
    out, err = [], []
    th = [threading.Thread(target=_drain, args=(p.stdout, out)),
          threading.Thread(target=_drain, args=(p.stderr, err))]
    for t in th:
        t.start()
    text = b""
    pending = list(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break  # the child closed the terminal
                if not chunk:
                    break
                text += chunk
                if pending and re.search(pending[0][0], text.decode(
                        errors="replace")):
                    os.write(master, pending[0][1].encode())
                    pending.pop(0)
            elif p.poll() is not None:
                break
        rc = p.wait(max(1, deadline - time.monotonic()))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
        os.close(slave)
    for t in th:
        t.join()
    return (rc, text.decode(errors="replace"), out[0].decode(errors="replace"),
            err[0].decode(errors="replace"))
