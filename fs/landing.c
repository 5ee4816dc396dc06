/*
 * landing.c - reads a FUSE request in two parts, the fixed 80 bytes of a
 * write request (its header and write_in) into a small buffer and the
 * rest at a landing in the upload queue, so the payload of a write is
 * already where the framed record goes; replies to such a write itself.
 *
 * Why readv works: the kernel copies a request's header, arguments and
 * data in order into the reader's iovec, and requires room for its
 * largest write in all (so the landing is at least that). A request that
 * is not a tape write spills over into the landing, which nobody reads:
 * it is put back together for libfuse, at the cost of copying a few
 * bytes (a write refused by the landing: its payload, once).
 */
#include "landing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

ssize_t rfs_land_read(struct fuse_session *se, struct rfs_land_req *r,
		      void *land, size_t n)
{
	struct iovec v[2] = {
		{ r->u.raw, sizeof(r->u.raw) }, { land, n },
	};
	r->got = 0;
	r->land = land;
	ssize_t got = readv(fuse_session_fd(se), v, 2);
	if (got < 0) {
		/* As libfuse: ENOENT, an interrupted request, means nothing. */
		int e = errno;
		return e == ENOENT ? -EINTR : -e;
	}
	if (got > 0 && (size_t)got < sizeof(struct fuse_in_header))
		return -EIO;
	r->got = (size_t)got;
	return got;
}

bool rfs_land_is_write(const struct rfs_land_req *r)
{
	return r->got >= sizeof(r->u.raw) &&
	       r->u.w.in.opcode == FUSE_WRITE &&
	       r->u.w.in.len == r->got &&
	       (uint64_t)r->u.w.wi.size == r->got - sizeof(r->u.raw);
}

int rfs_land_spill(const struct rfs_land_req *r, struct rfs_spill *s,
		   struct fuse_buf *buf)
{
	if (s->cap < r->got) {
		void *m = realloc(s->mem, r->got);
		if (!m)
			return -ENOMEM;
		s->mem = m;
		s->cap = r->got;
	}
	size_t head = r->got < sizeof(r->u.raw) ? r->got : sizeof(r->u.raw);
	memcpy(s->mem, r->u.raw, head);
	memcpy((char *)s->mem + head, r->land, r->got - head);
	*buf = (struct fuse_buf){ .size = r->got, .mem = s->mem };
	return 0;
}

void rfs_land_reply(struct fuse_session *se, const struct rfs_land_req *r,
		    int res)
{
	struct fuse_out_header oh = { .unique = r->u.w.in.unique };
	struct fuse_write_out wo = { .size = res > 0 ? (uint32_t)res : 0 };
	struct iovec v[2] = { { &oh, sizeof(oh) }, { &wo, sizeof(wo) } };
	int n = 2;
	if (res < 0) {
		oh.error = res;
		n = 1;
	}
	oh.len = (uint32_t)(sizeof(oh) + (n == 2 ? sizeof(wo) : 0));
	/* ENOENT: the request was interrupted meanwhile; nothing to do. */
	ssize_t w = writev(fuse_session_fd(se), v, n);
	(void)w;
}
