/*
 * drive.c - the tape drive state machine behind MOUNT/tape: records (whole
 * or re-blocked), tape marks, the one writer, close, and finishing the
 * volume. mtio lives in drive_mt.c, the next reel in chain.c; the locks
 * are described in drive_int.h.
 *
 * It must never write part of a record, never report success for a record
 * it dropped, and never let a write() the kernel split into several
 * requests pass as several records.
 */
#include "drive_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drive_lbl.h"
#include "log.h"
#include "magazine.h"
#include "reclimit.h"


static void drv_set_errv(struct drv *d, int err, bool log, const char *fmt,
			 va_list ap)
{
	pthread_mutex_lock(&d->snap);
	if (!d->err) {
		d->err = err;
		vsnprintf(d->errmsg, sizeof(d->errmsg), fmt, ap);
		if (log)
			rlog(RLOG_ERR, "%s", d->errmsg);
	}
	pthread_mutex_unlock(&d->snap);
}

/* Makes err the drive's sticky error, logs the sentence once. */
void drv_fail(struct drv *d, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	drv_set_errv(d, err, true, fmt, ap);
	va_end(ap);
}

/* The same, for a sentence that was logged already. */
void drv_fail_quiet(struct drv *d, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	drv_set_errv(d, err, false, fmt, ap);
	va_end(ap);
}

void drv_refuse(struct drv *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&d->snap);
	vsnprintf(d->note, sizeof(d->note), fmt, ap);
	rlog(RLOG_ERR, "%s", d->note);
	pthread_mutex_unlock(&d->snap);
	va_end(ap);
}

/* Data or a mark was accepted: the tape's modification time moves.
 * snap held (one lock per record, with the rest of the record's state). */
static void drv_touch_locked(struct drv *d)
{
	clock_gettime(CLOCK_REALTIME, &d->st.mtime);
}

int drv_sticky(struct drv *d)
{
	pthread_mutex_lock(&d->snap);
	int e = d->err;
	pthread_mutex_unlock(&d->snap);
	return e;
}

struct drv *drv_new(const struct drv_config *c)
{
	struct drv *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->vol = c->vol;
	d->mag = c->mag;
	d->max_request = c->max_request ? c->max_request : 1 << 20;
	d->chain_fd = -1;
	d->chain_ok = true;
	/* Page-aligned: when it goes on to the next reel with write(2), a
	 * record of max_request bytes then spans no more pages than the
	 * kernel hands over whole. */
	if (posix_memalign(&d->held, 4096, d->max_request) != 0)
		d->held = NULL;
	d->held_cap = d->max_request;
	if (c->next_path)
		d->next_path = strdup(c->next_path);
	if (!d->held || (c->next_path && !d->next_path)) {
		free(d->held);
		free(d->next_path);
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->io, NULL);
	pthread_mutex_init(&d->snap, NULL);
	pthread_mutex_init(&d->wlock, NULL);
	pthread_rwlock_init(&d->vswap, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wcond, &ca);
	pthread_condattr_destroy(&ca);
	d->st.at_bot = true;
	clock_gettime(CLOCK_REALTIME, &d->st.mtime);
	atomic_init(&d->stop, false);
	if (c->block_size) {
		d->rb = tape_reblock_new(c->block_size, true, drv_emit, d);
		if (!d->rb) {
			drv_free(d);
			return NULL;
		}
		d->st.block_size = c->block_size;
	}
	return d;
}

void drv_free(struct drv *d)
{
	if (!d)
		return;
	if (d->chain_fd >= 0)
		close(d->chain_fd);
	drv_lbl_free(d);
	tape_reblock_free(d->rb);
	free(d->held);
	free(d->land_copy);
	free(d->next_path);
	pthread_mutex_destroy(&d->io);
	pthread_mutex_destroy(&d->snap);
	pthread_mutex_destroy(&d->wlock);
	pthread_rwlock_destroy(&d->vswap);
	pthread_cond_destroy(&d->wcond);
	free(d);
}

void drv_set_max_request(struct drv *d, size_t max_request)
{
	pthread_mutex_lock(&d->io);
	if (max_request && max_request <= d->max_request)
		d->max_request = max_request;
	pthread_mutex_unlock(&d->io);
}

