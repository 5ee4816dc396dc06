"""Shared pytest setup: makes tests/lib importable, gives every pytest run
its own temporary directory (pytest's shared /tmp/pytest-of-USER is pruned
by other runs, which can pull a live FTP server's root from under a test),
and turns a run in which every test skipped into exit code 77, which meson
reports as SKIP."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))

_own_basetemp = None


def pytest_configure(config):
    global _own_basetemp
    if config.option.basetemp is None:
        _own_basetemp = tempfile.mkdtemp(prefix="reelfs-pytest-")
        config.option.basetemp = _own_basetemp


def pytest_unconfigure(config):
    # Images can be gigabytes; never leave them behind in /tmp.
    if _own_basetemp:
        shutil.rmtree(_own_basetemp, ignore_errors=True)


def pytest_sessionfinish(session, exitstatus):
    rep = session.config.pluginmanager.get_plugin("terminalreporter")
    if rep is None or exitstatus != 0:
        return
    passed = len(rep.stats.get("passed", []))
    skipped = len(rep.stats.get("skipped", []))
    if passed == 0 and skipped > 0:
        session.exitstatus = 77
