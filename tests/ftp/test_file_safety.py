"""file:// targets never follow or reuse what someone else planted (issue 9
point 1). Root uploads (`reel send`, a reelfs mount) into a directory a
second local user (reelfs-other, created if missing, run by setpriv) can
write to: a sticky world-writable one (like /tmp) and a plain
group-writable one, where the kernel's fs.protected_symlinks never
applies, so the tests mean the same whatever that setting is. The other
user plants a symbolic link at NAME.part (and at the manifest's
NAME.manifest.json.part) pointing at a root-owned victim, or an empty
NAME.part of their own, mode 666: each is refused with a sentence naming
the file and its owner, under every --overwrite policy, and the victim is
unchanged and nothing lands in a file they own. A normal upload is
published owned by root, mode 0600; a stale NAME.part of root's own is
refused by default and replaced under --overwrite=always."""
import contextlib
import os
import pathlib
import pwd
import grp
import shutil
import stat
import subprocess
import tempfile

import pytest

import need
from mount import Mount, MountFailed, is_mounted, reelfs_binary

OTHER = "reelfs-other"
VICTIM = b"root's secret, never to be overwritten\n"
DATA = bytes(range(256)) * 400          # 100 KiB of input


def reel():
    return need.need_binary(pathlib.Path(need.build_dir()) / "tools" / "reel")


