/*
 * upload.c - the transfer object: pre-data checks, the bounded queue
 * between the writer and the sending thread (up_send.c), finish with the
 * atomic publish (up_publish.c), abort and statistics. The same for every
 * backend. It must never publish a NAME that does not
 * hold exactly the bytes written, and never lose a failure: every error
 * is kept (sticky) and reaches the next write or finish.
 */
#include "upload_int.h"
#include "s3_int.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

void up_set_error(struct xfer_upload *u, int rc, const char *fmt, ...)
{
	va_list ap;

	if (u->rc)
		return;
	u->rc = rc;
	va_start(ap, fmt);
	vsnprintf(u->err, sizeof(u->err), fmt, ap);
	va_end(ap);
}

/* ---- open --------------------------------------------------------------- */

/* "12345 bytes, modified T"; with human, "12345 bytes, 12.06 KB, ...". */
static void describe(uint64_t size, time_t mtime, bool human, char *buf,
		     size_t len)
{
	char when[64], h[32];

	xfmt_time(mtime, when, sizeof(when));
	if (human && size >= 1024) {
		xfmt_bytes(size, h, sizeof(h));
		snprintf(buf, len, "%llu bytes, %s, modified %s",
			 (unsigned long long)size, h, when);
	} else {
		snprintf(buf, len, "%llu bytes, modified %s",
			 (unsigned long long)size, when);
	}
}

static int check_existing(struct xfer_upload *u, char *err, size_t errlen)
{
	char e[XFER_ERRLEN], d[160], h[160], q[XFER_ERRLEN + 160];
	uint64_t size;
	time_t mtime = 0;
	int rc = u->ops->stat(u->b, u->u.name, &size, &mtime, e, sizeof(e));

	if (rc == -ENOENT)
		return 0;
	if (rc)
		return xerr(err, errlen, rc, "%s: %s", u->display, e);
	/* Remembered: a NAME that changes while we send was published by
	 * another upload, and this one must not replace it (up_publish). */
	u->name_existed = true;
	u->name_size = size;
	u->name_mtime = mtime;
	describe(size, mtime, false, d, sizeof(d));
	switch (u->overwrite) {
	case XFER_OVERWRITE_ALWAYS:
		return 0;
	case XFER_OVERWRITE_ASK:
		describe(size, mtime, true, h, sizeof(h));
		snprintf(q, sizeof(q), "%s already exists (%s). Replace it?",
			 u->display, h);
		rc = xcred_ask(q);
		if (rc == 1)
			return 0;
		if (rc == 0)
			return xerr(err, errlen, -EEXIST, "%s already exists (%s) and "
				    "was kept as you answered; nothing was written",
				    u->display, d);
		return xerr(err, errlen, -EEXIST, "%s already exists (%s) and "
			    "--overwrite=ask has no terminal to ask on; use "
			    "--overwrite=always to replace it", u->display, d);
	default:
		return xerr(err, errlen, -EEXIST, "%s already exists (%s); use "
			    "--overwrite=always (or ask) to replace it; nothing was "
			    "written", u->display, d);
	}
}

/* How long an existing NAME.part is watched for growth before it is taken
 * for a leftover that --overwrite=always may replace. */
#define LIVE_PROBE_SECS 2.0

/*
 * NAME.part is where this upload goes. One that exists already belongs to
 * another upload that is running now (two mounts of one URL: writing into
 * it would destroy that backup, and on vsftpd a second STOR even waits for
 * the first to finish and then truncates the file it just published) or
 * to one that was interrupted. Either way it is reported before any data;
 * it is replaced only as the overwrite policy allows, and never while it
 * still grows.
 */
