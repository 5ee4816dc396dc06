/*
 * reader_int.h - the reader's insides, shared by reader.c (reels, the
 * stream, logical elements) and reader_pos.c (positioning). Nothing else
 * includes it.
 *
 * The stream: one ranged download of the current reel from `start`, the
 * bytes pushed through a decoder started at that offset, its events kept
 * in a small queue (evs) whose record bytes live in one arena. Only a few
 * events are ever looked ahead of the head (a run of tape marks at the
 * end of a reel), so the queue holds at most one pushed chunk's events
 * plus those: memory is the download's --buffer plus a few MiB.
 */
#ifndef REELFS_READER_INT_H
#define REELFS_READER_INT_H

#include "reader.h"
#include "manifest.h"

enum rdr_ev_kind { EV_REC, EV_MARK, EV_END, EV_ERR };

struct rdr_ev {
	enum rdr_ev_kind kind;
	uint64_t off;			/* image offset where it starts */
	size_t data, len;		/* EV_REC: bytes at arena + data */
};

/* Reels met so far (the one given first is [0]). */
struct rdr_reel {
	char *url;
	char *shown;			/* without password, for messages */
	uint64_t size;			/* SIZE, or UINT64_MAX */
	uint64_t valid;			/* truncated_at, else size */
	struct tape_manifest man;
	bool has_man;
	const struct tape_format *fmt;	/* NULL until known */
	bool last;			/* no next reel (or --single) */
	/* Logical counts at the reel's start, once the reader got there
	 * from the beginning of the set. */
	bool bases_known;
	uint64_t file_base;
	uint64_t block_base;
};

#define RDR_MAX_REELS 4096
#define RDR_CHUNK (256u * 1024)
/* Looked-ahead tape marks beyond which a run of marks counts as files
 * rather than the end of data. */
#define RDR_MARK_RUN 64

struct rdr {
	const struct xfer_opts *xo;
	const struct tape_format *want_fmt;	/* --format, or NULL */
	bool single;

	struct rdr_reel *reels;
	size_t nreels;
	size_t cur;			/* the reel being read */

	/* The stream of the current reel. */
	struct xfer_download *dl;
	struct tape_dec *dec;
	uint64_t start;			/* where the stream starts */
	uint64_t fed;			/* image offset of the next byte to push */
	bool ended;			/* END or ERR is queued: no more input */
	unsigned tries;			/* resumes since the last progress */
	uint8_t *chunk;

	struct rdr_ev *evs;
	size_t nev, head, evcap;
	uint8_t *arena;
	size_t alen, acap;
	char evmsg[512];		/* EV_ERR's sentence */

	/* Position of the head element (the next one). */
	uint64_t fileno;
	int64_t blkno, block;
	bool after_mark;		/* also true at the beginning */

	/* A small window of image bytes for backward spacing. */
	uint8_t *win;
	size_t win_reel;
	uint64_t win_off;
	size_t win_len;

	struct rdr_stats stats;
	char err[XFER_ERRLEN + 256];
};

/* reader.c */
int rdr_fill(struct rdr *r, size_t k);
void rdr_stream_stop(struct rdr *r);
/* Drops the stream and the queue; the next element is at offset of
 * reel, with these counts. */
void rdr_jump(struct rdr *r, size_t reel, uint64_t offset, uint64_t fileno,
	      int64_t blkno, int64_t block, bool after_mark);
int rdr_set_error(struct rdr *r, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int rdr_enter_next_reel(struct rdr *r);
/* reader_pos.c */
int rdr_step_back(struct rdr *r, uint64_t at, uint64_t *start, bool *is_mark);

#endif
