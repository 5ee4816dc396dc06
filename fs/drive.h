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

#include "volume.h"

struct drv_config {
	struct vol *vol;	/* this reel; the drive does not own it */
	const char *next_path;	/* --next: the next reel's tape file, or NULL */
	size_t block_size;	/* 0 = variable: one write() is one record */
	size_t max_request;	/* largest write the kernel hands over whole */
};

struct drv_state {
	uint64_t fileno;	/* tape files ended by a mark, whole storeset */
	uint64_t blkno;		/* records since the last mark */
	uint64_t blocks;	/* records written in all */
	size_t block_size;
	bool at_bot, at_eof, at_eot, finished, chained;
};

struct drv;

struct drv *drv_new(const struct drv_config *c);
void drv_free(struct drv *d);
void drv_set_max_request(struct drv *d, size_t max_request);
size_t drv_max_record(struct drv *d);

/* One writer at a time: -EBUSY for a second one. */
int drv_open_writer(struct drv *d);
void drv_close_writer(struct drv *d);
/* One FUSE write request. off is the position inside the write() call the
 * kernel is splitting (the file is a stream): 0 starts a new write().
 * owner identifies the writing process's file table (FUSE lock_owner). */
int drv_write(struct drv *d, const void *buf, size_t len, off_t off,
	      uint64_t owner);
/* close() of a descriptor of the writer: a tape mark if the closing owner
 * is the one that wrote records since the last mark; returns any earlier
 * transfer error. */
int drv_flush(struct drv *d, uint64_t owner);
/* Commits what is held and returns any sticky error. */
int drv_sync(struct drv *d);
int drv_mtop(struct drv *d, const struct mtop *op);
void drv_mtget(struct drv *d, struct mtget *out);
void drv_mtpos(struct drv *d, struct mtpos *out);
/* Ends the reel (and the rest of a chain we fed): publish, verify,
 * manifest. Idempotent; blocks until done. */
int drv_finish(struct drv *d, const char *why);
void drv_get_state(struct drv *d, struct drv_state *out);
/* The drive's own sticky error sentence ("" when none). */
void drv_last_error(struct drv *d, char *buf, size_t len);
/* Whether every reel this drive wrote was published (after finish). */
bool drv_all_published(struct drv *d);

#endif
