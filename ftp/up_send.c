/*
 * up_send.c - the sending thread of an upload: it runs the backend's send
 * from the queue and, when a connection fails, reconnects with backoff,
 * asks how much of NAME.part the server holds and resumes from there if
 * those bytes are still in memory. It must never resume from a position
 * it cannot prove, and never retry forever.
 */
#include "upload_int.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- progress ----------------------------------------------------------- */

void up_draw(struct xfer_upload *u, bool final)
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
		up_draw(u, false);
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

bool up_backoff(struct xfer_upload *u, double secs)
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

/* Failures a new connection may cure: a dropped connection, and a server
 * that is not there for a moment (restarting: connection refused, or a
 * timeout). Everything else is final. */
static bool transient(int rc)
{
	return rc == -EAGAIN || rc == -ECONNREFUSED || rc == -ETIMEDOUT;
}

double up_delay(int attempt)
{
	double d = 0.25 * (double)(1u << (attempt < 6 ? attempt : 6));

	return d > 8 ? 8 : d;
}

/* After a failed connection: reconnects (with backoff) and asks how many
 * bytes NAME.part holds. 0, or an error with msg filled. */
static int reconnect_and_size(struct xfer_upload *u, int *attempt,
			      const char *why, uint64_t *size,
			      char *msg, size_t msglen)
{
	char e[XFER_ERRLEN], first[XFER_ERRLEN];
	int rc;

	/* why may be msg itself (the caller's buffer): keep a copy. */
	snprintf(first, sizeof(first), "%s", why);
	snprintf(e, sizeof(e), "%s", why);
	for (;;) {
		if (*attempt >= u->retries)
			return xerr(msg, msglen, -EIO, "%s; gave up after %d "
				    "reconnect%s (--retries)", e, *attempt,
				    *attempt == 1 ? "" : "s");
		double delay = up_delay(*attempt);
		(*attempt)++;
		rlog(RLOG_WARN, "%s: %s; waiting %.2g s for the server, then "
		     "reconnecting (attempt %d of %d)", u->display, e, delay,
		     *attempt, u->retries);
		if (!up_backoff(u, delay))
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
		if (!transient(rc))
			return xerr(msg, msglen, -EIO, "%s after the connection "
				    "failed (%s), so the upload cannot resume; "
				    "what the server holds stays in %s", e, first,
				    u->part);
	}
}

/* ---- proving a resume point ------------------------------------------- */

/* How much of the end of NAME.part is read back and compared before a
 * resume: at least 64 KiB (issue 8), or all of it when it is shorter. */
#define TAIL_CHECK (256u << 10)

struct tail_ctx {
	struct xq *q;
	uint64_t at;		/* stream offset of the next byte read back */
	uint64_t bad;		/* first differing offset */
	bool differs;
};

static int tail_cb(void *ctx, const void *p, size_t n)
{
	struct tail_ctx *t = ctx;
	int rc = xq_compare(t->q, t->at, p, n, &t->bad);

	if (rc == 1) {
		t->differs = true;
		return -EILSEQ;		/* stop reading */
	}
	if (rc)
		return rc;
	t->at += n;
	return 0;
}

/* Whether the server's NAME.part ends with the bytes still held for
 * [size - tail, size): 0 yes, 1 no (*bad filled), -EAGAIN and the like
 * when the read-back failed. */
static int tail_matches(struct xfer_upload *u, uint64_t size, uint64_t oldest,
			uint64_t *bad, char *e, size_t elen)
{
	uint64_t n = size - oldest;

	if (n > TAIL_CHECK)
		n = TAIL_CHECK;
	struct tail_ctx t = { &u->q, size - n, 0, false };
	int rc = u->ops->fetch(u->b, u->part, size - n, n, tail_cb, &t, e, elen);

	if (t.differs) {
		*bad = t.bad;
		return 1;
	}
	if (rc)
		return rc;
	if (t.at != size) {	/* the server delivered less than its SIZE */
		*bad = t.at;
		return 1;
	}
	return 0;
}