/* Records larger than one FUSE request are joined from the pieces the
 * kernel splits a write() into, up to this bound: it keeps the memory a
 * record can take within the configuration (the RSS target is the
 * transfer buffer + 16 MiB), whatever the format would allow. */
#define DRV_JOIN_MAX RFS_MAX_RECORD	/* reclimit.h */

size_t drv_max_record(struct drv *d)
{
	size_t m = tape_format_max_record(vol_format(d->vol));
	size_t cap = d->max_request > DRV_JOIN_MAX ? d->max_request : DRV_JOIN_MAX;
	return cap < m ? cap : m;
}

/* ---- where records and marks go: this reel, then the chain ------------ */

/* A whole record to wherever the tape now continues; io held. */
static int drv_put(struct drv *d, const void *rec, size_t len)
{
	int rc;
	if (drv_lbl_on(d)) {
		rc = drv_lbl_put(d, rec, len);	/* labelled: drive_lbl.c */
		goto out;
	}
	/* A magazine loads the next slot here (chain_fd stays -1), whose
	 * server may be full already with what was carried onto it: on
	 * again, but never past a fresh reel that cannot take the record. */
	for (int loads = 0; d->chain_fd < 0; loads++) {
		/* A payload framed in place keeps its place until
		 * drv_land_after: its CRC can wait for the reply. */
		rc = d->landed && rec == d->landed ? vol_record_later(d->vol, rec, len)
						   : vol_record(d->vol, rec, len);
		if (rc != -ENOSPC)
			goto out;
		/* A payload framed in place must leave the queue before
		 * anything else goes in (drive_land.c). */
		if (!(rec = drv_land_out(d, rec, len))) {
			rc = -EIO;
			goto out;
		}
		/* This reel is full. At the capacity's early warning the
		 * volume has no error and can be published; when the server
		 * ran out of space it holds only a prefix of the image. */
		if (!drv_has_next(d)) {
			drv_server_full(d, true);
			goto out;
		}
		/* Hands over (chain.c), then publishes this reel; a reel
		 * whose server filled up first carries what it lost over. */
		bool full = drv_server_full(d, false);
		if (!full) {
			struct vol_status vs;
			vol_get_status(d->vol, &vs);
			if (vs.counts.records == 0 && vs.counts.marks == 0) {
				drv_refuse(d, "a %zu-byte record does not fit on a "
					   "whole reel of %s (--capacity); it was "
					   "refused (ENOSPC).", len, vol_url(d->vol));
				goto out;
			}
		}
		if (loads >= 64)
			goto out;
		if (full)
			rc = drv_chain_salvage(d);
		else
			rc = drv_chain_spill(d);
		if (rc < 0)
			goto out;
	}
	rc = drv_chain_record(d, rec, len);
out:
	if (rc == 0) {
		d->dirty = true;
		pthread_mutex_lock(&d->snap);
		d->st.blkno++;
		d->st.blocks++;
		d->st.at_bot = false;
		d->st.at_eof = false;
		pthread_mutex_unlock(&d->snap);
	} else if (rc == -ENOSPC) {
		pthread_mutex_lock(&d->snap);
		d->st.at_eot = true;
		pthread_mutex_unlock(&d->snap);
	}
	return rc;
}

int drv_emit(void *ctx, const void *rec, size_t len)
{
	return drv_put(ctx, rec, len);
}

