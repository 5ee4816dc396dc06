/*
 * volume.c - one reel: records go through the encoder, whose image bytes
 * go straight into the upload queue; a capacity in image bytes with an
 * early warning; at the end, publish and a manifest beside the image.
 * This file opens the volume (wiring the encoder's sink to the upload),
 * finishes, abandons and frees it, and reports its state; the rest is in
 * the other volume_*.c files (see volume_int.h, which also says which
 * lock protects what).
 *
 * It must never write part of a record: a record is either framed and
 * queued whole, or refused before the encoder sees it. It knows nothing
 * of FUSE, and never maps errors for a particular tool: it returns the
 * core's negative errno and keeps a sentence.
 */
#include "volume_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* The encoder's sink: every image slice goes to the upload queue. Server
 * full is remembered so the caller can tell it from other failures. */
static int vol_sink(void *ctx, const struct tape_slice *s, int n)
{
	struct vol *v = ctx;
	/* A record's framing and payload in one hand-over (issue 12.3). */
	struct xfer_piece p[64];
	for (int i = 0; i < n; ) {
		int k = 0;
		for (; i < n && k < 64; i++)
			p[k++] = (struct xfer_piece){ s[i].base, s[i].len };
		int rc = xfer_upload_writev(v->up, p, k);
		if (rc == -ENOSPC)
			v->server_full = true;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Every record and mark whose image bytes reached the queue: a point the
 * reel can end at after a server-full (salvage). With a HET pool this
 * runs after the write() that accepted the record has returned; records
 * still being compressed are covered by tape_enc_pending_cost. Runs in
 * the encoder's caller, io_lock held. */
static void vol_settled(void *ctx, const struct tape_counts *k)
{
	struct vol *v = ctx;
	pthread_mutex_lock(&v->lock);
	v->accepted = k->image_bytes;
	if (v->tail)
		v->tail[v->tail_n++ % VOL_TAIL] = *k;
	pthread_mutex_unlock(&v->lock);
}

/* HET blocks are compressed on this many threads (encoder/enc_pool.c):
 * the online cores, or REELFS_HET_THREADS (1: in the writer's thread, as
 * before issue 12; for benchmarks and tests). */
static int vol_het_threads(void)
{
	const char *e = getenv("REELFS_HET_THREADS");
	if (e && *e) {
		long n = strtol(e, NULL, 10);
		if (n >= 1 && n <= 64)
			return (int)n;
	}
	return tape_enc_default_threads();
}

static void vol_make_storeset_id(char *out, size_t len)
{
	unsigned char b[8];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		memcpy(b, &t, sizeof(b));
	}
	snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7]);
}

static char *vol_strdup_display(const char *url)
{
	return url ? xfer_url_display(url) : NULL;
}

struct vol *vol_open(const struct vol_config *c, char *err, size_t errlen)
{
	struct vol *v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory opening a volume");
		return NULL;
	}
	pthread_mutex_init(&v->io_lock, NULL);
	pthread_mutex_init(&v->lock, NULL);
	v->xo = c->xfer;
	v->capacity = c->capacity;
	v->reel = c->reel ? c->reel : 1;
	v->reel_fixed = c->reel != 0;
	v->prev_fixed = c->prev_url != NULL;
	v->next_fixed = c->next_url != NULL;
	v->storeset_fixed = c->storeset_id && *c->storeset_id;
	v->url = strdup(c->url);
	v->prev_url = vol_strdup_display(c->prev_url);
	v->next_url = vol_strdup_display(c->next_url);
	if (!v->url || (c->prev_url && !v->prev_url) ||
	    (c->next_url && !v->next_url)) {
		snprintf(err, errlen, "out of memory opening a volume");
		goto fail;
	}
	char *base = xfer_url_basename(v->url);
	if (base && asprintf(&v->part_name, "%s.part", base) < 0)
		v->part_name = NULL;
	free(base);
	if (!v->part_name) {
		snprintf(err, errlen, "out of memory opening a volume");
		goto fail;
	}
	if (c->storeset_id && *c->storeset_id)
		snprintf(v->storeset, sizeof(v->storeset), "%s", c->storeset_id);
	else
		vol_make_storeset_id(v->storeset, sizeof(v->storeset));

	const struct tape_format *f = c->format ? c->format : tape_format_default();
	v->format = f;
	struct tape_enc_options eo = c->enc;
	if (eo.threads == 0)
		eo.threads = vol_het_threads();
	v->enc = tape_enc_new(f, &eo, vol_sink, v);
	if (!v->enc) {
		snprintf(err, errlen, "out of memory creating the %s encoder",
			 tape_format_name(f));
		goto fail;
	}
	tape_enc_on_settle(v->enc, vol_settled, v);
	v->up = xfer_upload_open(c->url, c->xfer, err, errlen);
	if (!v->up)
		goto fail;
	v->tail = calloc(VOL_TAIL, sizeof(*v->tail));	/* NULL: no salvage */
	v->lscan = tape_label_scan_new(TAPE_MANIFEST_MAX_LABEL_FILES);
	v->state = VOL_WRITING;
	v->start = time(NULL);
	return v;
fail:
	vol_free(v);	/* v->up is NULL here: nothing was uploaded */
	return NULL;
}

