/*
 * labels.c - the ANSI label writer: wraps a record-and-mark sink so that
 * what goes through it is a labelled volume as DEC VMS writes it (VOL1;
 * per file HDR1-3[4] TM data TM EOF1-3[4] TM; a TM at the end; EOV1-3[4]
 * TM TM where a file goes on onto the next reel). It never does I/O: label
 * records, data records and marks go to the caller's sink.
 *
 * Capacity protocol. While the sink is called, tape_lbl_reserve() tells
 * what must still follow the element being written for the reel to be
 * ended properly (tape_lbl_end_reel). A host that refuses, with -ENOSPC, a
 * record for which used + this + reserve would pass its capacity never
 * sees a label group broken: the first element of a group is the only one
 * it can refuse, and nothing is written then (the call returns -ENOSPC
 * and the writer stays usable: the host ends the reel).
 */
#include "labels.h"
#include "label_fields.h"
#include "tape.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum lbl_state {
	LS_IDLE,	/* between files */
	LS_PENDING,	/* a file begun whose header labels are not written */
	LS_DATA,	/* header labels and TM written: data records go */
	LS_DONE,	/* volume or reel ended */
	LS_BROKEN,	/* a sink failed inside a label group */
};

struct lbl_file {
	char name[TAPE_LABEL_NAME_MAX + 1];
	size_t namelen;
	char format;
	uint32_t block_len, record_len;
	time_t created;
	uint32_t section, sequence;
};

struct tape_lbl {
	struct tape_lbl_sink sink;
	char volid[TAPE_LABEL_VOLID + 1];
	char owner[15];
	char set_id[TAPE_LABEL_VOLID + 1];
	uint32_t sequence;	/* last file sequence number given */
	enum lbl_state state;
	bool vol_done;		/* VOL1 written */
	struct lbl_file f;
	uint64_t blocks;	/* data records of f on this reel */
	unsigned res_labels, res_marks;	/* see tape_lbl_reserve */
	unsigned marks_in_row;	/* tape marks last written, in a row */
	int broken_rc;
	char err[200];
};

static void lbl_err(struct tape_lbl *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->err, sizeof(l->err), fmt, ap);
	va_end(ap);
}

/* ---- names and fields --------------------------------------------------- */

/* ECMA-13 'a' characters besides letters, digits and space; VMS also
 * writes '$', which its file names use. */
static bool in_a_set(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!\"%&'()*+,-./:;<=>?_$", c) != NULL);
}

size_t tape_label_name_convert(const char *in, char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = 0;

	while (*p && n < TAPE_LABEL_NAME_MAX) {
		unsigned char c = *p++;

		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (!in_a_set(c)) {
			/* One '_' for a whole UTF-8 sequence. */
			if (c >= 0xc0)
				while ((*p & 0xc0) == 0x80)
					p++;
			c = '_';
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n;
}

static void put_text(char *lab, size_t at, size_t width, const char *s)
{
	size_t n = strlen(s);

	memcpy(lab + at, s, n < width ? n : width);
}

static void put_num(char *lab, size_t at, size_t width, uint64_t v)
{
	for (size_t i = width; i-- > 0; v /= 10)
		lab[at + i] = (char)('0' + v % 10);
}

/* cyyddd: c is a space for 19xx, '0' for 20xx, '1' for 21xx... */
static void put_date(char *lab, size_t at, time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm) || tm.tm_year < 0 || tm.tm_year > 999) {
		memcpy(lab + at, " 00000", 6);
		return;
	}
	lab[at] = tm.tm_year < 100 ? ' ' : (char)('0' + tm.tm_year / 100 - 1);
	put_num(lab, at + 1, 2, (uint64_t)(tm.tm_year % 100));
	put_num(lab, at + 3, 3, (uint64_t)tm.tm_yday + 1);
}

static void label_start(char *lab, const char *kind, char num)
{
	memset(lab, ' ', TAPE_LABEL_LEN);
	memcpy(lab, kind, 3);
	lab[3] = num;
}

/* Lengths a 5-digit field cannot hold are written as 0 (unknown). */
static uint32_t fits5(uint32_t v)
{
	return v > 99999 ? 0 : v;
}

