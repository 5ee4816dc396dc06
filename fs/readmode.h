/*
 * readmode.h - which drive serves reading: the read mount's own
 * (`reelfs --read URL MOUNT`), or, on a drive that wrote, one loaded on
 * the first read or positioning after `mt rewind` (or offline) published
 * the reel. ops.c asks here; the FUSE layer stays thin.
 */
#ifndef REELFS_READMODE_H
#define REELFS_READMODE_H

#include <stdbool.h>

#include "ops.h"

/* The read drive for a read or mt request, loading the published reel
 * when the writing drive has finished; NULL when reading is not possible
 * (yet): the drive is still writing, or the reel failed. */
struct rdrive *rfs_reader(struct rfs_ctx *c);
/* Whether ioctl/read requests go to the read drive (loaded or loadable). */
bool rfs_reading(struct rfs_ctx *c);
/* Frees a read drive loaded after writing. */
void rfs_reader_free(struct rfs_ctx *c);

#endif
