/*
 * ops.h - the FUSE low-level operations of the reelfs mount: a root
 * directory holding `tape` (the drive) and `status` (read-only text).
 */
#ifndef REELFS_OPS_H
#define REELFS_OPS_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 35
#endif
#include <fuse_lowlevel.h>
#include <sys/types.h>

#include "drive.h"
#include "volume.h"

struct rfs_ctx {
	struct vol *vol;	/* the first reel; a magazine changes it: drv_vol_hold */
	struct drv *drv;
	uid_t uid;		/* the user who mounted: owns tape */
	gid_t gid;
	time_t mtime;
	size_t max_write;	/* what init obtained from libfuse/kernel */
};

extern const struct fuse_lowlevel_ops rfs_ops;

#endif
