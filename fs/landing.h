/*
 * landing.h - frame in place at the FUSE device (issue 12.1): reading a
 * request so that a write's payload lands straight in the upload queue.
 * loop.c decides when (see there); landing.c only reads, recognises,
 * hands on and replies.
 */
#ifndef REELFS_LANDING_H
#define REELFS_LANDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <fuse_lowlevel.h>
#include <linux/fuse.h>

/* What the drive offers (ops.c). */
struct rfs_landing {
	void *ctx;
	/* Called by the reading thread while no request is in processing:
	 * 0 and where a write's payload may land (*n bytes, at least the
	 * largest write), keeping it valid until write or disarm; or < 0
	 * (not now). */
	int (*arm)(void *ctx, void **p, size_t *n);
	/* The request read is a write of wi->size bytes, landed at p: true
	 * when handled (*res the bytes written or -errno; the caller replies,
	 * then calls after), false when not one the landing takes (the
	 * caller disarms). */
	bool (*write)(void *ctx, uint64_t nodeid, const struct fuse_write_in *wi,
		      void *p, int *res);
	/* After the reply to a write that write handled: what could wait
	 * for it (the record's CRC, issue 12.2); disarms. */
	void (*after)(void *ctx);
	void (*disarm)(void *ctx);
};

/* A request read with a landing armed: its fixed part here, the rest
 * (a write's payload, or whatever else follows 80 bytes) at the landing. */
struct rfs_land_req {
	union {
		unsigned char raw[sizeof(struct fuse_in_header) +
				  sizeof(struct fuse_write_in)];
		struct {
			struct fuse_in_header in;
			struct fuse_write_in wi;
		} w;
	} u;
	size_t got;		/* bytes the read returned */
	void *land;		/* where the rest went */
};

/* One read of the FUSE device into r, the rest at land (n bytes): bytes
 * read, or -errno as fuse_session_receive_buf gives it. */
ssize_t rfs_land_read(struct fuse_session *se, struct rfs_land_req *r,
		      void *land, size_t n);
/* Whether r is a write whose payload is whole at r->land. */
bool rfs_land_is_write(const struct rfs_land_req *r);
/* A worker's buffer for requests put back together (never libfuse's
 * receive buffer, whose size libfuse assumes). */
struct rfs_spill {
	void *mem;
	size_t cap;
};
/* Puts r back together in s, as libfuse's receive would have read it,
 * and points buf at it (for libfuse to process). 0 or -ENOMEM. */
int rfs_land_spill(const struct rfs_land_req *r, struct rfs_spill *s,
		   struct fuse_buf *buf);
/* The reply to the write r: res bytes written, or -errno. */
void rfs_land_reply(struct fuse_session *se, const struct rfs_land_req *r,
		    int res);

#endif