static void make_hdr1(const struct tape_lbl *l, char *lab, const char *kind,
		      uint64_t blocks)
{
	label_start(lab, kind, '1');
	memcpy(lab + LF_H1_NAME, l->f.name,
	       l->f.namelen < TAPE_LABEL_NAME_HDR1 ? l->f.namelen : TAPE_LABEL_NAME_HDR1);
	put_text(lab, LF_H1_SET, 6, l->set_id);
	put_num(lab, LF_H1_SECTION, 4, l->f.section % 10000);
	put_num(lab, LF_H1_SEQUENCE, 4, l->f.sequence % 10000);
	put_num(lab, LF_H1_GEN, 4, 1);
	put_num(lab, LF_H1_GENVER, 2, 0);
	put_date(lab, LF_H1_CREATED, l->f.created);
	memcpy(lab + LF_H1_EXPIRES, " 00000", 6);
	put_num(lab, LF_H1_BLOCKS, 6, blocks % 1000000);
	put_text(lab, LF_H1_SYSTEM, 13, LF_SYSTEM_VMS);
}

static void make_hdr2(const struct tape_lbl *l, char *lab, const char *kind)
{
	label_start(lab, kind, '2');
	lab[LF_H2_FORMAT] = l->f.format;
	put_num(lab, LF_H2_BLOCK, 5, fits5(l->f.block_len));
	put_num(lab, LF_H2_RECORD, 5, fits5(l->f.record_len));
	lab[LF_H2_CC] = 'M';
	put_num(lab, LF_H2_OFFSET, 2, 0);
}

static void put_hex_long(char *lab, size_t at, uint32_t v)
{
	static const char hex[] = "0123456789ABCDEF";

	for (int i = 7; i >= 0; i--, v >>= 4)
		lab[at + (size_t)i] = hex[v & 15];
}

/* The RMS file attributes VMS keeps for the file: record type (1 fixed,
 * 2 variable) in sequential organisation, no carriage control
 * attribute, record size, end-of-file block 1 and byte 0 (what VMS writes
 * for a file whose size is not known beforehand), maximum record size. */
static void make_hdr3(const struct tape_lbl *l, char *lab, const char *kind)
{
	uint32_t rsize = l->f.record_len > 0xffff ? 0 : l->f.record_len;
	uint32_t rtype = l->f.format == 'F' ? 1 : 2;
	uint32_t fat[8] = { 0 };

	label_start(lab, kind, '3');
	fat[0] = rtype | (0u << 8) | (rsize << 16);	/* RTYPE RATTRIB RSIZE */
	fat[1] = 0;					/* HIBLK (high, low words) */
	fat[2] = 1u << 16;				/* EFBLK = 1 */
	fat[3] = 0;					/* FFBYTE BKTSIZE VFCSIZE */
	fat[4] = rsize;					/* MAXREC DEFEXT */
	for (int i = 0; i < 8; i++)
		put_hex_long(lab, LF_H3_RMS + 8 * (size_t)i, fat[i]);
}

static bool needs_hdr4(const struct tape_lbl *l)
{
	return l->f.namelen > TAPE_LABEL_NAME_HDR1;
}

static void make_hdr4(const struct tape_lbl *l, char *lab, const char *kind)
{
	size_t rest = l->f.namelen - TAPE_LABEL_NAME_HDR1;

	label_start(lab, kind, '4');
	memcpy(lab + LF_H4_NAME, l->f.name + TAPE_LABEL_NAME_HDR1, rest);
	put_num(lab, LF_H4_USED, 2, rest);
}

/* ---- emitting ------------------------------------------------------------ */

/* Counts of a file's label group (HDR, EOF or EOV). */
static unsigned group_labels(const struct tape_lbl *l)
{
	return needs_hdr4(l) ? 4 : 3;
}

/* One element of a group. first: nothing of the group is written yet, so a
 * failure leaves the writer usable; any later failure breaks it. */