/* Where to go on after the server said it holds `size` bytes: *from, or a
 * final error in e. Resumes only at a point proven by reading back the
 * tail; starts again from byte 0 when that fails and every byte is still
 * held. -EAGAIN: the read-back failed, reconnect again. */
static int resume_point(struct xfer_upload *u, uint64_t size, uint64_t *from,
			char *e, size_t elen)
{
	uint64_t high, bad = 0, oldest = xq_oldest(&u->q);
	char held[160];
	int rc;

	xq_counts(&u->q, NULL, &high);
	if (size > 0)
		snprintf(held, sizeof(held), "%llu bytes are safe on the server in %s",
			 (unsigned long long)size, u->part);
	else
		snprintf(held, sizeof(held), "The server holds none of %s", u->part);
	if (size > high)
		return xerr(e, elen, -EIO, "after reconnecting, the server holds "
			    "%llu bytes of %s but only %llu were sent; it stays as "
			    "it is", (unsigned long long)size, u->part,
			    (unsigned long long)high);
	if (size == 0 && oldest == 0) {
		*from = 0;
		return 0;
	}
	if (size < oldest || size == 0)
		return xerr(e, elen, -EIO, "the connection failed and the server "
			    "holds only %llu of the %llu bytes sent; the bytes "
			    "from %llu on are no longer in memory (--replay keeps "
			    "the last %llu), so the upload cannot resume. %s",
			    (unsigned long long)size, (unsigned long long)high,
			    (unsigned long long)size, (unsigned long long)u->q.replay,
			    held);
	if (size == oldest)
		return xerr(e, elen, -EIO, "the connection failed and the server "
			    "holds %llu bytes of %s, but none of the bytes before "
			    "that are still in memory to check them against "
			    "(--replay keeps the last %llu), so the upload does not "
			    "resume. %s", (unsigned long long)size, u->part,
			    (unsigned long long)u->q.replay, held);
	rc = tail_matches(u, size, oldest, &bad, e, elen);
	if (rc == 0) {
		*from = size;
		return 0;
	}
	if (rc < 0) {
		char why[XFER_ERRLEN];
		snprintf(why, sizeof(why), "%s", e);
		return xerr(e, elen, transient(rc) ? -EAGAIN : -EIO, "reading "
			    "back the end of %s to check it before resuming "
			    "failed: %s; %s", u->part, why, held);
	}
	if (oldest == 0) {
		rlog(RLOG_WARN, "%s: the server's copy of %s does not match what "
		     "was sent at offset %llu; every byte is still held, so the "
		     "upload starts again from byte 0", u->display, u->part,
		     (unsigned long long)bad);
		*from = 0;
		return 0;
	}
	return xerr(e, elen, -EIO, "the server's copy of %s does not match what "
		    "was sent at offset %llu; the bytes before %llu are no longer "
		    "in memory (--replay keeps the last %llu), so the upload "
		    "cannot start again. %s holds damaged data and is not "
		    "published", u->part, (unsigned long long)bad,
		    (unsigned long long)oldest, (unsigned long long)u->q.replay,
		    u->part);
}

