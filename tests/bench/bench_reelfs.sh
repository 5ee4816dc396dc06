#!/bin/sh
# bench_reelfs.sh - on-demand benchmark of the reelfs drive (not a test;
# issue 12 point 5). For each tar blocking factor (default -b 20 and
# -b 128), ROUNDS alternating rounds (default 5) of, into one vsftpd on
# 127.0.0.1, data and server directory in tmpfs (/dev/shm):
#   drive:    tar -b N -cf MOUNT/tape DATA, then mt offline (until published)
#   pipeline: tar -b N -cf - DATA | curl -T - ftp://...
#   null:     tar -b N -cf NULLMOUNT/sink DATA (nullfuse: a FUSE mount that
#             discards, the ceiling of any FUSE drive at that record size)
# and prints one table: median rates, the drive/pipeline ratio (median and
# spread over the rounds), drive/null, CPU seconds per GiB of each side
# (daemon + tar, tar's FUSE system time included; curl + tar; nullfuse +
# tar), and the daemon's peak RSS (VmHWM) against --buffer + 16 MiB, with
# the load average before and after (a shared machine's figures are noisy).
#
# Usage: [ROUNDS=5] [BLOCKS="20 128"] [FORMAT=mtd] [REELFS_ARGS=...]
#        tests/bench/bench_reelfs.sh [SIZE_MIB (default 1024)] [BUILD_DIR]
# Needs root, /dev/fuse, vsftpd, curl, tar, mt; the build's
# tests/encoder/nullfuse (meson -Dbench=true, the default) for the null row.
# It never touches the network beyond 127.0.0.1 and cleans up after itself
# (mounts, server, tmpfs files) even on failure.
set -eu
SIZE_MIB=${1:-1024}
BUILD=${2:-${REELFS_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}}
HERE=$(cd "$(dirname "$0")" && pwd)
export REELFS_BUILD="$BUILD" SIZE_MIB
exec /usr/bin/python3 - "$HERE/../lib" <<'PYEOF'
import os, pathlib, shutil, statistics, subprocess, sys, tempfile, time
sys.path.insert(0, sys.argv[1])
import servers
from mount import Mount

