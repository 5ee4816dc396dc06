/*
 * aws_frame.c - AWSTAPE chunk framing (P/390 format, as read by Hercules'
 * awstape.c and hetlib.c), shared by aws and het.
 *
 * Each chunk starts with a 6-byte little-endian header: this chunk's length,
 * the previous chunk's length (0 for the first chunk of the image, 0 after a
 * tape mark), flags1, flags2. A record longer than the chunk size spans
 * several chunks, BEGIN on the first and END on the last. Chunk payload goes
 * to the sink straight from the caller's buffer; this file never copies it.
 */
#include "aws_frame.h"

void tape_aws_init(struct tape_aws *a, const struct tape_enc_options *opt)
{
	size_t c = opt ? opt->chunk_size : 0;

	a->chunk = (c == 0 || c > 65535) ? 65535 : c;
	a->prev = 0;
}

static void put_hdr(uint8_t *h, uint16_t cur, uint16_t prev, uint8_t flags1)
{
	tape_put_le16(h, cur);
	tape_put_le16(h + 2, prev);
	h[4] = flags1;
	h[5] = 0;
}

int tape_aws_block(struct tape_aws *a, struct tape_enc *e, const uint8_t *data,
		   size_t len, uint8_t comp)
{
	size_t off = 0;

	while (off < len) {
		int n = 0;

		for (int i = 0; i < TAPE_AWS_BATCH && off < len; i++) {
			size_t take = len - off < a->chunk ? len - off : a->chunk;
			uint8_t f = comp;

			if (off == 0)
				f |= TAPE_AWS_BEGIN;
			if (off + take == len)
				f |= TAPE_AWS_END;
			put_hdr(a->hdr[i], (uint16_t)take, a->prev, f);
			a->prev = (uint16_t)take;
			a->v[n++] = (struct tape_slice){ a->hdr[i], TAPE_AWS_HDR };
			a->v[n++] = (struct tape_slice){ data + off, take };
			off += take;
		}
		int rc = tape_enc_emit(e, a->v, n);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int tape_aws_mark(struct tape_aws *a, struct tape_enc *e)
{
	put_hdr(a->hdr[0], 0, a->prev, TAPE_AWS_MARK);
	a->prev = 0;
	struct tape_slice v = { a->hdr[0], TAPE_AWS_HDR };
	return tape_enc_emit(e, &v, 1);
}

uint64_t tape_aws_cost(const struct tape_aws *a, size_t len)
{
	uint64_t chunks = (len + a->chunk - 1) / a->chunk;

	return (uint64_t)len + TAPE_AWS_HDR * chunks;
}
