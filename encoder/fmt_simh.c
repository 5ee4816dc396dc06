/*
 * fmt_simh.c - the "simh" format: SIMH .tap (Supnik, "SIMH magtape representation and handling"):
 * odd-length records are padded to even length with one zero byte; the
 * length words keep the exact count.
 * It only declares the table; the framing lives in simh_frame.c.
 */
#include "simh_frame.h"

#define PAD_ODD true

static int simh_record(void *st, struct tape_enc *e, const void *data, size_t len)
{
	return tape_simh_record(st, e, data, len, PAD_ODD);
}

static uint64_t simh_cost(const void *st, size_t len)
{
	(void)st;
	return tape_simh_cost(len, PAD_ODD);
}

const struct tape_format tape_fmt_simh = {
	.name = "simh",
	.ext = ".tap",
	.max_record = TAPE_SIMH_MAX,
	.family = TAPE_FAM_SIMH,
	.pad_odd = PAD_ODD,
	.compress = false,
	.mark_cost = 4,
	.open = tape_simh_open,
	.record = simh_record,
	.mark = tape_simh_mark,
	.finish = NULL,
	.free = tape_simh_free,
	.record_cost = simh_cost,
};
