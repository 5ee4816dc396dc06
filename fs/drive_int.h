/*
 * drive_int.h - the drive's insides, shared by drive.c (records, marks,
 * writer, finish), drive_mt.c (mtio), chain.c (the next reel) and
 * drive_loss.c (a transfer failing behind the writer). Nothing outside
 * those files includes this.
 *
 * Locking: io serialises everything that moves data or changes position
 * (writes, marks, mt operations, finish); it can be held long (upload
 * back-pressure, publishing). snap is short and protects the fields that
 * status readers and MTIOCGET copy (marked "snap"), so `mt status` and
 * MOUNT/status never wait behind a blocked writer. Order: io, snap.
 * wlock guards only who holds the drive for writing (open/flush/release);
 * it is never held while taking another lock. stop is atomic: set by the
 * main thread on a signal, read by loops that hold io.
 *
 * One tape file per open file description, as st: the mark is written at
 * release (the last close of the open, after every descriptor of it is
 * gone), flush (every close) only syncs. The kernel sends release after
 * close() returned, so an open for writing (or an mt operation from
 * another descriptor) that follows a close waits for the release, which
 * writes the mark before the writer is let go.
 */
#ifndef REELFS_DRIVE_INT_H
#define REELFS_DRIVE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "drive.h"

struct drv {
	struct vol *vol;	/* this reel */
	char *next_path;	/* --next, or NULL */
	size_t max_request;	/* largest request the kernel sends whole */

	pthread_mutex_t wlock;	/* protects the writer_* fields */
	pthread_cond_t wcond;	/* signalled when the writer is released */
	bool writer_open;	/* wlock: a descriptor open for writing exists */
	bool writer_closing;	/* wlock: one of its descriptors was closed */
	bool writer_releasing;	/* wlock: its release is writing the mark */
	int release_err;	/* wlock: the release's failure, for the next
				 * open or mt operation (release cannot reply) */
	atomic_bool stop;	/* a signal: long loops (weof N) end early */

	pthread_mutex_t io;
	struct tape_reblock *rb;/* io: fixed-block mode, NULL when variable */
	/* A write() of nearly max_request bytes may be the first piece of a
	 * larger write the kernel split (the pieces are joined onto it); it
	 * is held until the writer's next request, close or ioctl shows the
	 * record is complete. io. */
	void *held;
	size_t held_len;
	size_t held_cap;	/* io: bytes allocated at held */
	bool has_held;
	bool refuse_rest;	/* io: the next write is the retried rest of a
				 * refused split one */
	/* Frame in place (drive_land.c): the payload of the write being
	 * handled when it lies in the upload queue, and where it is copied
	 * when it must leave it (max_request bytes, made on first use). io. */
	const void *landed;
	void *land_copy;
	bool land_held;		/* io stays held for drv_land_after */
	int chain_fd;		/* io: the next reel once this one is full */
	bool finish_done;	/* io */
	int finish_rc;		/* io */
	bool chain_ok;		/* io: the rest of the chain finished well */
	bool dirty;		/* io: records since the last tape mark */
	/* The open whose MTREW is not done yet (0 none). Written with io
	 * held; atomic so that a reader's close can see it is not its own
	 * without waiting for io behind a blocked writer. */
	_Atomic uint64_t rew_pending;
	uint64_t owner;		/* io: lock owner (process files) of the last write */
	/* The server under this reel ran out of space (noticed by a record,
	 * a mark, a poll or finish). Records get ENOSPC from then on; when
	 * records already accepted from the writer were not stored, the next
	 * close, fsync or finish returns EIO and the drive fails for good. */
	bool full_noted;	/* io: fullmsg and loss_pending are set */
	bool full_logged;	/* io: fullmsg was logged */
	bool loss_pending;	/* io: accepted records were lost */
	char fullmsg[XFER_ERRLEN];	/* io: the sentence, no final period */
	/* --label and --handover (drive_lbl.c): NULL without drv_lbl_setup;
	 * its own locking is described there. */
	struct drv_lbl *lbl;

	/* --magazine (drive_mag.c): instead of a --next tape, the drive
	 * loads the next slot's volume itself and d->vol changes. Readers
	 * outside io (status, stat) take vswap to read d->vol; the swap
	 * holds io and vswap for writing. */
	struct mag *mag;	/* set at new, or NULL */
	struct vol *next_vol;	/* io: the next slot while carrying over */
	bool unloaded;		/* io: mt offline: the next record or mark
				 * loads the next slot */
	pthread_rwlock_t vswap;

	pthread_mutex_t snap;
	int err;		/* snap: sticky drive error (0 none) */
	char errmsg[512];	/* snap */
	char note[512];		/* snap: the last refused operation */
	bool unmarked;		/* snap: data accepted since the last mark */
	struct timespec mtime;	/* snap: the last accepted write or mark */
	struct drv_state st;	/* snap */
};

void drv_fail(struct drv *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int drv_sticky(struct drv *d);
int drv_gate(struct drv *d);		/* io held */
/* drv_write's body, io held. */
int drv_write_io(struct drv *d, const void *buf, size_t len, off_t off,
		 uint64_t owner);
void drv_writer_closing(struct drv *d, bool closing);	/* takes wlock */
/* drive_land.c: rec itself, or, when it is the payload framed in place,
 * a copy of it outside the queue (NULL: out of memory, logged). io. */
const void *drv_land_out(struct drv *d, const void *rec, size_t len);
int drv_drain(struct drv *d);		/* io held */
int drv_put_mark(struct drv *d);	/* io held */
int drv_commit_held(struct drv *d);	/* io held */
int drv_finish_locked(struct drv *d, const char *why);	/* io held */
int drv_emit(void *ctx, const void *rec, size_t len);	/* reblocker sink */
void drv_fail_quiet(struct drv *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int drv_settle_rewind(struct drv *d);	/* io held */
void drv_await_release(struct drv *d, int ms, bool bounded); /* wlock held */

/* drive_loss.c, io held */
bool drv_server_full(struct drv *d, bool log);
int drv_report_loss(struct drv *d);
int drv_check_upload(struct drv *d);
int drv_sync_upload(struct drv *d);	/* the same, after vol_sync */

/* chain.c, io held */
int drv_chain_open(struct drv *d);
int drv_chain_spill(struct drv *d);	/* open, hand over, publish this reel */
int drv_chain_salvage(struct drv *d);	/* server full: carry on, or -EIO */
int drv_chain_record(struct drv *d, const void *rec, size_t len);
int drv_chain_mark(struct drv *d);
void drv_chain_finish(struct drv *d);
int drv_chain_sync(struct drv *d);
/* The storeset (and labelled file) hand-over on fd, an open of path,
 * which another reelfs drive's tape; must: a refusal fails the drive. */
int drv_chain_tell(struct drv *d, int fd, const char *path, bool must);

/* drive_mag.c, io held */
bool drv_has_next(struct drv *d);	/* --next, or an auto magazine */
int drv_mag_open_next(struct drv *d);	/* into next_vol */
void drv_mag_swap(struct drv *d, bool new_tape);	/* next_vol is loaded */
void drv_mag_drop_next(struct drv *d);	/* carrying over failed */
int drv_mag_spill(struct drv *d);	/* full at the capacity: next slot */
int drv_mag_load(struct drv *d);	/* after mt offline: next slot */
void drv_mag_unload(struct drv *d);	/* mt offline finished the reel */
void drv_mag_pad(struct drv *d);	/* before a storeset reel's finish */

#endif