static int check_partial(struct xfer_upload *u, char *err, size_t errlen)
{
	char e[XFER_ERRLEN], d[160], q[XFER_ERRLEN + 400];
	uint64_t size, size2;
	time_t mtime = 0, mtime2 = 0;
	int rc = u->ops->stat(u->b, u->part, &size, &mtime, e, sizeof(e));

	if (rc == -ENOENT)
		return 0;
	if (rc)
		return xerr(err, errlen, rc, "%s: %s", u->display, e);
	/* A link or another user's file there is refused under any policy. */
	if (u->ops->check_part && (rc = u->ops->check_part(u->b, u->part, e,
							   sizeof(e))))
		return xerr(err, errlen, rc, "%s: %s", u->display, e);
	describe(size, mtime, false, d, sizeof(d));
	if (u->overwrite == XFER_OVERWRITE_NEVER)
		return xerr(err, errlen, -EEXIST, "%s: %s already exists (%s): "
			    "another upload to this name is running now, or an "
			    "earlier one was interrupted; nothing was written. If "
			    "no upload to it is running, delete it or use "
			    "--overwrite=always (or ask) to replace it", u->display,
			    u->part, d);
	/* Still growing: a live upload, whatever the policy says. */
	if (!up_backoff(u, LIVE_PROBE_SECS))
		return xerr(err, errlen, -ECANCELED, "%s: abandoned", u->display);
	rc = u->ops->stat(u->b, u->part, &size2, &mtime2, e, sizeof(e));
	if (rc == -ENOENT)
		return 0;	/* just published or removed: nothing to replace */
	if (rc)
		return xerr(err, errlen, rc, "%s: %s", u->display, e);
	if (size2 != size || mtime2 != mtime)
		return xerr(err, errlen, -EBUSY, "%s: %s is being written by "
			    "another upload right now (it went from %llu to %llu "
			    "bytes in %.0f seconds); two uploads to one name would "
			    "destroy each other, so nothing was written",
			    u->display, u->part, (unsigned long long)size,
			    (unsigned long long)size2, LIVE_PROBE_SECS);
	if (u->overwrite == XFER_OVERWRITE_ASK) {
		snprintf(q, sizeof(q), "%s exists (%s) and did not change in %.0f "
			 "seconds: an earlier upload was interrupted. Replace it?",
			 u->part, d, LIVE_PROBE_SECS);
		rc = xcred_ask(q);
		if (rc != 1)
			return xerr(err, errlen, -EEXIST, "%s: %s already exists (%s) "
				    "and was kept (%s); nothing was written",
				    u->display, u->part, d, rc == 0 ?
				    "as you answered" : "no terminal to ask on");
	}
	rlog(RLOG_WARN, "%s: replacing %s (%s), left by an earlier upload that "
	     "did not finish (--overwrite=%s)", u->display, u->part, d,
	     u->overwrite == XFER_OVERWRITE_ASK ? "ask" : "always");
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Whether u may send through donor's session: donor is published (its
 * session idle, logged in, its sender gone) and u is an FTP(S) file in
 * the same directory of the same server, as the same user. Saves a login:
 * on the development machine vsftpd took 190 ms to accept a password,
 * a fifth of a 1 GiB `reel send` (ftp/README "Choices worth knowing"). */
static bool may_borrow(const struct xfer_upload *u, struct xfer_upload *donor)
{
	if (!donor || donor->ops != u->ops || u->u.local || xurl_is_s3(&u->u) ||
	    (strcmp(u->u.scheme, "ftp") && strcmp(u->u.scheme, "ftps")))
		return false;
	pthread_mutex_lock(&donor->mu);
	bool idle = donor->finished && donor->published && !donor->rc &&
		    donor->b && !donor->b_borrowed;
	pthread_mutex_unlock(&donor->mu);
	return idle && same_str(u->u.scheme, donor->u.scheme) &&
	       same_str(u->u.hostport, donor->u.hostport) &&
	       same_str(u->u.user, donor->u.user) &&
	       u->u.has_password == donor->u.has_password &&
	       same_str(u->u.dir, donor->u.dir);
}

/* xfer_upload_open, telling the caller in *why why connecting failed
 * (0 when it did not get that far or failed otherwise); through donor's
 * session when it may (may_borrow). */
