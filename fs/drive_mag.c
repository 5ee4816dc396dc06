/*
 * drive_mag.c - the drive's side of the magazine (--magazine): where a
 * --next chain hands full reels over to another mount, the magazine
 * loads the next slot's volume into this drive. A reel that fills at its
 * capacity is published and the next slot loaded before the record that
 * did not fit goes there (auto mode); a server that ran out of space is
 * carried over by chain.c's salvage, writing into the next slot's volume
 * instead of a --next tape; `mt offline` publishes the reel, and the next
 * record or mark loads the next slot (for tar -M -F, mbuffer -A).
 *
 * It must never let a reader outside io see a freed volume (d->vol is
 * swapped under vswap for writing), and never hold more than one upload
 * but while carrying over what a full server did not keep (the full
 * reel's queue is the only copy of those records). io is held by every
 * function here but the readers'.
 */
#include "drive_int.h"
#include "drive_lbl.h"
#include "magazine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

bool drv_has_next(struct drv *d)
{
	return d->next_path || (d->mag && mag_auto(d->mag));
}

bool drv_has_magazine(struct drv *d)
{
	return d && d->mag != NULL;	/* no drive under --read */
}

struct vol *drv_vol_hold(struct drv *d)
{
	pthread_rwlock_rdlock(&d->vswap);
	return d->vol;
}

void drv_vol_unhold(struct drv *d)
{
	pthread_rwlock_unlock(&d->vswap);
}

struct vol *drv_vol(struct drv *d)
{
	return d->vol;
}

/* Opens the slot after the loaded one into next_vol; io held. */
int drv_mag_open_next(struct drv *d)
{
	char err[XFER_ERRLEN] = "";
	d->next_vol = mag_open_next(d->mag, d->vol, err, sizeof(err));
	if (d->next_vol)
		return 0;
	drv_fail(d, -EIO, "the magazine cannot load slot %u after %s: %s; "
		 "writing fails.", mag_slot(d->mag) + 1, vol_url(d->vol), err);
	return -EIO;
}

/* next_vol becomes the loaded reel; the one taken out is done (published
 * or failed): the magazine keeps its state, and it is freed. new_tape: a
 * tape loaded after mt offline (position at its start, and the manifest
 * of the reel before it is made to name it); else the tape goes on from
 * the full one, as a --next chain does. io held. */
void drv_mag_swap(struct drv *d, bool new_tape)
{
	struct vol *old = d->vol;
	mag_unloaded(d->mag, old);
	pthread_rwlock_wrlock(&d->vswap);
	d->vol = d->next_vol;
	d->unloaded = false;
	pthread_rwlock_unlock(&d->vswap);
	d->next_vol = NULL;
	vol_free(old);
	/* What the drive noted about the full reel's server is not this
	 * reel's. */
	d->full_noted = false;
	d->full_logged = false;
	d->loss_pending = false;
	d->fullmsg[0] = '\0';
	d->finish_done = false;
	d->finish_rc = 0;
	pthread_mutex_lock(&d->snap);
	d->st.at_eot = false;
	d->st.finished = false;
	if (new_tape) {
		d->st.fileno = 0;
		d->st.blkno = 0;
		d->st.at_bot = true;
		d->st.at_eof = false;
	}
	pthread_mutex_unlock(&d->snap);
	mag_loaded(d->mag, d->vol, new_tape);
	drv_lbl_loaded(d);	/* --label: the labels go on here */
}

/* Carrying over into next_vol failed: it keeps what it took, and is
 * published as it is; the full reel stays the loaded one. io held. */
void drv_mag_drop_next(struct drv *d)
{
	if (!d->next_vol)
		return;
	if (vol_finish(d->next_vol) < 0)
		rlog(RLOG_ERR, "%s", vol_error(d->next_vol));
	mag_dropped(d->mag, d->next_vol);
	vol_free(d->next_vol);
	d->next_vol = NULL;
}

