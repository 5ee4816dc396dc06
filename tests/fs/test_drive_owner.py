"""The drive is its owner's (issue 9 point 3). Root mounts with
`-o allow_other`; a second local user (reelfs-other, created if missing)
tries what an attacker would: open the tape for writing or reading,
`mt weof`, `mt offline`, `mt status`, truncate, and mt ioctls through a
descriptor the owner opened and handed over. All fail with EACCES, the
backup stays intact and unpublished in the middle, `status` stays readable
(with no password in it) and the owner goes on writing. And a drive
mounted by a non-root user without allow_other is not reachable by root
(the kernel's rule; reelfs adds nothing). Real mounts: vsftpd on
127.0.0.1, or file:// for the non-root mount."""
import contextlib
import errno
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

import need
from fscommon import (Mount, image_files, is_mounted, need_mount_env,
                      reelfs_binary, run, vsftpd)

OTHER = "reelfs-other"

MTIOCTOP = 0x40086d01   # _IOW('m', 1, struct mtop)
MTIOCGET = 0x80306d02   # _IOR('m', 2, struct mtget), x86-64
MTWEOF, MTOFFL = 5, 7


def other_user():
    """The second local user's (uid, gid), created as a system user when
    missing; skips naming what is missing."""
    need.need_tool("setpriv")
    try:
        p = pwd.getpwnam(OTHER)
    except KeyError:
        need.need_tool("useradd")
        r = run(["useradd", "--system", "--no-create-home", "--home-dir",
                 "/nonexistent", "--shell", "/usr/sbin/nologin", OTHER])
        if r.returncode != 0:
            pytest.skip("the second local user %s is missing and useradd "
                        "failed: %s" % (OTHER, r.stderr.strip()))
        p = pwd.getpwnam(OTHER)
    return p.pw_uid, p.pw_gid


def as_other(cmd, **kw):
    """The argv that runs cmd as the second user, with its own groups and
    no capabilities."""
    return ["setpriv", "--reuid=" + OTHER, "--regid=" + OTHER,
            "--init-groups", "--"] + list(cmd)


@contextlib.contextmanager
def shared_dir():
    """A directory every user can traverse (pytest's tmp_path is 0700)."""
    d = tempfile.mkdtemp(prefix="reelfs-owner-", dir="/tmp")
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


# What the second user tries by hand, as a Python program: each attempt
# prints its errno (0 = it worked).
ATTACK = r"""
import errno, fcntl, json, os, struct, sys
tape, status = sys.argv[1], sys.argv[2]
out = {}
def attempt(name, fn):
    try:
        fn()
        out[name] = 0
    except OSError as e:
        out[name] = e.errno
def write():
    fd = os.open(tape, os.O_WRONLY)
    try:
        os.write(fd, b"attacker" * 512)
    finally:
        os.close(fd)
attempt("open_write", write)
attempt("open_rdwr", lambda: os.close(os.open(tape, os.O_RDWR)))
attempt("open_read", lambda: os.close(os.open(tape, os.O_RDONLY)))
attempt("truncate", lambda: os.truncate(tape, 0))
attempt("chmod", lambda: os.chmod(tape, 0o666))
out["status"] = open(status).read()
print(json.dumps(out))
"""

# The same user, given a descriptor of the tape the owner opened (its
# number in argv[1]): the kernel checks no permission for an ioctl, reelfs
# does.
PASSED_FD = r"""
import fcntl, json, struct, sys
fd = int(sys.argv[1])
MTIOCTOP, MTIOCGET = %d, %d
out = {}
for name, cmd, arg in (("weof", MTIOCTOP, struct.pack("hi", %d, 1)),
                       ("offline", MTIOCTOP, struct.pack("hi", %d, 1)),
                       ("get", MTIOCGET, bytes(48))):
    try:
        fcntl.ioctl(fd, cmd, arg)
        out[name] = 0
    except OSError as e:
        out[name] = e.errno
print(json.dumps(out))
""" % (MTIOCTOP, MTIOCGET, MTWEOF, MTOFFL)