static struct xfer_upload *open_upload(const char *url, const struct xfer_opts *o,
				       struct xfer_upload *donor,
				       char *err, size_t errlen, int *why)
{
	struct xfer_upload *u = calloc(1, sizeof(*u));
	char e[XFER_ERRLEN];
	uint64_t replay;
	int rc;

	if (!u) {
		xerr(err, errlen, -ENOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&u->mu, NULL);
	pthread_mutex_init(&u->join_mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	u->t0 = xnow();
	u->cpu0 = xcpu();
	u->rate_t[0] = u->rate_t[1] = u->t0;
	u->crc = (uint32_t)crc32(0L, Z_NULL, 0);
	u->display = xfer_url_display(url ? url : "");
	if (!u->display)
		goto nomem;
	if (xurl_parse(url, &u->u, e, sizeof(e))) {
		xerr(err, errlen, -EINVAL, "%s: %s", u->display, e);
		goto fail;
	}
	if (!*u->u.name) {
		xerr(err, errlen, -EINVAL, "%s: the URL names a directory; add the "
		     "file name (.../NAME)", u->display);
		goto fail;
	}
	u->part = malloc(strlen(u->u.name) + 6);
	if (!u->part)
		goto nomem;
	sprintf(u->part, "%s.part", u->u.name);
	u->ops = xb_for(&u->u);
	u->overwrite = o->overwrite;
	u->verify = o->verify;
	u->retries = o->retries;
	u->progress = o->progress < 0 ? isatty(2) : o->progress;

	replay = o->replay_size;
	if (replay >= o->buffer_size)
		replay = o->buffer_size / 2;	/* --buffer given smaller alone */
	if (xurl_is_s3(&u->u)) {
		/* S3: the replay window is one part, sent again after a
		 * failure; there is no NAME.part to read back. */
		uint64_t part;
		if (xs3_plan(o, &part, &replay, e, sizeof(e))) {
			xerr(err, errlen, -EINVAL, "%s: %s", u->display, e);
			goto fail;
		}
		if (o->verify) {
			xerr(err, errlen, -EINVAL, "%s: --verify reads NAME.part back "
			     "before publishing, and an S3 multipart upload cannot be "
			     "read before it is complete; the gateway checks each "
			     "part's SHA-256 instead", u->display);
			goto fail;
		}
	}
	rc = xq_init(&u->q, o->buffer_size, replay);
	if (rc) {
		xerr(err, errlen, rc, "%s: cannot reserve the %llu-byte buffer: %s",
		     u->display, (unsigned long long)o->buffer_size, strerror(-rc));
		goto fail;
	}
	/* --verify's CRC: the sender computes it as it drains (queue.c). */
	u->q.crc = u->crc;
	u->q.crc_on = u->verify;

	if (may_borrow(u, donor)) {
		u->b = donor->b;
		u->b_borrowed = true;
		rc = 0;
	} else {
		rc = u->ops->open(&u->b, &u->u, o, true, e, sizeof(e));
	}
	if (rc) {
		*why = rc;
		xerr(err, errlen, rc, "%s: %s; nothing was written", u->display, e);
		goto fail;
	}
	if (check_existing(u, err, errlen) || check_partial(u, err, errlen))
		goto fail;
	rc = xthread_start(&u->thread, "reelfs-send", up_sender, u);
	if (rc) {
		xerr(err, errlen, -rc, "%s: cannot start the sending thread: %s",
		     u->display, strerror(rc));
		goto fail;
	}
	u->thread_started = true;
	/* Wait until the server accepted the data channel for NAME.part (which
	 * proves the directory writable), or said why not. */
	pthread_mutex_lock(&u->mu);
	while (u->state == UP_STARTING)
		pthread_cond_wait(&u->cv, &u->mu);
	rc = u->state == UP_DONE ? (u->rc ? u->rc : -EIO) : 0;
	pthread_mutex_unlock(&u->mu);
	if (rc) {
		xerr(err, errlen, rc, "%s; nothing was written", u->err);
		goto fail;
	}
	return u;
nomem:
	xerr(err, errlen, -ENOMEM, "out of memory");
fail:
	xfer_upload_abort(u);
	xfer_upload_free(u);
	return NULL;
}

struct xfer_upload *xfer_upload_open(const char *url, const struct xfer_opts *o,
				     char *err, size_t errlen)
{
	int why = 0;

	return open_upload(url, o, NULL, err, errlen, &why);
}

/* ---- writing ------------------------------------------------------------ */

static int map_put_error(struct xfer_upload *u, int rc)
{
	pthread_mutex_lock(&u->mu);
	if (rc == -ECANCELED || u->finished)
		rc = -EPIPE;
	else if (u->rc)
		rc = u->rc == -ENOSPC ? -ENOSPC : -EIO;
	else
		rc = rc == -ENOSPC ? -ENOSPC : -EIO;
	pthread_mutex_unlock(&u->mu);
	return rc;
}

/* 0 while the writer may still add bytes; otherwise what it must hear:
 * -EPIPE after finish/abort, -ENOSPC when the server is full, -EIO for
 * any other sticky failure. */
static int upload_usable(struct xfer_upload *u)
{
	pthread_mutex_lock(&u->mu);
	int rc = u->finished ? -EPIPE : u->rc;
	pthread_mutex_unlock(&u->mu);
	if (rc == 0 || rc == -ENOSPC || rc == -EPIPE)
		return rc;
	return -EIO;
}

int xfer_upload_write(struct xfer_upload *u, const void *data, size_t len)
{
	struct xfer_piece p = { data, len };
	return xfer_upload_writev(u, &p, 1);
}

/* No CRC here: --verify's is the sender's (queue.c crc_extend). */
int xfer_upload_writev(struct xfer_upload *u, const struct xfer_piece *v, int n)
{
	int rc;
	size_t len = 0;

	if ((rc = upload_usable(u)) < 0)
		return rc;
	for (int i = 0; i < n; i++)
		len += v[i].len;
	if (len == 0)
		return 0;
	/* Same layout: xfer.h's public piece, queue.c's private one. */
	_Static_assert(sizeof(struct xfer_piece) == sizeof(struct xq_piece),
		       "piece layouts differ");
	rc = xq_putv(&u->q, (const struct xq_piece *)(const void *)v, n);
	if (rc)
		return map_put_error(u, rc);
	pthread_mutex_lock(&u->mu);
	u->queued += len;
	pthread_mutex_unlock(&u->mu);
	return 0;
}

int xfer_upload_landing(struct xfer_upload *u, size_t skip, size_t need,
			void **buf, size_t *len)
{
	int rc;

	if ((rc = upload_usable(u)) < 0)
		return rc;
	rc = xq_landing(&u->q, skip, need, buf, len);
	return rc == -EAGAIN ? rc : rc ? map_put_error(u, rc) : 0;
}

int xfer_upload_reserve(struct xfer_upload *u, void **buf, size_t *len)
{
	int rc;

	if ((rc = upload_usable(u)) < 0)
		return rc;
	rc = xq_reserve(&u->q, buf, len);
	if (rc)
		return map_put_error(u, rc);
	u->reserved = *buf;
	u->reserved_len = *len;
	return 0;
}

int xfer_upload_commit(struct xfer_upload *u, size_t n)
{
	if (!u->reserved || n > u->reserved_len)
		return -EINVAL;
	u->reserved = NULL;
	if (n == 0)
		return 0;
	xq_commit(&u->q, n);
	pthread_mutex_lock(&u->mu);
	u->queued += n;
	pthread_mutex_unlock(&u->mu);
	return 0;
}

/* ---- sync --------------------------------------------------------------- */

int xfer_upload_sync(struct xfer_upload *u)
{
	uint64_t head;
	int rc;

	if ((rc = upload_usable(u)) < 0)
		return rc;
	/* Everything queued so far; the sending thread resumes after a fault
	 * as usual meanwhile, and xq_sync returns once those bytes went out
	 * (or the sender gave up, which it records before failing q). */
	xq_counts(&u->q, &head, NULL);
	rc = xq_sync(&u->q, head);
	if (rc)
		return map_put_error(u, rc);
	return xfer_upload_check(u);
}

int xfer_upload_check(struct xfer_upload *u)
{
	pthread_mutex_lock(&u->mu);
	int rc = u->rc;
	pthread_mutex_unlock(&u->mu);
	if (rc == 0 || rc == -ENOSPC || rc == -EPIPE)
		return rc;
	return -EIO;
}

/* ---- finish ------------------------------------------------------------- */

static void join(struct xfer_upload *u)
{
	pthread_mutex_lock(&u->join_mu);
	if (u->thread_started) {
		pthread_join(u->thread, NULL);
		u->thread_started = false;
	}
	pthread_mutex_unlock(&u->join_mu);
}

int xfer_upload_finish(struct xfer_upload *u)
{
	int rc;

	pthread_mutex_lock(&u->mu);
	if (u->finished) {
		rc = u->rc ? u->rc : (u->published ? 0 : -EPIPE);
		pthread_mutex_unlock(&u->mu);
		return rc;
	}
	u->finished = true;
	pthread_mutex_unlock(&u->mu);
	xq_close(&u->q);
	join(u);
	pthread_mutex_lock(&u->mu);
	u->crc = xq_crc(&u->q);	/* every byte was handed on: the whole stream */
	rc = u->rc;
	pthread_mutex_unlock(&u->mu);
	if (!rc)
		rc = up_publish(u);
	if (u->drew || u->progress == 1) {
		pthread_mutex_lock(&u->mu);
		up_draw(u, true);
		pthread_mutex_unlock(&u->mu);
	}
	if (rc)
		return rc == -ENOSPC ? -ENOSPC : (rc == -EPIPE ? -EPIPE : -EIO);
	return 0;
}

void xfer_upload_abort(struct xfer_upload *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&u->mu);
	u->aborting = true;
	if (!u->finished) {
		u->finished = true;
		if (xurl_is_s3(&u->u))
			up_set_error(u, -EPIPE, "%s: the upload was abandoned; its "
				  "multipart upload is aborted on the gateway",
				  u->display);
		else
			up_set_error(u, -EPIPE, "%s: the upload was abandoned; what "
				  "was sent stays in %s", u->display,
				  u->part ? u->part : "NAME.part");
	}
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	if (u->q.buf)
		xq_cancel(&u->q);
	join(u);
}

void xfer_upload_free(struct xfer_upload *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&u->mu);
	bool done = u->finished;
	pthread_mutex_unlock(&u->mu);
	if (!done)
		xfer_upload_abort(u);
	join(u);
	if (u->b && !u->b_borrowed)
		u->ops->close(u->b);
	xq_destroy(&u->q);
	xurl_free(&u->u);
	free(u->part);
	free(u->display);
	pthread_mutex_destroy(&u->mu);
	pthread_mutex_destroy(&u->join_mu);
	pthread_cond_destroy(&u->cv);
	free(u);
}