/* A reel of a storeset ends in two end-of-data marks that readers of
 * the set drop (reel cat joins reels so). When the reel ends on a tape
 * mark of the writer's, encoding would add only what completes a pair,
 * so that mark would be dropped with it and the file boundary lost (the
 * next reel's data would join the last file). So such a reel gets both
 * end-of-data marks after the writer's: a reel alone still ends at its
 * first pair, as before. io held, before vol_finish. */
void drv_mag_pad(struct drv *d)
{
	if (drv_lbl_on(d))
		return;	/* a labelled reel ends with its labels' marks */
	struct vol_status vs;
	vol_get_status(d->vol, &vs);
	if (d->dirty || vs.counts.marks == 0 ||
	    (vs.state != VOL_WRITING && vs.state != VOL_FULL))
		return;
	for (int i = 0; i < 2; i++) {
		if (vol_mark(d->vol) < 0) {
			rlog(RLOG_WARN, "%s ends on a tape mark and the end-of-data "
			     "marks after it do not fit; reading the storeset "
			     "joined (reel cat) joins its last tape file with the "
			     "next reel's first.", vol_url(d->vol));
			return;
		}
	}
}

/* The loaded reel reached its capacity: publish it naming the next slot,
 * load that, and go on there (the record that did not fit is the
 * caller's). A finish that meets a full server carries over instead.
 * One upload at a time: the full reel is published before the next one
 * is opened. io held. */
int drv_mag_spill(struct drv *d)
{
	char *next = mag_next_url(d->mag);
	if (!next || vol_set_next_url(d->vol, next) < 0)
		rlog(RLOG_WARN, "out of memory: the manifest of %s will not name "
		     "its next reel.", vol_url(d->vol));
	free(next);
	drv_mag_pad(d);
	int rc = vol_finish(d->vol);
	if (rc == -ENOSPC && drv_server_full(d, false))
		return drv_chain_salvage(d);
	if (rc < 0) {
		drv_fail(d, -EIO, "%s", vol_error(d->vol));
		return -EIO;
	}
	rlog(RLOG_INFO, "%s is full and published; the magazine loads the "
	     "next slot.", vol_url(d->vol));
	if ((rc = drv_mag_open_next(d)) < 0)
		return rc;
	drv_mag_swap(d, false);
	return 0;
}

/* mt offline published the loaded reel: the next record or tape mark
 * loads the next slot (drv_mag_load). io held. */
void drv_mag_unload(struct drv *d)
{
	pthread_rwlock_wrlock(&d->vswap);
	d->unloaded = true;
	pthread_rwlock_unlock(&d->vswap);
	rlog(RLOG_INFO, "%s is unloaded; the next record or tape mark loads "
	     "slot %u.", vol_url(d->vol), mag_slot(d->mag) + 1);
}

/* Before a record or mark: after mt offline, load the next slot. io held. */
int drv_mag_load(struct drv *d)
{
	if (!d->mag || !d->unloaded)
		return 0;
	int rc = drv_sticky(d);
	if (rc)
		return rc;
	if ((rc = drv_mag_open_next(d)) < 0)
		return rc;
	drv_mag_swap(d, true);
	return 0;
}

bool drv_mag_waiting(struct drv *d)
{
	if (!d->mag)
		return false;
	pthread_rwlock_rdlock(&d->vswap);
	bool unloaded = d->unloaded;
	pthread_rwlock_unlock(&d->vswap);
	return unloaded;
}

char *drv_changer_render(struct drv *d, size_t *len)
{
	if (!d->mag)
		return NULL;
	struct vol *v = drv_vol_hold(d);
	char *text = mag_render(d->mag, v, d->unloaded, len);
	drv_vol_unhold(d);
	return text;
}

bool drv_changer_line(struct drv *d, char *buf, size_t len)
{
	if (!d->mag)
		return false;
	pthread_rwlock_rdlock(&d->vswap);
	bool unloaded = d->unloaded;
	pthread_rwlock_unlock(&d->vswap);
	mag_status_line(d->mag, unloaded, buf, len);
	return true;
}