def test_second_user_cannot_use_roots_drive(tmp_path):
    need_mount_env("mt")
    other_user()
    with vsftpd(tmp_path) as srv, shared_dir() as d:
        mnt = os.path.join(d, "mnt")
        with Mount(srv.url + "owned.mtd", mnt, ["-o", "allow_other"],
                   env=srv.env()) as m:
            with open("/proc/mounts") as f:
                opts = [l.split()[3] for l in f if l.split()[1] == mnt]
            assert opts and "default_permissions" in opts[0].split(","), opts
            # The owner writes a first tape file.
            fd = os.open(m.tape, os.O_WRONLY)
            for i in range(4):
                os.write(fd, bytes([65 + i]) * 10240)
            os.close(fd)
            deadline = time.monotonic() + 60
            while m.status()["files"] != "1":
                assert time.monotonic() < deadline, m.status()
                time.sleep(0.02)
            before = m.status()

            r = run(as_other([sys.executable, "-c", ATTACK, str(m.tape),
                              str(m.status_path)]))
            assert r.returncode == 0, r.stdout + r.stderr
            got = json.loads(r.stdout)
            for k in ("open_write", "open_rdwr", "open_read", "truncate"):
                assert got[k] == errno.EACCES, (k, got)
            assert got["chmod"] in (errno.EPERM, errno.EACCES), got
            # status stays readable by everyone who sees the mount, and it
            # shows the URL without the password.
            assert "url: " in got["status"] and "state: writing" in got["status"]
            assert srv.password not in got["status"]
            for op in ("weof", "offline", "status", "rewind"):
                r = run(as_other(["mt", "-f", str(m.tape), op]))
                assert r.returncode != 0, (op, r.stdout, r.stderr)
                assert "Permission denied" in r.stderr, (op, r.stderr)

            # A descriptor the owner opened, in the second user's hands:
            # the mt operations are still the owner's.
            rfd = os.open(m.tape, os.O_RDONLY)
            try:
                r = run(as_other([sys.executable, "-c", PASSED_FD, str(rfd)]),
                        pass_fds=(rfd,))
            finally:
                os.close(rfd)
            assert r.returncode == 0, r.stdout + r.stderr
            got = json.loads(r.stdout)
            assert got == {"weof": errno.EACCES, "offline": errno.EACCES,
                           "get": errno.EACCES}, got

            # Nothing changed: not published mid-way, no mark, no record.
            after = m.status()
            for k in ("state", "files", "records", "image_bytes"):
                assert after[k] == before[k], (k, before, after)
            assert not os.path.exists(os.path.join(str(srv.root), "owned.mtd"))

            # The owner goes on as before: a second tape file, mt works.
            fd = os.open(m.tape, os.O_WRONLY)
            os.write(fd, b"Z" * 10240)
            os.close(fd)
            r = run(["mt", "-f", str(m.tape), "status"])
            assert r.returncode == 0, r.stderr
        files = image_files(srv, "owned.mtd", "mtd")
        assert [[len(r) for r in f] for f in files] == [[10240] * 4, [10240]]
        assert files[0] == [bytes([65 + i]) * 10240 for i in range(4)]
        assert files[1] == [b"Z" * 10240]


