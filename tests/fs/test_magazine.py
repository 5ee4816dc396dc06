"""One mount, a magazine of reels (--magazine, issue 11 points 6 and 7):
a URL template with %d names the slots; a full reel loads the next one by
itself (dd knows nothing of volumes), `mt offline` loads the next one for
tar -M -F; MOUNT/changer lists the slots; --append goes on after the last
reel. Real mounts against vsftpd on 127.0.0.1; the reels are read back with
`reel cat` and checked against tapeimg, the independent decoder."""
import contextlib
import json
import os
import re
import subprocess

import pytest

import need
import tapeimg
from fscommon import (Mount, image_files, is_mounted, make_tree, need_mount_env,
                      reel_binary, run, vsftpd)
from mount import MountFailed

MB = 1024 * 1024


def _changer(m):
    """MOUNT/changer as (header dict, {slot: line})."""
    head, slots = {}, {}
    for line in (m.mountpoint / "changer").read_text().splitlines():
        g = re.match(r"slot (\d+): (.*)$", line)
        if g:
            slots[int(g.group(1))] = g.group(2)
        else:
            k, _, v = line.partition(": ")
            head[k] = v
    return head, slots


def _manifest(srv, name):
    return json.loads((srv.root / (name + ".manifest.json")).read_text())


def _reel_cat(srv, name, out, follow=False, file=1):
    """`reel cat` of one reel (or the set from it, follow) into out."""
    args = [reel_binary(), "cat", "--file", str(file)] + ([] if follow else ["--single"])
    with open(out, "wb") as f:
        r = subprocess.run(args + [srv.url + name], stdout=f,
                           stderr=subprocess.PIPE, text=True, env=srv.env())
    return r


def _cat_one(srv, name, tmp_path):
    """The data of one reel alone (reel cat --single)."""
    out = tmp_path / (name + ".cat")
    r = _reel_cat(srv, name, out)
    assert r.returncode == 0, r.stderr
    return out.read_bytes()


def _check_links(srv, names):
    mans = [_manifest(srv, n) for n in names]
    assert len({m["storeset"] for m in mans}) == 1, mans
    assert [m["reel"] for m in mans] == list(range(1, len(names) + 1))
    assert mans[0]["prev"] is None and mans[-1]["next"] is None
    for a, b, na, nb in zip(mans, mans[1:], names, names[1:]):
        assert a["next"].endswith("/" + nb), (na, a["next"])
        assert b["prev"].endswith("/" + na), (nb, b["prev"])
    return mans


