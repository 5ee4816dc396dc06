"""Archivers other than GNU tar through a reelfs mount against a real vsftpd:
afio, pax, cpio and mbuffer (feeding tar) each write to MOUNT/tape; after
the unmount `reel cat` gives the archive back and the same tool restores a
tree equal to the source."""
import json

import pytest

from fscommon import (Mount, make_tree, need_mount_env, reel_binary, run,
                      vsftpd)
from need import need_binary

# tool -> (what it needs, shell command writing $TAPE from the directory
# holding data/, shell command restoring from stdin into the current dir)
TOOLS = {
    "cpio": (["cpio", "find"],
             "find data | cpio -o -H newc --block-size=20 -O \"$TAPE\"",
             "cpio -i -d -H newc --block-size=20 --no-absolute-filenames"),
    "pax": (["pax"],
            "pax -w -x ustar -b 10240 -f \"$TAPE\" data",
            "pax -r"),
    "afio": (["afio", "find"],
             "find data | afio -o -b 10240 \"$TAPE\"",
             "afio -i -b 10240 -"),
    "mbuffer": (["mbuffer", "tar"],
                # -f: MOUNT/tape is a regular file, not st's character
                # device, and mbuffer opens an existing file with O_EXCL.
                "tar -b 20 -cf - data | mbuffer -q -f -s 10240 -m 4M "
                "-o \"$TAPE\"",
                "tar -b 20 -xf -"),
}


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_tool_round_trip_through_mount(tmp_path, tool):
    needs, write, restore = TOOLS[tool]
    need_mount_env(*needs)
    reel = need_binary(reel_binary())
    src = tmp_path / "src"
    make_tree(src / "data", nfiles=12, size=150_000, seed=11)
    name = tool + ".mtd"
    with vsftpd(tmp_path) as srv:
        env = srv.env()
        with Mount(srv.url + name, tmp_path / "mnt", env=env) as m:
            env_w = dict(env, TAPE=str(m.tape))
            w = run(write, shell=True, cwd=src, env=env_w, timeout=300)
            assert w.returncode == 0, "%s wrote badly: %s%s" % (
                tool, w.stdout, w.stderr)
        # One tape file, written in the tool's records, and sound.
        v = run([reel, "verify", srv.url + name], env=env)
        assert v.returncode == 0, v.stdout + v.stderr
        mp = run([reel, "map", "--json", srv.url + name], env=env)
        assert mp.returncode == 0, mp.stderr
        mp = json.loads(mp.stdout)
        assert mp["file_count"] == 1, mp
        sizes = mp["files"][0]["sizes"]
        assert sizes[0]["size"] == 10240 and len(sizes) <= 2, sizes
        out = tmp_path / "out"
        out.mkdir()
        r = run("%s cat %s | %s" % (reel, srv.url + name, restore),
                shell=True, cwd=out, env=env, timeout=300)
        assert r.returncode == 0, "%s restore failed: %s%s" % (
            tool, r.stdout, r.stderr)
        d = run(["diff", "-r", str(src / "data"), str(out / "data")])
        assert d.returncode == 0, d.stdout + d.stderr
