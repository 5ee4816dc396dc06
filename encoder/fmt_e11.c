/*
 * fmt_e11.c - the "e11" format: E11, the Ersatz-11 container: SIMH framing, but odd-length
 * records are NOT padded.
 * It only declares the table; the framing lives in simh_frame.c.
 */
#include "simh_frame.h"

#define PAD_ODD false

static int e11_record(void *st, struct tape_enc *e, const void *data, size_t len)
{
	return tape_simh_record(st, e, data, len, PAD_ODD);
}

static uint64_t e11_cost(const void *st, size_t len)
{
	(void)st;
	return tape_simh_cost(len, PAD_ODD);
}

const struct tape_format tape_fmt_e11 = {
	.name = "e11",
	.ext = ".e11",
	.max_record = TAPE_SIMH_MAX,
	.family = TAPE_FAM_SIMH,
	.pad_odd = PAD_ODD,
	.compress = false,
	.mark_cost = 4,
	.open = tape_simh_open,
	.record = e11_record,
	.mark = tape_simh_mark,
	.finish = NULL,
	.free = tape_simh_free,
	.record_cost = e11_cost,
};
