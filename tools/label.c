/*
 * label.c - labelled output for `reel send` and `reel cp`: records and
 * marks of an unlabelled stream in, the same data as ANSI labelled files
 * out (encoder/labels.h), to the caller's record/mark functions. Each tape
 * file of the stream becomes one labelled file: a mark ends it, an empty
 * tape file stays an empty labelled file, and the end-of-data marks of the
 * stream are not data (the label writer ends the volume itself).
 *
 * Names: the name given for the first file and NAME_2, NAME_3... for the
 * ones after it; with no name, the saveset name BACKUP recorded in the
 * file's first block, else FILEnnnn by sequence number.
 *
 * Appending (`reel send --append`) continues a labelled tape that was
 * copied first: the writer's own VOL1 is dropped (the tape has one) and
 * its sequence numbers (HDR1/EOF1/EOV1 bytes 31-34) are moved on by the
 * files already there. It must never write a label the writer did not
 * make, other than those renumbered fields.
 */
#include "reel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int down_record(void *ctx, const void *data, size_t len)
{
	struct reel_lab *b = ctx;
	enum tape_label_kind k = tape_label_kind(data, len);

	if (b->drop_vol1 && k == TAPE_LABEL_VOL1) {
		b->drop_vol1 = false;
		return 0;
	}
	if (b->seq_base && (k == TAPE_LABEL_HDR1 || k == TAPE_LABEL_EOF1 ||
			    k == TAPE_LABEL_EOV1)) {
		char rec[TAPE_LABEL_LEN + 1], num[5];
		memcpy(rec, data, TAPE_LABEL_LEN);
		memcpy(num, rec + 31, 4);
		num[4] = '\0';
		unsigned long seq = strtoul(num, NULL, 10) + b->seq_base;
		if (seq > 9999)
			return -ERANGE;
		snprintf(num, sizeof(num), "%04lu", seq);
		memcpy(rec + 31, num, 4);
		int rc = b->record(b->ctx, rec, TAPE_LABEL_LEN);
		b->sink_failed = rc < 0;
		return rc;
	}
	int rc = b->record(b->ctx, data, len);
	b->sink_failed = rc < 0;
	return rc;
}

static int down_mark(void *ctx)
{
	struct reel_lab *b = ctx;
	int rc = b->mark(b->ctx);
	b->sink_failed = rc < 0;
	return rc;
}

int reel_lab_open(struct reel_lab *b, const char *volid, uint32_t seq_base)
{
	struct tape_lbl_sink sink = { down_record, down_mark, b };

	b->seq_base = seq_base;
	b->drop_vol1 = seq_base > 0;
	b->l = tape_lbl_new(volid, NULL, &sink, NULL, b->err, sizeof(b->err));
	return b->l ? 0 : -EINVAL;
}

const char *reel_lab_error(struct reel_lab *b)
{
	return b->err;
}

static int lab_fail(struct reel_lab *b, int rc)
{
	/* The caller's own record/mark function told its failure. */
	if (!b->err[0] && !b->sink_failed)
		snprintf(b->err, sizeof(b->err), "%s",
			 rc == -ERANGE ? "more than 9999 files on one tape." :
			 b->l ? tape_lbl_error(b->l) : strerror(-rc));
	return rc;
}

int reel_lab_begin(struct reel_lab *b, const char *name, uint32_t block_len,
		   const void *first, size_t first_len)
{
	char gen[TAPE_LABEL_NAME_MAX + 16];
	unsigned k = ++b->files;
	struct tape_saveset_info ss;

	if (name && k == 1) {
		snprintf(gen, sizeof(gen), "%s", name);
	} else if (name) {
		snprintf(gen, sizeof(gen), "%.60s_%u", name, k);
	} else if (first && tape_saveset_probe(first, first_len, &ss) == 0 &&
		   ss.name[0]) {
		snprintf(gen, sizeof(gen), "%s", ss.name);
	} else {
		snprintf(gen, sizeof(gen), "FILE%04u", b->seq_base + k);
	}
	struct tape_lbl_file f = { .name = gen, .record_format = 'F',
				   .block_len = block_len };
	int rc = tape_lbl_begin_file(b->l, &f);
	if (rc < 0)
		return lab_fail(b, rc);
	b->in_file = true;
	return 0;
}

int reel_lab_record(struct reel_lab *b, const void *data, size_t len)
{
	int rc;
	if (!b->in_file) {
		/* Marks between files with no record between them were
		 * empty tape files: each stays an empty labelled file. */
		for (; b->pending; b->pending--) {
			if ((rc = reel_lab_begin(b, b->name, b->block_len, NULL, 0)) < 0 ||
			    (rc = tape_lbl_end_file(b->l)) < 0)
				return lab_fail(b, rc);
			b->in_file = false;
		}
		if ((rc = reel_lab_begin(b, b->name, b->block_len, data, len)) < 0)
			return rc;
	}
	rc = tape_lbl_record(b->l, data, len);
	return rc < 0 ? lab_fail(b, rc) : 0;
}

int reel_lab_mark(struct reel_lab *b)
{
	if (!b->in_file) {
		b->pending++;
		return 0;
	}
	b->in_file = false;
	int rc = tape_lbl_end_file(b->l);
	return rc < 0 ? lab_fail(b, rc) : 0;
}

int reel_lab_finish(struct reel_lab *b)
{
	int rc = tape_lbl_end_volume(b->l);
	b->in_file = false;
	return rc < 0 ? lab_fail(b, rc) : 0;
}

int reel_lab_end_reel(struct reel_lab *b, struct tape_lbl_cont *cont)
{
	int rc = tape_lbl_end_reel(b->l, cont);
	return rc < 0 ? lab_fail(b, rc) : 0;
}

int reel_lab_continue(struct reel_lab *b, const char *volid,
		      const struct tape_lbl_cont *cont)
{
	struct tape_lbl_sink sink = { down_record, down_mark, b };

	tape_lbl_free(b->l);
	b->drop_vol1 = false;	/* the new reel has its own VOL1 */
	b->l = tape_lbl_new(volid, NULL, &sink, cont, b->err, sizeof(b->err));
	if (!b->l)
		return -EINVAL;
	b->in_file = cont->in_file;
	return 0;
}

uint64_t reel_lab_reserve_bytes(const struct reel_lab *b)
{
	unsigned labels = 0, marks = 0;
	if (b->l)
		tape_lbl_reserve(b->l, &labels, &marks);
	/* 16 bytes of framing per element bounds every format's (SIMH 8,
	 * AWS 6 per chunk; a label is one chunk). */
	return (uint64_t)labels * (TAPE_LABEL_LEN + 16) + (uint64_t)marks * 16;
}

void reel_lab_free(struct reel_lab *b)
{
	tape_lbl_free(b->l);
	b->l = NULL;
}

void reel_lab_default_volid(const char *target, char *out, size_t len)
{
	char *base = reel_basename(target);
	size_t n = 0;
	if (base && strcmp(base, "-") != 0)
		for (const char *p = base; *p && *p != '.' && n < TAPE_LABEL_VOLID; p++)
			if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9'))
				out[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	free(base);
	if (n == 0)
		n = (size_t)snprintf(out, len, "REEL01");
	out[n < len ? n : len - 1] = '\0';
}
