/*
 * reblock.c - fixed-block reblocker: a byte stream in, records of exactly
 * block_size bytes out (the last one short or zero-padded).
 *
 * Full blocks are passed straight from the caller's buffer whenever nothing
 * is held, so a writer whose writes are multiples of the block size costs no
 * copy. At most one block is ever held. It never does I/O.
 */
#include "tape.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct tape_reblock {
	size_t size;
	bool pad_last;
	tape_emit_fn emit;
	void *ctx;
	size_t held;
	uint8_t buf[];		/* size bytes */
};

struct tape_reblock *tape_reblock_new(size_t block_size, bool pad_last,
				      tape_emit_fn emit, void *ctx)
{
	if (block_size == 0)
		return NULL;
	struct tape_reblock *r = malloc(sizeof(*r) + block_size);
	if (!r)
		return NULL;
	r->size = block_size;
	r->pad_last = pad_last;
	r->emit = emit;
	r->ctx = ctx;
	r->held = 0;
	return r;
}

int tape_reblock_write(struct tape_reblock *r, const void *data, size_t len)
{
	const uint8_t *p = data;
	int rc;

	/* Top up what is held first. */
	if (r->held > 0 && len > 0) {
		size_t take = r->size - r->held < len ? r->size - r->held : len;

		memcpy(r->buf + r->held, p, take);
		r->held += take;
		p += take;
		len -= take;
		if (r->held < r->size)
			return 0;
		rc = r->emit(r->ctx, r->buf, r->size);
		r->held = 0;
		if (rc < 0)
			return rc;
	}
	/* Whole blocks straight from the caller's buffer. */
	while (len >= r->size) {
		rc = r->emit(r->ctx, p, r->size);
		if (rc < 0)
			return rc;
		p += r->size;
		len -= r->size;
	}
	if (len > 0)
		memcpy(r->buf, p, len);
	r->held = len;
	return 0;
}

int tape_reblock_flush(struct tape_reblock *r)
{
	if (r->held == 0)
		return 0;
	size_t n = r->held;
	if (r->pad_last) {
		memset(r->buf + n, 0, r->size - n);
		n = r->size;
	}
	r->held = 0;
	return r->emit(r->ctx, r->buf, n);
}

size_t tape_reblock_pending(const struct tape_reblock *r)
{
	return r->held;
}

size_t tape_reblock_size(const struct tape_reblock *r)
{
	return r->size;
}

void tape_reblock_free(struct tape_reblock *r)
{
	free(r);
}