/* One tape mark; io held. */
int drv_put_mark(struct drv *d)
{
	int rc;
	bool ended = true;
	if (drv_lbl_on(d)) {
		/* Ends the labelled file; other marks write nothing. */
		rc = drv_lbl_mark(d, &ended);
		if (rc == -ENOSPC) {
			drv_server_full(d, true);
			pthread_mutex_lock(&d->snap);
			bool told = d->st.at_eot;
			d->st.at_eot = true;
			pthread_mutex_unlock(&d->snap);
			d->dirty = false;
			return told ? 0 : -ENOSPC;
		}
	} else if (d->chain_fd >= 0) {
		rc = drv_chain_mark(d);
	} else {
		rc = vol_mark(d->vol);
		if (rc == -ENOSPC && !drv_server_full(d, false)) {
			/* Marks obey --capacity: nothing was written. */
			pthread_mutex_lock(&d->snap);
			d->st.at_eot = true;
			pthread_mutex_unlock(&d->snap);
			struct vol_status vs;
			vol_get_status(d->vol, &vs);
			drv_refuse(d, "a tape mark does not fit within the capacity "
				   "of %" PRIu64 " bytes of %s; it was refused "
				   "(ENOSPC) and nothing was written.", vs.capacity,
				   vol_url(d->vol));
			return -ENOSPC;
		}
		/* Carried over, it goes on there; a magazine's next slot can
		 * be full with what was carried onto it: on again. */
		for (int loads = 0; rc == -ENOSPC && d->chain_fd < 0 &&
		     loads < 64 && drv_has_next(d) && drv_server_full(d, false) &&
		     (rc = drv_chain_salvage(d)) == 0; loads++)
			rc = d->chain_fd >= 0 ? drv_chain_mark(d) : vol_mark(d->vol);
		if (rc == -ENOSPC) {
			/* The server is out of space. If the tool already got
			 * ENOSPC for a record it is closing its volume, and
			 * the mark succeeds; if not, this is the first it
			 * hears of it. Either way the reel stays .part and the
			 * exit status says so; records it lost make the close
			 * (drv_flush) fail with EIO. */
			drv_server_full(d, true);
			pthread_mutex_lock(&d->snap);
			bool told = d->st.at_eot;
			d->st.at_eot = true;
			pthread_mutex_unlock(&d->snap);
			d->dirty = false;
			return told ? 0 : -ENOSPC;
		}
	}
	if (rc == 0) {
		d->dirty = false;
		pthread_mutex_lock(&d->snap);
		drv_touch_locked(d);
		d->st.unmarked = false;
		if (ended) {
			d->st.fileno++;
			d->st.blkno = 0;
			d->st.at_eof = true;
			d->st.at_bot = false;
		}
		pthread_mutex_unlock(&d->snap);
	}
	return rc < 0 ? (rc == -ENOSPC ? -ENOSPC : -EIO) : 0;
}

/* Hands a held record on; io held. */
int drv_commit_held(struct drv *d)
{
	if (!d->has_held)
		return 0;
	/* Still marked held during drv_put: if it finds the server full,
	 * this record counts among the accepted ones that were lost. */
	int rc = drv_put(d, d->held, d->held_len);
	d->has_held = false;
	if (rc == -ENOSPC && d->full_noted && d->loss_pending)
		return -ENOSPC;	/* counted; close and fsync report EIO */
	if (rc < 0 && rc != -EIO)
		/* Its write() already returned success: whatever went wrong
		 * must not pass silently. */
		drv_fail(d, -EIO, "a %zu-byte record accepted earlier could not "
			 "be written (%s); the tape is incomplete.",
			 d->held_len, strerror(-rc));
	return rc < 0 ? -EIO : 0;
}

/* Before anything that moves the tape: the sticky error, or finished. */
int drv_gate(struct drv *d)
{
	int e = drv_sticky(d);
	if (e)
		return e;
	if (d->finish_done) {
		/* Not sticky: the published reel is fine, only this call is. */
		drv_refuse(d, "the tape was rewound or unloaded, which "
			   "finished the volume %s; it cannot be written again.",
			   vol_url(d->vol));
		return -EIO;
	}
	return 0;
}

/* ---- the FUSE-facing calls ------------------------------------------- */

/* wlock held. Waits while the writer's release may be on its way, so
 * that the mark it writes ends the tape file before anything else: while
 * it runs (writing the mark can wait on the upload) and, after a close of
 * one of the writer's descriptors, up to ms for the kernel to send it
 * (the kernel sends release after close() has returned, so an open that
 * follows a close at once can arrive first). bounded: never wait longer
 * than ms, even while the release runs. */
void drv_await_release(struct drv *d, int ms, bool bounded)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (d->writer_open && (d->writer_releasing || d->writer_closing)) {
		if (d->writer_releasing && !bounded)
			pthread_cond_wait(&d->wcond, &d->wlock);
		else if (pthread_cond_timedwait(&d->wcond, &d->wlock,
						&until) == ETIMEDOUT)
			break;
	}
}