static int put_elem(struct tape_lbl *l, const char *lab, bool first,
		    unsigned res_labels_after, unsigned res_marks_after)
{
	unsigned save_l = l->res_labels, save_m = l->res_marks;
	int rc;

	l->res_labels = res_labels_after;
	l->res_marks = res_marks_after;
	rc = lab ? l->sink.record(l->sink.ctx, lab, TAPE_LABEL_LEN)
		 : l->sink.mark(l->sink.ctx);
	if (rc == 0) {
		l->marks_in_row = lab ? 0 : l->marks_in_row + 1;
		return 0;
	}
	l->res_labels = save_l;
	l->res_marks = save_m;
	if (rc > 0)
		rc = -EIO;
	if (first) {
		if (lab)
			lbl_err(l, "the tape refused the %.4s label (%s).", lab, strerror(-rc));
		else
			lbl_err(l, "the tape refused a tape mark (%s).", strerror(-rc));
		return rc;
	}
	l->state = LS_BROKEN;
	l->broken_rc = rc;
	if (lab)
		lbl_err(l, "the tape refused the %.4s label in the middle of a label group (%s); "
			"the reel's labels are incomplete.", lab, strerror(-rc));
	else
		lbl_err(l, "the tape refused a tape mark in the middle of a label group (%s); "
			"the reel's labels are incomplete.", strerror(-rc));
	return rc;
}

static int put_vol1(struct tape_lbl *l, unsigned res_l, unsigned res_m)
{
	char lab[TAPE_LABEL_LEN];

	if (l->vol_done)
		return 0;
	label_start(lab, "VOL", '1');
	put_text(lab, LF_VOL_ID, 6, l->volid);
	put_text(lab, LF_VOL_OWNER, 14, l->owner);
	lab[LF_VOL_STANDARD] = '3';
	int rc = put_elem(l, lab, true, res_l, res_m);
	if (rc == 0)
		l->vol_done = true;
	return rc;
}

/* HDR1-3[4] TM of the pending file (VOL1 first if not yet written). What
 * must follow each: the rest of the group, its TM, and the file's end
 * (TM, EOF/EOV group, TM, TM). */
static int write_headers(struct tape_lbl *l)
{
	char lab[TAPE_LABEL_LEN];
	unsigned n = group_labels(l);
	int rc = put_vol1(l, 0, 2);

	if (rc)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		unsigned left = n - 1 - i;
		if (i == 0)
			make_hdr1(l, lab, "HDR", 0);
		else if (i == 1)
			make_hdr2(l, lab, "HDR");
		else if (i == 2)
			make_hdr3(l, lab, "HDR");
		else
			make_hdr4(l, lab, "HDR");
		rc = put_elem(l, lab, i == 0, left + n, 4);
		if (rc)
			return rc;
	}
	rc = put_elem(l, NULL, false, n, 3);
	if (rc)
		return rc;
	l->state = LS_DATA;
	l->blocks = 0;
	l->res_labels = n;
	l->res_marks = 3;
	return 0;
}

/* TM kind1..kind3[4] TM, then TM when eov (a reel's last). The file is
 * over (eof) or goes on on the next reel (eov). */
static int write_trailer(struct tape_lbl *l, const char *kind)
{
	char lab[TAPE_LABEL_LEN];
	unsigned n = group_labels(l);
	int rc = put_elem(l, NULL, true, n, 2);

	if (rc)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		if (i == 0)
			make_hdr1(l, lab, kind, l->blocks);
		else if (i == 1)
			make_hdr2(l, lab, kind);
		else if (i == 2)
			make_hdr3(l, lab, kind);
		else
			make_hdr4(l, lab, kind);
		rc = put_elem(l, lab, false, n - 1 - i, 2);
		if (rc)
			return rc;
	}
	return put_elem(l, NULL, false, 0, 1);
}

/* Tape marks that end the volume between files: two in a row with the
 * mark after the last EOF group, two after a VOL1 alone. */
static unsigned end_marks(const struct tape_lbl *l)
{
	return !l->vol_done || l->marks_in_row == 0 ? 2 : 1;
}

/* The reserve outside of any call: what tape_lbl_end_reel writes. */
static void settle_reserve(struct tape_lbl *l)
{
	switch (l->state) {
	case LS_IDLE:
	case LS_PENDING:
		l->res_labels = l->vol_done ? 0 : 1;
		l->res_marks = end_marks(l);
		break;
	case LS_DATA:
		l->res_labels = group_labels(l);
		l->res_marks = 3;
		break;
	default:
		l->res_labels = l->res_marks = 0;
	}
}

static int check_usable(struct tape_lbl *l)
{
	if (l->state == LS_BROKEN)
		return l->broken_rc;
	if (l->state == LS_DONE) {
		lbl_err(l, "the labelled volume is already ended.");
		return -EPIPE;
	}
	return 0;
}

