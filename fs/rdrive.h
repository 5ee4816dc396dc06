/*
 * rdrive.h - the drive in read mode: Linux st's reading semantics over a
 * loaded tape (reader.h). No FUSE types; ops.c maps FUSE calls here.
 *
 * Variable-block mode (the default): one read() returns one record; a
 * buffer smaller than the record is ENOMEM and the record stays for the
 * next read; a tape mark reads as 0 once and the next read starts the
 * next file; at the end of data every read returns 0 and MTIOCGET says
 * GMT_EOD. Fixed-block mode (`mt setblk N`, --block-size): reads return
 * N-byte blocks cut from the bytes of the current file (its records put
 * together), never across a tape mark.
 */
#ifndef REELFS_RDRIVE_H
#define REELFS_RDRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mtio.h>
#include <sys/types.h>

#include "reader.h"

struct rdrive_config {
	const char *url;
	const struct xfer_opts *xo;
	const struct tape_format *format;	/* NULL: manifest or sniffed */
	size_t block_size;			/* 0: variable */
	size_t max_request;			/* largest read request */
	bool single;				/* do not follow next reels */
};

struct rdrive;

struct rdrive *rdrive_open(const struct rdrive_config *c, char *err, size_t errlen);
void rdrive_free(struct rdrive *rd);
void rdrive_set_max_request(struct rdrive *rd, size_t n);

/* Sends what one FUSE read request gets: 0 or a negative errno. */
typedef int (*rdrive_reply_fn)(void *ctx, const void *p, size_t n);
/* One read request of size bytes at off inside the read() call (the tape
 * is a stream: off > 0 continues a read() the kernel split). Calls reply
 * once and returns 0, or returns a negative errno without replying. */
int rdrive_read(struct rdrive *rd, uint64_t id, size_t size, off_t off,
		rdrive_reply_fn reply, void *ctx);
/* A close() of open id: as st (without BSD semantics), a reader that
 * stops inside a tape file leaves the tape after that file's mark, so
 * the next open reads the next file. */
void rdrive_flush(struct rdrive *rd, uint64_t id);
int rdrive_mtop(struct rdrive *rd, const struct mtop *op);
void rdrive_mtget(struct rdrive *rd, struct mtget *g);
void rdrive_mtpos(struct rdrive *rd, struct mtpos *p);
/* MOUNT/status in read mode; malloc'd, NULL when out of memory. */
char *rdrive_status(struct rdrive *rd, size_t *len);
/* The loaded reel's size, for stat. */
uint64_t rdrive_image_bytes(struct rdrive *rd);
/* A refused operation: logged, shown as last_error. */
void rdrive_refuse(struct rdrive *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A magazine read with --changer=manual (magazine.c): mt offline (and
 * unload) loads the reel next_url names (malloc'd; NULL with err filled
 * when there is none), read alone from its start, and tells loaded. Set
 * before serving. */
struct rdrive_changer {
	char *(*next_url)(void *ctx, char *err, size_t errlen);
	void (*loaded)(void *ctx, const char *url);
	void *ctx;
};
void rdrive_set_changer(struct rdrive *rd, const struct rdrive_changer *c);
/* The append point of the loaded tape (rdr_append_point), under the
 * drive's lock; the URL is copied into url (urllen bytes). */
int rdrive_append_point(struct rdrive *rd, struct rdr_append *out, char *url,
			size_t urllen, char *err, size_t errlen);
/* Whether a read failed for good on the last reel read (the exit status
 * reports it). */
bool rdrive_failed(struct rdrive *rd);

#endif
