#!/usr/bin/python3
"""bench_ab.py - before/after: runs tests/bench/bench_reelfs.sh one round
at a time, alternating between two builds (or two daemon environments),
ROUNDS times each, and prints per build and blocking factor the medians
and spreads of the drive/pipeline ratio, drive MB/s, daemon+tar CPU s/GiB
against the pipeline's, the null sink and peak RSS. Alternating is what
makes a shared machine's drift hit both sides alike.

  tests/bench/bench_ab.py [--rounds 5] [--size 1024] [--blocks "20 128"]
        BEFORE_BUILD AFTER_BUILD
  tests/bench/bench_ab.py ... BUILD BUILD --env-a REELFS_LANDING=0

Needs what bench_reelfs.sh needs (root, /dev/fuse, vsftpd, curl, tar).
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def one_round(build, size, blocks, env_extra):
    env = dict(os.environ, ROUNDS="1", BLOCKS=blocks)
    for kv in env_extra:
        k, _, v = kv.partition("=")
        env[k] = v
    out = subprocess.run(["sh", str(HERE / "bench_reelfs.sh"), str(size), build],
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("bench_reelfs.sh failed:\n" + out.stdout + out.stderr)
    rows = {}
    for line in out.stdout.splitlines():
        if not line.startswith("| -b "):
            continue
        c = [x.strip().strip("*") for x in line.strip("|").split("|")]
        b = int(c[0].split()[1])
        rows[b] = {"drive": float(c[1]), "pipe": float(c[2]),
                   "ratio": float(c[3].split()[0].strip("*")),
                   "null": float(c[4]) if c[4] != "-" else 0.0,
                   "dcpu": float(c[6]), "pcpu": float(c[7]),
                   "rss": float(c[10])}
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--blocks", default="20 128")
    ap.add_argument("--env-a", action="append", default=[])
    ap.add_argument("--env-b", action="append", default=[])
    a = ap.parse_args()
    sides = [("before", a.before, a.env_a), ("after", a.after, a.env_b)]
    got = {s[0]: [] for s in sides}
    load0 = open("/proc/loadavg").read().split()[:3]
    for r in range(a.rounds):
        order = sides if r % 2 == 0 else sides[::-1]
        for name, build, env in order:
            rows = one_round(build, a.size, a.blocks, env)
            got[name].append(rows)
            print("round %d %s: %s" % (r + 1, name, "; ".join(
                "-b %d ratio %.2f drive %.0f MB/s cpu %.2f vs %.2f s/GiB" % (
                    b, v["ratio"], v["drive"], v["dcpu"], v["pcpu"])
                for b, v in sorted(rows.items()))), flush=True)
    load1 = open("/proc/loadavg").read().split()[:3]
    print("\n%d MiB, %d alternating rounds, medians [min-max]; load %s -> %s"
          % (a.size, a.rounds, " ".join(load0), " ".join(load1)))
    print("| tar | build | drive/pipeline | drive MB/s | null MB/s | "
          "CPU s/GiB drive | CPU s/GiB pipeline | CPU ratio | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for b in [int(x) for x in a.blocks.split()]:
        for name, _, _ in sides:
            vs = [rows[b] for rows in got[name]]

            def m(k):
                xs = [v[k] for v in vs]
                return statistics.median(xs), min(xs), max(xs)
            cr = [v["dcpu"] / v["pcpu"] for v in vs]
            print("| -b %d | %s | **%.2f** [%.2f-%.2f] | %.0f [%.0f-%.0f] | %.0f | "
                  "%.2f [%.2f-%.2f] | %.2f [%.2f-%.2f] | %.2f | %.1f |" % (
                      (b, name) + m("ratio") + m("drive") + (m("null")[0],) +
                      m("dcpu") + m("pcpu") + (statistics.median(cr), m("rss")[0])))


if __name__ == "__main__":
    main()