/* A failure of the mark the last release wrote, reported once. wlock. */
static int drv_take_release_err(struct drv *d)
{
	int rc = d->release_err;
	d->release_err = 0;
	return rc;
}

/* A writer that is still open (another process holds a descriptor of
 * it) gets EBUSY, as on st, after the wait above. */
int drv_open_writer(struct drv *d)
{
	pthread_mutex_lock(&d->wlock);
	drv_await_release(d, 2000, false);
	int rc = d->writer_open ? -EBUSY : drv_take_release_err(d);
	if (!rc) {
		d->writer_open = true;
		d->writer_closing = false;
	}
	pthread_mutex_unlock(&d->wlock);
	if (rc == -EBUSY)
		drv_refuse(d, "the tape is already open for writing (one writer "
			   "at a time, as on a tape drive); the open was refused "
			   "(EBUSY).");
	return rc;
}

void drv_close_writer(struct drv *d)
{
	pthread_mutex_lock(&d->wlock);
	d->writer_open = false;
	d->writer_closing = false;
	pthread_cond_broadcast(&d->wcond);
	pthread_mutex_unlock(&d->wlock);
}

/* io held: a rewind asked for on an open that is now closing, or
 * followed by another operation, finishes the volume now. */
int drv_settle_rewind(struct drv *d)
{
	if (!d->rew_pending)
		return 0;
	d->rew_pending = 0;
	return drv_finish_locked(d, "rewind");
}

/* The last close of an open. For the writer: what it left held or partly
 * re-blocked goes out, then one tape mark ends its tape file (if it wrote
 * since the last one). The kernel ignores what release returns, so a
 * failure is logged, kept for the next open or mt operation, and a lost
 * record makes the drive fail (exit status, status file). */
void drv_release(struct drv *d, uint64_t id, bool writer)
{
	if (!writer && d->rew_pending != id)
		return;		/* `mt status` and the like: never wait for io */
	if (writer) {
		pthread_mutex_lock(&d->wlock);
		d->writer_releasing = true;
		pthread_mutex_unlock(&d->wlock);
	}
	pthread_mutex_lock(&d->io);
	int rc = 0;
	if (d->rew_pending == id)
		rc = drv_settle_rewind(d);
	if (writer && !d->finish_done && !drv_sticky(d)) {
		d->refuse_rest = false;
		int drc = drv_drain(d);
		if (drc < 0 && !drv_sticky(d))
			drv_fail(d, -EIO, "the last data written before the tape "
				 "was closed could not be written (%s); the tape "
				 "is incomplete.", strerror(-drc));
		if (drc < 0)
			rc = -EIO;
		else if (d->dirty)
			rc = drv_put_mark(d);
		/* The mark goes out now, as the filemark a drive writes at
		 * close; a failure is sticky (drive_loss.c). */
		if (!rc && drv_sync_upload(d) == -EIO)
			rc = -EIO;
	}
	pthread_mutex_unlock(&d->io);
	if (writer) {
		pthread_mutex_lock(&d->wlock);
		d->writer_open = false;
		d->writer_closing = false;
		d->writer_releasing = false;
		if (rc && !d->release_err)
			d->release_err = rc;
		pthread_cond_broadcast(&d->wcond);
		pthread_mutex_unlock(&d->wlock);
	}
}

void drv_writer_closing(struct drv *d, bool closing)
{
	pthread_mutex_lock(&d->wlock);
	d->writer_closing = closing;
	pthread_mutex_unlock(&d->wlock);
}

/* A continuation piece of a write() the kernel split (off > 0): appended
 * to the held first piece, so the whole write() still becomes one record,
 * up to drv_max_record. The writer's write() has not returned yet, so the
 * record is complete when its next request (or close, or an ioctl)
 * arrives. io held. */
