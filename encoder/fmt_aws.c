/*
 * fmt_aws.c - the "aws" format: AWSTAPE, uncompressed (Hercules tapedev.h,
 * awstape.c). Records up to 2 MiB, spanning chunks of at most chunk_size
 * bytes. It only declares the table; the framing lives in aws_frame.c.
 */
#include "aws_frame.h"

#include <errno.h>
#include <stdlib.h>

static int aws_open(void **st, const struct tape_enc_options *opt)
{
	struct tape_aws *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	tape_aws_init(a, opt);
	*st = a;
	return 0;
}

static int aws_record(void *st, struct tape_enc *e, const void *data, size_t len)
{
	return tape_aws_block(st, e, data, len, 0);
}

static int aws_mark(void *st, struct tape_enc *e)
{
	return tape_aws_mark(st, e);
}

static uint64_t aws_cost(const void *st, size_t len)
{
	return tape_aws_cost(st, len);
}

/* One chunk (header, payload) when the record fits in one. */
static size_t aws_landing(const void *st, size_t len)
{
	const struct tape_aws *a = st;
	return len <= a->chunk ? TAPE_AWS_HDR : 0;
}

const struct tape_format tape_fmt_aws = {
	.name = "aws",
	.ext = ".aws",
	.max_record = TAPE_AWS_MAX,
	.family = TAPE_FAM_AWS,
	.pad_odd = false,
	.compress = false,
	.mark_cost = TAPE_AWS_HDR,
	.open = aws_open,
	.record = aws_record,
	.mark = aws_mark,
	.finish = NULL,
	.free = free,
	.record_cost = aws_cost,
	.landing = aws_landing,
};
