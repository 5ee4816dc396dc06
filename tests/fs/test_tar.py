"""reelfs with GNU tar and mt: every format, tape files, marks, mt status.
Real mounts against a real vsftpd on 127.0.0.1."""
import re

import pytest

import tapeimg
from fscommon import (Mount, image_files, make_tree, need_mount_env,
                      reel_binary, reel_check, run, tar_list, vsftpd)


def _hetmap_counts(path):
    r = run(["hetmap", "-f", str(path)])
    assert r.returncode == 0, r.stdout + r.stderr
    blocks = [int(x) for x in re.findall(r"^Blocks\s*:\s*(\d+)", r.stdout, re.M)]
    # The per-file lines, then the summary's total.
    return blocks[:-1], blocks[-1]


@pytest.mark.parametrize("fmt,ext", [("mtd", "mtd"), ("simh", "tap"),
                                     ("e11", "e11"), ("aws", "aws"),
                                     ("het", "het")])
def test_tar_b64_one_file_all_32k(tmp_path, fmt, ext):
    need_mount_env("tar")
    if fmt in ("aws", "het"):
        need_mount_env("hetmap")
    tree = make_tree(tmp_path / "data")
    name = "backup." + ext
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + name, tmp_path / "mnt", ["--format=" + fmt],
                   env=srv.env()) as m:
            r = run(["tar", "-b", "64", "-cf", str(m.tape), "-C", str(tmp_path), "data"])
            assert r.returncode == 0, r.stderr
        files = image_files(srv, name, fmt)
        assert len(files) == 1
        assert files[0] and all(len(rec) == 32768 for rec in files[0])
        names = tar_list(tapeimg.payload(files), tmp_path)
        assert "data/notes.txt" in names and "data/sub/f01.bin" in names
        assert (srv.root / (name + ".manifest.json")).exists()
        assert not (srv.root / (name + ".part")).exists()
        mp = reel_check(srv.root / name)
        if mp is not None:
            assert mp["format"] == fmt and mp["file_count"] == 1
            assert mp["files"][0]["sizes"] == [{"size": 32768, "count": len(files[0])}]
            cat = run("%s cat --single %s | tar -t" % (reel_binary(), srv.root / name),
                      shell=True)
            assert cat.returncode == 0 and "data/notes.txt" in cat.stdout.split(), cat.stderr
        if fmt in ("aws", "het"):
            per_file, total = _hetmap_counts(srv.root / name)
            assert per_file[0] == len(files[0]) and total == len(files[0])


def test_two_archives_make_two_files_and_weof_an_empty_one(tmp_path):
    need_mount_env("tar", "mt")
    make_tree(tmp_path / "data", nfiles=2)
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "two.mtd", tmp_path / "mnt", env=srv.env()) as m:
            for _ in range(2):
                r = run(["tar", "-b", "20", "-cf", str(m.tape), "-C", str(tmp_path), "data"])
                assert r.returncode == 0, r.stderr
            r = run(["mt", "-f", str(m.tape), "weof"])
            assert r.returncode == 0, r.stderr
            r = run(["tar", "-b", "20", "-cf", str(m.tape), "-C", str(tmp_path), "data/notes.txt"])
            assert r.returncode == 0, r.stderr
        files = image_files(srv, "two.mtd", "mtd")
        assert len(files) == 4
        assert files[2] == []
        assert tapeimg.payload([files[0]]) == tapeimg.payload([files[1]])
        assert tar_list(tapeimg.payload([files[3]]), tmp_path, 20) == ["data/notes.txt"]


def _mt_status(tape):
    r = run(["mt", "-f", str(tape), "status"])
    assert r.returncode == 0, r.stderr
    m = re.search(r"File number=(-?\d+), block number=(-?\d+)", r.stdout)
    assert m, r.stdout
    return int(m.group(1)), int(m.group(2)), r.stdout


