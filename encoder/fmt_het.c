/*
 * fmt_het.c - the "het" format: Hercules Emulated Tape (hetlib.c). AWSTAPE
 * chunks, but each block is first compressed as one zlib stream (what
 * compress2() makes) and the compressed form is kept only when it is
 * smaller; every chunk of a compressed block carries the ZLIB flag.
 *
 * The deflate state lives as long as the encoder and is reset per block,
 * because setting it up afresh for every record costs more than compressing
 * a small one. Output goes to an encoder-owned buffer; this file never
 * allocates more than one block's worth of it.
 */
#include "aws_frame.h"

#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

struct het_state {
	struct tape_aws aws;
	z_stream z;
	uint8_t *zbuf;
	size_t zcap;
};

static int het_open(void **st, const struct tape_enc_options *opt)
{
	struct het_state *h = calloc(1, sizeof(*h));
	int level = opt ? opt->het_level : 0;

	if (!h)
		return -ENOMEM;
	if (level <= 0 || level > 9)
		level = 4;	/* Hercules' default */
	tape_aws_init(&h->aws, opt);
	if (deflateInit(&h->z, level) != Z_OK) {
		free(h);
		return -ENOMEM;
	}
	*st = h;
	return 0;
}

static int het_record(void *st, struct tape_enc *e, const void *data, size_t len)
{
	struct het_state *h = st;

	if (h->zcap < len) {
		uint8_t *nb = realloc(h->zbuf, len);

		if (!nb) {
			tape_enc_set_error(e, "out of memory for a %zu-byte HET block", len);
			return -ENOMEM;
		}
		h->zbuf = nb;
		h->zcap = len;
	}
	/* Room for len - 1 bytes only: a stream that does not fit is not
	 * smaller, so the block is stored as it is. */
	if (deflateReset(&h->z) != Z_OK)
		return -EIO;
	h->z.next_in = (Bytef *)(uintptr_t)data;
	h->z.avail_in = (uInt)len;
	h->z.next_out = h->zbuf;
	h->z.avail_out = (uInt)(len - 1);
	int zr = len > 1 ? deflate(&h->z, Z_FINISH) : Z_BUF_ERROR;

	if (zr == Z_STREAM_END)
		return tape_aws_block(&h->aws, e, h->zbuf, h->z.total_out, TAPE_AWS_ZLIB);
	return tape_aws_block(&h->aws, e, data, len, 0);
}

static int het_mark(void *st, struct tape_enc *e)
{
	return tape_aws_mark(&((struct het_state *)st)->aws, e);
}

static uint64_t het_cost(const void *st, size_t len)
{
	/* Compression is only kept when smaller: the stored size bounds it. */
	return tape_aws_cost(&((const struct het_state *)st)->aws, len);
}

static void het_free(void *st)
{
	struct het_state *h = st;

	if (!h)
		return;
	deflateEnd(&h->z);
	free(h->zbuf);
	free(h);
}

const struct tape_format tape_fmt_het = {
	.name = "het",
	.ext = ".het",
	.max_record = TAPE_AWS_MAX,
	.family = TAPE_FAM_AWS,
	.pad_odd = false,
	.compress = true,
	.mark_cost = TAPE_AWS_HDR,
	.open = het_open,
	.record = het_record,
	.mark = het_mark,
	.finish = NULL,
	.free = het_free,
	.record_cost = het_cost,
};
