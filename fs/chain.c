/*
 * chain.c - the hand-over to the next reel of a storeset (--next=PATH):
 * once this reel is full, records go to PATH with write(2) and tape marks
 * as MTWEOF ioctls; at the end an MTOFFL finishes the rest of the chain.
 * PATH is another reelfs mount's tape (options.c checks it at mount).
 * Before the first record it goes there, the hand-over (chain.h) tells
 * the next drive which storeset it continues, so the chain carries one
 * storeset id and consecutive reel numbers without any options.
 *
 * It must never report a record as written that PATH did not take whole.
 * All functions run with the drive's io lock held.
 */
#include "drive_int.h"
#include "chain.h"
#include "drive_lbl.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Tells the next reel which storeset it continues and learns its URL
 * (for this reel's manifest); io held. A tape that does not know the
 * hand-over (ENOTTY) only costs the links; one that refuses it (it was
 * written to already) must not take our records. */
int drv_chain_tell(struct drv *d, int fd, const char *path, bool must)
{
	if (d->next_vol) {
		/* A magazine's next slot was opened with the storeset facts. */
		if (vol_set_next_url(d->vol, vol_url(d->next_vol)) < 0)
			rlog(RLOG_WARN, "out of memory: the manifest of %s will "
			     "not name its next reel.", vol_url(d->vol));
		return 0;
	}
	struct rfs_chain_hello *h = calloc(1, sizeof(*h));
	if (!h) {
		drv_fail(d, -EIO, "out of memory handing over to the next reel "
			 "%s; the record was not written.", path);
		return -EIO;
	}
	h->magic = RFS_CHAIN_MAGIC;
	unsigned reel = vol_reel(d->vol);
	h->reel = reel < UINT32_MAX ? reel + 1 : 0;
	vol_get_storeset(d->vol, h->storeset, sizeof(h->storeset));
	snprintf(h->prev, sizeof(h->prev), "%s", vol_url(d->vol));
	drv_lbl_fill_cont(d, &h->lbl);
	int rc = 0;
	if (ioctl(fd, RFS_IOC_CHAIN, h) == 0) {
		h->url[sizeof(h->url) - 1] = '\0';
		if (h->url[0] && vol_set_next_url(d->vol, h->url) < 0)
			rlog(RLOG_WARN, "out of memory: the manifest of %s will "
			     "not name its next reel.", vol_url(d->vol));
	} else if (errno == ENOTTY || errno == EINVAL || errno == ENOSYS) {
		rlog(RLOG_WARN, "the next reel %s is not a reelfs drive, so the "
		     "manifests cannot link the two reels%s.", path,
		     h->lbl.magic ? " and it cannot continue the labelled file" : "");
		rc = must ? 0 : -ENOTTY;
	} else if (must) {
		int e = errno;
		drv_fail(d, -EIO, "the next reel %s refused to continue the "
			 "storeset of %s (%s; see its messages); the record "
			 "was not written.", path, vol_url(d->vol),
			 strerror(e));
		rc = -EIO;
	} else {
		rc = -errno;
		rlog(RLOG_WARN, "the next volume %s refused to continue the "
		     "storeset of %s (%s; see its messages).", path,
		     vol_url(d->vol), strerror(-rc));
	}
	free(h);
	return rc;
}

static int drv_chain_hello(struct drv *d)
{
	return drv_chain_tell(d, d->chain_fd, d->next_path, true);
}

/* This reel is full: hands over to the next reel, then publishes this
 * one at once (its manifest names the next reel). io held. */
int drv_chain_spill(struct drv *d)
{
	if (d->mag)
		return drv_mag_spill(d);
	int rc = drv_chain_open(d);
	if (rc < 0)
		return rc;
	rc = drv_chain_hello(d);
	if (rc == 0)
		drv_mag_pad(d);	/* a reel ending on a mark keeps it (drive_mag.c) */
	if (rc == 0 && (rc = vol_finish(d->vol)) < 0)
		drv_fail(d, -EIO, "%s", vol_error(d->vol));
	if (rc < 0) {
		close(d->chain_fd);	/* nothing went there */
		d->chain_fd = -1;
		pthread_mutex_lock(&d->snap);
		d->st.chained = false;
		pthread_mutex_unlock(&d->snap);
		return -EIO;
	}
	rlog(RLOG_INFO, "%s is published.", vol_url(d->vol));
	return 0;
}

/* One record or mark carried over from the queue of a reel whose server
 * filled up; io held. A failure is -errno, reported by the caller: the
 * writer was told long ago that this record was written. */
static int drv_salvage_one(void *ctx, bool mark, const void *rec, size_t len)
{
	struct drv *d = ctx;
	if (d->next_vol)	/* a magazine's next slot */
		return mark ? vol_mark(d->next_vol) :
		       vol_record(d->next_vol, rec, len);
	if (mark) {
		struct mtop op = { .mt_op = MTWEOF, .mt_count = 1 };
		return ioctl(d->chain_fd, MTIOCTOP, &op) < 0 ? -errno : 0;
	}
	ssize_t n = write(d->chain_fd, rec, len);
	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? -errno : -EIO;
}

/* Where the records go on: the --next tape or the magazine's next slot. */
static const char *drv_next_name(struct drv *d)
{
	if (d->next_vol)
		return vol_url(d->next_vol);
	return d->next_path ? d->next_path : "the next reel";
}

/* Carrying over failed (the next reel refused a record, a mark, or this
 * reel could not be published): the writer gets EIO from now on, and the
 * log says where what it wrote is. io held. */
static void drv_salvage_failed(struct drv *d,
			       const struct vol_salvage_info *in,
			       const char *err)
{
	rlog(RLOG_ERR, "%s.", d->fullmsg);
	if (!drv_sticky(d))
		drv_fail(d, -EIO, "the storeset cannot go on to the next reel "
			 "%s: carrying over the records the full server did not "
			 "keep failed (%s); writing fails.", drv_next_name(d), err);
	if (in->records || in->marks)
		rlog(RLOG_ERR, "%s: %" PRIu64 " records and %" PRIu64 " tape "
		     "marks (%" PRIu64 " bytes of data) of what the full server "
		     "did not keep went onto the next reel %s, which keeps them, "
		     "before carrying over failed; the storeset is incomplete.",
		     vol_url(d->vol), in->records, in->marks, in->payload,
		     drv_next_name(d));
	else
		rlog(RLOG_ERR, "%s: none of the records the full server did not "
		     "keep reached the next reel %s.", vol_url(d->vol),
		     drv_next_name(d));
}

/* The server under this reel ran out of space after the drive accepted
 * records it did not keep. They are still in the upload queue: hand over
 * to the next reel, carry them onto it in order, and publish this reel as
 * the server holds it, ending at its last whole record (its manifest says
 * where: truncated_at). 0 when the tape goes on on the next reel; -EIO
 * when that fails (the loss is then reported as without --next). io held. */
int drv_chain_salvage(struct drv *d)
{
	if (drv_sticky(d))
		return -EIO;	/* it failed before: once is enough */
	if (drv_lbl_on(d)) {
		/* The queue holds this reel's labels among the records: they
		 * cannot be carried as data (fs/README.md, Known limits). */
		drv_server_full(d, false);
		drv_fail(d, -EIO, "%s; a labelled reel is not carried over to "
			 "the next one, so the storeset stops here (give a "
			 "--capacity below the space the server has).", d->fullmsg);
		d->full_logged = true;
		return -EIO;
	}
	drv_server_full(d, false);
	char err[XFER_ERRLEN] = "";
	struct vol_salvage_info in;
	memset(&in, 0, sizeof(in));
	int rc = d->mag ? drv_mag_open_next(d) : drv_chain_open(d);
	if (rc == 0)
		rc = drv_chain_hello(d);
	if (rc == 0) {
		rc = vol_salvage(d->vol, drv_salvage_one, d, &in, err, sizeof(err));
		if (rc < 0)
			drv_salvage_failed(d, &in, err);
	} else if (!drv_sticky(d)) {
		drv_fail(d, -EIO, "%s.", d->fullmsg);
	}
	d->full_logged = true;
	if (rc < 0) {
		if (d->chain_fd >= 0) {
			close(d->chain_fd);
			d->chain_fd = -1;
		}
		drv_mag_drop_next(d);
		pthread_mutex_lock(&d->snap);
		d->st.chained = false;
		pthread_mutex_unlock(&d->snap);
		return -EIO;
	}
	d->loss_pending = false;
	rlog(RLOG_WARN, "%s: the server ran out of space holding %" PRIu64
	     " bytes; the %" PRIu64 " records and %" PRIu64 " tape marks (%"
	     PRIu64 " image bytes) after its last whole record were carried "
	     "onto the next reel %s, and this reel is published ending at byte "
	     "%" PRIu64 " (its manifest's truncated_at).", vol_url(d->vol),
	     in.held, in.records, in.marks, in.carried, drv_next_name(d),
	     in.valid);
	if (d->next_vol)
		drv_mag_swap(d, false);	/* the tape goes on in the next slot */
	return 0;
}

/* The next reel's side of the hand-over (from ops.c): before anything was
 * written here, take the storeset facts and answer with our URL. */
int drv_chain_accept(struct drv *d, struct rfs_chain_hello *h)
{
	if (h->magic != RFS_CHAIN_MAGIC)
		return -EINVAL;
	h->storeset[sizeof(h->storeset) - 1] = '\0';
	h->prev[sizeof(h->prev) - 1] = '\0';
	pthread_mutex_lock(&d->io);
	char err[1024] = "";
	int rc;
	if (d->has_held || d->chain_fd >= 0 || d->finish_done ||
	    (d->rb && tape_reblock_pending(d->rb))) {
		snprintf(err, sizeof(err), "%s has been written to already, so "
			 "it cannot continue the storeset of %.300s",
			 vol_url(d->vol), h->prev);
		rc = -EBUSY;
	} else {
		rc = vol_join_storeset(d->vol, h->storeset, h->reel, h->prev,
				       err, sizeof(err));
		if (rc == 0)
			rc = drv_lbl_accept(d, &h->lbl, vol_reel(d->vol), err,
					    sizeof(err));
	}
	if (rc == 0) {
		snprintf(h->url, sizeof(h->url), "%s", vol_url(d->vol));
		char id[40];
		vol_get_storeset(d->vol, id, sizeof(id));
		rlog(RLOG_INFO, "%s continues storeset %s as reel %u after %s.",
		     vol_url(d->vol), id, vol_reel(d->vol), h->prev);
	} else {
		rlog(RLOG_ERR, "%s; the reel before it was told so.", err);
	}
	pthread_mutex_unlock(&d->io);
	return rc;
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
