/*
 * reclimit.h - the one largest record reelfs takes, for --block-size,
 * `mt setblk` and a joined write(): 4 MiB, or less when the format allows
 * less (2 MiB for aws and het). The bound keeps a record's memory within
 * the configuration (transfer buffer + 16 MiB), whatever the format would
 * allow.
 */
#ifndef REELFS_RECLIMIT_H
#define REELFS_RECLIMIT_H

#include <stddef.h>

#include "tape.h"

#define RFS_MAX_RECORD ((size_t)4 << 20)

static inline size_t rfs_max_record(const struct tape_format *f)
{
	size_t m = tape_format_max_record(f);
	return m && m < RFS_MAX_RECORD ? m : RFS_MAX_RECORD;
}

#endif
