"""A manifest from a newer reelfs, with fields this one does not know, is
read by the `reel` tools as if the fields were not there (reel verify, ls,
manifest, cat), while a field it knows with a wrong type still makes the
manifest unreadable (docs/manifest.md, "Forward compatibility")."""
import json
import os
import pathlib

from reeltool import fails, ok, reel


def send_labelled(tmp_path, data):
    img = tmp_path / "VOL5.mtd"
    ok(reel("send", "--label", "DATA.BIN", img, stdin=data))
    return img


def rewrite(img, change):
    path = pathlib.Path(str(img) + ".manifest.json")
    m = json.loads(path.read_text())
    change(m)
    path.write_text(json.dumps(m, indent=2))


def add_unknown(m):
    # What a later writer might add: every JSON type, nested, at the top
    # and at each level of "labels".
    m["a_later_scalar"] = -12.5e3
    m["a_later_array"] = [1, "two", [3, [True, None]], {"four": 4}]
    m["a_later_object"] = {"nested": {"deeper": [{"x": 0.25}]}, "flag": False}
    m["labels"]["a_later_field"] = [1]
    m["labels"]["files"][0]["a_later_field"] = {"k": "v"}


def test_unknown_fields_are_ignored(tmp_path):
    data = os.urandom(100000)
    img = send_labelled(tmp_path, data)
    rewrite(img, add_unknown)
    r = ok(reel("verify", img))
    assert b"manifest agrees" in r.stdout
    j = json.loads(ok(reel("ls", "--json", tmp_path)).stdout)
    t = {t["name"]: t for t in j["tapes"]}["VOL5.mtd"]
    assert t["state"] == "complete" and t["manifest"] is True
    # reel manifest shows what it read: the known fields only.
    shown = ok(reel("manifest", img)).stdout.decode()
    assert "a_later" not in shown and '"volume": "VOL5"' in shown
    assert ok(reel("cat", img)).stdout == data


def test_known_field_with_wrong_type_still_refused(tmp_path):
    img = send_labelled(tmp_path, os.urandom(30000))

    def wrong(m):
        add_unknown(m)
        m["records"] = str(m["records"])
    rewrite(img, wrong)
    fails(reel("verify", img), "not a reelfs manifest", '"records"')
    fails(reel("manifest", img), "not a reelfs manifest")


def test_deep_unknown_value_refused(tmp_path):
    img = send_labelled(tmp_path, os.urandom(30000))
    path = pathlib.Path(str(img) + ".manifest.json")
    text = path.read_text().rstrip().rstrip("}")
    path.write_text(text + ', "deep": ' + "[" * 40 + "]" * 40 + "}\n")
    fails(reel("verify", img), "not a reelfs manifest", "nested more than 32 deep")
