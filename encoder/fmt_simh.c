/*
 * fmt_simh.c - the "simh" format: SIMH .tap (Supnik, "SIMH magtape
 * representation and handling"): odd-length records are padded to even
 * length with one zero byte; the length words keep the exact count.
 * It only declares the table; the framing lives in simh_frame.c, and this
 * file must never frame bytes itself.
 */
#include "simh_frame.h"

const struct tape_format tape_fmt_simh = {
	.name = "simh",
	.ext = ".tap",
	.max_record = TAPE_SIMH_MAX,
	.family = TAPE_FAM_SIMH,
	.pad_odd = true,
	.compress = false,
	.mark_cost = 4,
	.open = tape_simh_open,
	.record = tape_simh_record_padded,
	.mark = tape_simh_mark,
	.finish = NULL,
	.free = tape_simh_free,
	.record_cost = tape_simh_cost_padded,
	.landing = tape_simh_landing,
};
