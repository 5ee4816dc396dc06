/*
 * drive.h - the tape drive behind MOUNT/tape: records, tape marks, the
 * mtio operations and their status, and the hand-over to the next reel of
 * a storeset. No FUSE types here; ops.c maps FUSE calls onto these.
 * Functions return 0 or a negative errno (the one a backup tool expects).
 */
#ifndef REELFS_DRIVE_H
#define REELFS_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mtio.h>
#include <sys/types.h>
#include <time.h>

#include "volume.h"

struct drv_config {
	struct vol *vol;	/* this reel; the drive does not own it */
	const char *next_path;	/* --next: the next reel's tape file, or NULL */
	size_t block_size;	/* 0 = variable: one write() is one record */
	size_t max_request;	/* largest write the kernel hands over whole */
	struct mag *mag;	/* --magazine: loads the next slots, or NULL */
};

struct drv_state {
	uint64_t fileno;	/* tape files ended by a mark, whole storeset */
	uint64_t blkno;		/* records since the last mark */
	uint64_t blocks;	/* records written in all */
	uint64_t in_place;	/* of them, framed in place (drive_land.c) */
	size_t block_size;
	bool at_bot, at_eof, at_eot, finished, chained;
	bool unmarked;		/* data accepted since the last tape mark */
	struct timespec mtime;	/* the last accepted write or mark */
};

/* The most tape marks one MTWEOF may ask for. */
#define DRV_MAX_WEOF 1000000

struct drv;

struct drv *drv_new(const struct drv_config *c);
void drv_free(struct drv *d);
/* The mt-st name of an MTIOCTOP operation ("fsf", "rewind"...), or
 * "this", for messages of the writing and the reading drive alike. */
const char *drv_op_name(int op);
void drv_set_max_request(struct drv *d, size_t max_request);
size_t drv_max_record(struct drv *d);

/* One writer at a time: -EBUSY for a second one. Waits for the release
 * of a writer that was just closed; returns (once) a failure of the tape
 * mark that release wrote. */
int drv_open_writer(struct drv *d);
/* An open for writing that was interrupted before it was used. */
void drv_close_writer(struct drv *d);
/* The last close of an open (FUSE release): for the writer, ends the
 * tape file with a mark; a failure is kept for the next open. id names
 * the open (see drv_mtop). */
void drv_release(struct drv *d, uint64_t id, bool writer);
/* One FUSE write request. off is the position inside the write() call the
 * kernel is splitting (the file is a stream): 0 starts a new write().
 * owner identifies the writing process's file table (FUSE lock_owner). */
int drv_write(struct drv *d, const void *buf, size_t len, off_t off,
	      uint64_t owner);
/* Every close() of a descriptor: hands on a record the closing process
 * wrote, waits until what was accepted has left reelfs and returns the
 * transfer's error. Writes no mark (drv_release does). writer: the
 * descriptor is open for writing. */
/* Frame in place (drive_land.c; loop.c's leader, before reading a
 * request while no other is in processing): 0 and where a write's payload
 * may land (*n bytes, at least max_request), the drive then held until
 * drv_land_write or drv_land_disarm; or -EAGAIN (not now). */
int drv_land_arm(struct drv *d, void **p, size_t *n);
void drv_land_disarm(struct drv *d);
/* drv_write for a payload that landed at buf. The drive stays held
 * until drv_land_after, which the caller calls once the writer has its
 * answer: a record's CRC is computed there, off the writer's path (issue
 * 12.2), then the drive is released. */
int drv_land_write(struct drv *d, void *buf, size_t len, off_t off,
		   uint64_t owner);
void drv_land_after(struct drv *d);
int drv_flush(struct drv *d, uint64_t owner, uint64_t id, bool writer);
/* Commits what is held and returns any sticky error. */
int drv_sync(struct drv *d);
/* id: a number unique to the open file description the ioctl came on
 * (a rewind takes effect at its close unless `mt asf` follows it);
 * writer: that open is the writer. */
int drv_mtop(struct drv *d, const struct mtop *op, uint64_t id, bool writer);
void drv_mtget(struct drv *d, struct mtget *out);
void drv_mtpos(struct drv *d, struct mtpos *out);
/* Ends the reel (and the rest of a chain we fed): publish, verify,
 * manifest. Idempotent; blocks until done. */
int drv_finish(struct drv *d, const char *why);
void drv_get_state(struct drv *d, struct drv_state *out);
/* The drive's own sticky error sentence (true), or else the last refused
 * operation's (false; "" when none). */
bool drv_last_error(struct drv *d, char *buf, size_t len);
/* Whether every reel this drive wrote was published (after finish). */
bool drv_all_published(struct drv *d);
/* A refused operation: logs the sentence, status shows it as last_error;
 * the drive goes on (not sticky). */
void drv_refuse(struct drv *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- stopping on a signal (main thread) ---- */
/* Ends long loops (weof N) early; async to the workers. */
void drv_request_stop(struct drv *d);
/* Waits up to ms for the release of a writer whose descriptor was just
 * closed; true when no writer is open any more. */
bool drv_wait_release(struct drv *d, int ms);
/* Whether a writer holds the tape open with data since its last mark;
 * records: how many records (a held or partly filled one counts). */
bool drv_writer_unmarked(struct drv *d, uint64_t *records);
/* Ends the drive without publishing (the reel stays NAME.part); the
 * volume was aborted by the caller. Workers must be stopped. */
void drv_abandon(struct drv *d);

/* ---- the magazine (drive_mag.c) ---- */
/* The loaded volume for a reader outside the drive's calls (status,
 * stat): it stays valid until drv_vol_unhold. A magazine changes it. */
struct vol *drv_vol_hold(struct drv *d);
void drv_vol_unhold(struct drv *d);
/* The loaded volume when no FUSE worker runs (main, after the loop). */
struct vol *drv_vol(struct drv *d);
bool drv_has_magazine(struct drv *d);
/* A magazine's reel was unloaded (mt offline): the next record or mark
 * loads the next slot, so the drive is not done writing. */
bool drv_mag_waiting(struct drv *d);
/* MOUNT/changer's text (malloc'd), and status's line; NULL / false
 * without a magazine. */
char *drv_changer_render(struct drv *d, size_t *len);
bool drv_changer_line(struct drv *d, char *buf, size_t len);

#endif
