/*
 * upload.c - the transfer object: pre-data checks, the bounded queue, the
 * sending thread that survives dropped connections by resuming from what
 * the server holds, and the atomic publish (NAME.part -> NAME) with proof.
 * The same for every backend. It must never publish a NAME that does not
 * hold exactly the bytes written, and never lose a failure: every error
 * is kept (sticky) and reaches the next write or finish.
 */
#include "xfer_int.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

enum up_state { UP_STARTING, UP_SENDING, UP_DONE };

struct xfer_upload {
	char *display;		/* URL without password, for messages */
	struct xurl u;
	const struct xb_ops *ops;
	void *b;		/* backend state; the sender owns it until DONE */
	char *part;		/* "NAME.part" */
	enum xfer_overwrite overwrite;
	bool verify;
	int retries;
	int progress;		/* 1: draw the progress line */
	struct xq q;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t mu;	/* protects everything below */
	pthread_cond_t cv;
	enum up_state state;
	bool aborting;
	int rc;			/* sticky: 0, -EIO, -ENOSPC, -EPIPE */
	char err[XFER_ERRLEN];
	bool finished;		/* finish or abort was called */
	uint64_t queued;	/* writer side */
	uint64_t confirmed;
	unsigned reconnects;
	bool published, verified;
	uint32_t crc;		/* writer side: crc of the bytes queued */
	double t0, cpu0;
	double rate_t[2];	/* two samples for rate_now */
	uint64_t rate_b[2];
	double last_draw;
	bool drew;
};

static void set_error(struct xfer_upload *u, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Keeps the first error; mu held by caller or not needed (single thread). */
static void set_error(struct xfer_upload *u, int rc, const char *fmt, ...)
{
	va_list ap;

	if (u->rc)
		return;
	u->rc = rc;
	va_start(ap, fmt);
	vsnprintf(u->err, sizeof(u->err), fmt, ap);
	va_end(ap);
}

/* ---- progress ----------------------------------------------------------- */

static void draw(struct xfer_upload *u, bool final)
{
	uint64_t high;
	char a[32], r[32];
	double el = xnow() - u->t0;

	xq_counts(&u->q, NULL, &high);
	xfmt_bytes(high, a, sizeof(a));
	xfmt_bytes(el > 0 ? (uint64_t)(high / el) : 0, r, sizeof(r));
	fprintf(stderr, "\r%s: %s sent, %s/s, %u reconnect%s%s", u->u.name, a, r,
		u->reconnects, u->reconnects == 1 ? "" : "s", final ? "\n" : "   ");
	u->drew = true;
}

static void on_tick(void *ctx)
{
	struct xfer_upload *u = ctx;

	if (u->progress != 1)
		return;
	pthread_mutex_lock(&u->mu);
	if (xnow() - u->last_draw >= 1.0) {
		u->last_draw = xnow();
		draw(u, false);
	}
	pthread_mutex_unlock(&u->mu);
}

static void on_ready(void *ctx)
{
	struct xfer_upload *u = ctx;

	pthread_mutex_lock(&u->mu);
	if (u->state == UP_STARTING)
		u->state = UP_SENDING;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
}

/* ---- the sending thread ------------------------------------------------- */

/* Sleeps up to secs unless the upload is being abandoned. */
static bool backoff(struct xfer_upload *u, double secs)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)secs;
	ts.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&u->mu);
	while (!u->aborting &&
	       pthread_cond_timedwait(&u->cv, &u->mu, &ts) != ETIMEDOUT)
		;
	stop = u->aborting;
	pthread_mutex_unlock(&u->mu);
	return !stop;
}

/* After a failed connection: reconnects (with backoff) and asks how many
 * bytes NAME.part holds. 0, or an error with msg filled. */
static int reconnect_and_size(struct xfer_upload *u, int *attempt,
			      const char *why, uint64_t *size,
			      char *msg, size_t msglen)
{
	char e[XFER_ERRLEN];
	int rc;

	snprintf(e, sizeof(e), "%s", why);
	for (;;) {
		if (*attempt >= u->retries)
			return xerr(msg, msglen, -EIO, "%s; gave up after %d "
				    "reconnect%s", e, *attempt,
				    *attempt == 1 ? "" : "s");
		double delay = 0.25 * (double)(1u << (*attempt < 6 ? *attempt : 6));
		(*attempt)++;
		rlog(RLOG_WARN, "%s: %s; reconnecting (attempt %d of %d)",
		     u->display, e, *attempt, u->retries);
		if (!backoff(u, delay > 8 ? 8 : delay))
			return xerr(msg, msglen, -ECANCELED, "abandoned");
		rc = u->ops->reconnect(u->b, e, sizeof(e));
		if (rc == 0)
			rc = u->ops->stat(u->b, u->part, size, NULL, e, sizeof(e));
		if (rc == -ENOENT) {
			*size = 0;
			return 0;
		}
		if (rc == 0)
			return 0;
		if (rc != -EAGAIN)
			return xerr(msg, msglen, -EIO, "%s", e);
	}
}

