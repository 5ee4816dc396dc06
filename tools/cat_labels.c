/*
 * cat_labels.c - the labelled side of `reel cat` (cat_labels.h): follows
 * the label groups of each reel (VOL1; HDR1.. TM data TM EOF1.. TM per
 * file; EOV1.. TM TM where a file goes on; TM after the last file), hands
 * on the data records of the file asked for, and checks what joins reels:
 * a file ended by EOV must go on, on the next reel, as its next section.
 * Any label out of place stops it with a sentence naming the reel, the
 * file and what was found; what was written before stays written.
 */
#include "cat_labels.h"
#include "reel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum {
	ST_VOL,		/* a reel begins: VOL1 */
	ST_HDR,		/* HDR1 of the next file, or the volume's last TM */
	ST_HDRS,	/* HDR2.. until the TM */
	ST_DATA,	/* data records until the TM */
	ST_TRL,		/* EOF1../EOV1.. until the TM */
	ST_EOV,		/* after EOV.. TM: the reel's last TM */
	ST_END,		/* the volume ended: the rest is ignored */
};

static int fail(struct cat_lbl *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct cat_lbl *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err, sizeof(l->err), fmt, ap);
	va_end(ap);
	return -EPROTO;
}

/* What a record is, for messages: "EOF1", "a data record of 512 bytes". */
static const char *what(const void *rec, size_t len, char *buf, size_t cap)
{
	if (tape_label_kind(rec, len) != TAPE_LABEL_NONE) {
		char t[5];
		memcpy(t, rec, 4);
		t[4] = '\0';
		return safetext(t, buf, cap);
	}
	snprintf(buf, cap, "a data record of %zu bytes", len);
	return buf;
}

/* "DATA.TAR (file 2, section 1 of file set VOL001)" */
static const char *about(const struct tape_label_file_info *f, char *buf, size_t cap)
{
	char n[TAPE_LABEL_NAME_MAX * 4 + 1], s[TAPE_LABEL_VOLID * 4 + 1];
	snprintf(buf, cap, "%s (file %" PRIu32 ", section %" PRIu32 " of file set %s)",
		 safetext(f->name, n, sizeof(n)), f->sequence, f->section,
		 safetext(f->set_id, s, sizeof(s)));
	return buf;
}

static bool wanted(const struct cat_lbl *l, const struct tape_label_file_info *f)
{
	if (l->found)
		return false;	/* the first match only; its sections follow */
	if (l->want_name[0])
		return !strcmp(f->name, l->want_name);
	if (l->want_seq)
		return f->sequence == l->want_seq;
	return true;
}

void cat_lbl_reel(struct cat_lbl *l, const char *shown)
{
	l->shown = shown;
	l->reel++;
	l->st = ST_VOL;
	l->first_section = true;
}

/* The header group is read (its TM came): is this the file wanted, and
 * does it follow what the reel before left open? */
static int begin_section(struct cat_lbl *l)
{
	char a[256], b[256];
	const struct tape_label_file_info *h = &l->hdr;
	bool first = l->first_section;

	l->first_section = false;
	l->recs = 0;
	if (l->cont) {
		const struct tape_label_file_info *w = &l->was;
		if (strcmp(h->name, w->name) || strcmp(h->set_id, w->set_id) ||
		    h->sequence != w->sequence || h->section != w->section + 1)
			return fail(l, "%s: its first labelled file is %s, but the reel "
				    "before ended inside %s with EOV labels, so this reel "
				    "should go on with its section %" PRIu32 ": a reel of "
				    "the storeset is missing, or the reels are out of "
				    "order.", l->shown, about(h, a, sizeof(a)),
				    about(w, b, sizeof(b)), w->section + 1);
		l->cont = false;
		/* sel stays as it was: the same file goes on */
		return 0;
	}
	if (h->section != 1 && !(l->one_reel && first))
		return fail(l, "%s: %s comes before any of its earlier sections: "
			    "the reel holding section %" PRIu32 " is missing, or the "
			    "reels are out of order.", l->shown, about(h, a, sizeof(a)),
			    h->section - 1);
	if (l->files < CAT_LBL_NAMES)
		snprintf(l->names[l->files], sizeof(l->names[0]), "%s", h->name);
	l->files++;
	l->sel = wanted(l, h);
	if (l->sel) {
		l->found = true;
		if (h->section != 1)
			l->partial = true;	/* one_reel: it began on an earlier reel */
	}
	return 0;
}

