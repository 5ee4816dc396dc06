"""`reel cat` follows only the links it may follow (issue 9, point 6;
docs/security.md). A manifest is only as trustworthy as whoever can write
beside the image, so these tests forge manifests the way an attacker with a
shared folder would: a link into another user's mode-700 folder (absolute,
through `../`, through a file:// URL, through a symbolic link in the same
folder, through a symlinked subfolder), a link to an image that has no
manifest, to a reel of another storeset or with the wrong reel number, and
links on a server to another directory, login, port or scheme. Each is
refused with a sentence naming the reel and what is wrong, exit status 1,
and nothing of the other folder's data on stdout. Genuine storesets written
by `reel send` still restore whole, named in any of the usual ways, and
--set still reads reels the user names wherever they are, checking their
manifests against each other."""
import json
import os
import pathlib
import shutil

import pytest

from need import need_root, need_tool
from reeltool import fails, manifest, ok, reel, reel_path
from servers import Vsftpd


def send_set(d, data, n=3, capacity="200K", stem="vol", ext="mtd"):
    """A genuine storeset of n reels in directory d, written by reel send."""
    d.mkdir(parents=True, exist_ok=True)
    urls = [d / ("%s%d.%s" % (stem, i, ext)) for i in range(1, n + 1)]
    args = ["send", "--capacity", capacity]
    for u in urls[1:]:
        args += ["--next", u]
    ok(reel(*args, urls[0], stdin=data))
    return urls


def mpath(img):
    return pathlib.Path(str(img) + ".manifest.json")


def edit(img, **fields):
    """Rewrites img's manifest with fields changed (a hand-written forgery)."""
    m = manifest(img)
    m.update(fields)
    mpath(img).write_text(json.dumps(m))
    return m


@pytest.fixture
def secret(tmp_path):
    """Another user's folder: mode 700, owned by root, holding a genuine
    two-reel storeset whose data must never come out of a cat run on the
    attacker's reel. Returns (folder, reel urls, data)."""
    d = tmp_path / "secret"
    data = os.urandom(300000)
    urls = send_set(d, data, n=2)
    if os.geteuid() == 0:
        os.chown(d, 0, 0)
    os.chmod(d, 0o700)
    return d, urls, data


@pytest.fixture
def attacker(tmp_path, secret):
    """The attacker's folder: one small genuine reel of their own, whose
    manifest they then forge. Returns the reel's path."""
    d = tmp_path / "pub"
    d.mkdir()
    img = d / "vol1.mtd"
    ok(reel("send", img, stdin=b"attacker's own data\n" * 50))
    # The same storeset id as the secret set (ids are in every manifest the
    # victim shares, and the attacker may have seen one) and reel 1 of 2.
    edit(img, storeset=manifest(secret[1][1])["storeset"], reel=1, prev=None)
    return img


def no_secret(r, secret):
    _, _, data = secret
    assert data[:4096] not in r.stdout and data[-4096:] not in r.stdout


@pytest.mark.parametrize("how", ["absolute", "dotdot", "file-url", "subdir-link"])
def test_link_into_another_folder_is_refused(tmp_path, secret, attacker, how):
    d, urls, _ = secret
    target = urls[1]
    if how == "absolute":
        link = str(target)
    elif how == "dotdot":
        link = "../secret/" + target.name
    elif how == "file-url":
        link = "file://" + str(target)
    else:
        (attacker.parent / "sub").symlink_to(d)
        link = "sub/" + target.name
    edit(attacker, next=link)
    r = fails(reel("cat", attacker), "vol1.mtd: its manifest links to",
              "in another directory", "--set")
    no_secret(r, secret)
    assert r.stdout == b""


def test_symlink_in_the_same_folder_is_refused(secret, attacker):
    _, urls, _ = secret
    (attacker.parent / "vol2.mtd").symlink_to(urls[1])
    (attacker.parent / "vol2.mtd.manifest.json").symlink_to(mpath(urls[1]))
    edit(attacker, next="vol2.mtd")
    r = fails(reel("cat", attacker), "a symbolic link", "vol2.mtd")
    no_secret(r, secret)
    # Even when the image is a plain file and only its manifest is a link,
    # the manifest is not read through it.
    (attacker.parent / "vol2.mtd").unlink()
    shutil.copy(attacker, attacker.parent / "vol2.mtd")
    r = fails(reel("cat", attacker), "vol2.mtd.manifest.json is a symbolic link")
    no_secret(r, secret)


