/*
 * access.h - who may do what on the mount: the caller of a request
 * against the mount owner and a node's mode, as the kernel's
 * default_permissions does (which reelfs also turns on: this check is
 * the second line, and the only one for an ioctl or a descriptor that
 * was handed to another user).
 */
#ifndef REELFS_ACCESS_H
#define REELFS_ACCESS_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 35
#endif
#include <fuse_lowlevel.h>
#include <sys/types.h>

enum { RFS_MAY_READ = 4, RFS_MAY_WRITE = 2 };

/* 0 when the caller of req may do `want` (RFS_MAY_*) on a node of this
 * mode owned by uid/gid, else -EACCES with a log line naming the caller
 * and what (a short phrase: "open tape for writing"). uid 0 may read and
 * write everything, as CAP_DAC_OVERRIDE lets it under default_permissions. */
int rfs_may(fuse_req_t req, uid_t uid, gid_t gid, mode_t mode, int want,
	    const char *what);

#endif
