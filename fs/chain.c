/*
 * chain.c - the hand-over to the next reel of a storeset (--next=PATH):
 * once this reel is full, records go to PATH with write(2) and tape marks
 * as MTWEOF ioctls; at the end an MTOFFL finishes the rest of the chain.
 * PATH is usually another reelfs mount's tape, but any tape file works.
 *
 * It must never report a record as written that PATH did not take whole.
 * All functions run with the drive's io lock held.
 */
#include "drive_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"

/* Opens the next reel; io held. */
int drv_chain_open(struct drv *d)
{
	d->chain_fd = open(d->next_path, O_WRONLY | O_CLOEXEC);
	if (d->chain_fd < 0) {
		int e = errno;
		drv_fail(d, -EIO, "%s is full, and the next reel %s cannot be "
			 "opened (%s); the record was not written.",
			 vol_url(d->vol), d->next_path, strerror(e));
		return -EIO;
	}
	pthread_mutex_lock(&d->snap);
	d->st.chained = true;
	pthread_mutex_unlock(&d->snap);
	rlog(RLOG_INFO, "%s is full; continuing on the next reel %s.",
	     vol_url(d->vol), d->next_path);
	return 0;
}

/* One record to the next reel; io held. Keeps ENOSPC (the chain is
 * exhausted) as end of medium for our writer. */
int drv_chain_record(struct drv *d, const void *rec, size_t len)
{
	ssize_t n = write(d->chain_fd, rec, len);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && errno == ENOSPC)
		return -ENOSPC;
	int e = n < 0 ? errno : EIO;
	drv_fail(d, -EIO, "writing a record to the next reel %s failed (%s); "
		 "the record was not written.", d->next_path, strerror(e));
	return -EIO;
}

/* One tape mark on the next reel. */
int drv_chain_mark(struct drv *d)
{
	struct mtop op = { .mt_op = MTWEOF, .mt_count = 1 };
	int rc = ioctl(d->chain_fd, MTIOCTOP, &op) < 0 ? -errno : 0;
	if (rc < 0)
		drv_fail(d, -EIO, "writing a tape mark on the next reel %s "
			 "failed (%s).", d->next_path, strerror(-rc));
	return rc;
}

/* Asks the next reel whether it failed behind our writer: fsync reaches
 * its drive, which reports a failed upload or records it accepted and
 * its server did not store. A device without fsync (EINVAL, ENOSYS)
 * reports nothing. io held. */
int drv_chain_sync(struct drv *d)
{
	if (fsync(d->chain_fd) == 0)
		return 0;
	int e = errno;
	if (e == EINVAL || e == ENOSYS || e == EROFS || e == ENOTSUP)
		return 0;
	drv_fail(d, -EIO, "the next reel %s failed (%s); see its messages.",
		 d->next_path, strerror(e));
	return -EIO;
}

/* Finishes the reels we fed (MTOFFL blocks until the next reel, and the
 * ones after it, are published) and lets go of PATH. */
void drv_chain_finish(struct drv *d)
{
	struct mtop op = { .mt_op = MTOFFL, .mt_count = 1 };
	if (ioctl(d->chain_fd, MTIOCTOP, &op) < 0) {
		int e = errno;
		d->chain_ok = false;
		drv_fail(d, -EIO, "finishing the next reel %s failed (%s).",
			 d->next_path, strerror(e));
	}
	if (close(d->chain_fd) < 0 && d->chain_ok) {
		int e = errno;
		d->chain_ok = false;
		drv_fail(d, -EIO, "closing the next reel %s failed (%s).",
			 d->next_path, strerror(e));
	}
	d->chain_fd = -1;
}
