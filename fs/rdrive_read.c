/*
 * rdrive_read.c - what one FUSE read request of the tape gets in read
 * mode (rdrive.h): one record per read() in variable-block mode, N-byte
 * blocks cut from the file's bytes in fixed-block mode. A read() the
 * kernel split into requests (off > 0 continues it) gets a record, or a
 * block above one request, piece by piece from the same bytes, in order
 * (rsplit.c), once the read()'s size is known to hold it (caller.c).
 *
 * It must never return part of a record as if it were the whole of one:
 * a short buffer is ENOMEM (EINVAL for a block) and the record stays.
 * Called with the drive's io lock held.
 */
#include "rdrive_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "caller.h"
#include "reclimit.h"

/* The head moves (positioning, a close inside a file): a record going
 * out in pieces and a fixed block kept are dropped. io held. */
void rdrive_drop_partial(struct rdrive *rd)
{
	rsplit_reset(&rd->split);
	rd->used = 0;
	rd->block_len = 0;
}

static uint64_t rd_fileno(struct rdrive *rd)
{
	struct rdr_pos p;
	rdr_get_pos(rd->r, &p);
	return p.fileno;
}

static int64_t rd_blkno(struct rdrive *rd)
{
	struct rdr_pos p;
	rdr_get_pos(rd->r, &p);
	return p.blkno;
}

int rdrive_read_variable(struct rdrive *rd, uint64_t id, size_t size, off_t off,
			  rdrive_reply_fn reply, void *ctx)
{
	/* The rest of a read() whose record went out whole: it ends here,
	 * without waiting for the next element. */
	if (off > 0 && !rd->split.partial)
		return reply(ctx, NULL, 0);
	struct rdr_elem el;
	if (rdr_peek(rd->r, &el) < 0) {
		rsplit_reset(&rd->split);
		return rdrive_failure(rd, -EIO);
	}
	bool rec = el.kind == RDR_RECORD;
	/* The read()'s own size, asked for only where the record is larger
	 * than the request (records above 1 MiB). */
	long long count = -1;
	if (rec && off == 0 && el.len > size)
		count = rfs_caller_read_count((uint64_t)off, size);
	struct rsplit_step st = rsplit_request(&rd->split, id, size, off, count,
					       rec, rec ? el.len : 0,
					       rd->max_request);
	if (st.was_cut)
		rdrive_refuse(rd, "a read() ended after the first %zu bytes of the "
			      "record of %zu bytes at file %" PRIu64 ", block %"
			      PRId64 " (its buffer was too short, or it was "
			      "interrupted); the record stays and goes whole to a "
			      "read() with a buffer of at least %zu bytes.",
			      st.taken, el.len, rd_fileno(rd), rd_blkno(rd), el.len);
	if (off == 0 && el.kind == RDR_MARK) {
		rdr_next(rd->r);	/* a tape mark reads as 0, once */
		return reply(ctx, NULL, 0);
	}
	if (st.act == RS_TOO_SHORT) {
		rdrive_refuse(rd, "a read of %zu bytes is shorter than the record "
			      "of %zu bytes at file %" PRIu64 ", block %" PRId64
			      "; nothing was read (ENOMEM, as st): read with a "
			      "buffer of at least %zu bytes.",
			      count < 0 ? size : (size_t)count, el.len,
			      rd_fileno(rd), rd_blkno(rd), el.len);
		return -ENOMEM;
	}
	if (st.act != RS_SERVE)
		return reply(ctx, NULL, 0);	/* EOD, or the read() ends */
	int rc = reply(ctx, (const uint8_t *)el.data + st.from, st.n);
	if (st.pass)
		rdr_next(rd->r);
	return rc;
}

/* Up to want bytes of the current file's records into scratch (fixed
 * mode), stopping at a tape mark; the bytes taken are passed. */
static int gather(struct rdrive *rd, size_t want, size_t *got)
{
	struct rdr_elem el;
	if (rd->scratch_cap < want) {
		uint8_t *p = realloc(rd->scratch, want);
		if (!p)
			return -ENOMEM;
		rd->scratch = p;
		rd->scratch_cap = want;
	}
	*got = 0;
	while (*got < want) {
		if (rdr_peek(rd->r, &el) < 0) {
			if (*got)
				break;	/* the error comes with the next read */
			return rdrive_failure(rd, -EIO);
		}
		if (el.kind != RDR_RECORD)
			break;	/* a mark ends the file: it reads as 0 next */
		size_t take = el.len - rd->used;
		if (take > want - *got)
			take = want - *got;
		memcpy(rd->scratch + *got, (const uint8_t *)el.data + rd->used, take);
		*got += take;
		rd->used += take;
		if (rd->used == el.len) {
			rdr_next(rd->r);
			rd->used = 0;
		}
	}
	return 0;
}