static int drv_join_piece(struct drv *d, const void *buf, size_t len, off_t off)
{
	if (!d->has_held || (uint64_t)off != d->held_len) {
		drv_refuse(d, "a piece of a write() arrived at offset %lld "
			   "without the pieces before it; it was refused.",
			   (long long)off);
		d->has_held = false;
		d->refuse_rest = true;
		return -EINVAL;
	}
	size_t want = d->held_len + len;
	if (want > drv_max_record(d)) {
		d->has_held = false;
		d->refuse_rest = true;
		drv_refuse(d, "a write() of more than %zu bytes is larger than "
			   "the largest record (%zu bytes for %s); it was "
			   "refused (EINVAL) and nothing of it was written.",
			   drv_max_record(d), drv_max_record(d),
			   tape_format_name(vol_format(d->vol)));
		return -EINVAL;
	}
	if (want > d->held_cap) {
		void *p;
		if (posix_memalign(&p, 4096, drv_max_record(d)) != 0) {
			d->has_held = false;
			d->refuse_rest = true;
			rlog(RLOG_ERR, "out of memory joining a %zu-byte record; "
			     "it was refused.", want);
			return -ENOMEM;
		}
		memcpy(p, d->held, d->held_len);
		free(d->held);
		d->held = p;
		d->held_cap = drv_max_record(d);
	}
	memcpy((char *)d->held + d->held_len, buf, len);
	d->held_len = want;
	return 0;
}

int drv_write(struct drv *d, const void *buf, size_t len, off_t off,
	      uint64_t owner)
{
	drv_writer_closing(d, false);	/* a dup of it is still in use */
	pthread_mutex_lock(&d->io);
	int rc = drv_write_io(d, buf, len, off, owner);
	pthread_mutex_unlock(&d->io);
	return rc;
}

int drv_write_io(struct drv *d, const void *buf, size_t len, off_t off,
		 uint64_t owner)
{
	d->owner = owner;
	int rc = drv_settle_rewind(d);
	if (!rc)
		rc = drv_mag_load(d);
	if (!rc)
		rc = drv_gate(d);
	if (rc)
		goto out;
	/* A new write() into an upload that has failed in the background is
	 * refused before anything is taken (or held) from it. */
	if (off == 0 && d->chain_fd < 0 && (rc = drv_check_upload(d)) != 0)
		goto out;
	if (d->rb) {
		/* Fixed blocks: the input is a byte stream, so pieces of a
		 * split write() are simply more bytes. */
		rc = tape_reblock_write(d->rb, buf, len);
		if (rc < 0 && rc != -ENOSPC && rc != -EIO)
			rc = -EIO;
		goto out;
	}
	if (off != 0) {
		rc = drv_join_piece(d, buf, len, off);
		goto out;
	}
	if (d->refuse_rest) {
		/* The rest of a too-large write the writer retries after the
		 * kernel reported its first piece as written. */
		d->refuse_rest = false;
		rc = -EINVAL;
		goto out;
	}
	if ((rc = drv_commit_held(d)) < 0)
		goto out;
	if (len > drv_max_record(d)) {
		drv_refuse(d, "a %zu-byte record is larger than the %zu bytes "
			   "the %s format and reelfs allow; it was refused "
			   "(EINVAL).", len, drv_max_record(d),
			   tape_format_name(vol_format(d->vol)));
		rc = -EINVAL;
		goto out;
	}
	/* Only a request within a page of the limit can be the first piece
	 * of a split write (a write whose buffer is not page-aligned is cut
	 * up to a page early), so only those are held. */
	if (len + 4096 > d->max_request) {
		if (d->chain_fd < 0) {
			/* Early warning for the largest record the pieces
			 * could add up to: once the first piece is taken, the
			 * rest can no longer be refused cleanly. */
			rc = drv_room(d, drv_max_record(d));
			if (rc == -ENOSPC && !drv_has_next(d))
				goto out;
			if (rc < 0 && rc != -ENOSPC) {
				rc = -EIO;
				goto out;
			}
			if (rc == -ENOSPC && drv_server_full(d, false) &&
			    (rc = drv_chain_salvage(d)) < 0)
				goto out;
		}
		memcpy(d->held, buf, len);
		d->held_len = len;
		d->has_held = true;
		rc = 0;
		goto out;
	}
	rc = drv_put(d, buf, len);
out:
	if (rc == -ENOSPC) {
		/* End of tape at the capacity: the volume logged it once;
		 * status says why every write is refused. A labelled reel
		 * ends here (EOV), a --handover volume is told. */
		drv_lbl_full(d);
		struct vol_status vs;
		vol_get_status(d->vol, &vs);
		pthread_mutex_lock(&d->snap);
		d->st.at_eot = true;
		if (!d->full_noted && vs.capacity)
			snprintf(d->note, sizeof(d->note), "the tape is full: %s "
				 "reached its capacity of %" PRIu64 " bytes, so a "
				 "write of %zu bytes was refused (ENOSPC), as at "
				 "the end of a tape.", vol_url(d->vol), vs.capacity,
				 len);
		pthread_mutex_unlock(&d->snap);
	} else if (rc == 0) {
		/* Held or partly re-blocked data counts: it is the writer's. */
		pthread_mutex_lock(&d->snap);
		drv_touch_locked(d);
		d->st.unmarked = true;
		pthread_mutex_unlock(&d->snap);
	}
	return rc;
}

