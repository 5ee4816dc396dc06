#!/usr/bin/python3
"""bench_read.py - on-demand benchmark of the drive's read mode (issue 11):
`tar -xf MOUNT/tape` from a read mount against `curl URL | tar -xf -` of
the same archive as a plain file on the same server, and `reel cat URL |
tar -xf -` of the image. vsftpd on 127.0.0.1 serves from tmpfs; tar
extracts into tmpfs. Rounds alternate; prints the median seconds of each,
the ratio, and the read mount's peak RSS (VmHWM) against --buffer.

  sudo /usr/bin/python3 tests/bench/bench_read.py [SIZE] [--rounds N]
        [--blocking 20] [--buffer 64M]

SIZE (default 1G) of incompressible files goes into one tar archive
written through a reelfs mount (one tape file, records of 512*blocking
bytes). Needs root, vsftpd, curl, tar, and REELFS_BUILD.
"""
import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
from mount import Mount, reelfs_binary  # noqa: E402
from servers import Vsftpd  # noqa: E402

UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def size_arg(s):
    s = s.strip().upper().rstrip("B").rstrip("I")
    if s and s[-1] in UNITS:
        return int(float(s[:-1]) * UNITS[s[-1]])
    return int(s)


def timed(cmd, cwd, env=None, shell=False):
    t0 = time.monotonic()
    r = subprocess.run(cmd, cwd=cwd, env=env, shell=shell,
                       capture_output=True, text=True)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("%s failed: %s" % (cmd, r.stderr[-2000:]))
    return dt


def hwm(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("size", nargs="?", default="1G", type=size_arg)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--blocking", type=int, default=20)
    ap.add_argument("--buffer", default="64M")
    a = ap.parse_args()
    reel = os.path.join(os.environ.get("REELFS_BUILD", ""), "tools", "reel")
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-read-", dir="/dev/shm"))
    try:
        src = work / "src" / "data"
        src.mkdir(parents=True)
        chunk = os.urandom(16 << 20)
        n = max(1, a.size // (32 << 20))
        for i in range(n):
            with open(src / ("f%03d.bin" % i), "wb") as f:
                for _ in range(2):
                    f.write(chunk[i % 7:] + chunk[:i % 7])
        with Vsftpd(work / "ftp") as srv:
            env = srv.env()
            with Mount(srv.url + "bench.mtd", work / "wmnt", env=env) as m:
                subprocess.run(["tar", "-b", str(a.blocking), "-cf", str(m.tape),
                                "-C", str(src.parent), "data"], check=True)
            subprocess.run(["tar", "-b", str(a.blocking), "-cf",
                            str(srv.root / "bench.tar"), "-C", str(src.parent),
                            "data"], check=True)
            os.chmod(srv.root / "bench.tar", 0o644)
            pathlib.Path(srv.root / "bench.tar.manifest.json").unlink(missing_ok=True)
            from mount import wait_until
            wait_until(lambda: (srv.root / "bench.mtd.manifest.json").exists(),
                       "the image was not published")
            size = (srv.root / "bench.tar").stat().st_size
            curl = ["curl", "-sS", "--netrc-file", str(srv.netrc()),
                    srv.url + "bench.tar"]
            res = {"mount": [], "curl": [], "reel cat": []}
            peak = 0
            out = work / "out"
            with Mount(srv.url + "bench.mtd", work / "rmnt",
                       ["--read", "--buffer=%s" % a.buffer], env=env) as m:
                for _ in range(a.rounds):
                    for kind in ("mount", "curl", "reel cat"):
                        shutil.rmtree(out, ignore_errors=True)
                        out.mkdir()
                        if kind == "mount":
                            subprocess.run(["mt", "-f", str(m.tape), "rewind"],
                                           check=True)
                            dt = timed(["tar", "-b", str(a.blocking), "-xf",
                                        str(m.tape)], out)
                            peak = max(peak, hwm(m.pid))
                        elif kind == "curl":
                            dt = timed("%s | tar -b %d -xf -" % (
                                " ".join(curl), a.blocking), out, shell=True)
                        else:
                            dt = timed("'%s' cat '%s' | tar -b %d -xf -" % (
                                reel, srv.url + "bench.mtd", a.blocking), out,
                                env=env, shell=True)
                        res[kind].append(dt)
            med = {k: statistics.median(v) for k, v in res.items()}
            for k, v in med.items():
                print("%-9s median %.2f s  %.0f MB/s  (rounds: %s)" % (
                    k, v, size / v / 1e6, ", ".join("%.2f" % x for x in res[k])))
            print("ratio mount/curl (throughput): %.2f" % (med["curl"] / med["mount"]))
            print("ratio mount/reel cat (throughput): %.2f" % (med["reel cat"] / med["mount"]))
            print("read mount peak RSS: %.1f MiB (--buffer %s)" % (peak / 2**20, a.buffer))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
