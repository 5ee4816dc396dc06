/*
 * access.c - the caller's permission on a node, decided like the kernel's
 * generic_permission: owner bits for the owner, group bits for a member
 * of the owning group (primary or supplementary), other bits for the
 * rest; root reads and writes anything. Used by ops.c in open, ioctl and
 * setattr, so that `-o allow_other` shares what the mode allows and no
 * more, even where the kernel does not look (ioctl, a passed descriptor).
 */
#include "access.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"

/* Whether the caller is in group gid. Supplementary groups come from
 * /proc (fuse_req_getgroups); when they cannot be read the caller is
 * taken as not a member (the drive's modes give a group nothing more
 * than others, so this never widens access). */
static bool caller_in_group(fuse_req_t req, const struct fuse_ctx *cx,
			    gid_t gid)
{
	if (cx->gid == gid)
		return true;
	gid_t list[64];
	int n = fuse_req_getgroups(req, (int)(sizeof(list) / sizeof(list[0])),
				   list);
	gid_t *g = list;
	if (n > (int)(sizeof(list) / sizeof(list[0]))) {
		/* More than 64 groups: ask again with room for them all. */
		g = malloc((size_t)n * sizeof(*g));
		if (!g)
			return false;
		int m = fuse_req_getgroups(req, n, g);
		n = m < n ? m : n;
	}
	bool in = false;
	for (int i = 0; i < n && !in; i++)
		in = g[i] == gid;
	if (g != list)
		free(g);
	return in;
}

int rfs_may(fuse_req_t req, uid_t uid, gid_t gid, mode_t mode, int want,
	    const char *what)
{
	const struct fuse_ctx *cx = fuse_req_ctx(req);
	if (cx->uid == 0)
		return 0;
	unsigned bits;
	if (cx->uid == uid)
		bits = (mode >> 6) & 7;
	else if (((mode >> 3) & 7) != (mode & 7) &&
		 caller_in_group(req, cx, gid))
		bits = (mode >> 3) & 7;
	else
		bits = mode & 7;
	if (((unsigned)want & bits) == (unsigned)want)
		return 0;
	rlog(RLOG_INFO, "refused to %s for uid %u (pid %d): the drive belongs "
	     "to uid %u and its mode %03o does not allow it.", what,
	     (unsigned)cx->uid, (int)cx->pid, (unsigned)uid,
	     (unsigned)(mode & 0777));
	return -EACCES;
}
