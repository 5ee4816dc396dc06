/*
 * enc_pool.h - private to encoder/: the worker threads that compress HET
 * blocks ahead of the writer (enc_pool.c). enc.c submits records in order
 * and emits them in the same order once compressed, so the image is byte
 * for byte what compressing in the caller makes.
 */
#ifndef REELFS_ENC_POOL_H
#define REELFS_ENC_POOL_H

#include <stddef.h>
#include <stdint.h>

/* One record on its way: a copy of the payload, its CRC and compressed
 * form (zlen 0: stored as it is), filled by a worker. */
struct enc_slot {
	uint8_t *in;
	size_t len, in_cap;
	uint8_t *z;
	size_t zlen, z_cap;
	uint32_t crc;		/* tape_crc32 of the payload */
	uint64_t cost;		/* the bound tape_enc_record_cost gave */
	int state;		/* private to enc_pool.c */
};

struct enc_pool;

/* threads >= 2 workers at zlib level `level`; NULL when out of memory or a
 * thread cannot start (the caller then compresses in place). */
struct enc_pool *enc_pool_new(int threads, int level);
/* A copy of the record goes to a worker. -ENOMEM, or -EBUSY when every
 * slot is taken (reap the oldest first). */
int enc_pool_submit(struct enc_pool *p, const void *data, size_t len,
		    uint64_t cost);
/* The oldest record not yet released: NULL when none; with wait, waits
 * until a worker has compressed it, else NULL when it is not done yet. */
struct enc_slot *enc_pool_oldest(struct enc_pool *p, int wait);
/* The oldest record was emitted: its slot is free again. */
void enc_pool_release(struct enc_pool *p);
/* Records submitted and not released, and the sum of their costs. */
unsigned enc_pool_count(const struct enc_pool *p);
uint64_t enc_pool_cost(const struct enc_pool *p);
/* Whether a submit would find a free slot. */
int enc_pool_full(const struct enc_pool *p);
/* The i-th oldest unreleased record (i < enc_pool_count), done or not
 * (its payload is readable either way). */
const struct enc_slot *enc_pool_peek(const struct enc_pool *p, unsigned i);
/* Stops and joins the workers, frees every slot. */
void enc_pool_free(struct enc_pool *p);

#endif
