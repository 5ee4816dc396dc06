/*
 * queue.c - the bounded ring between the writer and the sending thread
 * (and, for downloads, between the receiving thread and the reader).
 * Payload is copied once, into the ring; the consumer reads it in place.
 * It must never grow: memory is cap bytes whatever the stream's length.
 */
#include "xfer_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <zlib.h>

#define HUGE_PAGE ((size_t)2 << 20)

/* The ring's memory, on transparent huge pages where the kernel has them
 * for madvise (Debian's default). A stream passes through the whole ring,
 * so with 4 KiB pages every 64 KiB record meets 16 pages not in the TLB,
 * for the kernel's copy, the CRC and the sender alike; on the development
 * VM the first pass over a record landed from /dev/fuse ran at 5-6 GB/s
 * instead of 21-26, about 11 us per record on the writer's path
 * (fs/README "What limits the drive's rate"). REELFS_HUGEPAGES=0 keeps
 * plain malloc (for benchmarks). */
static unsigned char *ring_alloc(uint64_t cap)
{
	const char *env = getenv("REELFS_HUGEPAGES");
	if (cap < HUGE_PAGE || cap > SIZE_MAX - HUGE_PAGE || (env && !strcmp(env, "0")))
		return malloc(cap);
	size_t size = ((size_t)cap + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	unsigned char *p = aligned_alloc(HUGE_PAGE, size);
	if (p)
		madvise(p, size, MADV_HUGEPAGE);	/* advice: failing changes nothing */
	return p;
}

int xq_init(struct xq *q, uint64_t cap, uint64_t replay)
{
	memset(q, 0, sizeof(*q));
	if (cap == 0 || replay >= cap)
		return -EINVAL;
	q->buf = ring_alloc(cap);
	if (!q->buf)
		return -ENOMEM;
	q->cap = cap;
	q->replay = replay;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->room, NULL);
	pthread_cond_init(&q->data, NULL);
	pthread_cond_init(&q->flushed, NULL);
	return 0;
}

void xq_destroy(struct xq *q)
{
	if (!q->buf)
		return;
	free(q->buf);
	q->buf = NULL;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->room);
	pthread_cond_destroy(&q->data);
	pthread_cond_destroy(&q->flushed);
}

/* The first offset the ring must keep: what is not yet sent, and the
 * replay window behind the furthest point sent. mu held. */
static uint64_t keep_from(const struct xq *q)
{
	uint64_t r = q->high > q->replay ? q->high - q->replay : 0;

	return q->pos < r ? q->pos : r;
}

int xq_put(struct xq *q, const void *data, size_t len)
{
	const unsigned char *src = data;

	while (len) {
		uint64_t limit, off;
		size_t n;

		pthread_mutex_lock(&q->mu);
		while (!q->fail && !q->cancel &&
		       (limit = keep_from(q) + q->cap) <= q->head)
			pthread_cond_wait(&q->room, &q->mu);
		if (q->fail || q->cancel) {
			int rc = q->fail ? q->fail : -ECANCELED;
			pthread_mutex_unlock(&q->mu);
			return rc;
		}
		limit = keep_from(q) + q->cap;
		off = q->head % q->cap;
		n = len;
		if (n > limit - q->head)
			n = (size_t)(limit - q->head);
		if (n > q->cap - off)
			n = (size_t)(q->cap - off);
		pthread_mutex_unlock(&q->mu);

		/* Outside the lock: the consumer never reads past head, and
		 * nothing at or after keep_from is overwritten. */
		memcpy(q->buf + off, src, n);

		pthread_mutex_lock(&q->mu);
		q->head += n;
		/* Wake the consumer only when it has what it waits for. */
		if (q->head - q->pos >= q->want)
			pthread_cond_signal(&q->data);
		pthread_mutex_unlock(&q->mu);
		src += n;
		len -= n;
	}
	return 0;
}

/* Whether p points into the ring. Compared as integers: p may belong to
 * any object. */
static bool in_ring(const struct xq *q, const void *p)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)q->buf;
	return a >= b && a - b < q->cap;
}

