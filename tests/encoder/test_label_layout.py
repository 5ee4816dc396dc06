"""Independent checks of the ANSI labels reelfs writes.

1. Every field of every label in an image written by the label layer
   (tests/encoder/write_labelled) is checked against a description written
   here from ECMA-13 (4th edition, "File Structure and Labelling of Magnetic
   Tapes for Information Interchange") and DEC's use of the fields ECMA-13
   leaves to systems. The table counts character positions from 1 as
   ECMA-13 does and is not derived from encoder/label_fields.h. The image
   is read with tests/lib/tapeimg.py, not with reelfs's decoder.
2. Hercules' hetmap -l (Debian's hercules) prints the VOL1/HDR1/HDR2/EOF1/
   EOF2 labels of the AWS and HET images as we wrote them.
"""
import os
import re
import subprocess
import time

import pytest

import tapeimg
from need import need_binary, need_tool

BUILD = os.environ.get("REELFS_BUILD", "build")
WRITER = os.path.join(BUILD, "tests", "encoder", "write_labelled")
FORMATS = ["mtd", "simh", "e11", "aws", "het"]
CREATED = 1796000000          # 2026-11-30: c = '0'
CREATED_1999 = 930000000      # 1999-06-22 (UTC): c = ' '

# ECMA-13 label fields: (first character position, last position, name).
VOL1 = [(1, 3, "label identifier"), (4, 4, "label number"),
        (5, 10, "volume identifier"), (11, 11, "accessibility"),
        (12, 24, "reserved"), (25, 37, "implementation identifier"),
        (38, 51, "owner identifier"), (52, 79, "reserved"),
        (80, 80, "label standard version")]
HDR1 = [(1, 3, "label identifier"), (4, 4, "label number"),
        (5, 21, "file identifier"), (22, 27, "file set identifier"),
        (28, 31, "file section number"), (32, 35, "file sequence number"),
        (36, 39, "generation number"), (40, 41, "generation version number"),
        (42, 47, "creation date"), (48, 53, "expiration date"),
        (54, 54, "accessibility"), (55, 60, "block count"),
        (61, 73, "implementation identifier"), (74, 80, "reserved")]
# HDR2: ECMA-13 defines 5-15 and 51-52; 16-50 are the system's, where DEC
# puts the carriage control (form control) at 37.
HDR2 = [(1, 3, "label identifier"), (4, 4, "label number"),
        (5, 5, "record format"), (6, 10, "block length"),
        (11, 15, "record length"), (16, 36, "system (DEC: blank)"),
        (37, 37, "carriage control"), (38, 50, "system (DEC: blank)"),
        (51, 52, "buffer offset length"), (53, 80, "reserved")]
# HDR3 (DEC): the RMS file attribute area, 32 bytes, as 64 hex digits in
# positions 5-68, eight longwords each most significant digit first.
HDR3 = [(1, 3, "label identifier"), (4, 4, "label number"),
        (5, 68, "RMS attributes"), (69, 80, "reserved")]
# HDR4 (DEC): a blank, then the file identifier's characters after the
# 17th in 6-67, and their count in 68-69.
HDR4 = [(1, 3, "label identifier"), (4, 4, "label number"), (5, 5, "blank"),
        (6, 67, "file identifier continued"), (68, 69, "characters used"),
        (70, 80, "reserved")]


def fields(label, table):
    """The label as {name: text}; the table must cover positions 1-80 once."""
    assert len(label) == 80
    covered = []
    out = {}
    for first, last, name in table:
        covered.extend(range(first, last + 1))
        text = label[first - 1:last].decode("ascii")
        out[name] = out.get(name, "") + text if name in out else text
    assert covered == list(range(1, 81)), "table does not cover 1-80"
    return out


