/*
 * simh_frame.c - framing shared by the three formats with SIMH layout (mtd,
 * simh, e11): a 32-bit little-endian length, the data, the same length.
 * They differ only in whether an odd-length record gets a zero pad byte.
 * Each record is one sink call of three slices: header, payload (never
 * copied), pad + trailer. This file must never look at payload bytes.
 */
#include "simh_frame.h"

#include <errno.h>
#include <stdlib.h>

struct simh_state {
	uint8_t hdr[4];
	uint8_t trl[5];		/* optional pad byte + trailer */
};

int tape_simh_open(void **st, const struct tape_enc_options *opt)
{
	(void)opt;
	*st = calloc(1, sizeof(struct simh_state));
	return *st ? 0 : -ENOMEM;
}

static int simh_record(void *st, struct tape_enc *e, const void *data,
		       size_t len, bool pad_odd)
{
	struct simh_state *s = st;
	size_t pad = (pad_odd && (len & 1)) ? 1 : 0;

	tape_put_le32(s->hdr, (uint32_t)len);
	s->trl[0] = 0;
	tape_put_le32(s->trl + pad, (uint32_t)len);
	struct tape_slice v[3] = {
		{ s->hdr, 4 }, { data, len }, { s->trl, 4 + pad },
	};
	return tape_enc_emit(e, v, 3);
}

int tape_simh_mark(void *st, struct tape_enc *e)
{
	static const uint8_t zero[4];
	struct tape_slice v = { zero, 4 };

	(void)st;
	return tape_enc_emit(e, &v, 1);
}

static uint64_t simh_cost(size_t len, bool pad_odd)
{
	return 8 + (uint64_t)len + ((pad_odd && (len & 1)) ? 1 : 0);
}

int tape_simh_record_padded(void *st, struct tape_enc *e, const void *data,
			    size_t len)
{
	return simh_record(st, e, data, len, true);
}

int tape_simh_record_unpadded(void *st, struct tape_enc *e, const void *data,
			      size_t len)
{
	return simh_record(st, e, data, len, false);
}

uint64_t tape_simh_cost_padded(const void *st, size_t len)
{
	(void)st;
	return simh_cost(len, true);
}

uint64_t tape_simh_cost_unpadded(const void *st, size_t len)
{
	(void)st;
	return simh_cost(len, false);
}

size_t tape_simh_landing(const void *st, size_t len)
{
	(void)st;
	(void)len;
	return 4;
}

void tape_simh_free(void *st)
{
	free(st);
}
