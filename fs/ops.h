/*
 * ops.h - the FUSE low-level operations of the reelfs mount: a root
 * directory holding `tape` (the drive) and `status` (read-only text).
 */
#ifndef REELFS_OPS_H
#define REELFS_OPS_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 35
#endif
#include <sys/stat.h>
#include <fuse_lowlevel.h>
#include <sys/types.h>

#include "drive.h"
#include "rdrive.h"
#include "volume.h"

struct rfs_ctx {
	struct vol *vol;	/* the first reel; a magazine changes it:
				 * drv_vol_hold. NULL on a read mount (--read) */
	/* The writing drive: NULL on a read mount until a write after
	 * reading makes one (append.c), which replaces it then. */
	struct drv *_Atomic drv;
	_Atomic bool unloaded;	/* mt offline ended the written reel */
	/* The read drive: a read mount's, or loaded after writing once the
	 * reel is published (readmode.c; set once, under its lock). */
	struct rdrive *_Atomic rd;
	const char *url;	/* the URL as given, for loading it */
	struct mag *mag;	/* --magazine; the writing drive has it too */
	const struct xfer_opts *xo;
	uid_t uid;		/* the user who mounted: owns tape */
	gid_t gid;
	time_t mtime;
	size_t max_write;	/* what init obtained from libfuse/kernel */
};

extern const struct fuse_lowlevel_ops rfs_ops;

/* The landing (frame in place) of c's writing drive, for rfs_loop. */
struct rfs_landing;
void rfs_landing_init(struct rfs_landing *l, struct rfs_ctx *c);

/* What every node of the mount shares in its attributes (inode, owner,
 * times, block size); the caller sets mode, links and size. */
void rfs_stat_base(const struct rfs_ctx *c, fuse_ino_t ino, struct stat *st);

#endif