static void *sender(void *arg)
{
	struct xfer_upload *u = arg;
	struct xsend_hooks h = { on_ready, on_tick, u };
	char e[XFER_ERRLEN] = "";
	uint64_t from = 0, high, size, last_size = 0;
	int attempt = 0, rc;
	bool ready, last_remote = false;

	for (;;) {
		rc = u->ops->send(u->b, u->part, from, &u->q, &h, e, sizeof(e));
		pthread_mutex_lock(&u->mu);
		ready = u->state != UP_STARTING;
		bool stop = u->aborting;
		pthread_mutex_unlock(&u->mu);
		if (rc == 0 || (rc != -EAGAIN && rc != -EREMOTEIO) || !ready || stop)
			break;
		bool remote = rc == -EREMOTEIO;
		char why[XFER_ERRLEN];
		snprintf(why, sizeof(why), "%s", e);
		rc = reconnect_and_size(u, &attempt, e, &size, e, sizeof(e));
		if (rc)
			break;
		/* A server that twice in a row cannot write at the same offset
		 * is full (or over quota): that is the end of this medium. */
		if (remote && last_remote && size == last_size) {
			rc = xerr(e, sizeof(e), -ENOSPC, "%s twice at byte %llu",
				  why, (unsigned long long)size);
			break;
		}
		last_remote = remote;
		/* --retries counts failures in a row without progress: when the
		 * server holds more than at the last failure, count afresh. */
		if (size > last_size)
			attempt = 0;
		last_size = size;
		xq_counts(&u->q, NULL, &high);
		pthread_mutex_lock(&u->mu);
		u->confirmed = size;
		pthread_mutex_unlock(&u->mu);
		if (size > high) {
			rc = xerr(e, sizeof(e), -EIO, "after reconnecting, the server "
				  "holds %llu bytes of %s but only %llu were sent; "
				  "it stays as it is", (unsigned long long)size,
				  u->part, (unsigned long long)high);
			break;
		}
		if (xq_rewind(&u->q, size)) {
			rc = xerr(e, sizeof(e), -EIO, "the connection failed and the "
				  "server holds only %llu of the %llu bytes sent; the "
				  "bytes from %llu on are no longer in memory (--replay "
				  "keeps the last %llu), so the upload cannot resume. "
				  "%llu bytes are safe on the server in %s",
				  (unsigned long long)size, (unsigned long long)high,
				  (unsigned long long)size,
				  (unsigned long long)u->q.replay,
				  (unsigned long long)size, u->part);
			break;
		}
		pthread_mutex_lock(&u->mu);
		u->reconnects++;
		u->confirmed = size;
		pthread_mutex_unlock(&u->mu);
		rlog(RLOG_WARN, "%s: reconnected; resuming at byte %llu (the "
		     "server holds it, %llu bytes are sent again)", u->display,
		     (unsigned long long)size, (unsigned long long)(high - size));
		from = size;
	}
	if (rc == -ENOSPC) {
		/* What did the server keep? Ask on a fresh connection if need be. */
		char e2[XFER_ERRLEN];
		if (u->ops->stat(u->b, u->part, &size, NULL, e2, sizeof(e2)) &&
		    (u->ops->reconnect(u->b, e2, sizeof(e2)) ||
		     u->ops->stat(u->b, u->part, &size, NULL, e2, sizeof(e2))))
			size = u->confirmed;
		pthread_mutex_lock(&u->mu);
		u->confirmed = size;
		set_error(u, -ENOSPC, "%s: end of medium: the server is out of space "
			  "(%s) after accepting %llu bytes; they stay in %s",
			  u->display, e, (unsigned long long)size, u->part);
		pthread_mutex_unlock(&u->mu);
	} else if (rc) {
		pthread_mutex_lock(&u->mu);
		if (rc == -ECANCELED || u->aborting)
			set_error(u, -EPIPE, "%s: the upload was abandoned; what was "
				  "sent stays in %s", u->display, u->part);
		else
			set_error(u, -EIO, "%s: %s", u->display, e);
		pthread_mutex_unlock(&u->mu);
	}
	xq_fail(&u->q, rc == -ENOSPC ? -ENOSPC : rc ? -EIO : 0);
	pthread_mutex_lock(&u->mu);
	u->state = UP_DONE;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

/* ---- open --------------------------------------------------------------- */

static int check_existing(struct xfer_upload *u, char *err, size_t errlen)
{
	char e[XFER_ERRLEN], when[64], sz[48], q[XFER_ERRLEN + 160];
	uint64_t size;
	time_t mtime = 0;
	int rc = u->ops->stat(u->b, u->u.name, &size, &mtime, e, sizeof(e));

	if (rc == -ENOENT)
		return 0;
	if (rc)
		return xerr(err, errlen, rc, "%s: %s", u->display, e);
	xfmt_time(mtime, when, sizeof(when));
	if (size >= 1024) {
		char h[32];
		xfmt_bytes(size, h, sizeof(h));
		snprintf(sz, sizeof(sz), ", %s", h);
	} else {
		sz[0] = '\0';
	}
	switch (u->overwrite) {
	case XFER_OVERWRITE_ALWAYS:
		return 0;
	case XFER_OVERWRITE_ASK:
		snprintf(q, sizeof(q), "%s already exists (%llu bytes%s, modified "
			 "%s). Replace it?", u->display, (unsigned long long)size,
			 sz, when);
		rc = xcred_ask(q);
		if (rc == 1)
			return 0;
		if (rc == 0)
			return xerr(err, errlen, -EEXIST, "%s already exists (%llu "
				    "bytes, modified %s) and was kept as you "
				    "answered; nothing was written", u->display,
				    (unsigned long long)size, when);
		return xerr(err, errlen, -EEXIST, "%s already exists (%llu bytes, "
			    "modified %s) and --overwrite=ask has no terminal to ask "
			    "on; use --overwrite=always to replace it", u->display,
			    (unsigned long long)size, when);
	default:
		return xerr(err, errlen, -EEXIST, "%s already exists (%llu bytes, "
			    "modified %s); use --overwrite=always (or ask) to replace "
			    "it; nothing was written", u->display,
			    (unsigned long long)size, when);
	}
}

struct xfer_upload *xfer_upload_open(const char *url, const struct xfer_opts *o,
				     char *err, size_t errlen)
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
		     "file name (…/NAME)", u->display);
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
	rc = xq_init(&u->q, o->buffer_size, replay);
	if (rc) {
		xerr(err, errlen, rc, "%s: cannot reserve the %llu-byte buffer: %s",
		     u->display, (unsigned long long)o->buffer_size, strerror(-rc));
		goto fail;
	}

	rc = u->ops->open(&u->b, &u->u, o, true, e, sizeof(e));
	if (rc) {
		xerr(err, errlen, rc, "%s: %s; nothing was written", u->display, e);
		goto fail;
	}
	if (check_existing(u, err, errlen))
		goto fail;
	rc = xthread_start(&u->thread, sender, u);
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