def test_dd_of_three_capacities_spills_onto_four_reels(tmp_path):
    """dd of 3x the capacity into one magazine mount, nothing pre-mounted:
    the drive publishes each full reel and loads the next slot by itself,
    four reels in all; MOUNT/changer shows them; the manifests carry one
    storeset, reels 1-4 and prev/next; the reels read back in order (reel
    cat per reel, and reel cat following the set) give the data byte for
    byte."""
    need_mount_env("dd")
    need.need_binary(reel_binary())
    cap = 4 * MB
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(3 * cap))
    names = ["set-%03d.mtd" % i for i in (1, 2, 3, 4)]
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "set-%03d.mtd", tmp_path / "mnt",
                   ["--magazine", "--capacity=%d" % cap], env=srv.env()) as m:
            assert sorted(os.listdir(m.mountpoint)) == ["changer", "status", "tape"]
            head, slots = _changer(m)
            assert head["loaded"] == "1" and slots[1].startswith("loaded writing")
            r = run(["dd", "if=%s" % src, "of=%s" % m.tape, "bs=64k"])
            assert r.returncode == 0, r.stderr
            head, slots = _changer(m)
            assert head["loaded"] == "4", head
            assert head["mode"] == "auto"
            for i in (1, 2, 3):
                assert slots[i].startswith("published set-%03d.mtd" % i), slots
            assert slots[4].startswith("loaded writing set-004.mtd"), slots
            assert slots[5] == "empty set-005.mtd", slots
            st = m.status()
            assert st["changer"].startswith("slot 4 loaded"), st
            assert st["url"].endswith("/set-004.mtd")
            # Reels 1-3 were published as soon as they were full.
            for n in names[:3]:
                assert (srv.root / n).exists()
        assert m.returncode == 0
        assert not (srv.root / "set-005.mtd").exists()
        assert not (srv.root / "set-005.mtd.part").exists()
        mans = _check_links(srv, names)
        assert all(m_["reel"] == i + 1 for i, m_ in enumerate(mans))
        data = b""
        for n in names:
            assert (srv.root / n).stat().st_size <= cap
            files = image_files(srv, n, "mtd")
            assert all(len(x) == 65536 for f in files for x in f)
            data += tapeimg.payload(files)
        assert data == src.read_bytes()
        whole = tmp_path / "whole.bin"
        r = _reel_cat(srv, names[0], whole, follow=True)
        assert r.returncode == 0, r.stderr
        assert whole.read_bytes() == src.read_bytes()
        # Read mode: the magazine loads its reels in order (slot 1, then
        # the next each manifest names); dd reads the records back whole.
        with Mount(srv.url + "set-%03d.mtd", tmp_path / "rd",
                   ["--read", "--magazine"], env=srv.env()) as m:
            head, slots = _changer(m)
            assert head["mode"] == "auto read" and head["loaded"] == "1", head
            assert slots[1].startswith("loaded found set-001.mtd"), slots
            assert slots[4].startswith("found set-004.mtd"), slots
            back = tmp_path / "back.bin"
            r = run(["dd", "if=%s" % m.tape, "of=%s" % back, "bs=64k"])
            assert r.returncode == 0, r.stderr
            assert back.read_bytes() == src.read_bytes()


