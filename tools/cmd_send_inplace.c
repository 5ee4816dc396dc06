/*
 * cmd_send_inplace.c - `reel send` framing in place (issue 12.1), the
 * loop used for an unlabelled upload: each batch of blocks is read from
 * the input with one readv straight into the upload queue, every payload
 * at the place its framed record puts it (vol_landing_run: the framing
 * of each record fits in the gaps), then framed where it lies. The bytes
 * are copied once in user space, by libcurl, as in the drive.
 *
 * The records are exactly the ones the reblocker would cut (cmd_send_run.c:
 * blocks of --block-size, the last one of a tape file or of the input
 * short or zero-padded), so the image is byte for byte the same; tests
 * compare it with REELFS_LANDING=0, which keeps the copying loop. This is
 * the only producer of its volume, so the landing stays valid between the
 * read and the framing. What cannot land (the queue without room, a HET
 * reel, the first bytes read to probe the input) is read into a buffer
 * and goes the copying way, one record at a time.
 */
#include "cmd_send.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define BATCH_MAX 64		/* records per readv */

struct batch {
	size_t n;		/* records */
	size_t len[BATCH_MAX];	/* each one's size before padding */
	size_t got;		/* bytes read */
	bool eof;
};

/* The sizes of the next records up to a tape mark: blocks, the last one
 * ending the tape file short (--tapemark-every). */
static void plan(const struct send *s, uint64_t in_file, size_t max,
		 struct batch *b)
{
	uint64_t left = s->mark_every ? s->mark_every - in_file : UINT64_MAX;
	b->n = 0;
	while (b->n < max && left) {
		size_t k = left < s->block ? (size_t)left : (size_t)s->block;
		b->len[b->n++] = k;
		left -= k;
	}
}

/* Reads the planned records into the iovec, to the end or the input's. */
static int fill(struct send *s, struct iovec *v, struct batch *b)
{
	size_t want = 0, done = 0, first = 0;
	for (size_t i = 0; i < b->n; i++)
		want += v[i].iov_len;
	b->got = 0;
	b->eof = false;
	while (done < want) {
		ssize_t r = readv(s->in_fd, v + first, (int)(b->n - first));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			reel_error("reading %s failed: %s.", s->in_name, strerror(errno));
			return -errno;
		}
		if (r == 0) {
			b->eof = true;
			break;
		}
		done += (size_t)r;
		while (r > 0 && (size_t)r >= v[first].iov_len) {
			r -= (ssize_t)v[first].iov_len;
			v[first].iov_base = (char *)v[first].iov_base + v[first].iov_len;
			v[first].iov_len = 0;
			first++;
		}
		if (r > 0) {
			v[first].iov_base = (char *)v[first].iov_base + r;
			v[first].iov_len -= (size_t)r;
		}
	}
	b->got = done;
	return 0;
}

/* The record the i-th planned one became: 0 when nothing of it was read;
 * a short one zero-padded with --pad-last. */
static size_t record_len(const struct send *s, const struct batch *b, size_t i,
			 unsigned char *payload)
{
	size_t before = 0;
	for (size_t j = 0; j < i; j++)
		before += b->len[j];
	if (b->got <= before)
		return 0;
	size_t have = b->got - before < b->len[i] ? b->got - before : b->len[i];
	if (have < s->block && s->pad_last) {
		memset(payload + have, 0, s->block - have);
		have = s->block;
	}
	return have;
}

/* Records i.. of a batch whose reel filled up: out of the queue, all of
 * them, before the next reel is opened (finishing this one writes its
 * marks where they lie), then the copying way. */
static int spill(struct send *s, unsigned char *at, size_t step,
		 const struct batch *b, size_t i)
{
	size_t n = b->n - i;
	unsigned char *copy = malloc(n * s->block);
	size_t lens[BATCH_MAX];
	if (!copy) {
		reel_error("out of memory.");
		return -ENOMEM;
	}
	for (size_t j = 0; j < n; j++) {
		lens[j] = record_len(s, b, i + j, at + j * step);
		memcpy(copy + j * s->block, at + j * step, lens[j]);
	}
	int rc = 0;
	for (size_t j = 0; j < n && !rc; j++)
		if (lens[j])
			rc = send_put_record(s, copy + j * s->block, lens[j]);
	free(copy);
	return rc;
}

/* One record read into buf and sent the copying way (no landing now),
 * the bytes read to probe the input first. */
static int by_copy(struct send *s, unsigned char *buf, struct batch *b)
{
	size_t want = b->len[0];
	size_t h = s->head_len < want ? s->head_len : want;
	memcpy(buf, s->head, h);
	memmove(s->head, s->head + h, s->head_len - h);
	s->head_len -= h;
	b->n = 1;
	b->got = 0;
	b->eof = false;
	if (h < want && s->head_eof)
		b->eof = true;		/* the input ended within the head */
	else if (h < want) {
		struct iovec v = { buf + h, want - h };
		int rc = fill(s, &v, b);
		if (rc)
			return rc;
	}
	b->got += h;
	size_t len = record_len(s, b, 0, buf);
	return len ? send_put_record(s, buf, len) : 0;
}

bool send_in_place_ok(const struct send *s)
{
	const char *e = getenv("REELFS_LANDING");
	return s->vol && !s->enc && !s->labelled && !s->append &&
	       !(e && strcmp(e, "0") == 0);
}

int send_run_in_place(struct send *s)
{
	unsigned char *buf = malloc(s->block);
	uint64_t in_file = 0;
	int rc = 0;
	if (!buf) {
		reel_error("out of memory.");
		return -ENOMEM;
	}
	(void)fcntl(s->in_fd, F_SETPIPE_SZ, (int)REEL_CHUNK);	/* fewer wake-ups; a hint */
	for (bool eof = false; !eof && !rc;) {
		struct batch b;
		void *p = NULL;
		size_t room = 0, step = 0;
		plan(s, in_file, BATCH_MAX, &b);
		if (s->head_len || s->head_eof ||
		    vol_landing_run(s->vol, s->block, &p, &room, &step) < 0 ||
		    room < s->block + 8) {
			rc = by_copy(s, buf, &b);
		} else {
			/* As many as fit, the last with room for its trailer. */
			size_t fit = (room - s->block - 8) / step + 1;
			if (b.n > fit)
				b.n = fit;
			struct iovec v[BATCH_MAX];
			for (size_t i = 0; i < b.n; i++)
				v[i] = (struct iovec){ (unsigned char *)p + i * step, b.len[i] };
			if ((rc = fill(s, v, &b)) < 0)
				break;
			for (size_t i = 0; i < b.n && !rc; i++) {
				unsigned char *at = (unsigned char *)p + i * step;
				size_t len = record_len(s, &b, i, at);
				if (!len)
					break;
				rc = vol_record(s->vol, at, len);
				if (rc == 0) {
					s->last_was_mark = false;
					s->reel_records++;
				} else if (rc == -ENOSPC) {
					rc = spill(s, at, step, &b, i);
					break;
				} else {
					reel_error("%s", vol_error(s->vol));
				}
			}
		}
		if (rc)
			break;
		eof = b.eof;
		in_file += b.got;
		if (s->mark_every && in_file == s->mark_every) {
			rc = send_file_mark(s);
			in_file = 0;
		}
	}
	free(buf);
	return rc;
}
