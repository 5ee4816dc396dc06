/*
 * reader_pos.c - positioning a loaded tape (reader.h): rewind, space
 * over files and records both ways, end of data, seek to a logical
 * block. With the manifest's file index a forward jump is one ranged
 * download from the file's offset; without, forward spacing reads and
 * discards. Backward spacing reads the trailing length word (SIMH, E11,
 * MTD) or the previous-length field (AWS, HET) just behind the position,
 * through a small window of ranged reads, and checks what it finds: a
 * damaged image is an error there, never a wrong position.
 *
 * It never moves the position without keeping fileno, blkno and block
 * true (or marking them unknown, -1, as st does after a backward space).
 */
#include "reader_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define RDR_WIN (64u * 1024)

int rdr_rewind(struct rdr *r)
{
	rdr_jump(r, 0, 0, 0, 0, 0, true);
	return 0;
}

/* ---- the file index ------------------------------------------------------ */

static bool indexed(const struct rdr_reel *rl)
{
	return rl->has_man && rl->man.nindex > 0 && rl->bases_known && rl->fmt;
}

/* Logical block where local file k of the reel begins. */
static uint64_t file_block(const struct rdr_reel *rl, size_t k)
{
	uint64_t b = rl->block_base;
	for (size_t i = 0; i < k; i++)
		b += rl->man.file_records[i] + 1;
	return b;
}

/* The offset of the next element, exactly (the queue is filled to know
 * it). */
static uint64_t here(struct rdr *r)
{
	rdr_fill(r, 0);
	return r->head < r->nev ? r->evs[r->head].off : r->start;
}

/* Jumps to the beginning of local file k of the current reel when that
 * is ahead of the position; true when it did. */
static bool jump_to_file(struct rdr *r, size_t k)
{
	struct rdr_reel *rl = &r->reels[r->cur];
	if (!indexed(rl) || k == 0 || k >= rl->man.nindex)
		return false;
	uint64_t fileno = rl->file_base + k;
	if (fileno <= r->fileno)
		return false;
	rdr_jump(r, r->cur, rl->man.file_offsets[k], fileno, 0,
		 (int64_t)file_block(rl, k), true);
	return true;
}

/* ---- reading forward ------------------------------------------------------ */

/* Passes elements until fileno reaches target. -EIO at the end of data
 * or on a damaged element. */
static int forward_files(struct rdr *r, uint64_t target)
{
	while (r->fileno < target) {
		struct rdr_reel *rl = &r->reels[r->cur];
		if (indexed(rl)) {
			uint64_t k = target - rl->file_base;
			if (k >= rl->man.nindex)
				k = rl->man.nindex - 1;
			jump_to_file(r, (size_t)k);
			if (r->fileno >= target)
				break;
		}
		size_t reel = r->cur;
		while (r->fileno < target && r->cur == reel) {
			struct rdr_elem el;
			if (rdr_peek(r, &el) < 0)
				return -EIO;
			if (el.kind == RDR_EOD)
				return rdr_set_error(r, -EIO, "the end of data comes "
						     "after tape file %" PRIu64,
						     r->fileno);
			rdr_next(r);
		}
	}
	return 0;
}

int rdr_space_files(struct rdr *r, int64_t n)
{
	if (n >= 0)
		return forward_files(r, r->fileno + (uint64_t)n);
	uint64_t back = (uint64_t)-n;
	if (back > r->fileno) {
		rdr_rewind(r);
		return rdr_set_error(r, -EIO, "the beginning of the tape comes "
				     "before %" PRIu64 " tape marks", back);
	}
	/* Before the mark that ends file t. */
	uint64_t t = r->fileno - back;
	struct rdr_reel *rl = &r->reels[r->cur];
	if (indexed(rl) && t >= rl->file_base && t - rl->file_base + 1 < rl->man.nindex) {
		size_t k = (size_t)(t - rl->file_base);
		const char *fn = tape_format_name(rl->fmt);
		uint64_t mark = !strcmp(fn, "aws") || !strcmp(fn, "het") ? 6 : 4;
		rdr_jump(r, r->cur, rl->man.file_offsets[k + 1] - mark, t,
			 (int64_t)rl->man.file_records[k],
			 (int64_t)(file_block(rl, k) + rl->man.file_records[k]),
			 rl->man.file_records[k] == 0);
		return 0;
	}
	/* Step back over elements until `back` marks are behind. */
	uint64_t at = here(r), steps = 0, marks = 0;
	while (marks < back) {
		uint64_t start;
		bool is_mark;
		if (at == 0)
			break;
		int rc = rdr_step_back(r, at, &start, &is_mark);
		if (rc == -ENOTSUP)
			break;
		if (rc < 0)
			return rc;
		at = start;
		steps++;
		marks += is_mark;
	}
	if (marks == back) {
		int64_t block = r->block >= 0 ? r->block - (int64_t)steps : -1;
		rdr_jump(r, r->cur, at, t, -1, block, false);
		return 0;
	}
	/* Behind the start of this reel (or no way back here): read forward
	 * from the beginning to the end of file t. */
	rdr_rewind(r);
	if (forward_files(r, t) < 0)
		return -EIO;
	for (;;) {
		struct rdr_elem el;
		if (rdr_peek(r, &el) < 0)
			return -EIO;
		if (el.kind != RDR_RECORD)
			return 0;
		rdr_next(r);
	}
}