int vol_finish(struct vol *v)
{
	pthread_mutex_lock(&v->io_lock);
	pthread_mutex_lock(&v->lock);
	if (v->finished) {
		int rc = v->finish_rc;
		pthread_mutex_unlock(&v->lock);
		pthread_mutex_unlock(&v->io_lock);
		return rc;
	}
	int rc = v->err;
	v->finished = true;
	if (!rc)
		v->state = VOL_FINISHING;
	pthread_mutex_unlock(&v->lock);

	if (!rc)
		rc = vol_after(v, tape_enc_settle(v->enc), "ending the data");
	if (!rc) {
		pthread_mutex_lock(&v->lock);
		v->data_ended = true;
		v->data_accepted = v->accepted;
		v->data_tail_n = v->tail_n;
		pthread_mutex_unlock(&v->lock);
		rc = vol_after(v, tape_enc_finish(v->enc), "ending the data");
	}
	if (!rc) {
		rc = xfer_upload_finish(v->up);
		if (rc < 0) {
			pthread_mutex_lock(&v->lock);
			const char *why = xfer_upload_error(v->up);
			if (rc == -ENOSPC)
				/* The drain met the 552: the last records
				 * were accepted, the writer has gone. */
				vol_note_server_full(v);
			else
				vol_set_error(v, rc, "%s", why && *why ? why :
					      "publishing the image failed");
			rc = v->err;
			pthread_mutex_unlock(&v->lock);
		}
	} else {
		xfer_upload_abort(v->up);
	}
	pthread_mutex_lock(&v->lock);
	v->end = time(NULL);
	pthread_mutex_unlock(&v->lock);
	if (!rc) {
		char err[XFER_ERRLEN] = "";
		rc = vol_publish_manifest(v, err, sizeof(err));
		if (rc < 0) {
			pthread_mutex_lock(&v->lock);
			vol_set_error(v, rc, "%s", err);
			pthread_mutex_unlock(&v->lock);
		}
	}
	pthread_mutex_lock(&v->lock);
	v->finish_rc = rc;
	v->state = rc ? VOL_FAILED : VOL_PUBLISHED;
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_unlock(&v->io_lock);
	return rc;
}

void vol_abort(struct vol *v)
{
	/* No io_lock: abort must work while a writer is blocked in the queue;
	 * xfer_upload_abort wakes it with -EPIPE. */
	pthread_mutex_lock(&v->lock);
	if (!v->finished) {
		v->finished = true;
		vol_set_error(v, -EPIPE, "%s: the volume was abandoned; what was "
			      "sent stays as the incomplete .part file",
			      xfer_upload_url(v->up));
		v->finish_rc = v->err;
		v->state = VOL_FAILED;
	}
	pthread_mutex_unlock(&v->lock);
	xfer_upload_abort(v->up);
}

void vol_get_status(struct vol *v, struct vol_status *out)
{
	memset(out, 0, sizeof(*out));
	xfer_upload_stats(v->up, &out->xfer);
	pthread_mutex_lock(&v->lock);
	out->state = v->state;
	out->counts = v->counts;
	out->capacity = v->capacity;
	if (!v->capacity) {
		out->remaining = UINT64_MAX;
	} else {
		uint64_t used = v->counts.image_bytes + VOL_MARK_RESERVE;
		out->remaining = used < v->capacity ? v->capacity - used : 0;
		if (v->state == VOL_FULL)
			out->remaining = 0;
	}
	snprintf(out->last_error, sizeof(out->last_error), "%s", v->errmsg);
	snprintf(out->storeset_id, sizeof(out->storeset_id), "%s", v->storeset);
	out->start = v->start;
	out->end = v->end;
	out->server_full = v->full_noted;
	out->lost_bytes = v->lost;
	pthread_mutex_unlock(&v->lock);
}

const char *vol_state_name(enum vol_state s)
{
	switch (s) {
	case VOL_WRITING: return "writing";
	case VOL_FULL: return "full";
	case VOL_FINISHING: return "finishing";
	case VOL_PUBLISHED: return "published";
	case VOL_FAILED: return "failed";
	}
	return "unknown";
}

/* The sentence stays valid until vol_free: errmsg is written once. */
const char *vol_error(struct vol *v)
{
	pthread_mutex_lock(&v->lock);
	const char *e = v->errmsg;
	pthread_mutex_unlock(&v->lock);
	return e;
}

const char *vol_url(const struct vol *v)
{
	return xfer_upload_url(v->up);
}

const struct tape_format *vol_format(const struct vol *v)
{
	return v->format;
}

uint64_t vol_lost_bytes(struct vol *v)
{
	pthread_mutex_lock(&v->lock);
	uint64_t n = v->lost;
	pthread_mutex_unlock(&v->lock);
	return n;
}

void vol_free(struct vol *v)
{
	if (!v)
		return;
	xfer_upload_free(v->up);
	tape_enc_free(v->enc);
	free(v->tail);
	tape_findex_free(&v->findex);
	tape_label_scan_free(v->lscan);
	free(v->part_name);
	free(v->url);
	free(v->prev_url);
	free(v->next_url);
	pthread_mutex_destroy(&v->io_lock);
	pthread_mutex_destroy(&v->lock);
	free(v);
}