/* ---- public -------------------------------------------------------------- */

struct tape_lbl *tape_lbl_new(const char *volid, const char *owner,
			      const struct tape_lbl_sink *sink,
			      const struct tape_lbl_cont *cont,
			      char *err, size_t errlen)
{
	char conv[TAPE_LABEL_NAME_MAX + 1];
	struct tape_lbl *l;

	if (!sink || !sink->record || !sink->mark) {
		snprintf(err, errlen, "no sink for the labelled volume.");
		return NULL;
	}
	if (!volid || !*volid || tape_label_name_convert(volid, conv) > TAPE_LABEL_VOLID) {
		snprintf(err, errlen, "a volume id has 1 to 6 characters (A-Z, 0-9 and "
			 "!\"%%&'()*+,-./:;<=>?_$); \"%s\" is not one.", volid ? volid : "");
		return NULL;
	}
	if (cont && cont->magic != TAPE_LBL_CONT_MAGIC) {
		snprintf(err, errlen, "the continuation state of the reel before is not valid.");
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory.");
		return NULL;
	}
	l->sink = *sink;
	snprintf(l->volid, sizeof(l->volid), "%.6s", conv);
	if (owner) {
		tape_label_name_convert(owner, conv);
		snprintf(l->owner, sizeof(l->owner), "%.14s", conv);
	}
	snprintf(l->set_id, sizeof(l->set_id), "%s", l->volid);
	l->state = LS_IDLE;
	if (cont) {
		if (cont->set_id[0])
			snprintf(l->set_id, sizeof(l->set_id), "%.6s", cont->set_id);
		l->sequence = cont->sequence;
		if (cont->in_file) {
			/* Plain data from elsewhere: bounded, terminated here. */
			char name[sizeof(cont->name) + 1];
			memcpy(name, cont->name, sizeof(cont->name));
			name[sizeof(cont->name)] = '\0';
			l->f.namelen = tape_label_name_convert(name, l->f.name);
			if (l->f.namelen == 0) {
				snprintf(err, errlen, "the continuation state of the reel before "
					 "names no file.");
				free(l);
				return NULL;
			}
			l->f.format = cont->record_format ? cont->record_format : 'F';
			l->f.block_len = cont->block_len;
			l->f.record_len = cont->record_len;
			l->f.created = (time_t)cont->created;
			l->f.section = cont->section ? cont->section : 1;
			l->f.sequence = cont->sequence;
			l->state = LS_PENDING;
		}
	}
	settle_reserve(l);
	return l;
}

int tape_lbl_begin_file(struct tape_lbl *l, const struct tape_lbl_file *f)
{
	int rc = check_usable(l);
	char fmt;

	if (rc)
		return rc;
	if (l->state != LS_IDLE) {
		lbl_err(l, "a labelled file is already open; end it first.");
		return -EBUSY;
	}
	fmt = f->record_format ? f->record_format : 'F';
	if (fmt != 'F' && fmt != 'D' && fmt != 'S') {
		lbl_err(l, "record format '%c' is not one of F, D and S.", fmt);
		return -EINVAL;
	}
	memset(&l->f, 0, sizeof(l->f));
	l->f.namelen = tape_label_name_convert(f->name ? f->name : "", l->f.name);
	if (l->f.namelen == 0) {
		lbl_err(l, "a labelled file needs a name.");
		return -EINVAL;
	}
	l->f.format = fmt;
	l->f.block_len = f->block_len;
	l->f.record_len = f->record_len ? f->record_len : f->block_len;
	l->f.created = f->created ? f->created : time(NULL);
	l->f.section = 1;
	l->f.sequence = ++l->sequence;
	l->state = LS_PENDING;
	if (l->f.block_len)
		rc = write_headers(l);
	settle_reserve(l);
	return rc;
}