/* The trailer group is read (its TM came). */
static int end_section(struct cat_lbl *l, bool eov)
{
	char a[256];
	const struct tape_label_file_info *h = &l->hdr, *t = &l->trl;
	const char *kind = eov ? "EOV1" : "EOF1";

	if (strcmp(h->name, t->name) || strcmp(h->set_id, t->set_id) ||
	    h->section != t->section || h->sequence != t->sequence) {
		char b[256];
		return fail(l, "%s: the %s label after the data of %s names %s: the "
			    "labels are damaged.", l->shown, kind,
			    about(h, a, sizeof(a)), about(t, b, sizeof(b)));
	}
	if (t->block_count != l->recs % 1000000)
		return fail(l, "%s: %s of %s counts %" PRIu64 " blocks, but %" PRIu64
			    " data records came before it: a record is missing or the "
			    "labels are damaged.", l->shown, kind, about(h, a, sizeof(a)),
			    t->block_count, l->recs);
	if (eov) {
		l->cont = true;
		l->was = *h;
		l->st = ST_EOV;
		return 0;
	}
	l->st = ST_HDR;
	if (l->sel) {
		l->done = true;
		return -ECANCELED;
	}
	return 0;
}

static int put(struct cat_lbl *l, const void *data, size_t len)
{
	if (l->records) {
		unsigned char n[4] = {
			(unsigned char)len, (unsigned char)(len >> 8),
			(unsigned char)(len >> 16), (unsigned char)(len >> 24),
		};
		if ((l->out_err = reel_out_write(n, 4)) < 0)
			return l->out_err;
	}
	if ((l->out_err = reel_out_write(data, len)) < 0)
		return l->out_err;
	l->out_bytes += len;
	return 0;
}

int cat_lbl_record(struct cat_lbl *l, const void *data, size_t len)
{
	enum tape_label_kind k = tape_label_kind(data, len);
	char w[64], a[256];

	switch (l->st) {
	case ST_VOL:
		if (k != TAPE_LABEL_VOL1)
			return fail(l, "%s begins with %s, not a VOL1 label, but the "
				    "storeset's first reel is labelled: the reels of one "
				    "set are labelled alike (--raw gives every record as "
				    "it is).", l->shown, what(data, len, w, sizeof(w)));
		l->st = ST_HDR;
		return 0;
	case ST_HDR:
		if (k == TAPE_LABEL_OTHER)
			return 0;	/* VOL2.., UVLn: nothing cat needs */
		if (k != TAPE_LABEL_HDR1)
			return fail(l, "%s: %s comes where the HDR1 label of the next "
				    "labelled file (or the volume's last tape mark) "
				    "belongs: the labels are damaged (--raw gives every "
				    "record as it is).", l->shown,
				    what(data, len, w, sizeof(w)));
		memset(&l->hdr, 0, sizeof(l->hdr));
		if (tape_label_parse_into(data, len, &l->hdr) < 0)
			return fail(l, "%s: a HDR1 label has a number field that is "
				    "not digits: the labels are damaged.", l->shown);
		l->st = ST_HDRS;
		return 0;
	case ST_HDRS:
		if (k == TAPE_LABEL_OTHER)
			return 0;	/* HDR5.., UHLn */
		if (k != TAPE_LABEL_HDR2 && k != TAPE_LABEL_HDR3 && k != TAPE_LABEL_HDR4)
			return fail(l, "%s: %s comes among the header labels of %s: "
				    "the labels are damaged.", l->shown,
				    what(data, len, w, sizeof(w)), about(&l->hdr, a, sizeof(a)));
		if (tape_label_parse_into(data, len, &l->hdr) < 0)
			return fail(l, "%s: a header label of %s has a number field "
				    "that is not digits: the labels are damaged.",
				    l->shown, about(&l->hdr, a, sizeof(a)));
		return 0;
	case ST_DATA:
		l->recs++;
		return l->sel ? put(l, data, len) : 0;
	case ST_TRL:
		if (!l->trl_seen) {
			if (k != TAPE_LABEL_EOF1 && k != TAPE_LABEL_EOV1)
				return fail(l, "%s: %s comes after the data of %s, where "
					    "its EOF1 or EOV1 label belongs: the labels are "
					    "damaged.", l->shown, what(data, len, w, sizeof(w)),
					    about(&l->hdr, a, sizeof(a)));
		} else if (k == TAPE_LABEL_NONE || k == TAPE_LABEL_VOL1 ||
			   (k >= TAPE_LABEL_HDR1 && k <= TAPE_LABEL_HDR4)) {
			return fail(l, "%s: %s comes among the trailer labels of %s: "
				    "the labels are damaged.", l->shown,
				    what(data, len, w, sizeof(w)), about(&l->hdr, a, sizeof(a)));
		}
		l->trl_seen = true;
		if (k != TAPE_LABEL_OTHER && tape_label_parse_into(data, len, &l->trl) < 0)
			return fail(l, "%s: a trailer label of %s has a number field "
				    "that is not digits: the labels are damaged.",
				    l->shown, about(&l->hdr, a, sizeof(a)));
		return 0;
	default:
		return 0;	/* after the volume's end (or EOV): not read */
	}
}

