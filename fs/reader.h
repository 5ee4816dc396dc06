/*
 * reader.h - a loaded tape, read element by element: the core of the
 * drive's read mode, with no FUSE in it (rdrive.c puts st's semantics on
 * top). An image of any format reelfs knows, local or remote, streams in
 * through a ranged download (bounded read-ahead: --buffer) into the
 * streaming decoder; records, tape marks and the end of data come out one
 * at a time, with their position. A storeset reads as one tape: at the
 * end of a reel whose manifest names a next one, the reader goes on there.
 *
 * Positioning (rewind, space files and records both ways, end of data,
 * seek to a block) jumps with the manifest's file index when there is
 * one (one ranged download from the right offset), else reads forward
 * and discards, and spaces backward with small ranged reads of the
 * trailing length words (SIMH family) or previous-length fields (AWS,
 * HET). A jump drops the read-ahead.
 *
 * Functions return 0 or a negative errno and keep a sentence
 * (rdr_error). A damaged image is an error at its first bad byte, never
 * data. Not thread-safe: the caller serialises.
 */
#ifndef REELFS_READER_H
#define REELFS_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tape.h"
#include "xfer.h"

struct rdr_config {
	const char *url;		/* with any user name; no password */
	const struct xfer_opts *xo;
	const struct tape_format *format;	/* NULL: manifest, else sniffed */
	bool single;			/* do not follow a storeset's next reel */
};

enum rdr_kind { RDR_RECORD, RDR_MARK, RDR_EOD };

struct rdr_elem {
	enum rdr_kind kind;
	unsigned reel;			/* 1 for the reel loaded first */
	uint64_t offset;		/* image offset in that reel */
	const void *data;		/* RECORD: valid until the next call */
	size_t len;
};

/* Where the tape is, as st counts: file number (tape marks passed),
 * block in the file (-1 when not known, after a backward space), logical
 * block (records and marks passed; -1 when not known). */
struct rdr_pos {
	uint64_t fileno;
	int64_t blkno;
	int64_t block;
	unsigned reel;
	uint64_t offset;		/* image offset of the next element */
	bool bot, eod;
	bool after_mark;		/* the last element passed was a mark */
};

struct rdr_stats {
	uint64_t downloaded;		/* image bytes received */
	uint64_t image_bytes;		/* this reel's size (0 unknown) */
	unsigned resumes;		/* downloads resumed after a fault */
	unsigned jumps;			/* ranged downloads started to position */
	const char *format;		/* "" until known */
	bool indexed;			/* this reel's manifest has a file index */
	bool manifest;			/* this reel has a manifest */
	const char *url;		/* this reel's, for messages */
};

struct rdr;

/* Checks the image is there (SIZE) and reads its manifest when it has
 * one; the download starts at the first read. NULL with err filled. */
struct rdr *rdr_open(const struct rdr_config *c, char *err, size_t errlen);
void rdr_free(struct rdr *r);

/* The next element, without passing it (a record refused for a short
 * buffer stays). -EIO (and a sentence naming the position) for a record
 * that cannot be read: a damaged image, a download that failed past
 * --retries. */
int rdr_peek(struct rdr *r, struct rdr_elem *out);
/* Passes the element rdr_peek returned (nothing at the end of data). */
void rdr_next(struct rdr *r);

int rdr_rewind(struct rdr *r);
/* Spaces over n tape marks: forward, after the n-th; backward (n < 0),
 * before the n-th, on its beginning-of-tape side, as MTBSF. -EIO at the
 * end of data or the beginning of the tape first (as st). */
int rdr_space_files(struct rdr *r, int64_t n);
/* Spaces over n records, forward or back; a tape mark stops it (-EIO;
 * forward: after the mark; backward: after the mark too, so the file is
 * not left). */
int rdr_space_records(struct rdr *r, int64_t n);
/* To the end of data, where an appended file would begin. */
int rdr_eod(struct rdr *r);
/* To logical block n (records and marks counted from the beginning). */
int rdr_seek(struct rdr *r, uint64_t block);

void rdr_get_pos(struct rdr *r, struct rdr_pos *out);
void rdr_get_stats(struct rdr *r, struct rdr_stats *out);
const char *rdr_error(struct rdr *r);
/* The format of the reel being read, once known (NULL before). */
const struct tape_format *rdr_format(struct rdr *r);
/* The URL of the reel being read (as given, no password). */
const char *rdr_url(struct rdr *r);
/* Whether the reel being read is the last one (no next reel). */
bool rdr_last_reel(struct rdr *r);

/* Where a tape file written now would begin (write after read): the
 * position must be the beginning of the tape, right after a tape mark,
 * or the end of data, on the last reel of its set. Fills the reel's URL
 * (borrowed until the next call), its format, the image offset and the
 * storeset id ("" when it has no manifest), and stops the read-ahead.
 * -EPERM with a sentence where writing would cut a file or a set. */
struct rdr_append {
	const char *url;
	const struct tape_format *format;
	uint64_t offset;
	char storeset[40];
	uint64_t fileno;
	bool eod;
};
int rdr_append_point(struct rdr *r, struct rdr_append *out);

#endif