/* Ends re-blocked data and held records before a mark or the end. */
int drv_drain(struct drv *d)
{
	int rc = drv_commit_held(d);
	if (!rc && d->rb && tape_reblock_pending(d->rb))
		rc = tape_reblock_flush(d->rb);
	return rc;
}

int drv_flush(struct drv *d, uint64_t owner, uint64_t id, bool writer)
{
	if (!writer && d->rew_pending != id)
		return 0;	/* `mt status` and the like: never wait for io */
	if (writer)
		drv_writer_closing(d, true);
	pthread_mutex_lock(&d->io);
	int rc = 0;
	if (d->rew_pending == id) {
		/* `mt rewind` closing: the rewind finishes the volume now. */
		rc = drv_settle_rewind(d);
		pthread_mutex_unlock(&d->io);
		return rc;
	}
	if (!writer) {
		pthread_mutex_unlock(&d->io);
		return 0;
	}
	rc = drv_sticky(d);
	if (!rc && !d->finish_done) {
		/* The closing process's own write() is complete: hand on a
		 * record held from it. Another process's (a dup, a forked
		 * child) may still be coming in pieces. */
		if (owner == d->owner) {
			d->refuse_rest = false;
			rc = drv_commit_held(d);
		}
		/* Fixed blocks: a partly filled last block is padded and
		 * written at release; if it can no longer fit, say so to the
		 * close that may be the last, not only afterwards. */
		if (!rc && d->rb && tape_reblock_pending(d->rb) &&
		    d->chain_fd < 0 &&
		    drv_room(d, tape_reblock_size(d->rb)) == -ENOSPC)
			rc = -ENOSPC;
		/* As a drive flushes its buffer at close: wait until what
		 * was accepted has gone out, and give no success for a close
		 * while the upload has failed behind it. The mark that ends
		 * the tape file is written at the last close (drv_release).
		 * With --next this asks the next reel (fsync). Only the
		 * close of the process that wrote last waits: another one's
		 * (a child's exec or exit closing the descriptor it
		 * inherited, while the writer goes on) wrote nothing to wait
		 * for, and waiting would hold io across the upload's
		 * reconnect backoff, so the writer's next write() would wait
		 * for the server although the queue has room. It still hears
		 * of a failure known already. */
		int prc = owner == d->owner ? drv_sync_upload(d) :
			  d->chain_fd < 0 ? drv_check_upload(d) : 0;
		if (!rc && prc == -EIO) {
			rc = -EIO;
		} else if (!rc && prc == -ENOSPC && d->dirty) {
			/* The server is full and the writer has not heard of
			 * it yet: the mark its close asks for will not be
			 * stored. A full server that lost nothing accepted is
			 * a clean end of medium. */
			pthread_mutex_lock(&d->snap);
			bool told = d->st.at_eot;
			d->st.at_eot = true;
			pthread_mutex_unlock(&d->snap);
			if (!told)
				rc = -ENOSPC;
		}
		if (d->loss_pending)
			rc = drv_report_loss(d);
	}
	if (!rc)
		rc = drv_sticky(d);
	pthread_mutex_unlock(&d->io);
	return rc;
}