def test_tar_multivolume_changes_reels_with_mt_offline(tmp_path):
    """tar -M -F 'mt -f MOUNT/tape offline' with --changer=manual: each
    full reel is end of tape (ENOSPC) to tar, its volume script unloads the
    reel (published) and tar's next open loads the next slot; three reels,
    linked (the manifest of an unloaded reel is made to name the next one
    when it is loaded), and tar -M -x of the reels read back with `reel
    cat` restores the tree byte for byte."""
    need_mount_env("tar", "mt")
    need.need_binary(reel_binary())
    tree = make_tree(tmp_path / "data", nfiles=10, size=2 * MB)
    names = ["tm-%d.mtd" % i for i in (1, 2, 3)]
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "tm-%d.mtd", tmp_path / "mnt",
                   ["--magazine", "--changer=manual", "--capacity=9M"],
                   env=srv.env()) as m:
            r = run(["tar", "-M", "-b", "20", "-F", "mt -f %s offline" % m.tape,
                     "-cf", str(m.tape), "-C", str(tmp_path), "data"],
                    stdin=subprocess.DEVNULL)
            assert r.returncode == 0, r.stderr
            head, slots = _changer(m)
            assert head["mode"] == "manual" and head["loaded"] == "3", head
            assert slots[1].startswith("published tm-1.mtd"), slots
            assert slots[2].startswith("published tm-2.mtd"), slots
            assert slots[3].startswith("loaded writing tm-3.mtd"), slots
            # mt offline by hand at the end: published, nothing loaded,
            # and no fourth reel appears.
            r = run(["mt", "-f", str(m.tape), "offline"])
            assert r.returncode == 0, r.stderr
            head, slots = _changer(m)
            assert head["loaded"] == "none", head
            assert slots[3].startswith("published tm-3.mtd"), slots
            assert slots[4] == "empty tm-4.mtd", slots
        assert not (srv.root / "tm-4.mtd").exists()
        _check_links(srv, names)
        vols = []
        for n in names:
            v = tmp_path / (n + ".tar")
            v.write_bytes(_cat_one(srv, n, tmp_path))
            vols.append(v)
        out = tmp_path / "restore"
        out.mkdir()
        cmd = ["tar", "-M", "-b", "20", "-x", "-C", str(out)]
        for v in vols:
            cmd += ["-f", str(v)]
        r = run(cmd, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        _same(tree, out, tmp_path, 11)
        # Read mode, reels changed by tar itself: tar -M -x with the same
        # volume script reads one reel per volume from the read mount.
        with Mount(srv.url + "tm-%d.mtd", tmp_path / "rd",
                   ["--read", "--magazine", "--changer=manual"], env=srv.env()) as m:
            out2 = tmp_path / "restore2"
            out2.mkdir()
            r = run(["tar", "-M", "-b", "20", "-F", "mt -f %s offline" % m.tape,
                     "-x", "-f", str(m.tape), "-C", str(out2)],
                    stdin=subprocess.DEVNULL)
            assert r.returncode == 0, r.stderr
            head, slots = _changer(m)
            assert head["loaded"] == "3" and slots[3].startswith("loaded found"), slots
        _same(tree, out2, tmp_path, 11)


def _same(tree, out, base, count):
    n = 0
    for p in tree.rglob("*"):
        if p.is_file():
            q = out / p.relative_to(base)
            assert q.read_bytes() == p.read_bytes(), "%s differs" % q
            n += 1
    assert n == count


def test_append_goes_on_after_the_last_reel(tmp_path):
    """A second backup with --append: the magazine finds reels 1-2 of the
    first one (listing, and reel 2's manifest for the storeset id), starts
    on slot 3 as reel 3 of the same set, and makes reel 2's manifest name
    it. Without --append the mount is refused, naming --append."""
    need_mount_env("dd")
    need.need_binary(reel_binary())
    cap = 2 * MB
    first = os.urandom(3 * MB)
    second = os.urandom(1 * MB)
    with vsftpd(tmp_path) as srv:
        url = srv.url + "ap-%02d.het"
        with Mount(url, tmp_path / "m1", ["--magazine", "--capacity=%d" % cap],
                   env=srv.env()) as m:
            r = run(["dd", "of=%s" % m.tape, "bs=32k"], input=None,
                    stdin=open(_write(tmp_path / "a.bin", first), "rb"))
            assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in srv.root.glob("ap-*.het")) == ["ap-01.het", "ap-02.het"]
        set_id = _manifest(srv, "ap-01.het")["storeset"]
        with pytest.raises(MountFailed) as e:
            with Mount(url, tmp_path / "m2", ["--magazine"], env=srv.env()):
                pass
        assert "--append" in e.value.stderr and e.value.returncode != 0
        with Mount(url, tmp_path / "m3", ["--magazine", "--append",
                                          "--capacity=%d" % cap], env=srv.env()) as m:
            head, slots = _changer(m)
            assert slots[1].startswith("found ap-01.het"), slots
            assert slots[2].startswith("found ap-02.het"), slots
            assert slots[3].startswith("loaded writing ap-03.het"), slots
            assert head["storeset"] == set_id, head
            r = run(["dd", "of=%s" % m.tape, "bs=32k"],
                    stdin=open(_write(tmp_path / "b.bin", second), "rb"))
            assert r.returncode == 0, r.stderr
        names = ["ap-%02d.het" % i for i in (1, 2, 3)]
        assert sorted(p.name for p in srv.root.glob("ap-*.het")) == names
        _check_links(srv, names)
        # The set read from reel 1: the first backup is tape file 1 (reels
        # 1-2), the appended one tape file 2 (reel 3).
        for f, want in ((1, first), (2, second)):
            out = tmp_path / ("file%d.bin" % f)
            r = _reel_cat(srv, names[0], out, follow=True, file=f)
            assert r.returncode == 0, r.stderr
            assert out.read_bytes() == want, f
        # The same through a read mount of the magazine: each dd reads one
        # tape file, across reels 1-2, then reel 3.
        with Mount(url, tmp_path / "rd", ["--read", "--magazine"], env=srv.env()) as m:
            for f, want in ((1, first), (2, second)):
                out = tmp_path / ("rd%d.bin" % f)
                r = run(["dd", "if=%s" % m.tape, "of=%s" % out, "bs=32k"])
                assert r.returncode == 0, r.stderr
                assert out.read_bytes() == want, f