int tape_lbl_record(struct tape_lbl *l, const void *data, size_t len)
{
	int rc = check_usable(l);

	if (rc)
		return rc;
	if (l->state == LS_IDLE) {
		lbl_err(l, "a data record outside a labelled file; begin a file first.");
		return -EINVAL;
	}
	if (len == 0) {
		lbl_err(l, "a record has at least one byte.");
		return -EINVAL;
	}
	if (l->state == LS_PENDING) {
		if (l->f.block_len == 0) {
			l->f.block_len = len > UINT32_MAX ? 0 : (uint32_t)len;
			if (l->f.record_len == 0)
				l->f.record_len = l->f.block_len;
		}
		rc = write_headers(l);
		if (rc) {
			settle_reserve(l);
			return rc;
		}
	}
	rc = l->sink.record(l->sink.ctx, data, len);
	if (rc) {
		if (rc > 0)
			rc = -EIO;
		if (rc != -ENOSPC)
			lbl_err(l, "the tape refused a data record (%s).", strerror(-rc));
		else
			lbl_err(l, "the reel is full.");
		return rc;
	}
	l->blocks++;
	return 0;
}

int tape_lbl_end_file(struct tape_lbl *l)
{
	int rc = check_usable(l);

	if (rc)
		return rc;
	if (l->state == LS_IDLE)
		return 0;
	if (l->state == LS_PENDING) {
		rc = write_headers(l);
		if (rc) {
			settle_reserve(l);
			return rc;
		}
	}
	rc = write_trailer(l, "EOF");
	if (rc == 0)
		l->state = LS_IDLE;
	settle_reserve(l);
	return rc;
}

/* The volume's end between files: VOL1 if nothing was written yet, then
 * the tape marks that make the double TM. */
static int write_volume_end(struct tape_lbl *l)
{
	int rc = put_vol1(l, 0, 2);
	unsigned n = end_marks(l);

	for (unsigned i = 0; rc == 0 && i < n; i++)
		rc = put_elem(l, NULL, i == 0, 0, n - 1 - i);
	return rc;
}

int tape_lbl_end_volume(struct tape_lbl *l)
{
	int rc;

	if (l->state == LS_DONE)
		return 0;
	rc = check_usable(l);
	if (rc == 0 && l->state != LS_IDLE)
		rc = tape_lbl_end_file(l);
	if (rc == 0)
		rc = write_volume_end(l);
	if (rc == 0)
		l->state = LS_DONE;
	settle_reserve(l);
	return rc;
}

int tape_lbl_end_reel(struct tape_lbl *l, struct tape_lbl_cont *cont)
{
	int rc = check_usable(l);
	enum lbl_state was = l->state;

	if (rc)
		return rc;
	if (was == LS_DATA) {
		rc = write_trailer(l, "EOV");
		if (rc == 0)
			rc = put_elem(l, NULL, false, 0, 0);
	} else
		rc = write_volume_end(l);
	if (rc) {
		settle_reserve(l);
		return rc;
	}
	if (cont) {
		memset(cont, 0, sizeof(*cont));
		cont->magic = TAPE_LBL_CONT_MAGIC;
		snprintf(cont->set_id, sizeof(cont->set_id), "%s", l->set_id);
		cont->sequence = l->sequence;
		cont->section = 1;
		cont->in_file = was == LS_DATA || was == LS_PENDING;
		if (cont->in_file) {
			memcpy(cont->name, l->f.name, l->f.namelen + 1);
			/* A section whose labels never reached this reel is
			 * written on the next one with the same number. */
			cont->section = was == LS_DATA ? l->f.section + 1 : l->f.section;
			cont->block_len = l->f.block_len;
			cont->record_len = l->f.record_len;
			cont->record_format = l->f.format;
			cont->created = (int64_t)l->f.created;
		}
	}
	l->state = LS_DONE;
	settle_reserve(l);
	return 0;
}

void tape_lbl_reserve(const struct tape_lbl *l, unsigned *labels, unsigned *marks)
{
	if (labels)
		*labels = l->res_labels;
	if (marks)
		*marks = l->res_marks;
}

uint64_t tape_lbl_reserve_cost(const struct tape_lbl *l, const struct tape_enc *e)
{
	return l->res_labels * tape_enc_record_cost(e, TAPE_LABEL_LEN) +
	       l->res_marks * tape_enc_mark_cost(e);
}

bool tape_lbl_in_file(const struct tape_lbl *l)
{
	return l->state == LS_PENDING || l->state == LS_DATA;
}

uint64_t tape_lbl_blocks(const struct tape_lbl *l)
{
	return l->blocks;
}

const char *tape_lbl_error(const struct tape_lbl *l)
{
	return l->err[0] ? l->err : "no error.";
}

void tape_lbl_free(struct tape_lbl *l)
{
	free(l);
}
