"""The worker serving a stream of tape writes follows its writer's CPU
(fs/follow.c, issue 12): after `taskset -c N dd` into the drive, the
worker that served it may run on CPU N only; after a second writer on
another CPU, the worker is there and none is left held on the first; a
worker that parks gets its own affinity back; REELFS_FOLLOW=0 leaves every
worker as the scheduler has it. The images still hold exactly what dd
wrote (no record lost or reordered by the move)."""
import os
import random

import pytest

import tapeimg
from fscommon import Mount, need_mount_env, run, vsftpd

REC = 10240
COUNT = 3000


def _cpus():
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("needs two CPUs this process may use (has %s)" % cpus)
    return cpus[0], cpus[1]


def _workers(pid):
    """The CPUs each FUSE worker of the daemon may run on."""
    out = []
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
            if f.read().strip() == "reelfs-fuse":
                out.append(frozenset(os.sched_getaffinity(int(t))))
    assert len(out) >= 2, "the daemon has %d FUSE workers named reelfs-fuse" % len(out)
    return out


def _dd_on(cpu, tape, seed):
    data = random.Random(seed).randbytes(REC * COUNT)
    r = run(["taskset", "-c", str(cpu), "dd", "of=" + str(tape), "bs=%d" % REC,
             "iflag=fullblock", "status=none"], input=data, text=False)
    assert r.returncode == 0, r.stderr
    return data


def _records(img):
    files, eod = tapeimg.parse(img, "mtd")
    assert eod
    return [b"".join(bytes(r) for r in f) for f in files if f]


def test_the_serving_worker_follows_the_writer(tmp_path):
    need_mount_env("dd", "taskset")
    a, b = _cpus()
    everywhere = frozenset(os.sched_getaffinity(0))
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "f.mtd", tmp_path / "m", ["--format=mtd"],
                   env=srv.env()) as m:
            base = _workers(m.pid)
            assert all(w == everywhere for w in base), base
            d1 = _dd_on(b, m.tape, 1)
            after_b = _workers(m.pid)
            assert frozenset([b]) in after_b, \
                "no FUSE worker followed dd to CPU %d: %s" % (b, after_b)
            assert all(w in (everywhere, frozenset([b])) for w in after_b), after_b
            d2 = _dd_on(a, m.tape, 2)
            after_a = _workers(m.pid)
            assert frozenset([a]) in after_a, \
                "no FUSE worker followed dd to CPU %d: %s" % (a, after_a)
            assert frozenset([b]) not in after_a, \
                "a worker is still held on CPU %d: %s" % (b, after_a)
            assert run(["mt", "-f", str(m.tape), "offline"]).returncode == 0
        img = (srv.root / "f.mtd").read_bytes()
    assert _records(img) == [d1, d2]


def test_follow_off_leaves_the_workers_alone(tmp_path):
    need_mount_env("dd", "taskset")
    a, b = _cpus()
    everywhere = frozenset(os.sched_getaffinity(0))
    with vsftpd(tmp_path) as srv:
        env = dict(srv.env())
        env["REELFS_FOLLOW"] = "0"
        with Mount(srv.url + "n.mtd", tmp_path / "m", ["--format=mtd"],
                   env=env) as m:
            d1 = _dd_on(b, m.tape, 3)
            assert all(w == everywhere for w in _workers(m.pid))
            assert run(["mt", "-f", str(m.tape), "offline"]).returncode == 0
        img = (srv.root / "n.mtd").read_bytes()
    assert _records(img) == [d1]