def other_user():
    """The second local user's (uid, gid), created as a system user when
    missing; skips naming what is missing."""
    need.need_root()
    need.need_tool("setpriv")
    try:
        p = pwd.getpwnam(OTHER)
    except KeyError:
        need.need_tool("useradd")
        r = subprocess.run(["useradd", "--system", "--no-create-home",
                            "--home-dir", "/nonexistent", "--shell",
                            "/usr/sbin/nologin", OTHER],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip("the second local user %s is missing and useradd "
                        "failed: %s" % (OTHER, r.stderr.strip()))
        p = pwd.getpwnam(OTHER)
    return p.pw_uid, p.pw_gid


def as_other(*cmd):
    """Runs cmd as the second user (its own groups, no capabilities)."""
    r = subprocess.run(["setpriv", "--reuid=" + OTHER, "--regid=" + OTHER,
                        "--init-groups", "--"] + [str(c) for c in cmd],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


@contextlib.contextmanager
def shared(kind):
    """(top, target dir, victim path): the target is writable by the other
    user, sticky and world-writable ("sticky") or group-writable through
    their group ("group"); the victim is a root-owned 0644 file in a
    directory only root writes."""
    uid, gid = other_user()
    top = tempfile.mkdtemp(prefix="reelfs-filesafety-", dir="/tmp")
    os.chmod(top, 0o755)
    try:
        target = os.path.join(top, "shared")
        os.mkdir(target)
        if kind == "sticky":
            os.chmod(target, 0o1777)
        else:
            os.chown(target, 0, gid)
            os.chmod(target, 0o775)
        private = os.path.join(top, "private")
        os.mkdir(private, 0o755)
        victim = os.path.join(private, "victim")
        with open(victim, "wb") as f:
            f.write(VICTIM)
        os.chmod(victim, 0o644)
        yield top, target, victim
    finally:
        shutil.rmtree(top, ignore_errors=True)


def send(url, *args):
    return subprocess.run([reel(), "send", *args, url], input=DATA,
                          capture_output=True, timeout=120)


def victim_intact(victim):
    st = os.lstat(victim)
    with open(victim, "rb") as f:
        assert f.read() == VICTIM
    assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o644


KINDS = ["sticky", "group"]
POLICIES = ["never", "always"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("policy", POLICIES)
def test_send_refuses_planted_symlink_part(kind, policy):
    with shared(kind) as (_, d, victim):
        part = os.path.join(d, "vol1.tap.part")
        as_other("ln", "-s", victim, part)
        r = send("file://%s/vol1.tap" % d, "--overwrite=" + policy)
        err = r.stderr.decode(errors="replace")
        assert r.returncode != 0, err
        assert "vol1.tap.part is a symbolic link" in err, err
        assert "owned by user %s" % OTHER in err, err
        victim_intact(victim)
        assert os.path.islink(part)      # refused, left for root to see
        assert not os.path.exists(os.path.join(d, "vol1.tap"))


@pytest.mark.parametrize("kind", KINDS)
def test_send_refuses_dangling_symlink_part(kind):
    """A link to a file that does not exist yet (say a cron.d entry) got
    past every check, even --overwrite=never, and O_CREAT made root
    create that file with the image in it."""
    with shared(kind) as (top, d, _victim):
        planted = os.path.join(top, "private", "created-by-root")
        part = os.path.join(d, "vol9.tap.part")
        as_other("ln", "-s", planted, part)
        r = send("file://%s/vol9.tap" % d)
        err = r.stderr.decode(errors="replace")
        assert r.returncode != 0, err
        assert "vol9.tap.part is a symbolic link" in err, err
        assert not os.path.lexists(planted)
        assert not os.path.exists(os.path.join(d, "vol9.tap"))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("below", ["", "/sub"])
def test_send_refuses_planted_directory_link(kind, below):
    """The other user plants the target directory (or a component of its
    path) as a link to a root-only folder: the upload (with --mkdir) does
    not follow it, so nothing appears in that folder."""
    with shared(kind) as (top, d, _victim):
        private = os.path.join(top, "private")
        as_other("ln", "-s", private, os.path.join(d, "out"))
        r = send("file://%s/out%s/vol10.tap" % (d, below), "--mkdir")
        err = r.stderr.decode(errors="replace")
        assert r.returncode != 0, err
        assert '"out" in the path %s/out%s is a symbolic link owned by ' \
            'user %s' % (d, below, OTHER) in err, err
        assert sorted(os.listdir(private)) == ["victim"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("policy", POLICIES)
def test_send_refuses_foreign_part(kind, policy):
    with shared(kind) as (_, d, _victim):
        part = os.path.join(d, "vol4.tap.part")
        as_other("sh", "-c", 'umask 0; : > "$1"; chmod 666 "$1"', "-", part)
        r = send("file://%s/vol4.tap" % d, "--overwrite=" + policy)
        err = r.stderr.decode(errors="replace")
        assert r.returncode != 0, err
        assert "vol4.tap.part is a file owned by user %s" % OTHER in err, err
        st = os.lstat(part)
        assert st.st_size == 0 and st.st_uid == pwd.getpwnam(OTHER).pw_uid
        assert not os.path.exists(os.path.join(d, "vol4.tap"))


@pytest.mark.parametrize("kind", KINDS)
def test_send_refuses_hard_link_part(kind):
    """A second name for a root file (what fs.protected_hardlinks=0 lets
    anyone make) is not written through either: root made it here."""
    with shared(kind) as (_, d, victim):
        part = os.path.join(d, "vol5.tap.part")
        os.link(victim, part)
        r = send("file://%s/vol5.tap" % d, "--overwrite=always")
        err = r.stderr.decode(errors="replace")
        assert r.returncode != 0, err
        assert "with 2 hard links" in err, err
        victim_intact(victim)


@pytest.mark.parametrize("kind", KINDS)
def test_manifest_temporary_symlink_refused(kind):
    with shared(kind) as (_, d, victim):
        mpart = os.path.join(d, "vol2.tap.manifest.json.part")
        as_other("ln", "-s", victim, mpart)
        r = send("file://%s/vol2.tap" % d, "--overwrite=always")
        err = r.stderr.decode(errors="replace")
        assert r.returncode != 0, err
        assert "vol2.tap.manifest.json.part is a symbolic link" in err, err
        victim_intact(victim)
        assert os.path.islink(mpart)
        assert not os.path.exists(os.path.join(d, "vol2.tap.manifest.json"))


@pytest.mark.parametrize("kind", KINDS)
def test_reelfs_mount_refuses_planted_symlink(kind, tmp_path):
    need.need_fuse()
    need.need_binary(reelfs_binary())
    with shared(kind) as (_, d, victim):
        as_other("ln", "-s", victim, os.path.join(d, "vol1.tap.part"))
        mnt = tmp_path / "mnt"
        with pytest.raises(MountFailed) as ei:
            with Mount("file://%s/vol1.tap" % d, mnt,
                       ["-o", "overwrite=always"]):
                pass
        assert not is_mounted(mnt)
        assert "vol1.tap.part is a symbolic link" in ei.value.stderr, \
            ei.value.stderr
        assert "Sanitizer" not in ei.value.stderr, ei.value.stderr
        victim_intact(victim)


@pytest.mark.parametrize("kind", KINDS)
def test_reelfs_mount_refuses_foreign_part(kind, tmp_path):
    need.need_fuse()
    need.need_binary(reelfs_binary())
    with shared(kind) as (_, d, _victim):
        part = os.path.join(d, "vol4.tap.part")
        as_other("sh", "-c", 'umask 0; : > "$1"; chmod 666 "$1"', "-", part)
        mnt = tmp_path / "mnt"
        with pytest.raises(MountFailed) as ei:
            with Mount("file://%s/vol4.tap" % d, mnt,
                       ["-o", "overwrite=always"]):
                pass
        assert "vol4.tap.part is a file owned by user %s" % OTHER \
            in ei.value.stderr, ei.value.stderr
        assert os.lstat(part).st_size == 0


def published_ok(path, data=None):
    st = os.lstat(path)
    assert stat.S_ISREG(st.st_mode) and st.st_uid == 0 and st.st_nlink == 1
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)


@pytest.mark.parametrize("kind", KINDS)
def test_normal_upload_root_0600_and_own_stale_part(kind):
    with shared(kind) as (_, d, _victim):
        url = "file://%s/vol3.tap" % d
        r = send(url)
        assert r.returncode == 0, r.stderr
        published_ok(os.path.join(d, "vol3.tap"))
        published_ok(os.path.join(d, "vol3.tap.manifest.json"))
        assert not os.path.exists(os.path.join(d, "vol3.tap.part"))
        # A stale NAME.part of root's own: reported by default...
        part = os.path.join(d, "vol6.tap.part")
        with open(part, "wb") as f:
            f.write(b"left over by an interrupted upload")
        os.chmod(part, 0o644)
        url6 = "file://%s/vol6.tap" % d
        r = send(url6)
        err = r.stderr.decode(errors="replace")
        assert r.returncode != 0 and "already exists" in err, err
        # ...and replaced (a new file, mode 0600) under --overwrite=always.
        r = send(url6, "--overwrite=always")
        err = r.stderr.decode(errors="replace")
        assert r.returncode == 0, err
        assert "replacing" in err, err
        published_ok(os.path.join(d, "vol6.tap"))
        assert not os.path.exists(part)
        with open(os.path.join(d, "vol3.tap"), "rb") as a, \
                open(os.path.join(d, "vol6.tap"), "rb") as b:
            assert a.read() == b.read()


def test_existing_symlink_name_is_replaced_not_followed():
    """A symbolic link planted at the final NAME is replaced by the rename
    (--overwrite=always), never written through."""
    with shared("sticky") as (_, d, victim):
        name = os.path.join(d, "vol7.tap")
        os.symlink(victim, name)      # root's own, so sticky rules allow it
        r = send("file://%s/vol7.tap" % d)
        err = r.stderr.decode(errors="replace")
        assert r.returncode != 0 and "already exists" in err, err
        r = send("file://%s/vol7.tap" % d, "--overwrite=always")
        assert r.returncode == 0, r.stderr
        published_ok(name)
        victim_intact(victim)


def test_swapped_directory_does_not_redirect(tmp_path):
    """The directory is opened once at mount: the other user renaming it
    away in the group-writable folder and putting a symbolic link to a
    root-only folder in its place during the upload does not move the
    image there; the manifest, a new upload at the end, refuses to follow
    their link."""
    need.need_fuse()
    need.need_binary(reelfs_binary())
    with shared("group") as (top, d, _victim):
        sub = os.path.join(d, "sub")
        os.mkdir(sub, 0o755)
        elsewhere = os.path.join(top, "private")
        mnt = tmp_path / "mnt"
        with Mount("file://%s/vol8.tap" % sub, mnt, allow_errors=[".*"],
                   expect_ok=False) as m:
            as_other("mv", sub, sub + ".moved")
            as_other("ln", "-s", elsewhere, sub)
            with open(m.tape, "wb") as f:
                f.write(b"x" * 10240 * 4)
        assert os.path.exists(os.path.join(sub + ".moved", "vol8.tap")), \
            m.stderr
        assert not os.path.exists(os.path.join(elsewhere, "vol8.tap"))
        assert not os.path.exists(os.path.join(elsewhere,
                                               "vol8.tap.manifest.json"))
        assert "is a symbolic link owned by user %s" % OTHER in m.stderr, \
            m.stderr


def test_own_directory_link_is_followed():
    """A link the user running the upload (here root) owns is the user's
    own path and is followed, also above the target (with --mkdir)."""
    with shared("sticky") as (top, d, _victim):
        real = os.path.join(top, "real")
        os.mkdir(real, 0o755)
        os.symlink(real, os.path.join(d, "mine"))
        r = send("file://%s/mine/vol11.tap" % d)
        assert r.returncode == 0, r.stderr
        published_ok(os.path.join(real, "vol11.tap"))
        r = send("file://%s/mine/sub/vol12.tap" % d, "--mkdir")
        assert r.returncode == 0, r.stderr
        published_ok(os.path.join(real, "sub", "vol12.tap"))