int drv_sync(struct drv *d)
{
	pthread_mutex_lock(&d->io);
	int rc = drv_settle_rewind(d);
	if (!rc)
		rc = drv_commit_held(d);
	int prc = drv_sync_upload(d);
	if (!rc && prc == -EIO)
		rc = -EIO;
	if (!d->finish_done && d->loss_pending)
		rc = drv_report_loss(d);
	if (!rc)
		rc = drv_sticky(d);
	pthread_mutex_unlock(&d->io);
	return rc;
}

/* io held. Publishes this reel, then offlines the reels we fed so the
 * whole storeset is complete when this returns. */
int drv_finish_locked(struct drv *d, const char *why)
{
	if (d->finish_done)
		return d->finish_rc;
	/* A sticky drive error means a record was lost: the reel may still
	 * be published (it holds what it holds), but the exit status and
	 * finish_rc say the backup is incomplete. */
	int rc = drv_sticky(d);
	if (!rc)
		rc = drv_drain(d);
	if (!rc)
		rc = drv_lbl_finish(d);	/* a labelled volume's end */
	if (!rc && d->mag)
		drv_mag_pad(d);
	int vrc = vol_finish(d->vol);	/* idempotent: a full reel is done */
	while (vrc == -ENOSPC && drv_has_next(d) && d->chain_fd < 0 &&
	       drv_server_full(d, false)) {
		/* The upload's end met the full server: carry what it did not
		 * keep onto the next reel, which the chain then finishes; a
		 * magazine loaded it here, so it is finished here. */
		vrc = drv_chain_salvage(d);
		if (vrc < 0 || d->chain_fd >= 0)
			break;
		vrc = vol_finish(d->vol);
	}
	/* A failed carrying over said so already (drv_fail keeps the first). */
	if (vrc == -ENOSPC && drv_server_full(d, true))
		drv_fail_quiet(d, -EIO, "%s.", d->fullmsg);
	else if (vrc < 0)
		drv_fail(d, -EIO, "%s", vol_error(d->vol));
	if (d->chain_fd >= 0)
		drv_chain_finish(d);
	d->finish_done = true;
	d->finish_rc = (rc || vrc || !d->chain_ok) ? -EIO : 0;
	if (d->finish_rc == 0)
		rlog(RLOG_INFO, "%s: the volume is finished (%s).",
		     vol_url(d->vol), why);
	pthread_mutex_lock(&d->snap);
	d->st.finished = true;
	pthread_mutex_unlock(&d->snap);
	return d->finish_rc;
}

int drv_finish(struct drv *d, const char *why)
{
	pthread_mutex_lock(&d->io);
	int rc = drv_finish_locked(d, why);
	pthread_mutex_unlock(&d->io);
	return rc;
}

bool drv_all_published(struct drv *d)
{
	pthread_mutex_lock(&d->io);
	bool ok = d->finish_done && d->finish_rc == 0 &&
		  (!d->mag || mag_all_published(d->mag));
	pthread_mutex_unlock(&d->io);
	return ok;
}


/* ---- stopping on a signal ------------------------------------------- */

void drv_request_stop(struct drv *d)
{
	atomic_store(&d->stop, true);
}

bool drv_wait_release(struct drv *d, int ms)
{
	pthread_mutex_lock(&d->wlock);
	drv_await_release(d, ms, true);
	bool gone = !d->writer_open;
	pthread_mutex_unlock(&d->wlock);
	return gone;
}

bool drv_writer_unmarked(struct drv *d, uint64_t *records)
{
	pthread_mutex_lock(&d->wlock);
	bool open = d->writer_open;
	pthread_mutex_unlock(&d->wlock);
	pthread_mutex_lock(&d->snap);
	bool unmarked = d->st.unmarked && !d->st.finished;
	uint64_t n = d->st.blkno;
	pthread_mutex_unlock(&d->snap);
	*records = n ? n : 1;	/* a held or partly filled record */
	return open && unmarked;
}

void drv_abandon(struct drv *d)
{
	pthread_mutex_lock(&d->io);
	if (!d->finish_done) {
		d->finish_done = true;
		d->finish_rc = -EIO;
		d->rew_pending = 0;
		pthread_mutex_lock(&d->snap);
		d->st.finished = true;
		pthread_mutex_unlock(&d->snap);
	}
	pthread_mutex_unlock(&d->io);
}
