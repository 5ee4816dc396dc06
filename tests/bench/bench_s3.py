#!/usr/bin/python3
"""bench_s3.py - on-demand benchmark of s3:// targets (issue 13), not a test.

Starts a single-node Ceph with one RADOS Gateway on 127.0.0.1
(tests/lib/ceph.py, memstore sized for the run), puts SIZE MiB of random
files in /dev/shm, and measures in alternating rounds:

  drive:    tar -b 64 -cf MOUNT/tape DATA through reelfs s3://bench/dN.mtd,
            until the unmount has completed the upload and written the
            manifest; the daemon's peak RSS (VmHWM);
  pipeline: tar -b 64 -cf - DATA | curl --aws-sigv4 -X PUT --data-binary @-
            (RGW refuses `curl -T -`: chunked uploads get 411, so curl
            must read the whole stream into memory first to know its
            length); curl's peak RSS;

then the aggregate rate of 1, 2 and 4 drives writing at once (each its own
mount and tar, to its own key). The load average is printed beside the
figures: a shared machine's rates are noisy.

Usage: /usr/bin/python3 tests/bench/bench_s3.py [SIZE_MIB (256)] [--rounds N (3)]
Needs root, /dev/fuse, tar, curl, the Ceph packages (ceph-mon ceph-osd
radosgw) and a build (REELFS_BUILD, default ./build). Cleans up after itself.
"""
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
import ceph  # noqa: E402
from mount import Mount  # noqa: E402

args = [a for a in sys.argv[1:]]
rounds = 3
if "--rounds" in args:
    i = args.index("--rounds")
    rounds = int(args[i + 1])
    del args[i:i + 2]
size_mib = int(args[0]) if args else 256
build = pathlib.Path(os.environ.get("REELFS_BUILD", HERE.parent.parent / "build"))
os.environ["REELFS_BUILD"] = str(build)
MiB = 1 << 20


def load():
    return "%.1f" % os.getloadavg()[0]


def make_data(root):
    root.mkdir(parents=True)
    left, i = size_mib * MiB, 0
    while left:
        n = min(left, 16 * MiB)
        (root / ("f%03d.bin" % i)).write_bytes(os.urandom(n))
        left -= n
        i += 1


def vmhwm(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def drive_round(gw, work, data, keys):
    """n drives at once (one per key); wall time from the first tar to the
    last publish, and the largest daemon peak RSS."""
    mounts, tars, rss = [], [], 0
    try:
        for k in keys:
            m = Mount("s3://bench/%s" % k, work / ("mnt-" + k.replace(".", "-")),
                      ["--s3-endpoint=" + gw.endpoint], env=gw.env())
            m.__enter__()
            mounts.append(m)
        t0 = time.monotonic()
        for m in mounts:
            tars.append(subprocess.Popen(["tar", "-b", "64", "-cf", str(m.tape),
                                          "-C", str(data.parent), data.name]))
        for t in tars:
            if t.wait():
                raise RuntimeError("tar failed")
        for m in mounts:
            rss = max(rss, vmhwm(m.pid))
        for m in mounts:
            if m.unmount() != 0:
                raise RuntimeError("reelfs failed: %s" % m.stderr)
        return time.monotonic() - t0, rss
    finally:
        for m in mounts:
            m.__exit__(None, None, None)


def pipeline_round(gw, work, data, key):
    cfg = work / "curl.cfg"
    fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write('user = "%s:%s"\n' % (gw.access, gw.secret))
    t0 = time.monotonic()
    tar = subprocess.Popen(["tar", "-b", "64", "-cf", "-", "-C", str(data.parent),
                            data.name], stdout=subprocess.PIPE)
    curl = subprocess.Popen(["curl", "-sS", "-f", "-o", "/dev/null", "-K", str(cfg),
                             "--aws-sigv4", "aws:amz:us-east-1:s3",
                             "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                             "-X", "PUT", "--data-binary", "@-",
                             "%s/bench/%s" % (gw.endpoint, key)], stdin=tar.stdout)
    tar.stdout.close()
    _, status, ru = os.wait4(curl.pid, 0)
    curl.returncode = os.waitstatus_to_exitcode(status)
    if tar.wait() or curl.returncode:
        raise RuntimeError("the pipeline failed (curl %d)" % curl.returncode)
    return time.monotonic() - t0, ru.ru_maxrss * 1024


def main():
    why = ceph.skip_reason()
    if why:
        sys.exit("bench_s3: " + why)
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-s3-"))
    shm = pathlib.Path(tempfile.mkdtemp(prefix="bench-s3-", dir="/dev/shm"))
    data = shm / "data"
    try:
        make_data(data)
        tar_bytes = int(subprocess.run("tar -b 64 -cf - -C %s data | wc -c" % shm,
                                       shell=True, capture_output=True,
                                       text=True).stdout)
        writes = rounds * 2 + 1 + 2 + 4
        store = int(writes * tar_bytes / MiB * 1.3) + 512
        print("bench_s3: %d MiB of data (%d bytes of tar), %d rounds; memstore "
              "%d MiB; load %s" % (size_mib, tar_bytes, rounds, store, load()))
        with ceph.Ceph(work, store_mib=store, timeout=120) as gw:
            gw.bucket("bench")
            drv, pipe, ratios = [], [], []
            rss_d = rss_p = 0
            for r in range(rounds):
                l0 = load()
                td, rd = drive_round(gw, work, data, ["d%d.mtd" % r])
                tp, rp = pipeline_round(gw, work, data, "p%d.tar" % r)
                drv.append(td)
                pipe.append(tp)
                ratios.append(tp / td)
                rss_d, rss_p = max(rss_d, rd), max(rss_p, rp)
                print("round %d: drive %.2f s (%.0f MB/s), pipeline %.2f s "
                      "(%.0f MB/s), drive/pipeline rate %.2f; load %s -> %s"
                      % (r + 1, td, tar_bytes / td / 1e6, tp, tar_bytes / tp / 1e6,
                         tp / td, l0, load()))
            print("median: drive %.0f MB/s, pipeline %.0f MB/s, ratio %.2f "
                  "(spread %.2f-%.2f); peak RSS: reelfs %.0f MB (--buffer 64 MiB), "
                  "curl %.0f MB (holds the whole stream)"
                  % (tar_bytes / statistics.median(drv) / 1e6,
                     tar_bytes / statistics.median(pipe) / 1e6,
                     statistics.median(ratios), min(ratios), max(ratios),
                     rss_d / 1e6, rss_p / 1e6))
            for n in (1, 2, 4):
                l0 = load()
                t, rss = drive_round(gw, work, data, ["par%d-%d.mtd" % (n, i)
                                                      for i in range(n)])
                print("%d drive%s at once: %.2f s, aggregate %.0f MB/s, largest "
                      "daemon peak RSS %.0f MB; load %s -> %s"
                      % (n, "" if n == 1 else "s", t, n * tar_bytes / t / 1e6,
                         rss / 1e6, l0, load()))
    finally:
        shutil.rmtree(shm, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