void *up_sender(void *arg)
{
	struct xfer_upload *u = arg;
	struct xsend_hooks h = { on_ready, on_tick, u };
	char e[XFER_ERRLEN] = "";
	uint64_t from = 0, high, size = 0, last_size = 0;
	int attempt = 0, rc;
	bool ready, last_remote = false;

	for (;;) {
		rc = u->ops->send(u->b, u->part, from, &u->q, &h, e, sizeof(e));
		pthread_mutex_lock(&u->mu);
		ready = u->state != UP_STARTING;
		bool stop = u->aborting;
		pthread_mutex_unlock(&u->mu);
		if (rc == -ENOTSUP && ready && !stop) {
			/* The server will not resume (ProFTPD's default
			 * AllowStoreRestart off): start again from byte 0 when
			 * every byte is still held, else say what is left. */
			if (xq_oldest(&u->q) == 0 && xq_rewind(&u->q, 0) == 0) {
				rlog(RLOG_WARN, "%s: %s; every byte sent is still held, "
				     "so the upload starts again from byte 0",
				     u->display, e);
				pthread_mutex_lock(&u->mu);
				u->reconnects++;
				pthread_mutex_unlock(&u->mu);
				from = 0;
				continue;
			}
			char why[XFER_ERRLEN];
			snprintf(why, sizeof(why), "%s", e);
			if (from > 0)
				rc = xerr(e, sizeof(e), -EIO, "%s, and the bytes before "
					  "%llu are no longer in memory (--replay keeps "
					  "the last %llu), so the upload cannot start "
					  "again from byte 0; %llu bytes are safe on the "
					  "server in %s", why,
					  (unsigned long long)xq_oldest(&u->q),
					  (unsigned long long)u->q.replay,
					  (unsigned long long)from, u->part);
			else
				rc = xerr(e, sizeof(e), -EIO, "%s", why);
			break;
		}
		if (rc == 0 || (!transient(rc) && rc != -EREMOTEIO) || !ready || stop)
			break;
		bool remote = rc == -EREMOTEIO;
		char why[XFER_ERRLEN];
		snprintf(why, sizeof(why), "%s", e);
		for (;;) {
			rc = reconnect_and_size(u, &attempt, e, &size, e, sizeof(e));
			if (rc)
				break;
			/* A server that twice in a row cannot write at the same
			 * offset is full (or over quota): the end of this medium. */
			if (remote && last_remote && size == last_size) {
				rc = xerr(e, sizeof(e), -ENOSPC, "%s twice at byte %llu",
					  why, (unsigned long long)size);
				break;
			}
			/* --retries counts failures in a row without progress:
			 * when the server holds more than at the last failure,
			 * count afresh. */
			if (size > last_size)
				attempt = 0;
			last_size = size;
			pthread_mutex_lock(&u->mu);
			u->confirmed = size;
			pthread_mutex_unlock(&u->mu);
			rc = resume_point(u, size, &from, e, sizeof(e));
			if (rc != -EAGAIN)
				break;
			/* The read-back failed with the connection: again. */
		}
		last_remote = remote;
		if (rc)
			break;
		xq_counts(&u->q, NULL, &high);
		if (xq_rewind(&u->q, from)) {
			rc = xerr(e, sizeof(e), -EIO, "cannot go back to byte %llu of "
				  "the stream; %s is not published",
				  (unsigned long long)from, u->part);
			break;
		}
		pthread_mutex_lock(&u->mu);
		u->reconnects++;
		u->confirmed = from;
		pthread_mutex_unlock(&u->mu);
		if (from)
			rlog(RLOG_WARN, "%s: reconnected; resuming at byte %llu (the "
			     "server holds it, %llu bytes are sent again)", u->display,
			     (unsigned long long)from,
			     (unsigned long long)(high - from));
		else
			rlog(RLOG_WARN, "%s: reconnected; sending again from byte 0 "
			     "(%llu bytes are sent again)", u->display,
			     (unsigned long long)high);
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
		up_set_error(u, -ENOSPC, "%s: end of medium: the server is out of space "
			  "(%s) after accepting %llu bytes; they stay in %s",
			  u->display, e, (unsigned long long)size, u->part);
		pthread_mutex_unlock(&u->mu);
	} else if (rc) {
		pthread_mutex_lock(&u->mu);
		if (rc == -ECANCELED || u->aborting)
			up_set_error(u, -EPIPE, "%s: the upload was abandoned; what was "
				  "sent stays in %s", u->display, u->part);
		else
			up_set_error(u, -EIO, "%s: %s", u->display, e);
		pthread_mutex_unlock(&u->mu);
	}
	xq_fail(&u->q, rc == -ENOSPC ? -ENOSPC : rc ? -EIO : 0);
	pthread_mutex_lock(&u->mu);
	u->state = UP_DONE;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	return NULL;
}
