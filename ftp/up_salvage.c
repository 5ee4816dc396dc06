/*
 * up_salvage.c - what is left of an upload whose server ran out of space
 * (452/552): the bytes the writer queued that the server did not keep are
 * still in the queue (everything not yet sent, and the last --replay bytes
 * sent), so a storeset can carry them onto its next reel. This file reads
 * them back out, asks what NAME.part holds, and publishes that prefix
 * under NAME. The caller (fs/volume_salvage.c) decides where the prefix ends.
 *
 * It must never hand back a byte the ring no longer holds: a range that
 * starts before the queue's oldest byte is refused.
 */
#include "upload_int.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>

/* The sender thread ends after the 552 (error, xq_fail, UP_DONE); once
 * it is joined, the backend state is ours. */
static int salvage_take(struct xfer_upload *u, char *err, size_t errlen)
{
	pthread_mutex_lock(&u->mu);
	int rc = u->rc;
	/* The sender sets the error before it fails the queue, so once the
	 * writer has seen -ENOSPC the thread is on its way out. */
	if (rc == -ENOSPC)
		u->finished = true;
	pthread_mutex_unlock(&u->mu);
	if (rc != -ENOSPC) {
		snprintf(err, errlen, "%s: the upload did not end with the server "
			 "out of space, so nothing can be salvaged from it",
			 u->display);
		return -EINVAL;
	}
	pthread_mutex_lock(&u->join_mu);
	if (u->thread_started) {
		pthread_join(u->thread, NULL);
		u->thread_started = false;
	}
	pthread_mutex_unlock(&u->join_mu);
	return 0;
}

int xfer_upload_salvage_size(struct xfer_upload *u, uint64_t *held,
			     char *err, size_t errlen)
{
	int rc = salvage_take(u, err, errlen);
	if (rc)
		return rc;
	char e[XFER_ERRLEN] = "";
	uint64_t size = 0;
	rc = u->ops->stat(u->b, u->part, &size, NULL, e, sizeof(e));
	if (rc && u->ops->reconnect(u->b, e, sizeof(e)) == 0)
		rc = u->ops->stat(u->b, u->part, &size, NULL, e, sizeof(e));
	if (rc) {
		snprintf(err, errlen, "%s: cannot ask the size of %s after the "
			 "server ran out of space: %s", u->display, u->part, e);
		return -EIO;
	}
	pthread_mutex_lock(&u->mu);
	u->confirmed = size;
	pthread_mutex_unlock(&u->mu);
	*held = size;
	return 0;
}

int xfer_upload_salvage_read(struct xfer_upload *u, uint64_t from, uint64_t to,
			     int (*cb)(void *ctx, const void *p, size_t n),
			     void *ctx, char *err, size_t errlen)
{
	struct xq *q = &u->q;
	pthread_mutex_lock(&q->mu);
	uint64_t head = q->head, cap = q->cap;
	pthread_mutex_unlock(&q->mu);
	uint64_t oldest = head > cap ? head - cap : 0;
	if (from > to || to > head || from < oldest) {
		snprintf(err, errlen, "%s: bytes %llu to %llu are no longer held "
			 "(the queue holds %llu to %llu)", u->display,
			 (unsigned long long)from, (unsigned long long)to,
			 (unsigned long long)oldest, (unsigned long long)head);
		return -ERANGE;
	}
	/* Nothing is queued after a 552 (the writer holds the volume's lock
	 * and puts fail), and the sender only ever read the ring: the bytes
	 * from head - cap on are intact. */
	while (from < to) {
		uint64_t off = from % cap;
		uint64_t n = to - from;
		if (n > cap - off)
			n = cap - off;
		int rc = cb(ctx, q->buf + off, (size_t)n);
		if (rc)
			return rc;
		from += n;
	}
	return 0;
}

int xfer_upload_salvage_publish(struct xfer_upload *u, char *err, size_t errlen)
{
	char e[XFER_ERRLEN] = "";
	bool replace = u->overwrite != XFER_OVERWRITE_NEVER;
	int rc = u->ops->rename(u->b, u->part, u->u.name, replace, e, sizeof(e));
	if (rc && rc != -EEXIST && u->ops->reconnect(u->b, e, sizeof(e)) == 0)
		rc = u->ops->rename(u->b, u->part, u->u.name, replace, e, sizeof(e));
	if (rc == -EEXIST) {
		snprintf(err, errlen, "%s: %s appeared while sending and "
			 "--overwrite=never keeps it; the data stays in %s",
			 u->display, u->u.name, u->part);
		return -EIO;
	}
	if (rc) {
		snprintf(err, errlen, "%s: publishing %s as %s failed: %s; the "
			 "data stays in %s", u->display, u->part, u->u.name, e,
			 u->part);
		return -EIO;
	}
	pthread_mutex_lock(&u->mu);
	u->published = true;
	pthread_mutex_unlock(&u->mu);
	rlog(RLOG_INFO, "%s: the part the server kept is published as %s.",
	     u->display, u->u.name);
	return 0;
}
