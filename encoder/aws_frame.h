/*
 * aws_frame.h - private to encoder/: the AWSTAPE chunk framing that the aws
 * and het format files share. Only those two files include it.
 */
#ifndef REELFS_AWS_FRAME_H
#define REELFS_AWS_FRAME_H

#include "format_ops.h"

/* Chunks handed to the sink per call: a 2 MiB record at chunk size 1 must
 * not need millions of slices at once. */
#define TAPE_AWS_BATCH 32

struct tape_aws {
	size_t chunk;			/* payload bytes per chunk, 1..65535 */
	uint16_t prev;			/* length of the previous chunk; 0 at start */
	uint8_t hdr[TAPE_AWS_BATCH][TAPE_AWS_HDR];
	struct tape_slice v[2 * TAPE_AWS_BATCH];
};

void tape_aws_init(struct tape_aws *a, const struct tape_enc_options *opt);
/* One block (len >= 1) as chunks; comp is 0 or TAPE_AWS_ZLIB, carried by
 * every chunk of the block. */
int tape_aws_block(struct tape_aws *a, struct tape_enc *e, const uint8_t *data,
		   size_t len, uint8_t comp);
int tape_aws_mark(struct tape_aws *a, struct tape_enc *e);
uint64_t tape_aws_cost(const struct tape_aws *a, size_t len);

#endif