def test_prev_link_into_another_folder_is_refused(secret, attacker):
    # The walk back to the first reel is held to the same rule.
    _, urls, _ = secret
    edit(attacker, reel=2, prev=str(urls[0]), next=None)
    r = fails(reel("cat", attacker), "in another directory")
    no_secret(r, secret)


def test_link_to_a_reel_without_manifest_is_refused(tmp_path):
    data = os.urandom(500000)
    urls = send_set(tmp_path / "set", data)
    first = ok(reel("cat", "--single", urls[0])).stdout
    mpath(urls[1]).unlink()
    r = fails(reel("cat", urls[0]), "vol2.mtd has no manifest", "--set")
    # What came before the broken link is written out, nothing after it.
    assert r.stdout == first and len(first) < len(data)
    # A hand-written manifest naming an image someone else dropped in the
    # same folder (no manifest at all) is the original attack: refused.
    other = tmp_path / "set" / "theirs.mtd"
    ok(reel("send", other, stdin=b"not part of this set\n" * 100))
    mpath(other).unlink()
    edit(urls[0], next=str(other))
    r = fails(reel("cat", urls[0]), "theirs.mtd has no manifest")
    assert b"not part of this set" not in r.stdout


def test_wrong_storeset_reel_number_or_back_link_is_refused(tmp_path):
    data = os.urandom(500000)
    urls = send_set(tmp_path / "set", data)
    good = manifest(urls[1])
    first = ok(reel("cat", "--single", urls[0])).stdout

    edit(urls[1], storeset="another-set")
    r = fails(reel("cat", urls[0]), "vol2.mtd belongs to storeset another-set")
    assert r.stdout == first

    mpath(urls[1]).write_text(json.dumps(dict(good, reel=3)))
    fails(reel("cat", urls[0]), "vol2.mtd is reel 3, but the link to it "
          "expects reel 2")

    # Reel 2 of the same storeset, but it says another reel came before it.
    mpath(urls[1]).write_text(json.dumps(dict(good, prev=str(urls[2]))))
    fails(reel("cat", urls[0]), "as its previous reel", "chain of reels is broken")
    # Walking back from reel 2: reel 1 must name reel 2 as its next.
    mpath(urls[1]).write_text(json.dumps(good))
    edit(urls[0], next=str(urls[2]))
    fails(reel("cat", urls[1]), "as its next reel")


def test_genuine_storesets_restore_whole(tmp_path):
    data = os.urandom(500000)
    d = tmp_path / "set"
    urls = send_set(d, data)
    for name in (urls[0], urls[1], urls[2], "file://" + str(urls[0])):
        assert ok(reel("cat", name)).stdout == data
    # Named relative to the working directory, and through a symlinked
    # folder: the links (absolute paths) lead into the same directory.
    assert ok(reel("cat", "vol2.mtd", cwd=d)).stdout == data
    (tmp_path / "alias").symlink_to(d)
    assert ok(reel("cat", tmp_path / "alias" / "vol1.mtd")).stdout == data
    # Relative links, as a hand-written manifest of a genuine set holds.
    for i, u in enumerate(urls):
        edit(u, prev=urls[i - 1].name if i else None,
             next=urls[i + 1].name if i + 1 < len(urls) else None)
    assert ok(reel("cat", urls[2])).stdout == data
    # A genuine set written with relative names from its own folder.
    rel = tmp_path / "rel"
    rel.mkdir()
    ok(reel("send", "--capacity", "200K", "--next", "b.tap", "--next", "c.tap",
            "a.tap", stdin=data, cwd=rel))
    assert ok(reel("cat", rel / "b.tap")).stdout == data


def test_set_reads_reels_elsewhere_but_checks_their_manifests(tmp_path):
    data = os.urandom(500000)
    urls = send_set(tmp_path / "set", data)
    # The user names reels moved to other folders: read as named.
    moved = []
    for i, u in enumerate(urls):
        dest = tmp_path / ("elsewhere%d" % i)
        dest.mkdir()
        shutil.copy(u, dest)
        shutil.copy(mpath(u), dest)
        moved.append(dest / u.name)
    assert ok(reel("cat", "--set", *moved)).stdout == data
    # Without following links, cat from the first moved reel is refused.
    fails(reel("cat", moved[0]), "in another directory", "--set")
    # Reels out of order, or of another storeset, are refused by name.
    fails(reel("cat", "--set", moved[0], moved[2], moved[1]),
          "vol3.mtd is reel 3, but comes where reel 2 belongs")
    edit(moved[1], storeset="another-set")
    r = fails(reel("cat", "--set", *moved), "vol2.mtd belongs to storeset "
              "another-set")
    assert r.stdout == ok(reel("cat", "--single", moved[0])).stdout
    # An image without a manifest is the user's choice with --set.
    mpath(moved[1]).unlink()
    assert ok(reel("cat", "--set", *moved)).stdout == data


