/*
 * volume_error.c - the volume's sticky error: the first failure's errno
 * and sentence, the server-full sentence (what was saved, what was
 * lost), and the upload's own failures turned into it (poll, sync).
 *
 * It never clears an error (only a salvage that published the reel may)
 * and never maps errnos for a particular tool.
 */
#include "volume_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Records the first failure; later ones keep the first sentence, which
 * names the cause. Called with v->lock held. */
void vol_set_error(struct vol *v, int err, const char *fmt, ...)
{
	if (v->err)
		return;
	v->err = err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->errmsg, sizeof(v->errmsg), fmt, ap);
	va_end(ap);
}

/* The server ran out of space (452/552). The sending thread has asked
 * the server how much of NAME.part it holds (confirmed) before it failed
 * the queue, so the records accepted but not stored are exactly the
 * accepted image bytes beyond that. One sentence says what was saved and
 * what was lost; the volume stays usable for marks (which fail the same
 * way) and finish (which leaves NAME.part). Called with v->lock held. */
void vol_note_server_full(struct vol *v)
{
	if (v->full_noted)
		return;
	v->full_noted = true;
	struct xfer_stats s;
	xfer_upload_stats(v->up, &s);
	/* Records the HET pool accepted and never emitted count too (their
	 * bound: an upper limit of the image bytes they would have made). */
	uint64_t accepted = v->accepted + tape_enc_pending_cost(v->enc);
	v->lost = accepted > s.confirmed ? accepted - s.confirmed : 0;
	const char *who = xfer_url_is_local(v->url) ? "the disk" : "the server";
	if (v->lost)
		vol_set_error(v, -ENOSPC, "%s: %s ran out of space after %" PRIu64
			      " bytes; %" PRIu64 " bytes of records already "
			      "accepted from the writer could not be stored, so "
			      "the backup on this reel is incomplete; it stays %s",
			      xfer_upload_url(v->up), who, s.confirmed, v->lost,
			      v->part_name);
	else
		vol_set_error(v, -ENOSPC, "%s: %s ran out of space after %" PRIu64
			      " bytes (end of medium); every record accepted "
			      "from the writer is stored, but the reel cannot be "
			      "completed, so it stays %s", xfer_upload_url(v->up),
			      who, s.confirmed, v->part_name);
	if (!v->finished)
		v->state = v->lost ? VOL_FAILED : VOL_FULL;
}

/* After an encoder call: snapshot the counts, turn a failure into the
 * volume's sticky state. io_lock held. */
int vol_after(struct vol *v, int rc, const char *what)
{
	/* A CRC still owed settles here, outside lock (vol_settled takes it). */
	tape_enc_complete(v->enc);
	pthread_mutex_lock(&v->lock);
	tape_enc_counts(v->enc, &v->counts);
	vol_add_base(v, &v->counts);
	if (rc == 0) {
		/* accepted and tail: vol_settled */
	} else if (rc == -ENOSPC && v->server_full) {
		/* The server holds a prefix of the image; it can never be
		 * completed, so it stays NAME.part. Marks would fail too. */
		vol_note_server_full(v);
	} else if (rc < 0 && rc != -EINVAL) {
		const char *why = xfer_upload_error(v->up);
		if (!why || !*why)
			why = tape_enc_error(v->enc);
		const char *url = xfer_upload_url(v->up);
		if (why && *why && strncmp(why, url, strlen(url)) == 0)
			/* The transfer's sentence names the URL already. */
			vol_set_error(v, rc == -EPIPE ? -EPIPE : -EIO,
				      "%s (while %s)", why, what);
		else
			vol_set_error(v, rc == -EPIPE ? -EPIPE : -EIO,
				      "%s: %s failed: %s", url, what,
				      why && *why ? why : strerror(-rc));
		if (!v->finished)
			v->state = VOL_FAILED;
	}
	int out = rc;
	if (rc < 0 && rc != -EINVAL)
		out = v->err;
	pthread_mutex_unlock(&v->lock);
	return out;
}

/* The upload's failure, waited for (sync) or not, turned into the
 * volume's sticky error as a write's would be. */
static int vol_upload_state(struct vol *v, bool wait)
{
	pthread_mutex_lock(&v->io_lock);
	pthread_mutex_lock(&v->lock);
	int rc = v->err;
	bool live = !v->finished &&
		    (v->state == VOL_WRITING || v->state == VOL_FULL);
	pthread_mutex_unlock(&v->lock);
	if (!rc && live) {
		/* io_lock is held while a sync waits, so no record slips in
		 * behind the bytes it waits for; status readers only take
		 * lock, and vol_abort wakes it (the queue is cancelled).
		 * HET blocks still being compressed are part of what a sync
		 * waits for. */
		rc = wait ? tape_enc_settle(v->enc) : 0;
		if (rc == 0)
			rc = wait ? xfer_upload_sync(v->up) : xfer_upload_check(v->up);
		if (rc == -ENOSPC)
			v->server_full = true;
		if (rc < 0)
			rc = vol_after(v, rc, "sending the image");
	}
	pthread_mutex_unlock(&v->io_lock);
	return rc;
}

int vol_poll(struct vol *v)
{
	return vol_upload_state(v, false);
}

int vol_sync(struct vol *v)
{
	return vol_upload_state(v, true);
}