size = int(os.environ["SIZE_MIB"]) << 20
rounds = int(os.environ.get("ROUNDS", "5"))
blocks = [int(b) for b in os.environ.get("BLOCKS", "20 128").split()]
fmt = os.environ.get("FORMAT", "mtd")
extra = os.environ.get("REELFS_ARGS", "").split()
build = pathlib.Path(os.environ["REELFS_BUILD"])
nullfuse = build / "tests" / "encoder" / "nullfuse"
TICK = os.sysconf("SC_CLK_TCK")
GIB = float(1 << 30)


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def proc_cpu(pid):
    """user + system seconds of a live process (all its threads)."""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def hwm(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def reap(p):
    """Waits for a Popen child; its exit status and CPU seconds."""
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, ru.ru_utime + ru.ru_stime


def tar_cmd(b, out):
    return ["tar", "-b", str(b), "-cf", out, "-C", str(work), "data"]


def drive_round(srv, b):
    name = "bench." + fmt
    with Mount(srv.url + name, work / "mnt", ["--format=" + fmt] + extra,
               env=srv.env()) as m:
        c0 = proc_cpu(m.pid)
        t0 = time.monotonic()
        rc, tcpu = reap(subprocess.Popen(tar_cmd(b, str(m.tape))))
        assert rc == 0, "tar into the drive failed"
        assert subprocess.run(["mt", "-f", str(m.tape), "offline"]).returncode == 0
        dt = time.monotonic() - t0
        dcpu = proc_cpu(m.pid) - c0
        peak = hwm(m.pid)
    (srv.root / name).unlink()
    return dt, dcpu + tcpu, peak


def pipeline_round(srv, b, netrc):
    t0 = time.monotonic()
    tar = subprocess.Popen(tar_cmd(b, "-"), stdout=subprocess.PIPE)
    curl = subprocess.Popen(["curl", "-sS", "--netrc-file", str(netrc), "-T", "-",
                             srv.url + "curl.tar"], stdin=tar.stdout)
    tar.stdout.close()
    rc1, c1 = reap(tar)
    rc2, c2 = reap(curl)
    dt = time.monotonic() - t0
    assert rc1 == 0 and rc2 == 0, "the pipeline failed"
    n = (srv.root / "curl.tar").stat().st_size
    (srv.root / "curl.tar").unlink()
    return dt, c1 + c2, n


def null_round(b):
    mnt = work / "null"
    mnt.mkdir(exist_ok=True)
    nf = subprocess.Popen([str(nullfuse), str(mnt)])
    try:
        for _ in range(500):
            if os.path.ismount(mnt):
                break
            if nf.poll() is not None:
                raise RuntimeError("nullfuse did not mount")
            time.sleep(0.01)
        c0 = proc_cpu(nf.pid)
        t0 = time.monotonic()
        rc, tcpu = reap(subprocess.Popen(tar_cmd(b, str(mnt / "sink"))))
        dt = time.monotonic() - t0
        assert rc == 0, "tar into the null sink failed"
        return dt, proc_cpu(nf.pid) - c0 + tcpu
    finally:
        subprocess.run(["fusermount3", "-u", str(mnt)], stderr=subprocess.DEVNULL)
        try:
            nf.wait(timeout=10)
        except subprocess.TimeoutExpired:
            nf.kill()
            nf.wait()


def med(xs):
    return statistics.median(xs)


work = pathlib.Path(tempfile.mkdtemp(prefix="reelfs-bench-", dir="/dev/shm"))
try:
    data = work / "data"
    data.mkdir()
    left, i = size, 0
    while left > 0:       # incompressible files of at most 256 MiB
        n = min(left, 256 << 20)
        with open(data / ("f%03d.bin" % i), "wb") as f:
            done = 0
            while done < n:
                k = min(64 << 20, n - done)
                f.write(os.urandom(k))
                done += k
        left -= n
        i += 1
    have_null = nullfuse.exists()
    load0 = load()
    rows = []
    with servers.Vsftpd(work / "ftp") as srv:
        netrc = srv.netrc()
        for b in blocks:
            r = {"b": b, "drive": [], "pipe": [], "null": [], "ratio": [],
                 "dcpu": [], "pcpu": [], "ncpu": [], "hwm": []}
            for rnd in range(rounds):
                # Alternate which goes first: the machine's load drifts.
                order = ("drive", "pipe") if rnd % 2 == 0 else ("pipe", "drive")
                got = {}
                for what in order:
                    if what == "drive":
                        got["drive"] = drive_round(srv, b)
                    else:
                        got["pipe"] = pipeline_round(srv, b, netrc)
                da, dc, peak = got["drive"]
                pa, pc, nbytes = got["pipe"]
                r["drive"].append(nbytes / da)
                r["pipe"].append(nbytes / pa)
                r["ratio"].append(pa / da)
                r["dcpu"].append(dc / nbytes * GIB)
                r["pcpu"].append(pc / nbytes * GIB)
                r["hwm"].append(peak)
                line = ("-b %d round %d: drive %.0f MB/s, pipeline %.0f MB/s, ratio "
                        "%.3f" % (b, rnd + 1, nbytes / da / 1e6, nbytes / pa / 1e6, pa / da))
                if have_null:
                    na, nc = null_round(b)
                    r["null"].append(nbytes / na)
                    r["ncpu"].append(nc / nbytes * GIB)
                    line += ", null sink %.0f MB/s" % (nbytes / na / 1e6)
                print(line + "  (load %s)" % load(), flush=True)
            rows.append(r)
    load1 = load()
    buf = 64 << 20
    print()
    print("reelfs bench: %d MiB of random data in tmpfs, format %s, %d rounds per "
          "blocking factor, medians [min-max]" % (size >> 20, fmt, rounds))
    print("load average before: %s; after: %s (2-core targets: issue 12)" % (load0, load1))
    print("| tar | drive MB/s | pipeline MB/s | drive/pipeline | null sink MB/s | "
          "drive/null | CPU s/GiB drive (daemon+tar) | CPU s/GiB pipeline (curl+tar) | "
          "CPU drive/pipeline | null CPU s/GiB | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        null = "%.0f" % (med(r["null"]) / 1e6) if r["null"] else "-"
        dn = "%.2f" % (med(r["drive"]) / med(r["null"])) if r["null"] else "-"
        ncpu = "%.2f" % med(r["ncpu"]) if r["ncpu"] else "-"
        print("| -b %d (%d KiB) | %.0f | %.0f | **%.2f** [%.2f-%.2f] | %s | %s | %.2f | %.2f | "
              "%.2f | %s | %.1f |" % (
                  r["b"], r["b"] // 2, med(r["drive"]) / 1e6, med(r["pipe"]) / 1e6,
                  med(r["ratio"]), min(r["ratio"]), max(r["ratio"]), null, dn,
                  med(r["dcpu"]), med(r["pcpu"]), med(r["dcpu"]) / med(r["pcpu"]),
                  ncpu, max(r["hwm"]) / 2**20))
    print("targets: -b 128 ratio >= 0.90; -b 20 ratio >= 0.75 or within 10%% of the "
          "null sink; CPU drive/pipeline <= 1.2; peak RSS <= buffer (%d MiB) + 16 MiB"
          % (buf >> 20))
finally:
    for m in ("mnt", "null"):
        p = work / m
        if os.path.ismount(p):
            subprocess.run(["fusermount3", "-u", str(p)], stderr=subprocess.DEVNULL)
    shutil.rmtree(work, ignore_errors=True)
PYEOF