def _write(p, data):
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("template,why", [
    ("set.mtd", "has no %d"),
    ("set-%d-%d.mtd", "more than one conversion"),
    ("set-%s.mtd", "not a %d conversion"),
    ("set-%3d.mtd", "pads the slot number with spaces"),
    ("set-%05.2d.mtd", "not a %d conversion"),
    ("set-%x.mtd", "not a %d conversion"),
    ("dir%d/set.mtd", "in the directory"),
    ("set-%d%%.mtd", "not a %d conversion"),
    ("set-%011d.mtd", "over 10 digits"),
    ("%d", "nothing but the slot number"),
])
def test_a_bad_template_is_refused(tmp_path, template, why):
    """--magazine takes exactly one %d (or %0Nd) in the file name and
    nothing else; anything else is refused before anything is mounted, with
    a sentence that says what is wrong and what a template looks like."""
    need_mount_env()
    url = "file://%s/%s" % (tmp_path / "target", template)
    (tmp_path / "target").mkdir()
    with pytest.raises(MountFailed) as e:
        with Mount(url, tmp_path / "mnt", ["--magazine"]):
            pass
    assert e.value.returncode == 1
    assert why in e.value.stderr, e.value.stderr
    assert "set-%03d.mtd" in e.value.stderr and "nothing was mounted" in e.value.stderr
    assert not is_mounted(tmp_path / "mnt")
    assert os.listdir(tmp_path / "target") == []


def test_magazine_options_that_do_not_go_together(tmp_path):
    need_mount_env()
    (tmp_path / "t").mkdir()
    url = "file://%s/r-%%d.mtd" % (tmp_path / "t")
    for args, say in ([["--append"], "--append needs --magazine"],
                      [["--changer=manual"], "--changer needs --magazine"],
                      [["--magazine", "--reel=2"], "--reel cannot be given"],
                      [["--magazine", "--changer=sometimes"], "give auto"]):
        with pytest.raises(MountFailed) as e:
            with Mount(url, tmp_path / "mnt", args):
                pass
        assert say in e.value.stderr, (args, e.value.stderr)