/* ---- reporting ---------------------------------------------------------- */

void xfer_upload_stats(struct xfer_upload *u, struct xfer_stats *s)
{
	uint64_t high;
	double now = xnow();

	memset(s, 0, sizeof(*s));
	xq_counts(&u->q, NULL, &high);
	pthread_mutex_lock(&u->mu);
	/* rate_now: over the span since the older of two samples taken at
	 * least two seconds apart. */
	if (now - u->rate_t[1] >= 2.0) {
		u->rate_t[0] = u->rate_t[1];
		u->rate_b[0] = u->rate_b[1];
		u->rate_t[1] = now;
		u->rate_b[1] = high;
	}
	s->queued = u->queued;
	s->sent = high;
	s->confirmed = u->confirmed;
	s->reconnects = u->reconnects;
	s->elapsed = now - u->t0;
	s->cpu = xcpu() - u->cpu0;
	s->rate_mean = s->elapsed > 0 ? (double)high / s->elapsed : 0;
	s->rate_now = now > u->rate_t[0] ?
		(double)(high - u->rate_b[0]) / (now - u->rate_t[0]) : 0;
	s->crc = u->q.crc_on ? xq_crc(&u->q) : u->crc;
	s->published = u->published;
	s->verified = u->verified;
	pthread_mutex_unlock(&u->mu);
}