@contextlib.contextmanager
def user_mount(url, mnt, uid, gid, log_path, args=()):
    """reelfs -f URL MNT run by the second user; yields its Popen. Where
    that user cannot open /dev/fuse (a container whose /dev/fuse is 0600;
    Debian makes it 0666), root mounts for it as fusermount3 would (fd=N,
    user_id, group_id and the default_permissions reelfs asks for) and
    the daemon serves /dev/fd/N."""
    env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
           "HOME": os.path.dirname(url[len("file://"):])}
    for k in ("REELFS_BUILD", "ASAN_OPTIONS", "UBSAN_OPTIONS",
              "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    err = open(log_path, "w+")
    fuse_fd = None
    proc = None
    try:
        if os.stat("/dev/fuse").st_mode & 0o006 == 0o006:
            argv, fds = [reelfs_binary(), "-f"] + list(args) + [url, mnt], ()
        else:
            need.need_tool("mount")
            fuse_fd = os.open("/dev/fuse", os.O_RDWR)
            r = run(["mount", "-i", "-t", "fuse.reelfs", "-o",
                     "fd=%d,rootmode=40000,user_id=%d,group_id=%d,"
                     "default_permissions" % (fuse_fd, uid, gid),
                     "reelfs", mnt], pass_fds=(fuse_fd,))
            if r.returncode != 0:
                pytest.skip("a mount for a non-root user cannot be made "
                            "here: %s" % r.stderr.strip())
            argv = [reelfs_binary(), "-f"] + list(args) + [url,
                                                           "/dev/fd/%d" % fuse_fd]
            fds = (fuse_fd,)
        proc = subprocess.Popen(as_other(argv), env=env, pass_fds=fds,
                                stdin=subprocess.DEVNULL, stdout=err,
                                stderr=err)
        if fuse_fd is not None:
            os.close(fuse_fd)
            fuse_fd = None
        # Served once the owner can read status.
        deadline = time.monotonic() + 30
        while run(as_other(["cat", os.path.join(mnt, "status")])).returncode:
            if proc.poll() is not None:
                err.seek(0)
                raise AssertionError("reelfs run by %s exited:\n%s"
                                     % (OTHER, err.read()))
            assert time.monotonic() < deadline, "not served within 30 s"
            time.sleep(0.02)
        yield proc
    finally:
        if fuse_fd is not None:
            os.close(fuse_fd)
        if is_mounted(mnt):
            subprocess.run(["umount", mnt], capture_output=True)
            if is_mounted(mnt):
                subprocess.run(["umount", "-l", mnt], capture_output=True)
        if proc is not None:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        err.close()


def test_users_drive_is_not_roots(tmp_path):
    """Mounted by a non-root user without allow_other, the drive is that
    user's alone: the kernel turns root away (fuse's rule for a mount
    without allow_other) and the owner writes as usual. (With allow_other
    root could write, as it can any file of that user's:
    default_permissions lets CAP_DAC_OVERRIDE through, and so does reelfs.)"""
    need_mount_env()
    uid, gid = other_user()
    with shared_dir() as d:
        target = os.path.join(d, "target")
        mnt = os.path.join(d, "mnt")
        os.mkdir(target)
        os.mkdir(mnt)
        os.chown(target, uid, gid)
        os.chown(mnt, uid, gid)
        log = os.path.join(tmp_path, "daemon.err")
        with user_mount("file://%s/user.mtd" % target, mnt, uid, gid,
                        log) as proc:
            tape = os.path.join(mnt, "tape")
            for flags in (os.O_WRONLY, os.O_RDONLY):
                with pytest.raises(OSError) as e:
                    os.open(tape, flags)
                assert e.value.errno == errno.EACCES
            with pytest.raises(OSError) as e:
                os.stat(os.path.join(mnt, "status"))
            assert e.value.errno == errno.EACCES
            r = run(as_other([sys.executable, "-c",
                              "import os; fd = os.open(%r, os.O_WRONLY); "
                              "os.write(fd, b'u' * 4096); os.close(fd); "
                              "print(open(%r).read())"
                              % (tape, os.path.join(mnt, "status"))]))
            assert r.returncode == 0, r.stderr
            assert "\nrecords: 1\n" in r.stdout, r.stdout
        text = open(log).read()
        assert proc.returncode == 0, text
        assert "Sanitizer" not in text and "runtime error:" not in text, text
        p = os.path.join(target, "user.mtd")
        assert os.stat(p).st_uid == uid
        assert open(p, "rb").read().count(b"u" * 4096) == 1
