"""s3:// through the transfer layer (tests/ftp's xfer_send and xfer_get)
against a real Ceph RADOS Gateway on 127.0.0.1: a multipart upload and its
read-back (whole, ranged, listed), a part cut mid-way by a relay that drops
the connection (sent again from memory: the object is identical), a user
quota that ends the medium (exit 2: ENOSPC), and the one-sentence refusals
before any data: wrong secret, unknown key, missing bucket, a credentials
file others can read. The secret never shows in argv, messages or logs."""
import os
import subprocess
import time

import pytest

from s3help import Relay, gateway, tool

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    with gateway(tmp_path_factory) as c:
        c.bucket("tapes")
        yield c


def send(url, data, env, *opts):
    return subprocess.run([tool("tests", "ftp", "xfer_send"), url, *opts],
                          input=data, env=env, capture_output=True, timeout=300)


def get(env, *args):
    return subprocess.run([tool("tests", "ftp", "xfer_get"), *args], env=env,
                          capture_output=True, timeout=300)


def test_multipart_roundtrip(gw):
    data = os.urandom(23 * MiB + 4321)
    r = send("s3://tapes/rt/t1.img", data, gw.env(), "--s3-part-size", "5M",
             "--buffer", "11M", "--debug=brief")
    err = r.stderr.decode()
    assert r.returncode == 0, err
    assert "published=1" in r.stdout.decode()
    assert gw.secret not in err and "Authorization: ****" in err
    assert err.count("partNumber=") == 5          # 4 full parts and the rest
    g = get(gw.env(), "cat", "s3://tapes/rt/t1.img")
    assert g.returncode == 0, g.stderr
    assert g.stdout == data
    g = get(gw.env(), "fetch", "s3://tapes/rt/t1.img", str(5 * MiB - 7), "100")
    assert g.stdout == data[5 * MiB - 7:5 * MiB + 93]
    g = get(gw.env(), "ls", "s3://tapes/rt/")
    assert g.returncode == 0, g.stderr
    assert " %d " % len(data) in g.stdout.decode() and "t1.img" in g.stdout.decode()
    # No multipart upload is left behind.
    code, body = gw.curl("GET", "/tapes?uploads=")
    assert code == 200 and b"<Upload>" not in body


def test_empty_and_small(gw):
    assert send("s3://tapes/e.img", b"", gw.env()).returncode == 0
    g = get(gw.env(), "stat", "s3://tapes/e.img")
    assert g.returncode == 0 and g.stdout.split()[0] == b"0", g
    assert send("s3://tapes/s.img", b"x" * 1000, gw.env()).returncode == 0
    assert get(gw.env(), "cat", "s3://tapes/s.img").stdout == b"x" * 1000


def test_existing_name_is_kept(gw):
    assert send("s3://tapes/keep.img", b"one", gw.env()).returncode == 0
    r = send("s3://tapes/keep.img", b"two", gw.env())
    assert r.returncode == 1 and "already exists" in r.stderr.decode()
    assert get(gw.env(), "cat", "s3://tapes/keep.img").stdout == b"one"
    assert send("s3://tapes/keep.img", b"two", gw.env(), "--overwrite=always").returncode == 0
    assert get(gw.env(), "cat", "s3://tapes/keep.img").stdout == b"two"


def test_part_cut_midway_is_sent_again(gw):
    data = os.urandom(16 * MiB + 99)
    with Relay(gw.port, cut_after=7 * MiB) as relay:
        env = gw.env(REELFS_S3_ENDPOINT=relay.endpoint)
        r = send("s3://tapes/cut.img", data, env, "--s3-part-size", "5M",
                 "--buffer", "11M")
        err = r.stderr.decode()
        assert relay.cuts == 1
    assert r.returncode == 0, err
    assert "sending the part again from memory" in err and "part 2 " in err
    assert get(gw.env(), "cat", "s3://tapes/cut.img").stdout == data


def test_wrong_secret_before_any_data(gw):
    env = gw.env(AWS_SECRET_ACCESS_KEY="not-the-secret-0123456789")
    r = send("s3://tapes/w.img", b"data", env)
    err = r.stderr.decode()
    assert r.returncode == 1
    assert "secret key" in err and "SignatureDoesNotMatch" in err
    assert "nothing was written" in err and "not-the-secret" not in err
    assert err.count("\n") == 1


