/*
 * drive_land.c - frame in place (issue 12.1): the payload of a tape write
 * is read from /dev/fuse straight into the upload queue, at the place the
 * framed record puts it, so the only user-space copy left is libcurl's.
 *
 * loop.c's leader arms before it reads a request, and only while no
 * other request is in processing: the drive's io lock is taken (trylock,
 * never waiting) and held until the request read has been handled, so
 * nothing else can queue a byte between the landing and the record; the
 * main thread kicks the leader out of its read before it touches the
 * drive (loop.c). A write that cannot go straight (not at offset 0, a
 * possible first piece of a split write, labels, fixed blocks, a held
 * record, a record the format frames in several pieces, a full reel, a
 * magazine) copies its payload out first, before anything is queued, and
 * takes the ordinary path: a payload is only framed in place when the
 * bytes in front of it are exactly its header. The record's CRC comes
 * after the reply (drv_land_after, issue 12.2), the drive still held, so
 * the payload is still in place when it is read again.
 */
#include "drive_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drive_lbl.h"
#include "log.h"
#include "volume.h"

/* Nothing but the record's own framing goes before its payload; io. */
static bool drv_land_ok(struct drv *d)
{
	return !d->rb && !drv_lbl_on(d) && !d->has_held && !d->refuse_rest &&
	       d->chain_fd < 0 && !d->rew_pending && !d->mag &&
	       !d->finish_done && !drv_sticky(d) && d->vol;
}

int drv_land_arm(struct drv *d, void **p, size_t *n)
{
	if (pthread_mutex_trylock(&d->io) != 0)
		return -EAGAIN;
	/* The kernel fills a read only when it has room for its largest
	 * write; the longest trailer follows the payload. */
	int rc = drv_land_ok(d) ? vol_landing(d->vol, d->max_request + 8, p, n)
				: -EAGAIN;
	if (rc)
		pthread_mutex_unlock(&d->io);
	return rc;
}

void drv_land_disarm(struct drv *d)
{
	pthread_mutex_unlock(&d->io);
}

const void *drv_land_out(struct drv *d, const void *rec, size_t len)
{
	if (!d->landed || rec != d->landed)
		return rec;
	d->landed = NULL;
	if (!d->land_copy && !(d->land_copy = malloc(d->max_request))) {
		drv_fail(d, -EIO, "out of memory for a %zu-byte record going on "
			 "to the next reel; the tape is incomplete.", len);
		return NULL;
	}
	memcpy(d->land_copy, rec, len);
	return d->land_copy;
}

int drv_land_write(struct drv *d, void *buf, size_t len, off_t off,
		   uint64_t owner)
{
	/* io held since drv_land_arm. A write within a page of the request
	 * limit may be the first piece of a split write, which is held
	 * (drive.c): a copy, so it leaves the queue too. */
	drv_writer_closing(d, false);
	bool straight = off == 0 && len + 4096 <= d->max_request &&
			drv_land_ok(d) && vol_landed_at(d->vol, buf, len);
	d->landed = buf;
	const void *rec = straight ? buf : drv_land_out(d, buf, len);
	int rc = rec ? drv_write_io(d, rec, len, off, owner) : -EIO;
	if (rc == 0 && d->landed) {
		pthread_mutex_lock(&d->snap);
		d->st.in_place++;
		pthread_mutex_unlock(&d->snap);
	}
	d->landed = NULL;
	d->land_held = true;
	return rc;
}

void drv_land_after(struct drv *d)
{
	/* io held since drv_land_arm: nothing has been queued behind the
	 * record, so its payload is still where it was framed. */
	if (!d->land_held)
		return;
	d->land_held = false;
	if (d->vol)
		vol_complete(d->vol);
	pthread_mutex_unlock(&d->io);
}