def test_full_servers_carry_on_into_the_next_slots(tmp_path):
    """A magazine without --capacity on a server that keeps at most 8 MB
    per file: each reel's server fills up (552) after the drive accepted
    records it could not store; those records, still in the upload queue,
    go into the next slot's reel ahead of new ones (the --next chain's
    carrying over, into a volume this mount loads), each full reel is
    published cut at its last whole record (truncated_at), and `reel cat`
    of reel 1 piped to tar -x restores the whole tree.

    What a 552 catches unconfirmed must fit the next reel and still be in
    the replay window, whatever the load: it is at most --buffer (7 MiB,
    below the 8 MB a reel holds), and what is in flight (reelfs's socket
    send buffer, at most tcp_wmem's 4 MiB, plus the server's receive
    buffer, held at 256 KiB) stays within --replay (6 MiB). With the
    server's buffer autotuned and a 16 MiB queue, a loaded machine had
    12.9 MB unconfirmed, more than the next reel could take."""
    import servers
    need_mount_env("tar", "bash")
    need.need_binary(reel_binary())
    tree = make_tree(tmp_path / "data", nfiles=12, size=2 * MB)
    with servers.FaultFtpd(tmp_path / "fault", full_at=8 * MB,
                           extra=["--rcvbuf", str(256 * 1024)]) as srv:
        with Mount(srv.url + "full-%d.mtd", tmp_path / "mnt",
                   ["--magazine", "--buffer=7M", "--replay=6M"], env=srv.env(),
                   allow_errors=[r"carried onto the next reel"]) as m:
            r = run(["tar", "-b", "64", "-cf", str(m.tape), "-C", str(tmp_path), "data"])
            assert r.returncode == 0, r.stderr + m.status_path.read_text()
            head, slots = _changer(m)
        assert m.stderr.count("carried onto the next reel") >= 2, m.stderr
        # While mounted: the full reels were published as the server held
        # them (8 MB), the last one loaded.
        loaded = int(head["loaded"])
        assert loaded >= 3, slots
        for i in range(1, loaded):
            assert slots[i] == "published full-%d.mtd %d bytes 0 files" % (i, 8 * MB), slots
        # The last one may fill its server at unmount too: carried on again.
        names = sorted(p.name for p in srv.root.glob("full-*.mtd"))
        assert len(names) in (loaded, loaded + 1), (names, slots)
        names = ["full-%d.mtd" % i for i in range(1, len(names) + 1)]
        mans = _check_links(srv, names)
        for man, n in zip(mans[:-1], names):
            assert (srv.root / n).stat().st_size == 8 * MB
            assert 0 < man["truncated_at"] <= 8 * MB
        out = tmp_path / "restore"
        out.mkdir()
        r = run(["bash", "-o", "pipefail", "-c",
                 'cd "$3" && "$1" cat "$2" | tar -xf -', "restore",
                 reel_binary(), srv.url + names[0], str(out)], env=srv.env())
        assert r.returncode == 0, r.stderr
        n = 0
        for p in tree.rglob("*"):
            if p.is_file():
                q = out / p.relative_to(tmp_path)
                assert q.read_bytes() == p.read_bytes(), "%s differs" % q
                n += 1
        assert n == 13


def test_mbuffer_changes_reels_with_mt_offline(tmp_path):
    """mbuffer -A 'mt -f MOUNT/tape offline' with --changer=manual: at each
    end of tape (ENOSPC) mbuffer runs the command, which unloads the reel,
    and reopens the tape, which loads the next slot; the reels read back
    one by one and joined give the stream byte for byte."""
    need_mount_env("mbuffer", "mt")
    need.need_binary(reel_binary())
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(10 * MB))
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "mb-%d.aws", tmp_path / "mnt",
                   ["--magazine", "--changer=manual", "--capacity=4M"],
                   env=srv.env()) as m:
            with open(src, "rb") as f:
                r = run(["mbuffer", "-q", "-s", "64k", "-f", "-o", str(m.tape),
                         "-A", "mt -f %s offline" % m.tape], stdin=f)
            assert r.returncode == 0, r.stderr
            head, slots = _changer(m)
            assert head["loaded"] == "3", slots
        names = ["mb-%d.aws" % i for i in (1, 2, 3)]
        _check_links(srv, names)
        data = b"".join(_cat_one(srv, n, tmp_path) for n in names)
        assert data == src.read_bytes()


def test_offline_then_status_then_write_loads_the_next_slot(tmp_path):
    """After mt offline the drive is empty (mt status: not online), and
    asking its status does not load the reel back for reading: the next
    write loads slot 2, whose reel continues the set (reel 1's manifest,
    written without a next reel, is made to name it)."""
    need_mount_env("dd", "mt")
    a, b = os.urandom(300_000), os.urandom(200_000)
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "off-%d.e11", tmp_path / "mnt", ["--magazine"],
                   env=srv.env()) as m:
            r = run(["dd", "of=%s" % m.tape, "bs=10k"], stdin=open(_write(tmp_path / "a", a), "rb"))
            assert r.returncode == 0, r.stderr
            assert run(["mt", "-f", str(m.tape), "offline"]).returncode == 0
            assert _manifest(srv, "off-1.e11")["next"] is None
            r = run(["mt", "-f", str(m.tape), "status"])
            assert r.returncode == 0 and "ONLINE" not in r.stdout, r.stdout
            head, slots = _changer(m)
            assert head["loaded"] == "none" and slots[2] == "empty off-2.e11", slots
            r = run(["dd", "of=%s" % m.tape, "bs=10k"], stdin=open(_write(tmp_path / "b", b), "rb"))
            assert r.returncode == 0, r.stderr
            head, slots = _changer(m)
            assert head["loaded"] == "2" and slots[1].startswith("published"), slots
            r = run(["mt", "-f", str(m.tape), "status"])
            assert "File number=1," in r.stdout, r.stdout  # the new reel's first file
        names = ["off-1.e11", "off-2.e11"]
        _check_links(srv, names)
        assert _cat_one(srv, names[0], tmp_path) == a
        assert _cat_one(srv, names[1], tmp_path) == b