def test_mt_status_file_and_block_numbers(tmp_path):
    need_mount_env("mt", "dd")
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "st.mtd", tmp_path / "mnt", env=srv.env()) as m:
            import os
            import stat
            st_tape, st_status = os.stat(m.tape), os.stat(m.status_path)
            assert stat.S_IMODE(st_tape.st_mode) == 0o600 and stat.S_ISREG(st_tape.st_mode)
            assert st_tape.st_uid == os.getuid() and st_tape.st_gid == os.getgid()
            assert stat.S_IMODE(st_status.st_mode) == 0o444
            assert sorted(os.listdir(m.mountpoint)) == ["status", "tape"]
            f, b, out = _mt_status(m.tape)
            assert (f, b) == (0, 0) and "BOT" in out and "ONLINE" in out
            with open(m.tape, "wb", buffering=0) as t:
                for _ in range(5):
                    t.write(b"x" * 4096)
                f, b, out = _mt_status(m.tape)
                assert (f, b) == (0, 5) and "BOT" not in out
            f, b, out = _mt_status(m.tape)  # close wrote a mark
            assert (f, b) == (1, 0) and "EOF" in out
            r = run(["mt", "-f", str(m.tape), "tell"])  # MTIOCPOS
            assert r.returncode == 0 and "At block 6." in r.stdout, r.stdout + r.stderr
            assert run(["mt", "-f", str(m.tape), "weof", "2"]).returncode == 0
            f, b, _ = _mt_status(m.tape)
            assert (f, b) == (3, 0)
            assert run(["mt", "-f", str(m.tape), "setblk", "1024"]).returncode == 0
            _, _, out = _mt_status(m.tape)
            assert "Tape block size 1024 bytes" in out
            st = m.status()
            # Marks with no record after them yet are not files (yet).
            assert st["files"] == "1" and st["records"] == "5"
            assert set(st) >= {"url", "format", "state", "files", "records", "bytes",
                               "image_bytes", "sent", "confirmed", "rate", "capacity",
                               "remaining", "reconnects", "last_error"}
            assert st["format"] == "mtd" and st["state"] == "writing"
            assert srv.url in st["url"] or srv.url[len("file://"):] in st["url"]
            assert srv.password not in st["url"]
        files = image_files(srv, "st.mtd", "mtd")
        assert [len(f) for f in files] == [5]


def test_offline_publishes_and_later_writes_fail(tmp_path):
    need_mount_env("mt")
    with vsftpd(tmp_path) as srv:
        with Mount(srv.url + "off.mtd", tmp_path / "mnt", env=srv.env(),
                   allow_errors=[r"rewound or unloaded", r"mt fsf .* not supported"]) as m:
            with open(m.tape, "wb", buffering=0) as t:
                t.write(b"r" * 1000)
            r = run(["mt", "-f", str(m.tape), "fsf", "1"])
            assert r.returncode != 0
            r = run(["mt", "-f", str(m.tape), "offline"])
            assert r.returncode == 0, r.stderr
            # Published before the ioctl returned.
            assert (srv.root / "off.mtd").exists()
            assert (srv.root / "off.mtd.manifest.json").exists()
            with pytest.raises(OSError):
                with open(m.tape, "wb", buffering=0) as t:
                    t.write(b"late")
            assert m.status()["state"] == "published"
        files = image_files(srv, "off.mtd", "mtd")
        assert files == [[b"r" * 1000]]
        assert "rewound or unloaded" in m.stderr


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_signal_finishes_the_volume(tmp_path, sig):
    import os
    import signal
    import time
    need_mount_env()
    with vsftpd(tmp_path) as srv:
        m = Mount(srv.url + "sig.mtd", tmp_path / "mnt", env=srv.env())
        with m:
            with open(m.tape, "wb", buffering=0) as t:
                t.write(b"s" * 512)
            os.kill(m.pid, getattr(signal, sig))
            m.proc.wait(timeout=60)
        assert m.returncode == 0, m.stderr
        assert "published" in m.stderr and "elapsed" in m.stderr and "CPU" in m.stderr
        assert image_files(srv, "sig.mtd", "mtd") == [[b"s" * 512]]
