/*
 * fmt_het.c - the "het" format: Hercules Emulated Tape (hetlib.c). AWSTAPE
 * chunks, but each block is first compressed as one zlib stream (what
 * compress2() makes) and the compressed form is kept only when it is
 * smaller; every chunk of a compressed block carries the ZLIB flag.
 *
 * The compressor (het_deflate.c) lives as long as the encoder. Output goes
 * to an encoder-owned buffer; this file never allocates more than one
 * block's worth of it.
 */
#include "aws_frame.h"
#include "het_deflate.h"

#include <errno.h>
#include <stdlib.h>

struct het_state {
	struct tape_aws aws;
	struct het_deflate *z;
	uint8_t *zbuf;
	size_t zcap;
};

int tape_het_level(const struct tape_enc_options *opt)
{
	int level = opt ? opt->het_level : 0;

	return level <= 0 || level > 9 ? 4 : level;	/* 4: Hercules' default */
}

static int het_open(void **st, const struct tape_enc_options *opt)
{
	struct het_state *h = calloc(1, sizeof(*h));
	int level = tape_het_level(opt);

	if (!h)
		return -ENOMEM;
	tape_aws_init(&h->aws, opt);
	if (!(h->z = het_deflate_new(level))) {
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
	size_t zlen = len > 1 ? het_deflate_block(h->z, data, len, h->zbuf, len - 1) : 0;

	if (zlen)
		return tape_aws_block(&h->aws, e, h->zbuf, zlen, TAPE_AWS_ZLIB);
	return tape_aws_block(&h->aws, e, data, len, 0);
}

/* A block the pool compressed (enc_pool.c makes zlen exactly as
 * het_record does). */
static int het_block(void *st, struct tape_enc *e, const void *data, size_t len,
		     const void *z, size_t zlen)
{
	struct het_state *h = st;

	if (zlen)
		return tape_aws_block(&h->aws, e, z, zlen, TAPE_AWS_ZLIB);
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
	het_deflate_free(h->z);
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
	.block = het_block,
};
