#!/usr/bin/python3
"""bench_ls.py - on-demand benchmark of `reel ls` against Debian's vsftpd
on 127.0.0.1: a directory of N tape images (each with its manifest, as
reelfs and `reel send` publish them; --unverified drops the manifests of
that many, so their heads must be sniffed), listed R times. Prints the
median wall time with its spread (min..max), the CPU seconds `reel` used,
and the logins and commands the server saw (vsftpd's log_ftp_protocol).
Target: median under 2 s for 200 tapes, one login.

  sudo /usr/bin/python3 tests/bench/bench_ls.py [--tapes 200] [--rounds 5]
        [--unverified 0] [--reel PATH]

Needs root (vsftpd's jail) and vsftpd. REELFS_BUILD names the build
directory (default build/); --reel overrides the binary.
"""
import argparse
import os
import pathlib
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
from servers import Vsftpd  # noqa: E402


class LoggingVsftpd(Vsftpd):
    """vsftpd that logs every command (USER counts logins)."""

    def _config(self, pasv):
        conf = super()._config(pasv)
        conf.write_text(conf.read_text() + "log_ftp_protocol=YES\n")
        return conf


def commands(log_text):
    return re.findall(r'FTP command: Client "[^"]*", "([A-Z]+)', log_text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tapes", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--unverified", type=int, default=0,
                    help="how many of the tapes have no manifest")
    ap.add_argument("--reel", default=None)
    a = ap.parse_args()
    build = pathlib.Path(os.environ.get("REELFS_BUILD",
                                        HERE.parent.parent / "build"))
    reel = a.reel or str(build / "tools" / "reel")
    if not os.access(reel, os.X_OK):
        sys.exit("bench_ls: no reel at %s (set REELFS_BUILD)" % reel)
    if not shutil.which("vsftpd"):
        sys.exit("bench_ls: vsftpd is not installed")

    work = pathlib.Path(tempfile.mkdtemp(prefix="bench_ls."))
    try:
        with LoggingVsftpd(work) as srv:
            d = srv.root / "tapes"
            d.mkdir()
            shutil.chown(d, srv.user, srv.user)
            # One real image with its manifest, copied under N names (the
            # manifest's counts hold for every copy).
            src = work / "one.tap"
            subprocess.run([reel, "send", "--quiet", "--format", "simh",
                            "--tapemark-every", "100000", str(src)],
                           input=os.urandom(300000), check=True,
                           capture_output=True)
            man = pathlib.Path(str(src) + ".manifest.json").read_text()
            for i in range(a.tapes):
                name = "t%04d.tap" % i
                shutil.copyfile(src, d / name)
                if i >= a.unverified:
                    (d / (name + ".manifest.json")).write_text(man)
            times, cpus, logins, cmds = [], [], [], []
            for _ in range(a.rounds):
                srv.log.write_text("")
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.monotonic()
                r = subprocess.run([reel, "ls", srv.url + "tapes/"],
                                   env=srv.env(), capture_output=True,
                                   text=True)
                times.append(time.monotonic() - t0)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(after.ru_utime - before.ru_utime +
                            after.ru_stime - before.ru_stime)
                if r.returncode != 0:
                    sys.exit("bench_ls: reel ls failed: %s" % r.stderr)
                if ": %d tapes" % a.tapes not in r.stdout:
                    sys.exit("bench_ls: reel ls did not list %d tapes:\n%s"
                             % (a.tapes, r.stdout[:2000]))
                c = commands(srv.log.read_text(errors="replace"))
                logins.append(c.count("USER"))
                cmds.append(len(c))
            med = statistics.median(times)
            print("reel ls of %d tapes (%d without a manifest) on vsftpd, "
                  "127.0.0.1, %d rounds:" % (a.tapes, a.unverified, a.rounds))
            print("  wall   median %.3f s, spread %.3f..%.3f s"
                  % (med, min(times), max(times)))
            print("  cpu    median %.3f s (reel, user+system)"
                  % statistics.median(cpus))
            print("  logins %s; commands %s (%.2f per tape)"
                  % (sorted(set(logins)), sorted(set(cmds)),
                     statistics.median(cmds) / max(a.tapes, 1)))
            print("  target: under 2 s: %s" % ("met" if med < 2 else "MISSED"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
