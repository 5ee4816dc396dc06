/*
 * volume_int.h - the insides of one reel (the volume), shared by
 * volume.c (open, finish, abort, free, status), volume_error.c (the
 * sticky error), volume_data.c (records, marks, capacity, landings),
 * volume_prefix.c (write after read), volume_storeset.c (the storeset
 * facts), volume_manifest.c (the manifest) and volume_salvage.c (a full
 * server under a storeset). Nothing outside those files includes this.
 *
 * What the volume must never do is at the top of volume.c.
 *
 * Locking: two mutexes, taken in this order when both are needed.
 *   io_lock serialises the data path (encoder, upload writes, finish).
 *           It may be held for a long time: back-pressure blocks inside
 *           xfer_upload_write, and finish drains and verifies.
 *   lock    is held only briefly and protects state, err, errmsg, counts
 *           (a snapshot of the encoder's counts), finish_rc and end, so
 *           that vol_get_status never waits behind a blocked writer.
 * Fields set at open and never changed (cfg copies, up, enc pointers) need
 * no lock.
 */
#ifndef REELFS_VOLUME_INT_H
#define REELFS_VOLUME_INT_H

#include <pthread.h>

#include "volume.h"
#include "file_index.h"
#include "manifest.h"

/* Room kept free below the capacity for what must always still fit once a
 * record has been refused: the end-of-data marks that finish() adds, and a
 * couple of tape marks the tool writes when it closes its volume. A tape
 * mark costs 4 bytes (SIMH family) or 6 (AWS/HET); 16 covers two. */
#define VOL_MARK_RESERVE 16

/* The counts after each of the last VOL_TAIL elements accepted (records
 * and marks): after a server-full, the last one the server holds whole is
 * where this reel can end, with exact counts for its manifest. 56 bytes
 * each; a loss spanning more elements than this cannot be carried over
 * (the loud failure stays). */
#define VOL_TAIL 16384

struct vol {
	/* Set at open, read-only afterwards. */
	char *url;
	uint64_t capacity;
	const struct xfer_opts *xo;
	const struct tape_format *format;
	struct xfer_upload *up;
	struct tape_enc *enc;

	char *part_name;		/* "NAME.part", for sentences */

	pthread_mutex_t io_lock;	/* the data path; see above */
	bool server_full;		/* io_lock: the sink saw -ENOSPC */
	struct tape_counts *tail;	/* io_lock: ring of VOL_TAIL, or NULL */
	uint64_t tail_n;		/* io_lock: elements pushed */
	/* Set by vol_salvage for the manifest of a reel the server cut: its
	 * counts up to the last whole element it holds. io_lock. */
	bool truncated;
	uint64_t truncated_at;
	struct tape_counts trunc_counts;
	/* What was accepted before finish added the end-of-data marks (a
	 * full server found by finish carries only the data over). io_lock. */
	bool data_ended;
	uint64_t data_accepted, data_tail_n;
	struct tape_file_index findex;	/* io_lock: for the manifest's index */
	/* Write after read (vol_put_prefix): the old image's bytes that
	 * come before the first record, and their counts. io_lock. */
	bool has_base;
	struct tape_counts base;
	bool base_scanned;		/* its records and marks went through lscan */
	/* io_lock: the ANSI labels of what was accepted, for the manifest
	 * (so `reel ls -l` names a labelled tape's files without reading
	 * it); NULL when out of memory (then the manifest has no labels). */
	struct tape_label_scan *lscan;

	pthread_mutex_t lock;		/* short; see above */
	/* The storeset facts: from the options, or from the reel before
	 * this one in a --next chain (vol_join_storeset, before the first
	 * record) and from the reel after it (vol_set_next_url). Given
	 * options are kept; *_fixed says which were given. */
	char *prev_url, *next_url;	/* lock */
	char storeset[40];		/* lock */
	unsigned reel;			/* lock */
	bool storeset_fixed, reel_fixed, prev_fixed, next_fixed;
	enum vol_state state;		/* lock */
	int err;			/* lock: sticky, 0 when none */
	char errmsg[XFER_ERRLEN];	/* lock */
	struct tape_counts counts;	/* lock: snapshot after each call */
	bool finished;			/* lock: vol_finish ran */
	/* A manifest was formatted: its next is final. Not finished: a
	 * finish that met a full server publishes later (vol_salvage),
	 * after the hand-over named the next reel. */
	bool manifest_out;		/* lock */
	/* Image bytes up to the end of the last record or mark the writer
	 * was told was accepted (vol_record/vol_mark returned 0). */
	uint64_t accepted;		/* lock */
	bool full_noted;		/* lock: the server-full sentence is set */
	uint64_t lost;			/* lock: accepted bytes the server lacks */
	int finish_rc;			/* lock */
	time_t start, end;		/* lock */
};

/* volume_error.c */
void vol_set_error(struct vol *v, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vol_note_server_full(struct vol *v);
int vol_after(struct vol *v, int rc, const char *what);

/* volume_prefix.c */
void vol_add_base(const struct vol *v, struct tape_counts *c);

/* volume_manifest.c */
int vol_publish_manifest(struct vol *v, char *err, size_t errlen);

#endif