int xq_putv(struct xq *q, const struct xq_piece *v, int n)
{
	size_t total = 0;
	bool landed = false;

	for (int i = 0; i < n; i++) {
		total += v[i].len;
		landed |= v[i].len && in_ring(q, v[i].p);
	}
	if (total == 0)
		return 0;
	pthread_mutex_lock(&q->mu);
	uint64_t limit = keep_from(q) + q->cap;
	bool fits = !q->fail && !q->cancel && limit >= q->head + total;
	uint64_t head = q->head;
	int rc = q->fail ? q->fail : q->cancel ? -ECANCELED : 0;
	pthread_mutex_unlock(&q->mu);
	if (landed) {
		/* A payload the kernel wrote into the ring (xq_landing) must
		 * be exactly where it belongs, the rest fitting at once:
		 * copying anything else over it first would corrupt it, and
		 * waiting piece by piece could too. Checked before a byte is
		 * written. */
		uint64_t at = head;
		for (int i = 0; i < n && !rc; i++) {
			if (v[i].len && in_ring(q, v[i].p) &&
			    (const unsigned char *)v[i].p != q->buf + at % q->cap)
				rc = -EFAULT;
			at += v[i].len;
		}
		if (!rc && !fits)
			rc = -EFAULT;
		if (rc)
			return rc;
	}
	if (!fits) {
		/* Waits for room piece by piece. */
		for (int i = 0; i < n; i++) {
			int rc = xq_put(q, v[i].p, v[i].len);
			if (rc)
				return rc;
		}
		return 0;
	}
	/* Outside the lock, as xq_put: [head, head + total) is ours. */
	for (int i = 0; i < n; i++) {
		const unsigned char *src = v[i].p;
		size_t len = v[i].len;
		if (len && src == q->buf + head % q->cap && in_ring(q, src)) {
			head += len;	/* landed in place: nothing to copy */
			continue;
		}
		while (len) {
			uint64_t off = head % q->cap;
			size_t k = len < q->cap - off ? len : (size_t)(q->cap - off);
			memcpy(q->buf + off, src, k);
			head += k;
			src += k;
			len -= k;
		}
	}
	pthread_mutex_lock(&q->mu);
	q->head = head;
	if (q->head - q->pos >= q->want)
		pthread_cond_signal(&q->data);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

int xq_landing(struct xq *q, size_t skip, size_t need, void **p, size_t *n)
{
	int rc = 0;

	pthread_mutex_lock(&q->mu);
	uint64_t limit = keep_from(q) + q->cap;
	uint64_t off = q->head % q->cap;
	uint64_t room = limit - q->head;
	if (room > q->cap - off)
		room = q->cap - off;	/* contiguous: up to the ring's end */
	if (q->fail || q->cancel)
		rc = q->fail ? q->fail : -ECANCELED;
	else if (room < (uint64_t)skip + need)
		rc = -EAGAIN;
	else {
		*p = q->buf + off + skip;
		*n = (size_t)(room - skip);
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int xq_reserve(struct xq *q, void **p, size_t *n)
{
	uint64_t limit, off;
	int rc = 0;

	pthread_mutex_lock(&q->mu);
	while (!q->fail && !q->cancel && (limit = keep_from(q) + q->cap) <= q->head)
		pthread_cond_wait(&q->room, &q->mu);
	if (q->fail || q->cancel) {
		rc = q->fail ? q->fail : -ECANCELED;
	} else {
		limit = keep_from(q) + q->cap;
		off = q->head % q->cap;
		*p = q->buf + off;
		*n = (size_t)(limit - q->head < q->cap - off ? limit - q->head
							      : q->cap - off);
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void xq_commit(struct xq *q, size_t n)
{
	pthread_mutex_lock(&q->mu);
	q->head += n;
	if (q->head - q->pos >= q->want)
		pthread_cond_signal(&q->data);
	pthread_mutex_unlock(&q->mu);
}

void xq_close(struct xq *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->data);
	pthread_mutex_unlock(&q->mu);
}

static int peek_locked(struct xq *q, const void **p, size_t *n)
{
	uint64_t off = q->pos % q->cap;
	uint64_t avail = q->head - q->pos;

	if (avail > q->cap - off)
		avail = q->cap - off;
	*p = q->buf + off;
	*n = (size_t)avail;
	return 0;
}

int xq_peek(struct xq *q, const void **p, size_t *n)
{
	int rc;

	pthread_mutex_lock(&q->mu);
	while (!q->cancel && q->pos == q->head && !q->closed)
		pthread_cond_wait(&q->data, &q->mu);
	rc = q->cancel ? -ECANCELED : peek_locked(q, p, n);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int xq_peek_batch(struct xq *q, const void **p, size_t *n, size_t min,
		  unsigned max_ms)
{
	struct timespec ts;
	int rc;

	pthread_mutex_lock(&q->mu);
	/* What the consumer took before has left the process now. */
	q->wire = q->pos;
	if (q->flush_to) {
		if (q->wire >= q->flush_to)
			q->flush_to = 0;
		pthread_cond_broadcast(&q->flushed);
	}
	while (!q->cancel && q->pos == q->head && !q->closed)
		pthread_cond_wait(&q->data, &q->mu);
	if (!q->cancel && !q->closed && q->head - q->pos < min &&
	    q->flush_to <= q->pos) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)(max_ms % 1000) * 1000000L;
		ts.tv_sec += max_ms / 1000 + ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		q->want = min;
		/* A sync wants what is there now: no waiting for more. */
		while (!q->cancel && !q->closed && q->head - q->pos < min &&
		       q->flush_to <= q->pos)
			if (pthread_cond_timedwait(&q->data, &q->mu, &ts) == ETIMEDOUT)
				break;
		q->want = 0;
	}
	rc = q->cancel ? -ECANCELED : peek_locked(q, p, n);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int xq_sync(struct xq *q, uint64_t to)
{
	int rc;

	pthread_mutex_lock(&q->mu);
	if (q->wire < to && !q->fail && !q->cancel && !q->ended) {
		if (q->flush_to < to)
			q->flush_to = to;
		/* Wake a consumer that waits to fill a batch. */
		pthread_cond_broadcast(&q->data);
		while (q->wire < to && !q->fail && !q->cancel && !q->ended)
			pthread_cond_wait(&q->flushed, &q->mu);
	}
	if (q->fail)
		rc = q->fail;
	else if (q->cancel)
		rc = -ECANCELED;
	else
		rc = q->wire >= to ? 0 : -EPIPE;
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int xq_peek_nowait(struct xq *q, const void **p, size_t *n)
{
	int rc;

	pthread_mutex_lock(&q->mu);
	if (q->cancel)
		rc = -ECANCELED;
	else if (q->pos == q->head && !q->closed)
		rc = -EAGAIN;
	else
		rc = peek_locked(q, p, n);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

/* Extends the stream CRC over what the consumer now hands on, beyond what
 * it covers already. Consumer's thread: pos and crc_pos are its own, and
 * [pos, pos + n) is below head, so the producer leaves it alone. */
static void crc_extend(struct xq *q, size_t n)
{
	pthread_mutex_lock(&q->mu);
	uint64_t from = q->pos > q->crc_pos ? q->pos : q->crc_pos;
	uint64_t end = q->pos + n;
	uint32_t crc = q->crc;
	pthread_mutex_unlock(&q->mu);
	if (end <= from)
		return;
	while (from < end) {
		uint64_t off = from % q->cap;
		size_t k = end - from < q->cap - off ? (size_t)(end - from)
						     : (size_t)(q->cap - off);
		crc = (uint32_t)crc32_z(crc, q->buf + off, k);
		from += k;
	}
	pthread_mutex_lock(&q->mu);
	q->crc = crc;
	q->crc_pos = end;
	pthread_mutex_unlock(&q->mu);
}

uint32_t xq_crc(struct xq *q)
{
	pthread_mutex_lock(&q->mu);
	uint32_t crc = q->crc;
	pthread_mutex_unlock(&q->mu);
	return crc;
}

void xq_advance(struct xq *q, size_t n)
{
	if (q->crc_on)
		crc_extend(q, n);
	pthread_mutex_lock(&q->mu);
	q->pos += n;
	if (q->pos > q->high)
		q->high = q->pos;
	pthread_cond_signal(&q->room);
	pthread_mutex_unlock(&q->mu);
}

uint64_t xq_oldest(struct xq *q)
{
	uint64_t r;

	pthread_mutex_lock(&q->mu);
	r = keep_from(q);
	pthread_mutex_unlock(&q->mu);
	return r;
}

/* Only the replay window (and what was never sent) is held: the producer
 * may be copying over anything before keep_from right now, outside the
 * lock, although the ring has not wrapped onto it yet (head - cap). */
int xq_rewind(struct xq *q, uint64_t to)
{
	int rc = 0;

	pthread_mutex_lock(&q->mu);
	if (to > q->high || to < keep_from(q))
		rc = -ERANGE;
	else
		q->pos = to;
	/* Bytes from `to` on are sent again: a sync waits for them anew. */
	if (!rc && q->wire > to)
		q->wire = to;
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int xq_compare(struct xq *q, uint64_t off, const void *p, size_t n,
	       uint64_t *bad)
{
	const unsigned char *b = p;
	int rc = 0;

	pthread_mutex_lock(&q->mu);
	if (off < keep_from(q) || off + n > q->high) {
		rc = -ERANGE;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (q->buf[(off + i) % q->cap] != b[i]) {
				*bad = off + i;
				rc = 1;
				break;
			}
		}
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void xq_fail(struct xq *q, int err)
{
	pthread_mutex_lock(&q->mu);
	if (!q->fail)
		q->fail = err;
	q->ended = true;
	pthread_cond_broadcast(&q->room);
	pthread_cond_broadcast(&q->data);
	pthread_cond_broadcast(&q->flushed);
	pthread_mutex_unlock(&q->mu);
}

void xq_cancel(struct xq *q)
{
	pthread_mutex_lock(&q->mu);
	q->cancel = true;
	pthread_cond_broadcast(&q->room);
	pthread_cond_broadcast(&q->data);
	pthread_cond_broadcast(&q->flushed);
	pthread_mutex_unlock(&q->mu);
}

void xq_counts(struct xq *q, uint64_t *head, uint64_t *high)
{
	pthread_mutex_lock(&q->mu);
	if (head)
		*head = q->head;
	if (high)
		*high = q->high;
	pthread_mutex_unlock(&q->mu);
}