/* The blocks a read() gathered into scratch (block_len bytes), answered
 * piece by piece as a record is (rsplit.c); they stay there until they
 * went out whole. */
static int serve_blocks(struct rdrive *rd, uint64_t id, size_t size, off_t off,
			long long count, rdrive_reply_fn reply, void *ctx)
{
	struct rsplit_step st = rsplit_request(&rd->split, id, size, off, count,
					       true, rd->block_len, rd->max_request);
	if (st.was_cut)
		rdrive_refuse(rd, "a read() ended after the first %zu of %zu bytes "
			      "of blocks gathered for it (mt setblk); they stay "
			      "and go whole to a read() of at least %zu bytes.",
			      st.taken, rd->block_len, rd->block_len);
	if (st.act == RS_TOO_SHORT) {
		rdrive_refuse(rd, "a read of %zu bytes is less than the %zu bytes "
			      "of blocks an earlier read() began (mt setblk); "
			      "nothing was read.", count >= 0 ? (size_t)count : size,
			      rd->block_len);
		return -EINVAL;
	}
	if (st.act != RS_SERVE)
		return reply(ctx, NULL, 0);
	int rc = reply(ctx, rd->scratch + st.from, st.n);
	if (st.pass)
		rd->block_len = 0;
	return rc;
}

/* The bytes a read() of count bytes (or, not known, of size bytes: the
 * request) takes in fixed mode: whole blocks, at most one record's worth
 * (RFS_MAX_RECORD) or one block. A request that may be the first piece
 * of a larger read() whose size is not known is taken as a block. */
static size_t fixed_want(const struct rdrive *rd, size_t size, long long count)
{
	size_t bs = rd->block_size;
	size_t total = count >= 0 ? (size_t)count : size;
	if (count < 0 && size < bs && size + 4096 > rd->max_request)
		total = bs;
	size_t cap = bs > RFS_MAX_RECORD ? bs : RFS_MAX_RECORD;
	if (total > cap)
		total = cap;
	return total - total % bs;
}

int rdrive_read_fixed(struct rdrive *rd, uint64_t id, size_t size, off_t off,
		      rdrive_reply_fn reply, void *ctx)
{
	size_t bs = rd->block_size;
	long long count = -1;
	/* The read()'s own size, where the kernel may have split it. */
	if (off == 0 && (size < bs || size + 4096 > rd->max_request))
		count = rfs_caller_read_count(0, size);
	if (rd->block_len)
		return serve_blocks(rd, id, size, off, count, reply, ctx);
	size_t want = off > 0 ? size - size % bs : fixed_want(rd, size, count);
	if (want == 0) {
		if (off > 0)
			return reply(ctx, NULL, 0);	/* the read() ends */
		rdrive_refuse(rd, "a read of %zu bytes is less than the block size "
			      "of %zu bytes (mt setblk); nothing was read.",
			      count >= 0 ? (size_t)count : size, bs);
		return -EINVAL;
	}
	struct rdr_elem el;
	if (rdr_peek(rd->r, &el) < 0)
		return rdrive_failure(rd, -EIO);
	if (el.kind != RDR_RECORD) {
		/* A mark reads as 0 once; a continuation of a read() that
		 * got blocks ends there and leaves the mark for the next. */
		if (el.kind == RDR_MARK && off == 0)
			rdr_next(rd->r);
		return reply(ctx, NULL, 0);
	}
	if (want <= size && rd->used == 0 && el.len == want) {
		int rc = reply(ctx, el.data, el.len);
		rdr_next(rd->r);
		return rc;
	}
	size_t got;
	int rc = gather(rd, want, &got);
	if (rc)
		return rc;
	if (got <= size)
		return reply(ctx, rd->scratch, got);
	/* More than this request holds: the rest goes to the read()'s
	 * next pieces. */
	rd->block_len = got;
	return serve_blocks(rd, id, size, off, count, reply, ctx);
}