int rdr_space_records(struct rdr *r, int64_t n)
{
	if (n >= 0) {
		for (int64_t i = 0; i < n; i++) {
			struct rdr_elem el;
			if (rdr_peek(r, &el) < 0)
				return -EIO;
			if (el.kind == RDR_EOD)
				return rdr_set_error(r, -EIO, "the end of data comes "
						     "after %" PRId64 " records", i);
			rdr_next(r);
			if (el.kind == RDR_MARK)
				return rdr_set_error(r, -EIO, "a tape mark comes "
						     "after %" PRId64 " records", i);
		}
		return 0;
	}
	uint64_t back = (uint64_t)-n, at = here(r), steps = 0;
	bool blocked = false, fallback = false;
	while (steps < back) {
		uint64_t start;
		bool is_mark;
		if (at == 0) {
			blocked = r->cur == 0;
			fallback = r->cur != 0;
			break;
		}
		int rc = rdr_step_back(r, at, &start, &is_mark);
		if (rc == -ENOTSUP) {
			fallback = true;
			break;
		}
		if (rc < 0)
			return rc;
		if (is_mark) {
			blocked = true;
			break;
		}
		at = start;
		steps++;
	}
	if (fallback) {
		if (r->block < 0 || r->blkno < 0 || (uint64_t)r->blkno < back)
			return rdr_set_error(r, -EIO, "cannot space back over %" PRIu64
					     " records here", back);
		return rdr_seek(r, (uint64_t)r->block - back);
	}
	bool after_mark = at == 0;
	if (at) {
		uint64_t s;
		bool m;
		after_mark = rdr_step_back(r, at, &s, &m) == 0 && m;
	}
	rdr_jump(r, r->cur, at, r->fileno,
		 r->blkno >= 0 ? r->blkno - (int64_t)steps : -1,
		 r->block >= 0 ? r->block - (int64_t)steps : -1, after_mark);
	if (blocked)
		return rdr_set_error(r, -EIO, "%s comes after %" PRIu64 " records",
				     at == 0 && r->cur == 0 ? "the beginning of the tape"
							    : "a tape mark", steps);
	return 0;
}

int rdr_eod(struct rdr *r)
{
	for (;;) {
		struct rdr_reel *rl = &r->reels[r->cur];
		if (indexed(rl))
			jump_to_file(r, rl->man.nindex - 1);
		size_t reel = r->cur;
		while (r->cur == reel) {
			struct rdr_elem el;
			if (rdr_peek(r, &el) < 0)
				return -EIO;
			if (el.kind == RDR_EOD)
				return 0;
			rdr_next(r);
		}
	}
}

int rdr_seek(struct rdr *r, uint64_t target)
{
	if (r->block < 0 || (uint64_t)r->block > target)
		rdr_rewind(r);
	while ((uint64_t)r->block < target) {
		struct rdr_reel *rl = &r->reels[r->cur];
		if (indexed(rl)) {
			size_t best = 0;
			for (size_t k = 1; k < rl->man.nindex; k++)
				if (file_block(rl, k) <= target)
					best = k;
			jump_to_file(r, best);
		}
		size_t reel = r->cur;
		while ((uint64_t)r->block < target && r->cur == reel) {
			struct rdr_elem el;
			if (rdr_peek(r, &el) < 0)
				return -EIO;
			if (el.kind == RDR_EOD)
				return rdr_set_error(r, -EIO, "the end of data comes "
						     "at block %" PRId64, r->block);
			rdr_next(r);
		}
	}
	return 0;
}

/* ---- backward steps --------------------------------------------------- */

struct wfill {
	uint8_t *p;
	size_t len;
};