def test_a_record_larger_than_a_reel_is_refused_not_spilled(tmp_path):
    """A record that does not fit on a whole empty reel is refused with
    ENOSPC where it is, instead of loading slot after slot."""
    need_mount_env("dd")
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "big-%d.mtd", tmp_path / "mnt",
                   ["--magazine", "--capacity=64K"], env=srv.env(),
                   allow_errors=[r"does not fit on a whole reel"]) as m:
            r = run(["dd", "if=/dev/zero", "of=%s" % m.tape, "bs=100k", "count=1"])
            assert r.returncode != 0 and "No space left" in r.stderr, r.stderr
            head, slots = _changer(m)
            assert head["loaded"] == "1", slots
        assert "does not fit on a whole reel" in m.stderr
        assert sorted(p.name for p in srv.root.glob("big-*.mtd")) == ["big-1.mtd"]


@pytest.mark.parametrize("how", ["magazine", "next-chain"])
def test_a_reel_that_ends_on_a_file_mark_keeps_the_boundary(tmp_path, how):
    """Tape file 1 ends (its mark is the last thing on reel 1) and the
    first record of file 2 does not fit: the reel ends with the file's mark
    and both end-of-data marks after it, so readers that join the reels
    (they drop the last two marks of every reel but the last) still see
    two files: `reel cat --file 1` and `--file 2` of reel 1 give each back,
    for a magazine and for a --next chain alike."""
    need_mount_env("dd")
    need.need_binary(reel_binary())
    cap = 1 * MB
    rec = 64 * 1024
    # File 1 fills reel 1 up to the last record that fits (15 records of
    # 64 KiB framed in 1 MiB), so file 2's first record spills.
    one = os.urandom(15 * rec)
    two = os.urandom(4 * rec)
    names = ["b-1.mtd", "b-2.mtd"]
    with vsftpd(tmp_path) as srv:
        with contextlib.ExitStack() as stack:
            if how == "magazine":
                m = stack.enter_context(Mount(srv.url + "b-%d.mtd", tmp_path / "m",
                                              ["--magazine", "--capacity=%d" % cap],
                                              env=srv.env()))
                tape, mounts = m.tape, [m]
            else:
                m2 = stack.enter_context(Mount(srv.url + names[1], tmp_path / "r2",
                                               ["--capacity=%d" % cap], env=srv.env()))
                m1 = stack.enter_context(Mount(srv.url + names[0], tmp_path / "r1",
                                               ["--capacity=%d" % cap, "--next=%s" % m2.tape],
                                               env=srv.env()))
                tape, mounts = m1.tape, [m1, m2]
            for data in (one, two):
                r = run(["dd", "of=%s" % tape, "bs=64k"],
                        stdin=open(_write(tmp_path / "in", data), "rb"))
                assert r.returncode == 0, r.stderr
            for mm in mounts:
                assert mm.unmount() == 0, mm.stderr
        files = image_files(srv, names[0], "mtd")
        assert len(files) == 1 and tapeimg.payload(files) == one
        for f, want in ((1, one), (2, two)):
            out = tmp_path / ("f%d" % f)
            r = _reel_cat(srv, names[0], out, follow=True, file=f)
            assert r.returncode == 0, r.stderr
            assert out.read_bytes() == want, f
