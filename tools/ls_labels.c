/*
 * ls_labels.c - the ANSI labels of one image for `reel ls -l`, read with
 * as few and as small reads as the listing can afford (a directory of 200
 * tapes must stay a matter of a second or so over one session).
 *
 * The bytes go straight from the transfer into the decoder and the label
 * reader (encoder/labels.h); nothing is buffered but what the decoder
 * holds of one record. Where the image is read from:
 *   - the bytes already read whole to sniff a small image;
 *   - else its head, at most REEL_LABEL_HEAD bytes, stopped as soon as the
 *     first record shows the tape unlabelled, or once the first labelled
 *     file's first data block (the saveset probe) has arrived. Only the
 *     first labelled file is known then, its block count not: the picture
 *     says so (first_only). A read cut short costs the session its
 *     connection (libcurl hangs up; the next read logs in again), which is
 *     the price of -l; an image no longer than the head is read whole.
 *
 * It only reads, and never a .part (the caller's rule).
 */
#include "reel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lrun {
	struct tape_dec *dec;
	struct tape_label_scan *ls;
	bool whole;		/* reading the whole image: never stop early */
	bool stop;		/* enough is known */
	bool seen_first;
	uint64_t trailers;	/* EOF1/EOV1 labels seen: files with counts */
	uint64_t marks;
	bool data_seen;		/* a data record after the first header group */
};

static int on_event(void *ctx, const struct tape_event *ev)
{
	struct lrun *r = ctx;
	/* What comes after is not looked at, however the bytes were cut
	 * into pieces: the picture of a head is the same over any transfer. */
	if (r->stop)
		return -ECANCELED;
	if (ev->kind == TAPE_EV_MARK) {
		tape_label_scan_mark(r->ls);
		r->marks++;
	} else if (ev->kind == TAPE_EV_RECORD) {
		tape_label_scan_record(r->ls, ev->data, ev->len);
		enum tape_label_kind k = tape_label_kind(ev->data, ev->len);
		if (k == TAPE_LABEL_EOF1 || k == TAPE_LABEL_EOV1)
			r->trailers++;
		if (k == TAPE_LABEL_NONE && r->marks)
			r->data_seen = true;
		r->seen_first = true;
	}
	if (r->whole)
		return 0;
	/* Unlabelled, or the first file's header and first block are in. */
	if (r->seen_first && (!tape_label_scan_labelled(r->ls) || r->data_seen))
		r->stop = true;
	return 0;
}

static int push_cb(void *ctx, const void *p, size_t n)
{
	struct lrun *r = ctx;
	int rc = tape_dec_push(r->dec, p, n);
	if (rc == -ECANCELED)
		return rc;
	if (rc < 0 && rc != -EILSEQ)
		return rc;
	if (rc == -EILSEQ && !r->whole)
		return -ECANCELED;	/* damaged: what came before is all */
	return r->stop ? -ECANCELED : 0;
}

int reel_ls_labels(struct xfer_session *ses, const char *name,
		   const struct tape_format *f, uint64_t size, const void *whole,
		   struct reel_labels *out, char *err, size_t errlen)
{
	struct lrun r = { 0 };
	int rc = 0;

	r.ls = tape_label_scan_new(REEL_LABEL_FILES_MAX);
	r.dec = r.ls ? tape_dec_new(f, on_event, &r) : NULL;
	if (!r.dec) {
		snprintf(err, errlen, "out of memory.");
		rc = -ENOMEM;
		goto out;
	}
	bool all = size != XFER_SIZE_UNKNOWN && size <= REEL_LABEL_HEAD;
	r.whole = all;
	if (whole) {
		(void)push_cb(&r, whole, (size_t)size);
	} else {
		rc = xfer_session_fetch(ses, name, 0, all ? 0 : REEL_LABEL_HEAD, push_cb,
					&r, err, errlen);
		if (rc == -ECANCELED)
			rc = 0;
		if (rc < 0)
			goto out;
	}
	if (all)
		(void)tape_dec_end(r.dec);
	reel_labels_from_scan(out, r.ls);
	out->from = all ? "image" : "head";
	if (!out->labelled)
		goto out;	/* shown as it always was */
	out->first_only = !all;
	for (size_t i = 0; i < out->n; i++)
		out->f[i].counted = i < r.trailers;
out:
	tape_dec_free(r.dec);
	tape_label_scan_free(r.ls);
	return rc;
}