static int wfill_cb(void *ctx, const void *p, size_t n)
{
	struct wfill *w = ctx;
	if (n > RDR_WIN - w->len)
		n = RDR_WIN - w->len;
	memcpy(w->p + w->len, p, n);
	w->len += n;
	return 0;
}

/* n bytes of the current reel at off, through the window (refilled to
 * end at off + n, reading backward). */
static int win_get(struct rdr *r, uint64_t off, size_t n, const uint8_t **out)
{
	if (!r->win && !(r->win = malloc(RDR_WIN)))
		return rdr_set_error(r, -ENOMEM, "out of memory");
	if (r->win_reel == r->cur + 1 && off >= r->win_off &&
	    off + n <= r->win_off + r->win_len) {
		*out = r->win + (off - r->win_off);
		return 0;
	}
	uint64_t end = off + n;
	uint64_t from = end > RDR_WIN ? end - RDR_WIN : 0;
	struct wfill w = { .p = r->win };
	char e[XFER_ERRLEN];
	struct rdr_reel *rl = &r->reels[r->cur];
	r->win_reel = 0;
	int rc = xfer_fetch(rl->url, r->xo, from, end - from, wfill_cb, &w, e, sizeof(e));
	if (rc < 0)
		return rdr_set_error(r, -EIO, "reading %s backward at image offset "
				     "%" PRIu64 " failed: %s", rl->shown, off, e);
	if (w.len < end - from)
		return rdr_set_error(r, -EIO, "%s ends before image offset %" PRIu64,
				     rl->shown, end);
	r->win_reel = r->cur + 1;
	r->win_off = from;
	r->win_len = w.len;
	*out = r->win + (off - from);
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static unsigned le16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static int damaged(struct rdr *r, uint64_t off, const char *what)
{
	return rdr_set_error(r, -EIO, "%s is damaged at image offset %" PRIu64
			     " (%s), found while spacing backward",
			     r->reels[r->cur].shown, off, what);
}

/* The element that ends at `at` in the current reel: where it starts and
 * whether it is a tape mark. -ENOTSUP where the format cannot tell from
 * behind (AWS/HET at the very end of the image, format not known yet). */
int rdr_step_back(struct rdr *r, uint64_t at, uint64_t *start, bool *is_mark)
{
	struct rdr_reel *rl = &r->reels[r->cur];
	const uint8_t *p;
	if (!rl->fmt)
		return -ENOTSUP;
	const char *name = tape_format_name(rl->fmt);
	bool aws = !strcmp(name, "aws") || !strcmp(name, "het");
	if (!aws) {
		if (at < 4)
			return damaged(r, at, "a length word is cut");
		if (win_get(r, at - 4, 4, &p) < 0)
			return -EIO;
		uint32_t v = le32(p);
		if (v == 0) {
			*start = at - 4;
			*is_mark = true;
			return 0;
		}
		if (v & 0x7f000000u)
			return damaged(r, at - 4, "a trailing length word that is no length");
		uint64_t len = v & 0x00ffffffu;
		uint64_t pad = strcmp(name, "e11") ? (len & 1) : 0;
		if (at < 8 + len + pad)
			return damaged(r, at - 4, "a record longer than what comes before it");
		uint64_t s = at - 8 - len - pad;
		if (win_get(r, s, 4, &p) < 0)
			return -EIO;
		if (le32(p) != v)
			return damaged(r, s, "the header and trailer lengths differ");
		*start = s;
		*is_mark = false;
		return 0;
	}
	if (rl->valid != XFER_SIZE_UNKNOWN && at + 6 > rl->valid)
		return -ENOTSUP;
	uint64_t pos = at;
	for (int guard = 0; guard < 64; guard++) {
		if (win_get(r, pos, 6, &p) < 0)
			return -EIO;
		unsigned prev = le16(p + 2);
		if (pos < 6 + (uint64_t)prev)
			return damaged(r, pos, "a previous-length field that points "
				       "before the image");
		uint64_t q = pos - 6 - prev;
		if (win_get(r, q, 6, &p) < 0)
			return -EIO;
		if (le16(p) != prev)
			return damaged(r, q, "a chunk whose length differs from the "
				       "next chunk's previous-length field");
		if (p[4] & 0x40) {
			*start = q;
			*is_mark = true;
			return 0;
		}
		if (p[4] & 0x80) {
			*start = q;
			*is_mark = false;
			return 0;
		}
		pos = q;
	}
	return damaged(r, at, "a record of more than 64 chunks behind it");
}