/* ---- writing ------------------------------------------------------------ */

int xfer_upload_write(struct xfer_upload *u, const void *data, size_t len)
{
	int rc;

	pthread_mutex_lock(&u->mu);
	rc = u->finished ? -EPIPE : u->rc;
	pthread_mutex_unlock(&u->mu);
	if (rc)
		return rc == -ENOSPC || rc == -EPIPE ? rc : -EIO;
	if (len == 0)
		return 0;
	rc = xq_put(&u->q, data, len);
	if (rc) {
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
	/* zlib's CRC costs about 0.4 s of CPU per GiB here, as much as the
	 * copy into the queue, so it is computed only when --verify needs it
	 * (outside the lock; only this writer changes it). */
	uint32_t crc = u->verify ? (uint32_t)crc32_z(u->crc, data, len) : 0;
	pthread_mutex_lock(&u->mu);
	u->crc = crc;
	u->queued += len;
	pthread_mutex_unlock(&u->mu);
	return 0;
}

/* ---- finish ------------------------------------------------------------- */

/* Runs a control operation, reconnecting on a dropped connection. */
#define WITH_RETRY(u, rc, call)                                              \
	do {                                                                 \
		int tries_ = 0;                                              \
		for (;;) {                                                   \
			rc = (call);                                         \
			if (rc != -EAGAIN || tries_++ >= (u)->retries)       \
				break;                                       \
			if (!backoff(u, 0.25 * tries_))                      \
				break;                                       \
			(u)->ops->reconnect((u)->b, e, sizeof(e));           \
		}                                                            \
	} while (0)

struct crc_ctx {
	uint32_t crc;
	uint64_t n;
};

static int crc_cb(void *ctx, const void *p, size_t n)
{
	struct crc_ctx *c = ctx;

	c->crc = (uint32_t)crc32_z(c->crc, p, n);
	c->n += n;
	return 0;
}

static int publish(struct xfer_upload *u)
{
	char e[XFER_ERRLEN] = "";
	uint64_t size = 0, head;
	bool replace = u->overwrite != XFER_OVERWRITE_NEVER;
	int rc;

	xq_counts(&u->q, &head, NULL);
	WITH_RETRY(u, rc, u->ops->stat(u->b, u->part, &size, NULL, e, sizeof(e)));
	if (rc == -ENOENT && head == 0) {
		size = 0;	/* an empty file some servers do not keep */
		rc = 0;
	}
	if (rc) {
		set_error(u, -EIO, "%s: cannot ask the size of %s: %s; it stays "
			  "unpublished", u->display, u->part, e);
		return -EIO;
	}
	pthread_mutex_lock(&u->mu);
	u->confirmed = size;
	pthread_mutex_unlock(&u->mu);
	if (size != head) {
		set_error(u, -EIO, "%s: the server holds %llu bytes of %s but %llu "
			  "were sent; it stays unpublished as %s", u->display,
			  (unsigned long long)size, u->part,
			  (unsigned long long)head, u->part);
		return -EIO;
	}
	WITH_RETRY(u, rc, u->ops->rename(u->b, u->part, u->u.name, replace, e, sizeof(e)));
	if (rc == -EEXIST) {
		set_error(u, -EIO, "%s: %s appeared while sending and "
			  "--overwrite=never keeps it; the data stays in %s",
			  u->display, u->u.name, u->part);
		return -EIO;
	}
	if (rc) {
		set_error(u, -EIO, "%s: publishing %s as %s failed: %s; the data "
			  "stays in %s", u->display, u->part, u->u.name, e, u->part);
		return -EIO;
	}
	pthread_mutex_lock(&u->mu);
	u->published = true;
	pthread_mutex_unlock(&u->mu);
	if (!u->verify)
		return 0;
	struct crc_ctx c = { (uint32_t)crc32(0L, Z_NULL, 0), 0 };
	WITH_RETRY(u, rc, (c.crc = (uint32_t)crc32(0L, Z_NULL, 0), c.n = 0,
			   u->ops->fetch(u->b, u->u.name, 0, 0, crc_cb, &c, e, sizeof(e))));
	if (rc) {
		set_error(u, -EIO, "%s: --verify could not read it back: %s",
			  u->display, e);
		return -EIO;
	}
	if (c.n != head || c.crc != u->crc) {
		set_error(u, -EIO, "%s: --verify read back %llu bytes with CRC32 "
			  "%08x, but %llu bytes with CRC32 %08x were sent: the copy "
			  "on the server is damaged", u->display,
			  (unsigned long long)c.n, c.crc, (unsigned long long)head,
			  u->crc);
		return -EIO;
	}
	pthread_mutex_lock(&u->mu);
	u->verified = true;
	pthread_mutex_unlock(&u->mu);
	return 0;
}

static void join(struct xfer_upload *u)
{
	if (u->thread_started) {
		pthread_join(u->thread, NULL);
		u->thread_started = false;
	}
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
	rc = u->rc;
	pthread_mutex_unlock(&u->mu);
	if (!rc)
		rc = publish(u);
	if (u->drew || u->progress == 1) {
		pthread_mutex_lock(&u->mu);
		draw(u, true);
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
		set_error(u, -EPIPE, "%s: the upload was abandoned; what was sent "
			  "stays in %s", u->display, u->part ? u->part : "NAME.part");
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
	if (u->b)
		u->ops->close(u->b);
	xq_destroy(&u->q);
	xurl_free(&u->u);
	free(u->part);
	free(u->display);
	pthread_mutex_destroy(&u->mu);
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
	s->crc = u->crc;
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
	struct xfer_opts so = *o;
	struct xfer_upload *u;
	int rc;

	so.overwrite = XFER_OVERWRITE_ALWAYS;
	so.progress = 0;
	so.verify = false;
	so.buffer_size = len + 1 > 1024 * 1024 ? len + 1 : 1024 * 1024;
	so.replay_size = 0;
	u = xfer_upload_open(url, &so, err, errlen);
	if (!u)
		return -EIO;
	rc = xfer_upload_write(u, data, len);
	if (!rc)
		rc = xfer_upload_finish(u);
	if (rc)
		xerr(err, errlen, rc, "%s", xfer_upload_error(u));
	xfer_upload_free(u);
	return rc;
}
