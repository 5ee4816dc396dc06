#!/bin/sh
# bench_reelfs.sh - on-demand benchmark of the reelfs drive against the
# plain pipeline it must keep up with, both into the same vsftpd on
# 127.0.0.1 with data and server directory in tmpfs (/dev/shm):
#   A: tar -b 128 -cf MOUNT/tape DATA   (then mt offline: until published)
#   B: tar -b 128 -cf - DATA | curl -T - ftp://...
# Prints both rates, their ratio (target >= 0.90) and the daemon's peak RSS
# (VmHWM; target <= buffer + 16 MiB). Needs root, /dev/fuse, vsftpd, curl.
# Usage: tests/bench/bench_reelfs.sh [SIZE_MIB (default 4096)] [BUILD_DIR]
# It must never touch the network beyond 127.0.0.1, and cleans up after
# itself (mount, server, tmpfs files) even on failure.
set -eu
SIZE_MIB=${1:-4096}
BUILD=${2:-${REELFS_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}}
HERE=$(cd "$(dirname "$0")" && pwd)
export REELFS_BUILD="$BUILD" SIZE_MIB
exec /usr/bin/python3 - "$HERE/../lib" <<'PYEOF'
import os, pathlib, shutil, subprocess, sys, tempfile, time
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
    with servers.Vsftpd(work / "ftp") as srv:
        env = srv.env()
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
        netrc = srv.netrc()
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
    ra, rb = tar_size / ta, tar_size / tb
    buf = 64 << 20
    print("data: %d MiB in tmpfs; archive %d bytes, image %d bytes" % (size >> 20, tar_size, img_size))
    print("reelfs:  tar -b 128 -cf MOUNT/tape + mt offline: %.2f s, %.1f MB/s" % (ta, ra / 1e6))
    print("pipeline: tar -b 128 -cf - | curl -T -:        %.2f s, %.1f MB/s" % (tb, rb / 1e6))
    print("ratio reelfs/pipeline: %.3f (target >= 0.90) %s" % (ra / rb, "OK" if ra / rb >= 0.9 else "BELOW TARGET"))
    print("reelfs peak RSS (VmHWM): %.1f MiB; buffer %d MiB + 16 MiB = %d MiB %s"
          % (hwm / 2**20, buf >> 20, (buf >> 20) + 16, "OK" if hwm <= buf + (16 << 20) else "ABOVE TARGET"))
finally:
    shutil.rmtree(work, ignore_errors=True)
PYEOF
