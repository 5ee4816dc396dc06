/*
 * simh_frame.h - private to encoder/: the SIMH-layout framing that the mtd,
 * simh and e11 format files share. Only those three files include it.
 */
#ifndef REELFS_SIMH_FRAME_H
#define REELFS_SIMH_FRAME_H

#include "format_ops.h"

int tape_simh_open(void **st, const struct tape_enc_options *opt);
int tape_simh_record(void *st, struct tape_enc *e, const void *data,
		     size_t len, bool pad_odd);
int tape_simh_mark(void *st, struct tape_enc *e);
uint64_t tape_simh_cost(size_t len, bool pad_odd);
void tape_simh_free(void *st);

#endif
