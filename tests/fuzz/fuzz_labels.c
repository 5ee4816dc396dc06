/*
 * fuzz_labels.c - libFuzzer target for the ANSI label reader (label_read.c,
 * label_scan.c) and the saveset probe (saveset.c), which read labels and
 * blocks of tapes anyone may have written.
 *
 * Input: a tape as elements: 0xff is a tape mark; 0xfe takes the next 80
 * bytes as a record (a label, mostly); 0xfd takes a little-endian 16-bit
 * length and that many bytes (a block for the saveset probe); any other
 * byte c takes the next c + 1 bytes. A record cut by the end of the input
 * is shorter. Beyond "no crash, no read past len, no leak": every string
 * the reader hands out is terminated, within its field and printable
 * ASCII; counts stay within their bounds; and a labelled file written by
 * the label writer under a name taken from the input reads back with that
 * name converted, its data record counted, and no problem.
 */
#include "labels.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_labels: %s\n", what);
	abort();
}

static void printable(const char *s, size_t max, const char *what)
{
	size_t n = strnlen(s, max + 1);

	if (n > max)
		fz_fail(what);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			fz_fail(what);
}

static void check_info(const struct tape_label_file_info *fi)
{
	printable(fi->name, TAPE_LABEL_NAME_MAX, "name");
	printable(fi->set_id, TAPE_LABEL_VOLID, "set id");
	printable(fi->system, 13, "system");
	if (fi->created_year && (fi->created_year < 1900 || fi->created_year > 2999 ||
				 fi->created_yday < 1 || fi->created_yday > 366))
		fz_fail("creation date out of range");
}

static void one_record(struct tape_label_scan *s, const uint8_t *p, size_t n)
{
	enum tape_label_kind k = tape_label_kind(p, n);
	struct tape_label_vol v;
	struct tape_label_file_info fi;
	struct tape_saveset_info si;

	if (n != TAPE_LABEL_LEN && k != TAPE_LABEL_NONE)
		fz_fail("a label that is not 80 bytes");
	if (tape_label_parse_vol1(p, n, &v) == 0) {
		if (k != TAPE_LABEL_VOL1)
			fz_fail("VOL1 parsed from another record");
		printable(v.volid, TAPE_LABEL_VOLID, "volid");
		printable(v.owner, 14, "owner");
	}
	memset(&fi, 0, sizeof(fi));
	if (tape_label_parse_into(p, n, &fi) == 0)
		check_info(&fi);
	if (tape_saveset_probe(p, n, &si) == 0) {
		printable(si.name, 31, "saveset name");
		if (si.block_size < 2048 || si.block_size > 65535 || n < 256)
			fz_fail("saveset block size");
	}
	tape_label_scan_record(s, p, n);
}

/* The writer under a name from the input, read back through the scan. */
struct mem {
	struct tape_label_scan *s;
};

static int w_rec(void *ctx, const void *d, size_t len)
{
	return tape_label_scan_record(((struct mem *)ctx)->s, d, len);
}

static int w_mark(void *ctx)
{
	return tape_label_scan_mark(((struct mem *)ctx)->s);
}

static void writer(const uint8_t *data, size_t size)
{
	char name[100], conv[TAPE_LABEL_NAME_MAX + 1], err[200];
	size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	struct mem m = { tape_label_scan_new(2) };
	struct tape_lbl_sink sink = { w_rec, w_mark, &m };
	uint8_t block[300] = { 0 };

	memcpy(name, data, n);
	name[n] = '\0';
	size_t cl = tape_label_name_convert(name, conv);
	if (cl != strlen(conv) || cl > TAPE_LABEL_NAME_MAX)
		fz_fail("converted name length");
	for (size_t i = 0; i < cl; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!\"%&'()*+,-./:;<=>?_$", conv[i]))
			fz_fail("converted name outside the 'a' set");
	struct tape_lbl *l = tape_lbl_new("FUZZ", NULL, &sink, NULL, err, sizeof(err));
	if (!l || !m.s)
		fz_fail("writer setup");
	struct tape_lbl_file f = { .name = name, .created = 1 };
	int rc = tape_lbl_begin_file(l, &f);
	if (cl == 0) {
		if (rc == 0)
			fz_fail("a file without a name");
	} else {
		if (rc || tape_lbl_record(l, block, sizeof(block)) || tape_lbl_end_volume(l))
			fz_fail(tape_lbl_error(l));
		const struct tape_label_file_info *fi = tape_label_scan_file(m.s, 0);
		if (!fi || strcmp(fi->name, conv) != 0 || fi->block_count != 1 ||
		    fi->block_len != sizeof(block) || tape_label_scan_problem(m.s))
			fz_fail("the writer's file did not read back");
	}
	tape_lbl_free(l);
	tape_label_scan_free(m.s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tape_label_scan *s = tape_label_scan_new(4);
	size_t i = 0;

	if (!s)
		return 0;
	while (i < size) {
		uint8_t c = data[i++];
		size_t n;
		if (c == 0xff) {
			tape_label_scan_mark(s);
			continue;
		}
		if (c == 0xfe)
			n = TAPE_LABEL_LEN;
		else if (c == 0xfd) {
			n = i + 2 <= size ? (size_t)(data[i] | data[i + 1] << 8) : 0;
			i = i + 2 <= size ? i + 2 : size;
		} else
			n = (size_t)c + 1;
		if (n > size - i)
			n = size - i;
		one_record(s, data + i, n);
		i += n;
	}
	if (tape_label_scan_count(s) > 4 || tape_label_scan_total(s) < tape_label_scan_count(s))
		fz_fail("scan counts");
	if (tape_label_scan_labelled(s) != (tape_label_scan_volume(s) != NULL))
		fz_fail("labelled without a volume");
	if (tape_label_scan_volume(s)) {
		printable(tape_label_scan_volume(s)->volid, TAPE_LABEL_VOLID, "scan volid");
		printable(tape_label_scan_volume(s)->owner, 14, "scan owner");
	}
	for (size_t k = 0; k < tape_label_scan_count(s); k++) {
		if (!tape_label_scan_file(s, k))
			fz_fail("a kept file missing");
		check_info(tape_label_scan_file(s, k));
		const struct tape_saveset_info *ss = tape_label_scan_saveset(s, k);
		if (ss)
			printable(ss->name, 31, "scan saveset name");
	}
	if (tape_label_scan_file(s, tape_label_scan_count(s)))
		fz_fail("a file past the count");
	if (tape_label_scan_problem(s))
		printable(tape_label_scan_problem(s), 300, "problem sentence");
	tape_label_scan_free(s);
	writer(data, size);
	return 0;
}
