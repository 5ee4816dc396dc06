"""need.py - skip a test, with a message saying what is missing, when the
machine lacks something it needs (root, /dev/fuse, a Debian tool, a built
binary). Never use it to hide a failure: it only looks at the environment."""
import os
import shutil

import pytest


def need_root():
    """Skips unless running as root (vsftpd's jail and FUSE mounts need it)."""
    if os.geteuid() != 0:
        pytest.skip("root is missing: this test must run as root")


def need_fuse():
    """Skips unless /dev/fuse can be opened and fusermount3 exists."""
    if not os.path.exists("/dev/fuse"):
        pytest.skip("/dev/fuse is missing: the kernel has no FUSE device here")
    try:
        fd = os.open("/dev/fuse", os.O_RDWR)
        os.close(fd)
    except OSError as e:
        pytest.skip("/dev/fuse is missing: cannot open it (%s)" % e.strerror)
    if shutil.which("fusermount3") is None and os.geteuid() != 0:
        pytest.skip("fusermount3 is missing: install Debian's fuse3")


def need_tool(name):
    """Skips unless the program name is on PATH (or is an absolute path that
    exists); returns its full path."""
    path = name if os.path.isabs(name) else shutil.which(name)
    if path is None or not os.access(path, os.X_OK):
        pytest.skip("%s is missing: install it (tools/setup-debian)" % name)
    return path


def need_binary(path):
    """Skips unless a binary of this build exists; returns its path as str."""
    path = str(path)
    if not os.access(path, os.X_OK):
        pytest.skip("%s is missing: build it first (ninja -C BUILD)" % path)
    return path


def build_dir():
    """The meson build root ($REELFS_BUILD), or skip when not under meson."""
    b = os.environ.get("REELFS_BUILD")
    if not b:
        pytest.skip("REELFS_BUILD is missing: run the tests with meson test")
    return b