def ansi_date(t):
    tm = time.localtime(t)
    c = " " if tm.tm_year < 2000 else str(tm.tm_year // 100 - 20)
    return "%s%02d%03d" % (c, tm.tm_year % 100, tm.tm_yday)


def write(tmp_path, fmt, volid, owner, files, created=CREATED):
    need_binary(WRITER)
    out = tmp_path / ("img." + fmt)
    args = [WRITER, fmt, str(out), volid, str(created), owner]
    args += ["%s:%d:%d" % f for f in files]
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def data_of(fileno, count, blen):
    return [bytes((fileno * 31 + r * 7 + i) & 0xff for i in range(blen))
            for r in range(count)]


def check_vol1(lab, volid, owner):
    f = fields(lab, VOL1)
    assert f["label identifier"] + f["label number"] == "VOL1"
    assert f["volume identifier"] == volid.ljust(6)
    assert f["accessibility"] == " "
    assert f["reserved"] == " " * (13 + 28)
    assert f["implementation identifier"] == " " * 13
    assert f["owner identifier"] == owner.ljust(14)
    assert f["label standard version"] == "3"


def check_hdr1(lab, kind, name, set_id, seq, blocks, created):
    f = fields(lab, HDR1)
    assert f["label identifier"] + f["label number"] == kind + "1"
    assert f["file identifier"] == name[:17].ljust(17)
    assert f["file set identifier"] == set_id.ljust(6)
    assert f["file section number"] == "0001"
    assert f["file sequence number"] == "%04d" % seq
    assert f["generation number"] == "0001"
    assert f["generation version number"] == "00"
    assert f["creation date"] == ansi_date(created)
    assert f["expiration date"] == " 00000"
    assert f["accessibility"] == " "
    assert f["block count"] == "%06d" % blocks
    assert f["implementation identifier"] == "DECFILE11A   "
    assert f["reserved"] == " " * 7


def check_hdr2(lab, kind, blen):
    f = fields(lab, HDR2)
    assert f["label identifier"] + f["label number"] == kind + "2"
    assert f["record format"] == "F"
    assert f["block length"] == "%05d" % blen
    assert f["record length"] == "%05d" % blen
    assert f["system (DEC: blank)"] == " " * (21 + 13)
    assert f["carriage control"] == "M"
    assert f["buffer offset length"] == "00"
    assert f["reserved"] == " " * 28


def check_hdr3(lab, kind, blen):
    f = fields(lab, HDR3)
    assert f["label identifier"] + f["label number"] == kind + "3"
    hexa = f["RMS attributes"]
    assert re.fullmatch(r"[0-9A-F]{64}", hexa), hexa
    longs = [int(hexa[i:i + 8], 16) for i in range(0, 64, 8)]
    # FAT: byte 0 record type (1 = fixed, sequential), 1 attributes,
    # 2-3 record size; 4-7 highest block; 8-11 end-of-file block (high
    # word first); 12-13 first free byte; 16-17 maximum record size.
    assert longs[0] & 0xff == 1
    assert (longs[0] >> 8) & 0xff == 0
    assert longs[0] >> 16 == blen
    assert longs[1] == 0
    assert longs[2] == 1 << 16          # EFBLK = 1, words swapped
    assert longs[3] == 0
    assert longs[4] & 0xffff == blen
    assert longs[5:] == [0, 0, 0]
    assert f["reserved"] == " " * 12


def check_hdr4(lab, kind, name):
    f = fields(lab, HDR4)
    assert f["label identifier"] + f["label number"] == kind + "4"
    assert f["blank"] == " "
    assert f["file identifier continued"] == name[17:].ljust(62)
    assert f["characters used"] == "%02d" % (len(name) - 17)
    assert f["reserved"] == " " * 11


def check_group(labs, kind, name, set_id, seq, blocks, blen, created):
    check_hdr1(labs[0], kind, name, set_id, seq, blocks, created)
    check_hdr2(labs[1], kind, blen)
    check_hdr3(labs[2], kind, blen)
    if len(name) > 17:
        assert len(labs) == 4
        check_hdr4(labs[3], kind, name)
    else:
        assert len(labs) == 3


FILES = [("saveset.bck", 8192, 3),
         ("a_long_file_name_for_the_hdr4_label.dat", 800, 2),
         ("empty", 512, 0),
         ("Odd name~1", 2049, 1)]
CONVERTED = ["SAVESET.BCK", "A_LONG_FILE_NAME_FOR_THE_HDR4_LABEL.DAT", "EMPTY",
             "ODD_NAME_1"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("created", [CREATED, CREATED_1999])
def test_every_label_field(tmp_path, fmt, created):
    img = write(tmp_path, fmt, "tape01", "d%c owner", FILES, created)
    ev = tapeimg.events(img.read_bytes(), fmt)
    pos = 0

    def take_records():
        nonlocal pos
        out = []
        while pos < len(ev) and ev[pos] is not None:
            out.append(ev[pos])
            pos += 1
        assert pos < len(ev), "image ends without a tape mark"
        pos += 1                            # the tape mark
        return out

    assert len(ev[0]) == 80
    check_vol1(ev[0], "TAPE01", "D%C_OWNER")
    pos = 1
    for i, (_, blen, count) in enumerate(FILES):
        name = CONVERTED[i]
        hdrs = take_records()
        assert all(len(h) == 80 for h in hdrs)
        check_group(hdrs, "HDR", name, "TAPE01", i + 1, 0, blen, created)
        assert take_records() == data_of(i, count, blen)
        check_group(take_records(), "EOF", name, "TAPE01", i + 1, count, blen, created)
    assert ev[pos:] == [None], "the volume must end with one more tape mark"


def hetmap_labels(path):
    exe = need_tool("hetmap")
    r = subprocess.run([exe, "-l", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    labels, cur = [], None
    for line in r.stdout.splitlines():
        m = re.match(r"^(.+?)\s*: '(.*)'$", line)
        if not m:
            continue
        key, val = m.group(1), m.group(2)
        if key == "Label":
            cur = {"Label": val}
            labels.append(cur)
        elif cur is not None:
            cur[key] = val
    return labels


@pytest.mark.parametrize("fmt", ["aws", "het"])
def test_hetmap_reads_our_labels(tmp_path, fmt):
    need_tool("hetmap")
    files = [("saveset.bck", 8192, 3), ("second_file_with_long_name.dat", 65535, 2)]
    img = write(tmp_path, fmt, "HERC01", "", files)
    labels = hetmap_labels(img)
    kinds = [l["Label"] for l in labels]
    assert kinds == ["VOL1", "HDR1", "HDR2", "EOF1", "EOF2",
                     "HDR1", "HDR2", "EOF1", "EOF2"], kinds
    assert labels[0]["Volume Serial"] == "HERC01"
    names = ["SAVESET.BCK", "SECOND_FILE_WITH_"]
    for i, (_, blen, count) in enumerate(files):
        h1, h2, e1, e2 = labels[1 + 4 * i:5 + 4 * i]
        for lab, blocks in ((h1, 0), (e1, count)):
            assert lab["Dataset ID"] == names[i].ljust(17)
            assert lab["Volume Serial"] == "HERC01"
            assert lab["Volume Sequence"] == "0001"
            assert lab["Dataset Sequence"] == "%04d" % (i + 1)
            assert lab["GDG Number"] == "0001"
            assert lab["GDG Version"] == "00"
            assert lab["Creation Date"] == ansi_date(CREATED)
            assert lab["Expiration Date"] == " 00000"
            assert lab["Block Count Low"] == "%06d" % blocks
            assert lab["System Code"] == "DECFILE11A   "
        for lab in (h2, e2):
            assert lab["Record Format"] == "F"
            assert lab["Block Size"] == "%05d" % blen
            assert lab["Record Length"] == "%05d" % blen
            assert lab["Control Character"] == "M"
