/*
 * rdrive_int.h - the read drive's insides, shared by rdrive.c (locks,
 * mt, status) and rdrive_read.c (what a read request gets). Nothing else
 * includes it.
 */
#ifndef REELFS_RDRIVE_INT_H
#define REELFS_RDRIVE_INT_H

#include <pthread.h>

#include "rdrive.h"
#include "rsplit.h"

struct rdrive {
	pthread_mutex_t io;
	struct rdr *r;			/* io */
	size_t block_size;		/* io: 0 variable */
	size_t max_request;		/* io */
	struct rsplit split;		/* io: a record going out in pieces
					 * of one split read() */
	size_t used;			/* io: fixed mode: bytes of the head
					 * record taken into blocks */
	uint8_t *scratch;		/* io: fixed-mode blocks */
	size_t block_len;		/* io: a block above one request kept
					 * in scratch until it went out whole */
	size_t scratch_cap;
	char logged[512];		/* io: the last read error logged */
	uint64_t reader;		/* io: the open that read last (0 none) */
	const struct xfer_opts *xo;	/* for the next reel of a magazine */
	struct rdrive_changer changer;	/* set before serving; none: all NULL */

	pthread_mutex_t snap;
	struct rdr_pos pos;		/* snap */
	struct rdr_stats stats;		/* snap; its strings copied below */
	char url[1024];			/* snap */
	char format[16];		/* snap */
	size_t snap_block;		/* snap */
	unsigned snap_reel;		/* snap: the reel url/format name */
	bool failed;			/* snap: a read failed */
	char note[1024];		/* snap: the last error or refusal */
};

/* rdrive.c: a read or positioning failure, logged once per sentence;
 * -EIO (or -ENOMEM). io held. */
int rdrive_failure(struct rdrive *rd, int rc);
/* rdrive_read.c, io held: one read request in variable-block and in
 * fixed-block mode (rdrive_read's contract); the head moves. */
int rdrive_read_variable(struct rdrive *rd, uint64_t id, size_t size, off_t off,
			 rdrive_reply_fn reply, void *ctx);
int rdrive_read_fixed(struct rdrive *rd, uint64_t id, size_t size, off_t off,
		      rdrive_reply_fn reply, void *ctx);
void rdrive_drop_partial(struct rdrive *rd);

#endif
