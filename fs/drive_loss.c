/*
 * drive_loss.c - the drive's side of a transfer that fails behind the
 * writer: a server that ran out of space (452/552) with records still in
 * the queue that the writer was told were written, and an upload (or next
 * reel) that gave up between the writer's calls.
 *
 * It must never let a close, fsync or finish report success once records
 * accepted from the writer are known to be lost, and never turn the end of
 * medium itself into EIO for the writes that find it: tar -M needs ENOSPC
 * there to go on to its next volume. All functions run with io held.
 */
#include "drive_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

/* Whether the volume's ENOSPC came from the server (452/552) rather than
 * the capacity. The first time, it notes what was lost: the accepted
 * records the volume could not have stored, plus a record this drive
 * still holds (its write() has returned), and logs one sentence when log
 * is set (with --next the caller says more). io held. */
bool drv_server_full(struct drv *d, bool log)
{
	if (!d->full_noted) {
		struct vol_status vs;
		vol_get_status(d->vol, &vs);
		if (!vs.server_full)
			return false;
		d->full_noted = true;
		uint64_t held = d->has_held ? d->held_len : 0;
		uint64_t lost = vs.lost_bytes + held;
		if (!held) {
			snprintf(d->fullmsg, sizeof(d->fullmsg), "%s", vs.last_error);
		} else {
			char *base = xfer_url_basename(vol_url(d->vol));
			snprintf(d->fullmsg, sizeof(d->fullmsg), "%s: %s ran out of "
				 "space after %" PRIu64 " bytes; %" PRIu64 " bytes "
				 "of records already accepted from the writer could "
				 "not be stored, so the backup on this reel is "
				 "incomplete; it stays %s.part", vol_url(d->vol),
				 xfer_url_is_local(vol_url(d->vol)) ? "the disk" :
				 "the server", vs.xfer.confirmed, lost,
				 base ? base : "NAME");
			free(base);
		}
		d->loss_pending = lost > 0;
	}
	if (log && !d->full_logged) {
		d->full_logged = true;
		rlog(d->loss_pending ? RLOG_ERR : RLOG_WARN, "%s.", d->fullmsg);
	}
	return true;
}

/* Close, fsync or finish after accepted records were lost: EIO, and the
 * drive fails for good. io held. */
int drv_report_loss(struct drv *d)
{
	if (d->full_logged)
		drv_fail_quiet(d, -EIO, "%s.", d->fullmsg);
	else
		drv_fail(d, -EIO, "%s.", d->fullmsg);
	d->full_logged = true;
	return -EIO;
}

/* Whether the upload (or the next reel) failed in the background since
 * the last record: a close or fsync must not report success then, and a
 * record must not be accepted (or held) into a dead upload. With wait,
 * first lets what was accepted go out (vol_sync): close, fsync and
 * filemarks report the fate of what they wrote, not only of what went
 * before. 0, -ENOSPC (server full: end of medium), -EIO. io held. */
static int drv_upload_state(struct drv *d, bool wait)
{
	if (d->finish_done)
		return 0;
	if (d->chain_fd >= 0)
		return drv_chain_sync(d);
	int rc = wait ? vol_sync(d->vol) : vol_poll(d->vol);
	if (rc == 0)
		return 0;
	if (rc == -ENOSPC && drv_server_full(d, !drv_has_next(d)))
		return drv_has_next(d) ? drv_chain_salvage(d) : -ENOSPC;
	if (rc != -ENOSPC && !drv_sticky(d))
		/* Say it once, now, not only at unmount: the writer's close
		 * or write is about to fail with EIO. */
		drv_fail(d, -EIO, "%s", vol_error(d->vol));
	return rc == -ENOSPC ? -ENOSPC : -EIO;
}

int drv_check_upload(struct drv *d)
{
	return drv_upload_state(d, false);
}

int drv_sync_upload(struct drv *d)
{
	return drv_upload_state(d, true);
}
