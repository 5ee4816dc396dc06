/*
 * volume.h - one reel: an encoder streaming into an upload, with a
 * capacity, and a manifest published beside the image. No FUSE here:
 * reelfs drives it from FUSE calls, `reel send` from a pipe.
 *
 * Invariants: a record is either wholly framed and queued, or refused with
 * nothing written; once the volume has failed, every call returns the same
 * error; vol_finish returns 0 only when the image is published (and
 * verified when asked) and its manifest written.
 */
#ifndef REELFS_VOLUME_H
#define REELFS_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../encoder/tape.h"
#include "../ftp/xfer.h"

struct vol_config {
	const char *url;		/* the image's final URL (NAME, not .part) */
	const struct xfer_opts *xfer;
	const struct tape_format *format;
	struct tape_enc_options enc;
	uint64_t capacity;		/* image bytes; 0 = unlimited */
	const char *storeset_id;	/* NULL: one is made up at open */
	unsigned reel;			/* 1-based reel number in the storeset */
	const char *prev_url;		/* NULL for the first reel */
	const char *next_url;		/* NULL for the last (or unknown) */
};

enum vol_state {
	VOL_WRITING,	/* accepting records */
	VOL_FULL,	/* capacity or server space reached: marks only */
	VOL_FINISHING,
	VOL_PUBLISHED,	/* complete, renamed, verified if asked */
	VOL_FAILED,
};

struct vol_status {
	enum vol_state state;
	struct tape_counts counts;	/* files, records, payload, image, CRCs */
	struct xfer_stats xfer;		/* sent, confirmed, rate, reconnects */
	uint64_t capacity;		/* 0 = unlimited */
	uint64_t remaining;		/* image bytes left; UINT64_MAX unlimited */
	char last_error[XFER_ERRLEN];
	char storeset_id[40];
	time_t start, end;
	/* Added by FS: the server ran out of space (452/552), and how many
	 * image bytes of records and marks already accepted from the writer
	 * it did not store (0: the end of medium lost nothing accepted). */
	bool server_full;
	uint64_t lost_bytes;
};

struct vol;

/* Opens the upload (all the pre-data checks of xfer_upload_open). */
struct vol *vol_open(const struct vol_config *c, char *err, size_t errlen);
/* One record. -ENOSPC when it would cross the capacity (early warning:
 * nothing written, the volume stays usable for marks and finish) or the
 * server is full; -EINVAL for a zero or over-long record; -EIO otherwise. */
int vol_record(struct vol *v, const void *data, size_t len);
/* The same, with the record's CRCs left owed (issue 12.2): its counts,
 * its salvage point and the snapshot status shows settle at vol_complete,
 * called once the writer has its answer, or at the volume's next call.
 * data must stay as it is until then: a payload framed in place, with
 * nothing else written to the volume meanwhile. */
int vol_record_later(struct vol *v, const void *data, size_t len);
void vol_complete(struct vol *v);
/* Frame in place (issue 12.1; fs/drive_land.c): where the payload of the
 * next record may be read straight into the upload queue, with at least
 * need bytes of room (*n), or -EAGAIN (not now: the format, the state or
 * the queue's room), or the upload's error. Valid while nothing else is
 * written to the volume. */
int vol_landing(struct vol *v, size_t need, void **p, size_t *n);
/* The same for a run of len-byte records (`reel send`): the first one's
 * payload at *p, each next one *step bytes further (its framing in
 * between), as many as fit in *n. */
int vol_landing_run(struct vol *v, size_t len, void **p, size_t *n,
		    size_t *step);
/* Whether a len-byte record whose payload is at data would be framed in
 * place by vol_record: exactly at its landing, the format framing it as
 * header, payload, trailer. */
bool vol_landed_at(struct vol *v, const void *data, size_t len);
int vol_mark(struct vol *v);
/* Ends the data, completes the upload, publishes, verifies when asked,
 * writes the manifest. Idempotent: a second call returns the first result. */
int vol_finish(struct vol *v);
/* Stops; the image stays as NAME.part. */
void vol_abort(struct vol *v);
void vol_get_status(struct vol *v, struct vol_status *out);
const char *vol_state_name(enum vol_state s);
const char *vol_error(struct vol *v);
const char *vol_url(const struct vol *v);
void vol_free(struct vol *v);
/* The ANSI labels of what the volume accepted, into m's label fields
 * (m->labels malloc'd, NULL when none: free it); nothing recorded for a
 * reel the server cut. For a caller that writes a manifest itself. */
