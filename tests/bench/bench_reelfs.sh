#!/bin/sh
# bench_reelfs.sh - on-demand benchmark of the reelfs drive against the
# plain pipeline it must keep up with, both into the same vsftpd on
# 127.0.0.1 with data and server directory in tmpfs (/dev/shm):
#   A: tar -b 128 -cf MOUNT/tape DATA   (then mt offline: until published)
#   B: tar -b 128 -cf - DATA | curl -T - ftp://...
# Prints both rates, their ratio (target >= 0.90) and the daemon's peak RSS
# (VmHWM; target <= buffer + 16 MiB). Needs root, /dev/fuse, vsftpd, curl.
# Usage: [ROUNDS=3] tests/bench/bench_reelfs.sh [SIZE_MIB (default 4096)] [BUILD_DIR]
# Rounds alternate A and B; medians are reported (the load of a shared
# machine varies).
# It must never touch the network beyond 127.0.0.1, and cleans up after
# itself (mount, server, tmpfs files) even on failure.
set -eu
SIZE_MIB=${1:-4096}
BUILD=${2:-${REELFS_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}}
HERE=$(cd "$(dirname "$0")" && pwd)
export REELFS_BUILD="$BUILD" SIZE_MIB
exec /usr/bin/python3 - "$HERE/../lib" <<'PYEOF'
import os, pathlib, shutil, statistics, subprocess, sys, tempfile, time
sys.path.insert(0, sys.argv[1])
import servers
from mount import Mount

size = int(os.environ["SIZE_MIB"]) << 20
work = pathlib.Path(tempfile.mkdtemp(prefix="reelfs-bench-", dir="/dev/shm"))
try:
    data = work / "data"
    data.mkdir()
    chunk = 64 << 20
    left, i = size, 0
    while left > 0:       # incompressible files of 256 MiB
        n = min(left, 256 << 20)
        with open(data / ("f%03d.bin" % i), "wb") as f:
            done = 0
            while done < n:
                f.write(os.urandom(min(chunk, n - done)))
                done += min(chunk, n - done)
        left -= n
        i += 1
    rounds = int(os.environ.get("ROUNDS", "3"))
    ra_all, rb_all, hwm_all = [], [], []
    with servers.Vsftpd(work / "ftp") as srv:
        env = srv.env()
        netrc = srv.netrc()
        for rnd in range(rounds):   # alternate A and B: the machine's load varies
            # A: through reelfs.
            with Mount(srv.url + "bench.mtd", work / "mnt", env=env) as m:
                t0 = time.monotonic()
                r = subprocess.run(["tar", "-b", "128", "-cf", str(m.tape), "-C", str(work), "data"])
                assert r.returncode == 0
                r = subprocess.run(["mt", "-f", str(m.tape), "offline"])
                assert r.returncode == 0
                ta = time.monotonic() - t0
                hwm = 0
                for line in open("/proc/%d/status" % m.pid):
                    if line.startswith("VmHWM:"):
                        hwm = int(line.split()[1]) * 1024
            image = srv.root / "bench.mtd"
            img_size = image.stat().st_size
            image.unlink()
            # B: the plain pipeline.
            t0 = time.monotonic()
            tar = subprocess.Popen(["tar", "-b", "128", "-cf", "-", "-C", str(work), "data"],
                                   stdout=subprocess.PIPE)
            r = subprocess.run(["curl", "-sS", "--netrc-file", str(netrc), "-T", "-",
                                srv.url + "curl.tar"], stdin=tar.stdout)
            tar.stdout.close()
            assert tar.wait() == 0 and r.returncode == 0
            tb = time.monotonic() - t0
            tar_size = (srv.root / "curl.tar").stat().st_size
            (srv.root / "curl.tar").unlink()
            ra_all.append(tar_size / ta)
            rb_all.append(tar_size / tb)
            hwm_all.append(hwm)
            print("round %d: reelfs %.1f MB/s, pipeline %.1f MB/s, ratio %.3f, VmHWM %.1f MiB"
                  % (rnd + 1, ra_all[-1] / 1e6, rb_all[-1] / 1e6, ra_all[-1] / rb_all[-1], hwm / 2**20),
                  flush=True)
    ra, rb = statistics.median(ra_all), statistics.median(rb_all)
    hwm = max(hwm_all)
    buf = 64 << 20
    print("data: %d MiB in tmpfs; archive %d bytes, image %d bytes; %d rounds, medians:"
          % (size >> 20, tar_size, img_size, rounds))
    print("reelfs:   tar -b 128 -cf MOUNT/tape + mt offline: %.1f MB/s" % (ra / 1e6))
    print("pipeline: tar -b 128 -cf - | curl -T -:         %.1f MB/s" % (rb / 1e6))
    print("ratio reelfs/pipeline: %.3f (target >= 0.90) %s" % (ra / rb, "OK" if ra / rb >= 0.9 else "BELOW TARGET"))
    print("reelfs peak RSS (VmHWM, max over rounds): %.1f MiB; buffer %d MiB + 16 MiB = %d MiB %s"
          % (hwm / 2**20, buf >> 20, (buf >> 20) + 16, "OK" if hwm <= buf + (16 << 20) else "ABOVE TARGET"))
finally:
    shutil.rmtree(work, ignore_errors=True)
PYEOF