def test_unknown_key_and_missing_bucket(gw):
    r = send("s3://tapes/w.img", b"d", gw.env(AWS_ACCESS_KEY_ID="NOSUCHKEY0123"))
    assert r.returncode == 1 and "InvalidAccessKeyId" in r.stderr.decode()
    r = send("s3://nosuchbucket/w.img", b"d", gw.env())
    assert r.returncode == 1 and "does not exist" in r.stderr.decode()
    r = send("s3://tapes/w.img", b"d", gw.env(REELFS_S3_ENDPOINT=""))
    assert r.returncode == 1 and "--s3-endpoint" in r.stderr.decode()


def test_credentials_file(gw, tmp_path):
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    cred = home / ".aws" / "credentials"
    cred.write_text("[default]\naws_access_key_id = wrong\naws_secret_access_key = x\n"
                    "[rgw]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (gw.access, gw.secret))
    env = gw.env(HOME=str(home))
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    cred.chmod(0o644)
    r = send("s3://tapes/p.img", b"p", env, "--s3-profile", "rgw")
    assert r.returncode == 1 and "chmod 600" in r.stderr.decode()
    cred.chmod(0o600)
    r = send("s3://tapes/p.img", b"p", env, "--s3-profile", "rgw")
    assert r.returncode == 0, r.stderr
    r = send("s3://tapes/p2.img", b"p", env, "--s3-profile", "nosuch")
    assert r.returncode == 1 and "[nosuch]" in r.stderr.decode()


def test_quota_is_end_of_medium(gw):
    gw.quota(12 * MiB)
    try:
        data = os.urandom(30 * MiB)
        r = send("s3://tapes/q.img", data, gw.env(), "--s3-part-size", "5M",
                 "--buffer", "11M")
        err = r.stderr.decode()
        assert r.returncode == 2, err
        assert "QuotaExceeded" in err
    finally:
        gw.admin("quota", "disable", "--quota-scope=user", "--uid", "reeltest")
    g = get(gw.env(), "stat", "s3://tapes/q.img")
    assert g.returncode != 0          # never published
    code, body = gw.curl("GET", "/tapes?uploads=")
    assert b"<Key>q.img</Key>" not in body    # aborted, not left listed


def test_clock_skew_is_one_sentence(gw):
    import shutil
    if not shutil.which("faketime"):
        pytest.skip("faketime is not installed (Debian package faketime)")
    env = gw.env()
    # An ASan build must let faketime's library be preloaded before it.
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                 "verify_asan_link_order=0"]))
    r = subprocess.run(["faketime", "-f", "+1h", tool("tests", "ftp", "xfer_send"),
                        "s3://tapes/skew.img"], input=b"d", env=env,
                       capture_output=True, timeout=120)
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert "clock" in err and "RequestTimeTooSkewed" in err and "nothing was written" in err
    assert err.count("\n") == 1


def test_one_writer_per_key_and_leftovers(gw):
    """A second upload of a key another one is writing is refused before
    any data; once that writer is killed outright (its multipart upload left
    on the gateway), --overwrite=always replaces the leftover and aborts it."""
    first = subprocess.Popen([tool("tests", "ftp", "xfer_send"), "s3://tapes/one.img",
                              "--s3-part-size", "5M", "--buffer", "11M"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=gw.env())
    try:
        first.stdin.write(os.urandom(6 * MiB))   # one part goes out
        first.stdin.flush()
        deadline = time.monotonic() + 60
        while b"<Key>one.img</Key>" not in gw.curl("GET", "/tapes?uploads=")[1]:
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        r = send("s3://tapes/one.img", b"second", gw.env())
        err = r.stderr.decode()
        assert r.returncode == 1 and "another upload to this name is running" in err, err
        first.kill()
        first.wait()
        r = send("s3://tapes/one.img", b"second", gw.env(), "--overwrite=always")
        assert r.returncode == 0, r.stderr
        assert "left by an earlier upload" in r.stderr.decode()
        assert get(gw.env(), "cat", "s3://tapes/one.img").stdout == b"second"
        assert b"<Key>one.img</Key>" not in gw.curl("GET", "/tapes?uploads=")[1]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        first.stdin.close()
        first.stderr.close()