struct tape_manifest;
void vol_manifest_labels(struct vol *v, struct tape_manifest *m);

/* Write after read (fs/append.c): before the first record, the old
 * image's bytes up to where the new tape file begins go into the upload
 * as they are (-EBUSY after a record or mark), the offsets after its
 * marks into the file index, and its counts (files, records, marks,
 * payload and its CRC; the image bytes and CRC are counted here) into
 * the manifest's. */
int vol_put_prefix(struct vol *v, const void *data, size_t len);
/* A record of the copied prefix, for the labels the manifest records. */
void vol_prefix_record(struct vol *v, const void *data, size_t len);
void vol_prefix_mark(struct vol *v, uint64_t offset_after, uint64_t records);
void vol_prefix_counts(struct vol *v, const struct tape_counts *c);

/* Added by FS for reelfs: */
/* 0 when a record of len bytes would still be accepted now; -ENOSPC at
 * the early warning (or when full), the sticky error otherwise. Lets a
 * drive answer ENOSPC for a record it hands to vol_record a little later. */
int vol_check_room(struct vol *v, size_t len);
/* Added for labelled tapes (fs/drive_lbl.c): vol_check_room for a record
 * of len bytes after which labels 80-byte label records and marks tape
 * marks must still fit, so a labelled reel can always be ended. */
int vol_check_room_labels(struct vol *v, size_t len, unsigned labels,
			  unsigned marks);
/* The storeset id in use (given, or made up at open). */
const char *vol_storeset(const struct vol *v);
const struct tape_format *vol_format(const struct vol *v);
/* Asks the upload whether it has failed in the background (the sending
 * thread met a 452/552 or gave up) without writing anything, and turns a
 * failure into the volume's sticky error as a write would: 0 when none,
 * -ENOSPC when the server is full, -EIO otherwise. 0 once finished. Lets
 * a drive refuse to report success for a close or an fsync after the
 * upload failed. */
int vol_poll(struct vol *v);
/* The same, but first waits until every image byte accepted so far has
 * left the process (xfer_upload_sync: written to the file, or handed to
 * the network), so a close or fsync reports a failure of the transfer of
 * what it wrote, as a drive flushes its buffer when it writes a filemark.
 * 0 once finished. */
int vol_sync(struct vol *v);
/* Image bytes accepted (vol_record/vol_mark returned 0) that the server
 * did not store because it ran out of space; 0 when none, or when the
 * server is not full. */
uint64_t vol_lost_bytes(struct vol *v);

/* Added for --next chains: */
/* The reel before this one in a chain spills into it: this reel continues
 * storeset id as reel number reel, after prev_url. Taken only before the
 * first record or mark (-EBUSY after, with err filled); facts given in
 * vol_config are kept (a disagreement is logged). */
int vol_join_storeset(struct vol *v, const char *id, unsigned reel,
		      const char *prev_url, char *err, size_t errlen);
/* This reel spilled into next_url: its manifest names it as next (unless
 * vol_config gave one). Taken until the manifest is written, also after
 * a vol_finish that met a full server (vol_salvage publishes it later);
 * after that only logged. 0 or -ENOMEM. */
int vol_set_next_url(struct vol *v, const char *next_url);
unsigned vol_reel(struct vol *v);
void vol_get_storeset(struct vol *v, char *id, size_t len);

/* The server ran out of space (452/552) with records accepted that it did
 * not keep, and this reel has a next one: vol_salvage finds the last
 * record or mark the server holds whole (at image offset valid), decodes
 * every record and mark accepted after it back out of the upload queue
 * and passes each to fn (a mark with rec NULL) in order, then publishes
 * this reel as the server holds it: NAME.part renamed to NAME, and a
 * manifest with truncated_at = valid. 0, or a negative errno with err
 * filled: the records could not all be carried (fn failed, or the queue
 * no longer holds them) or publishing failed. */
typedef int (*vol_salvage_fn)(void *ctx, bool mark, const void *rec,
			      size_t len);
struct vol_salvage_info {
	uint64_t held;		/* image bytes the server holds */
	uint64_t valid;		/* where its last whole element ends */
	uint64_t carried;	/* image bytes of the elements carried over */
	uint64_t records, marks, payload;	/* what fn was given */
};
int vol_salvage(struct vol *v, vol_salvage_fn fn, void *ctx,
		struct vol_salvage_info *info, char *err, size_t errlen);

#endif
