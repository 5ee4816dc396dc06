/*
 * simh_frame.h - private to encoder/: the SIMH-layout framing that the mtd,
 * simh and e11 format files share. Only those three files include it.
 */
#ifndef REELFS_SIMH_FRAME_H
#define REELFS_SIMH_FRAME_H

#include "format_ops.h"

int tape_simh_open(void **st, const struct tape_enc_options *opt);
int tape_simh_mark(void *st, struct tape_enc *e);
void tape_simh_free(void *st);
/* The two variants of the record operation and its cost: odd-length
 * records padded to even length (mtd, simh) or not (e11). */
int tape_simh_record_padded(void *st, struct tape_enc *e, const void *data,
			    size_t len);
int tape_simh_record_unpadded(void *st, struct tape_enc *e, const void *data,
			      size_t len);
uint64_t tape_simh_cost_padded(const void *st, size_t len);
uint64_t tape_simh_cost_unpadded(const void *st, size_t len);

#endif
