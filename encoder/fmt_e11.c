/*
 * fmt_e11.c - the "e11" format: the Ersatz-11 container, SIMH framing but
 * with odd-length records NOT padded. It only declares the table; the
 * framing lives in simh_frame.c, and this file must never frame bytes
 * itself.
 */
#include "simh_frame.h"

const struct tape_format tape_fmt_e11 = {
	.name = "e11",
	.ext = ".e11",
	.max_record = TAPE_SIMH_MAX,
	.family = TAPE_FAM_SIMH,
	.pad_odd = false,
	.compress = false,
	.mark_cost = 4,
	.open = tape_simh_open,
	.record = tape_simh_record_unpadded,
	.mark = tape_simh_mark,
	.finish = NULL,
	.free = tape_simh_free,
	.record_cost = tape_simh_cost_unpadded,
	.landing = tape_simh_landing,
};
