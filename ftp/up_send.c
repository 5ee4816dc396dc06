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
				    "reconnect%s", e, *attempt,
				    *attempt == 1 ? "" : "s");
		double delay = 0.25 * (double)(1u << (*attempt < 6 ? *attempt : 6));
		(*attempt)++;
		rlog(RLOG_WARN, "%s: %s; reconnecting (attempt %d of %d)",
		     u->display, e, *attempt, u->retries);
		if (!up_backoff(u, delay > 8 ? 8 : delay))
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
			return xerr(msg, msglen, -EIO, "%s after the connection "
				    "failed (%s), so the upload cannot resume; "
				    "what the server holds stays in %s", e, first,
				    u->part);
	}
}

void *up_sender(void *arg)
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