# ---- links on a server ----------------------------------------------------


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    need_root()
    need_tool("vsftpd")
    reel_path()
    with Vsftpd(tmp_path_factory.mktemp("vsftpd-links")) as s:
        yield s


def test_remote_links_stay_in_the_same_directory_and_login(srv):
    import pwd
    data = os.urandom(400000)
    env = srv.env()
    urls = [srv.url + "lk%d.mtd" % i for i in (1, 2)]
    ok(reel("send", "--capacity", "250K", "--next", urls[1], urls[0],
            stdin=data, env=env))
    # Another directory on the same server, holding a reel of the set.
    sub = srv.root / "other"
    sub.mkdir(exist_ok=True)
    pw = pwd.getpwnam(srv.user)
    os.chown(sub, pw.pw_uid, pw.pw_gid)
    shutil.copy(srv.root / "lk2.mtd", sub / "lk2.mtd")
    shutil.copy(srv.root / "lk2.mtd.manifest.json", sub / "lk2.mtd.manifest.json")
    first = srv.root / "lk1.mtd"
    good = manifest(first)
    host = "127.0.0.1:%d" % srv.port
    cases = [
        (srv.url + "other/lk2.mtd", "in another directory of that server"),
        # A relative link is one file name beside the reel ('/' encoded).
        ("other/lk2.mtd", "no file of that directory"),
        (srv.url + "other/%2e%2e/lk2.mtd", "in another directory"),
        (srv.url + "%2e%2e", "no file of that directory"),
        ("ftp://anonymous@%s/lk2.mtd" % host, "for another login"),
        ("ftp://%s/lk2.mtd" % host, "for another login"),
        ("ftp://%s@127.0.0.1:9/lk2.mtd" % srv.user, "on another server"),
        ("ftp://%s@localhost:%d/lk2.mtd" % (srv.user, srv.port), "on another server"),
        ("sftp://%s@%s/lk2.mtd" % (srv.user, host), "over another scheme"),
        ("/etc/passwd", "a local file"),
    ]
    try:
        for link, why in cases:
            mpath(first).write_text(json.dumps(dict(good, next=link)))
            r = fails(reel("cat", urls[0], env=env), "its manifest links to", why,
                      "--set")
            assert r.stdout == b"", link
            assert srv.password not in r.stderr
        # The genuine links, and a relative one, restore whole.
        mpath(first).write_text(json.dumps(good))
        assert ok(reel("cat", urls[1], env=env)).stdout == data
        mpath(first).write_text(json.dumps(dict(good, next="lk2.mtd")))
        assert ok(reel("cat", urls[0], env=env)).stdout == data
        # --user names the login for every reel: a link without a user (or
        # with another) then goes to the same login.
        mpath(first).write_text(json.dumps(dict(good, next="ftp://%s/lk2.mtd" % host)))
        plain = "ftp://%s/lk1.mtd" % host
        assert ok(reel("cat", "--user", srv.user, plain, env=env)).stdout == data
    finally:
        mpath(first).write_text(json.dumps(good))


def test_set_reads_a_cut_reel_up_to_truncated_at(tmp_path):
    # A reel cut by a full server (as the drive publishes it): no end of
    # data, a cut element after truncated_at. Following the links and with
    # --set alike, cat reads it up to truncated_at and goes on.
    data = os.urandom(300000)
    urls = send_set(tmp_path / "set", data, n=2)
    raw = urls[0].read_bytes()
    assert raw.endswith(b"\0" * 8)
    valid = raw[:-8]
    urls[0].write_bytes(valid + (70000).to_bytes(4, "little") + b"cut")
    edit(urls[0], truncated_at=len(valid), image_bytes=len(valid) + 7)
    assert ok(reel("cat", urls[0])).stdout == data
    assert ok(reel("cat", "--set", *urls)).stdout == data