int cat_lbl_mark(struct cat_lbl *l)
{
	char a[256];
	int rc;

	switch (l->st) {
	case ST_VOL:
		return fail(l, "%s begins with a tape mark, not a VOL1 label, but the "
			    "storeset's first reel is labelled: the reels of one set "
			    "are labelled alike.", l->shown);
	case ST_HDR:
		l->st = ST_END;
		return 0;
	case ST_HDRS:
		if ((rc = begin_section(l)) < 0)
			return rc;
		l->st = ST_DATA;
		return 0;
	case ST_DATA:
		memset(&l->trl, 0, sizeof(l->trl));
		l->trl_seen = false;
		l->st = ST_TRL;
		return 0;
	case ST_TRL:
		if (!l->trl_seen)
			return fail(l, "%s: no EOF1 or EOV1 label follows the data of "
				    "%s: the labels are damaged.", l->shown,
				    about(&l->hdr, a, sizeof(a)));
		return end_section(l, l->trl.continued);
	case ST_EOV:
		l->st = ST_END;
		return 0;
	default:
		return 0;
	}
}

int cat_lbl_reel_end(struct cat_lbl *l, bool last)
{
	char a[256];
	static const char *const where[] = {
		[ST_HDRS] = "in its header labels", [ST_DATA] = "in its data",
		[ST_TRL] = "in its trailer labels",
	};

	switch (l->st) {
	case ST_VOL:
		return fail(l, "%s holds no record: it is not the labelled reel the "
			    "storeset's first reel leads to expect.", l->shown);
	case ST_HDRS: case ST_DATA: case ST_TRL:
		return fail(l, "%s ends inside %s, %s, without its EOF or EOV labels: "
			    "the reel is cut short.", l->shown,
			    about(&l->hdr, a, sizeof(a)), where[l->st]);
	default:
		break;
	}
	if (!l->cont || !last)
		return 0;
	if (l->one_reel) {
		if (l->sel)
			l->partial = true;
		return 0;
	}
	return fail(l, "%s goes on after %s (it ends with EOV labels), but no reel "
		    "follows it: the storeset's next reel is missing (name the reels "
		    "in order with --set, or read this one alone with --single).",
		    about(&l->was, a, sizeof(a)), l->shown);
}

int cat_lbl_finish(struct cat_lbl *l)
{
	char want[TAPE_LABEL_NAME_MAX * 4 + 64], list[CAT_LBL_NAMES * 80 + 64] = "";
	size_t used = 0;

	if (l->done || (l->found && l->partial))
		return 0;
	if (l->want_name[0]) {
		char n[TAPE_LABEL_NAME_MAX * 4 + 1];
		snprintf(want, sizeof(want), "named %s", safetext(l->want_name, n, sizeof(n)));
	} else if (l->want_seq) {
		snprintf(want, sizeof(want), "with sequence number %" PRIu64, l->want_seq);
	} else {
		snprintf(want, sizeof(want), "at all");
	}
	for (uint64_t i = 0; i < l->files && i < CAT_LBL_NAMES; i++) {
		char n[TAPE_LABEL_NAME_MAX * 4 + 1];
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
					 i ? ", " : ": ", safetext(l->names[i], n, sizeof(n)));
	}
	if (l->files > CAT_LBL_NAMES)
		snprintf(list + used, sizeof(list) - used, " and %" PRIu64 " more",
			 l->files - CAT_LBL_NAMES);
	fail(l, "there is no labelled file %s on the tape: it holds %" PRIu64
	     " labelled file%s%s.", want, l->files, l->files == 1 ? "" : "s", list);
	return -ENOENT;
}
