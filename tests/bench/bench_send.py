#!/usr/bin/python3
"""bench_send.py - on-demand benchmark of the streaming upload: the same
pseudo-random stream goes to vsftpd on 127.0.0.1 (serving from tmpfs, so
the disk does not set the pace) once through our driver and once through
`curl -T -`. Prints both rates, their ratio and our peak RSS against the
targets (ratio >= 0.95, RSS <= --buffer + 16 MiB).

  sudo /usr/bin/python3 tests/bench/bench_send.py [SIZE] [--reel] [--buffer 64M]
        [--block-size 65536] [--rounds N] [--direct]

SIZE defaults to 4G. Needs root (vsftpd's jail), vsftpd and curl. With
--reel it drives `$REELFS_BUILD/tools/reel send --block-size N` instead of
tests/ftp/xfer_send.
"""
import argparse
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
from servers import Vsftpd  # noqa: E402

UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def size_arg(s):
    s = s.strip().upper().rstrip("B").rstrip("I")
    if s and s[-1] in UNITS:
        return int(float(s[:-1]) * UNITS[s[-1]])
    return int(s)


def feed(pipe, size, block):
    """Writes size bytes of a repeated 16 MiB random block, then closes."""
    try:
        left = size
        mv = memoryview(block)
        while left:
            n = min(len(block), left)
            pipe.write(mv[:n])
            left -= n
        pipe.close()
    except BrokenPipeError:
        pass


def run(cmd, size, block, env):
    """Runs cmd with the stream on stdin; returns (seconds, peak RSS bytes,
    exit status, stderr tail)."""
    err = tempfile.TemporaryFile()
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=err, env=env)
    th = threading.Thread(target=feed, args=(p.stdin, size, block))
    th.start()
    _, status, ru = os.wait4(p.pid, 0)
    took = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    th.join()
    err.seek(0)
    return took, ru.ru_maxrss * 1024, p.returncode, err.read()[-600:].decode(
        errors="replace"), ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("size", nargs="?", default="4G", type=size_arg)
    ap.add_argument("--reel", action="store_true")
    ap.add_argument("--buffer", default="64M")
    ap.add_argument("--block-size", default="65536")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--direct", action="store_true",
                    help="xfer_send reads stdin straight into the queue")
    a = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("vsftpd") or not shutil.which("curl"):
        print("bench_send: needs root, vsftpd and curl; skipped")
        return 77
    build = pathlib.Path(os.environ.get("REELFS_BUILD", "build"))
    if a.reel:
        ours = [str(build / "tools" / "reel"), "send", "--block-size",
                a.block_size, "--buffer", a.buffer]
    else:
        ours = [str(build / "tests" / "ftp" / "xfer_send"), "--block-size",
                a.block_size, "--buffer", a.buffer] + (
                    ["--direct"] if a.direct else [])
    if not os.access(ours[0], os.X_OK):
        print("bench_send: %s is missing: build first" % ours[0])
        return 77
    buffer = size_arg(a.buffer)
    block = random.Random(42).randbytes(16 << 20)
    shm = pathlib.Path("/dev/shm") if os.path.isdir("/dev/shm") else None
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-send-", dir=shm))
    try:
        with Vsftpd(work / "srv") as srv:
            env = srv.env()
            netrc = srv.netrc()
            results = {"ours": [], "curl": []}
            for r in range(a.rounds):
                for who in ("ours", "curl"):
                    target = srv.url + "%s-%d.bin" % (who, r)
                    if who == "ours":
                        cmd = ours[:1] + ([ours[1]] if a.reel else []) + \
                            [target] + ours[2 if a.reel else 1:]
                    else:
                        cmd = ["curl", "-sS", "--netrc-file", str(netrc),
                               "-T", "-", target]
                    took, rss, rc, tail, cpu = run(cmd, a.size, block, env)
                    if rc != 0:
                        print("bench_send: %s failed (%d): %s" % (who, rc, tail))
                        return 1
                    got = (srv.root / ("%s-%d.bin" % (who, r))).stat().st_size
                    # reel frames records (an image is a little larger)
                    if got != a.size and not (a.reel and who == "ours" and
                                              got > a.size):
                        print("bench_send: %s left %d of %d bytes" % (who, got,
                                                                     a.size))
                        return 1
                    results[who].append((took, rss, cpu))
                    # free the tmpfs for the next run
                    for f in srv.root.glob("%s-%d.bin*" % (who, r)):
                        f.unlink()
        best = {k: min(v) for k, v in results.items()}
        rate = {k: a.size / best[k][0] for k in best}
        peak = max(rss for _, rss, _ in results["ours"])
        ratio = rate["ours"] / rate["curl"]
        print("stream: %d bytes, block size %s, --buffer %s, to vsftpd on "
              "127.0.0.1 (files on %s), best of %d; ours = %s" % (
                  a.size, a.block_size, a.buffer, shm or "disk", a.rounds,
                  "reel send" if a.reel else "xfer_send" + (
                      " --direct" if a.direct else "")))
        for who, label in (("ours", "ours"), ("curl", "curl -T -")):
            cpu = min(c for _, _, c in results[who])
            print("%s: %.2f s, %.0f MB/s, peak RSS %.1f MiB, CPU %.2f s "
                  "(%.2f s per GiB)" % (label, best[who][0], rate[who] / 1e6,
                                        max(r for _, r, _ in results[who]) /
                                        2**20, cpu, cpu / (a.size / 2**30)))
        print("all runs (s): ours %s; curl %s" % (
            " ".join("%.2f" % t for t, _, _ in results["ours"]),
            " ".join("%.2f" % t for t, _, _ in results["curl"])))
        print("machine: %d CPUs, load average %.2f" % (os.cpu_count(),
                                                      os.getloadavg()[0]))
        print("ratio: %.3f (target >= 0.95) %s" % (
            ratio, "OK" if ratio >= 0.95 else "BELOW TARGET"))
        print("peak RSS: %.1f MiB (target <= buffer + 16 MiB = %.1f MiB) %s" % (
            peak / 2**20, (buffer + (16 << 20)) / 2**20,
            "OK" if peak <= buffer + (16 << 20) else "ABOVE TARGET"))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
