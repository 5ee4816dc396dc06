/*
 * rsplit.h - one read() of a tape record that the kernel split into
 * several FUSE read requests (variable-block mode). Pure logic, no I/O:
 * rdrive.c asks it what each request gets of the record at the head.
 *
 * The kernel cuts a read() larger than one request (max_pages pages,
 * 1 MiB here; the first piece a page shorter at most when the buffer is
 * not page-aligned) into requests sent one after the other, each only
 * once the one before was answered in full; on the tape (a stream) the
 * first carries offset 0 and each next one the bytes answered so far. A
 * short answer ends the read(). The first request does not show the
 * read()'s size: `count` (the caller's, when it could be learnt, else
 * -1) decides whether the record fits.
 *
 * It must never hand out bytes of a record to a read() whose buffer is
 * known to be too small (ENOMEM, the record stays, as st), never pass a
 * record that was not handed out whole, and never serve a continuation
 * from anything but the record its first piece came from.
 */
#ifndef REELFS_RSPLIT_H
#define REELFS_RSPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rsplit {
	bool partial;		/* a read() is taking the head record in pieces */
	uint64_t owner;		/* the open it goes to */
	size_t used;		/* bytes of the record already answered */
	bool cut;		/* a read() ended inside the head record: it
				 * got part of it; the record stays, and a
				 * next read() whose size is not known gets
				 * ENOMEM once instead of a piece */
};

enum rsplit_act {
	RS_SERVE,		/* answer bytes [from, from + n) of the record */
	RS_NOTHING,		/* answer 0 bytes: the read() ends here */
	RS_TOO_SHORT,		/* ENOMEM: the buffer cannot hold the record */
};

struct rsplit_step {
	enum rsplit_act act;
	size_t from, n;
	bool pass;		/* the record went out whole: pass it */
	bool was_cut;		/* a new read() finds the record an earlier
				 * one took only part of (log it) */
	size_t taken;		/* was_cut: the bytes that read() got */
};

/* A request of size bytes at off, from open id, whose read() asked for
 * count bytes (-1: not known), with the head element a record of len
 * bytes (is_record) or not (a mark or the end of data: the caller
 * answers those; off > 0 then gets RS_NOTHING). max_request is the
 * largest request the kernel sends. Updates s. */
struct rsplit_step rsplit_request(struct rsplit *s, uint64_t id, size_t size,
				  off_t off, long long count, bool is_record,
				  size_t len, size_t max_request);
/* The head moved (positioning, close): forget the record. */
void rsplit_reset(struct rsplit *s);

#endif
