/*
 * enc_pool.c - worker threads that compress HET blocks ahead of the
 * writer (issue 12 point 4).
 *
 * A fixed ring of 2 x threads slots: the writer copies a record into the
 * next free slot (the caller's buffer is not its to keep: a FUSE request
 * buffer is reused as soon as the write returns), a worker computes its
 * CRC and compresses it with its own deflate state, and the writer emits
 * slots strictly in submission order. Memory is bounded: at most 2 x
 * threads slots, each holding one record and its compressed form (both
 * at most the record's length), reused for the life of the encoder.
 *
 * Workers never touch the encoder: they read their slot's input and
 * write its output and state, nothing else. Every other field belongs to
 * the writer (who holds the encoder's caller lock).
 */
#include "enc_pool.h"

#include "format_ops.h"
#include "het_deflate.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

enum { SLOT_FREE, SLOT_QUEUED, SLOT_DONE };

struct enc_pool {
	pthread_mutex_t mu;
	pthread_cond_t work;	/* a slot was queued, or stop */
	pthread_cond_t done;	/* a slot was compressed */
	struct enc_slot *slots;
	unsigned nslots;
	uint64_t head;		/* writer: next sequence number to submit */
	uint64_t tail;		/* writer: oldest not released */
	uint64_t next_job;	/* mu: next sequence a worker takes */
	uint64_t cost;		/* writer: sum of the unreleased costs */
	bool stop;		/* mu */
	int nthreads;		/* started */
	pthread_t *tids;
	struct het_deflate **z;	/* one per worker */
};

struct worker_arg {
	struct enc_pool *p;
	struct het_deflate *z;
};

static void *worker(void *arg)
{
	struct enc_pool *p = ((struct worker_arg *)arg)->p;
	struct het_deflate *z = ((struct worker_arg *)arg)->z;

	free(arg);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->next_job == p->head)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		struct enc_slot *s = &p->slots[p->next_job++ % p->nslots];
		pthread_mutex_unlock(&p->mu);
		s->crc = tape_crc32(0, s->in, s->len);
		/* As het_record: room for len - 1 bytes only, so a block
		 * that does not get smaller is stored as it is. */
		s->zlen = s->len > 1 ? het_deflate_block(z, s->in, s->len, s->z,
							 s->len - 1) : 0;
		pthread_mutex_lock(&p->mu);
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct enc_pool *enc_pool_new(int threads, int level)
{
	struct enc_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->nslots = 2u * (unsigned)threads;
	p->slots = calloc(p->nslots, sizeof(*p->slots));
	p->tids = calloc((size_t)threads, sizeof(*p->tids));
	p->z = calloc((size_t)threads, sizeof(*p->z));
	if (!p->slots || !p->tids || !p->z)
		goto fail;
	for (int i = 0; i < threads; i++)
		if (!(p->z[i] = het_deflate_new(level)))
			goto fail;
	/* Workers take no signals: a tool's SIGINT handler must run in its
	 * main thread, and the daemon's workers block them all anyway. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < threads; i++) {
		struct worker_arg *a = malloc(sizeof(*a));
		if (!a)
			break;
		a->p = p;
		a->z = p->z[i];
		if (pthread_create(&p->tids[i], NULL, worker, a) != 0) {
			free(a);
			break;
		}
		pthread_setname_np(p->tids[i], "reelfs-het");
		p->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->nthreads == threads)
		return p;
fail:
	enc_pool_free(p);
	return NULL;
}

int enc_pool_full(const struct enc_pool *p)
{
	return p->head - p->tail >= p->nslots;
}

static int grow(uint8_t **b, size_t *cap, size_t len)
{
	if (*cap >= len)
		return 0;
	uint8_t *nb = realloc(*b, len);
	if (!nb)
		return -ENOMEM;
	*b = nb;
	*cap = len;
	return 0;
}

int enc_pool_submit(struct enc_pool *p, const void *data, size_t len,
		    uint64_t cost)
{
	if (enc_pool_full(p))
		return -EBUSY;
	/* Free: no worker looks at it until head moves past it. */
	struct enc_slot *s = &p->slots[p->head % p->nslots];
	if (grow(&s->in, &s->in_cap, len) || grow(&s->z, &s->z_cap, len))
		return -ENOMEM;
	memcpy(s->in, data, len);
	s->len = len;
	s->zlen = 0;
	s->cost = cost;
	p->cost += cost;
	pthread_mutex_lock(&p->mu);
	s->state = SLOT_QUEUED;
	p->head++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

struct enc_slot *enc_pool_oldest(struct enc_pool *p, int wait)
{
	if (p->tail == p->head)
		return NULL;
	struct enc_slot *s = &p->slots[p->tail % p->nslots];
	pthread_mutex_lock(&p->mu);
	while (wait && s->state != SLOT_DONE)
		pthread_cond_wait(&p->done, &p->mu);
	bool done = s->state == SLOT_DONE;
	pthread_mutex_unlock(&p->mu);
	return done ? s : NULL;
}

void enc_pool_release(struct enc_pool *p)
{
	struct enc_slot *s = &p->slots[p->tail % p->nslots];

	p->cost -= s->cost;
	pthread_mutex_lock(&p->mu);
	s->state = SLOT_FREE;
	p->tail++;
	pthread_mutex_unlock(&p->mu);
}

unsigned enc_pool_count(const struct enc_pool *p)
{
	return (unsigned)(p->head - p->tail);
}

uint64_t enc_pool_cost(const struct enc_pool *p)
{
	return p->cost;
}

const struct enc_slot *enc_pool_peek(const struct enc_pool *p, unsigned i)
{
	if (i >= p->head - p->tail)
		return NULL;
	return &p->slots[(p->tail + i) % p->nslots];
}

void enc_pool_free(struct enc_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->tids[i], NULL);
	if (p->slots)
		for (unsigned i = 0; i < p->nslots; i++) {
			free(p->slots[i].in);
			free(p->slots[i].z);
		}
	if (p->z)
		for (unsigned i = 0; i < p->nslots / 2; i++)
			het_deflate_free(p->z[i]);
	free(p->slots);
	free(p->tids);
	free(p->z);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p);
}
