/*
 * fmt_mtd.c - the "mtd" format: MTD, the container vtServer and Charon read. Its byte layout is not
 * public; reelfs writes SIMH framing with odd records padded to even length,
 * exactly as SIMH does (see docs/formats.md for why padding was chosen).
 * It only declares the table; the framing lives in simh_frame.c.
 */
#include "simh_frame.h"

#define PAD_ODD true

static int mtd_record(void *st, struct tape_enc *e, const void *data, size_t len)
{
	return tape_simh_record(st, e, data, len, PAD_ODD);
}

static uint64_t mtd_cost(const void *st, size_t len)
{
	(void)st;
	return tape_simh_cost(len, PAD_ODD);
}

const struct tape_format tape_fmt_mtd = {
	.name = "mtd",
	.ext = ".mtd",
	.max_record = TAPE_SIMH_MAX,
	.family = TAPE_FAM_SIMH,
	.pad_odd = PAD_ODD,
	.compress = false,
	.mark_cost = 4,
	.open = tape_simh_open,
	.record = mtd_record,
	.mark = tape_simh_mark,
	.finish = NULL,
	.free = tape_simh_free,
	.record_cost = mtd_cost,
};