const char *xfer_upload_error(struct xfer_upload *u)
{
	return u->err;
}

const char *xfer_upload_url(const struct xfer_upload *u)
{
	return u->display;
}

/* ---- small files -------------------------------------------------------- */

int xfer_put_small(const char *url, const struct xfer_opts *o,
		   const void *data, size_t len, char *err, size_t errlen)
{
	return xfer_put_small_after(NULL, url, o, data, len, err, errlen);
}

int xfer_put_small_after(struct xfer_upload *donor, const char *url,
			 const struct xfer_opts *o, const void *data, size_t len,
			 char *err, size_t errlen)
{
	struct xfer_opts so = *o;
	struct xfer_upload *u;
	int rc;

	so.overwrite = XFER_OVERWRITE_ALWAYS;
	so.progress = 0;
	so.verify = false;
	so.buffer_size = len + 1 > 1024 * 1024 ? len + 1 : 1024 * 1024;
	/* All of it stays held, so a dropped connection resumes at a proven
	 * point or starts again from byte 0. */
	so.replay_size = len;
	so.size_hint = len;	/* s3://: one part, all of it held */
	/* The image it belongs to is published already: a server that is
	 * away for a moment (restarting) is waited for, within --retries. */
	for (int attempt = 0;; attempt++) {
		int why = 0;
		u = open_upload(url, &so, donor, err, errlen, &why);
		if (u)
			break;
		if (donor) {
			/* The image's session may have died with the server
			 * meanwhile: open one of our own at once, its
			 * failures waited for as usual. */
			rlog_debug("%s; trying a session of its own", err);
			donor = NULL;
			attempt--;
			continue;
		}
		if ((why != -ECONNREFUSED && why != -ETIMEDOUT &&
		     why != -ECONNRESET && why != -EAGAIN) ||
		    attempt >= o->retries)
			return -EIO;
		double d = up_delay(attempt);
		rlog(RLOG_WARN, "%s; waiting %.2g s for the server, then trying "
		     "again (attempt %d of %d)", err, d, attempt + 1, o->retries);
		struct timespec ts = { (time_t)d, (long)((d - (double)(time_t)d) * 1e9) };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	rc = xfer_upload_write(u, data, len);
	if (!rc)
		rc = xfer_upload_finish(u);
	if (rc)
		xerr(err, errlen, rc, "%s", xfer_upload_error(u));
	xfer_upload_free(u);
	return rc;
}
