"""reeltool.py - runs the built `reel` for the tools tests and checks its
messages: one clear sentence on stderr, never a traceback-like dump, never
a password."""
import json
import pathlib
import subprocess

from need import build_dir, need_binary


def reel_path():
    return need_binary(pathlib.Path(build_dir()) / "tools" / "reel")


def reel(*args, stdin=None, env=None, timeout=300, cwd=None, stdout=None):
    """Runs reel with args; stdin is bytes or a file object, stdout a file
    object or None (captured). Returns the CompletedProcess with stdout as
    bytes and stderr as text."""
    kw = {"stderr": subprocess.PIPE}
    kw["stdout"] = stdout if stdout is not None else subprocess.PIPE
    if isinstance(stdin, (bytes, bytearray)):
        kw["input"] = stdin
    elif stdin is not None:
        kw["stdin"] = stdin
    else:
        kw["stdin"] = subprocess.DEVNULL
    r = subprocess.run([reel_path(), *map(str, args)],
                       env=env, timeout=timeout, cwd=cwd, **kw)
    r.stderr = r.stderr.decode(errors="replace")
    return r


def ok(r):
    assert r.returncode == 0, "reel failed (%d): %s" % (r.returncode, r.stderr)
    return r


def fails(r, *phrases, code=1):
    """The run failed with exit status code and each phrase in stderr."""
    assert r.returncode == code, "exit %d, wanted %d; stderr: %s" % (
        r.returncode, code, r.stderr)
    for p in phrases:
        assert p in r.stderr, "%r not in stderr: %s" % (p, r.stderr)
    assert r.stderr.startswith("reel"), r.stderr
    assert "Sanitizer" not in r.stderr and "core dumped" not in r.stderr
    return r


def map_json(target, *extra, env=None):
    r = ok(reel("map", "--json", *extra, target, env=env))
    return json.loads(r.stdout)


def manifest(path):
    return json.loads(pathlib.Path(str(path) + ".manifest.json").read_text())


def chunks(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]
