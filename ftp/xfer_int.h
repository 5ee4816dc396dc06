/*
 * xfer_int.h - what the files of ftp/ share and nobody else sees: the
 * parsed URL, the bounded queue, the backend table (file:// and libcurl)
 * and small helpers. Never include it from outside ftp/ (and tests/ftp).
 */
#ifndef REELFS_XFER_INT_H
#define REELFS_XFER_INT_H

#include "xfer.h"

#include <pthread.h>
#include <stdarg.h>

/* ---- helpers (util.c) --------------------------------------------------- */

/* Formats into err (if err and errlen are non-zero); returns rc, so a
 * caller can write `return xerr(err, len, -EIO, "...")`. */
int xerr(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
double xnow(void);		/* monotonic seconds */
double xcpu(void);		/* process CPU seconds */
/* pthread_create with every signal blocked in the new thread. */
int xthread_start(pthread_t *t, const char *name, void *(*fn)(void *), void *arg);
/* "1.01 GB" (powers of 1024, as the seed tool prints). */
void xfmt_bytes(uint64_t n, char *buf, size_t len);
/* "2026-11-21 07:42:10 UTC", or "an unknown time" when t is 0. */
void xfmt_time(time_t t, char *buf, size_t len);

/* ---- URLs (url.c) ------------------------------------------------------- */

struct xurl {
	char *scheme;		/* "ftp", "ftps", "sftp" or "file" */
	bool local;		/* file:// or a plain path */
	char *path;		/* local: the file system path */
	char *user;		/* decoded; NULL when absent */
	bool has_password;	/* a password was given in the URL */
	char *hostport;		/* "host:port" as written ("[::1]:21") */
	char *host;		/* without brackets */
	char *dir;		/* remote: encoded path with both slashes, "/a/b/" */
	char *name;		/* decoded last component; "" for a directory */
	char *dir_display;	/* for messages: "/a/b" decoded */
};

/* Parses url. name may be empty (a directory URL ending in '/'). */
int xurl_parse(const char *url, struct xurl *u, char *err, size_t errlen);
void xurl_free(struct xurl *u);
/* Percent-encodes a name for a URL path component. Caller frees. */
char *xurl_encode(const char *name);
/* Refusal sentence for a password given where others can read it. */
extern const char xurl_password_refusal[];

/* ---- bounded queue (queue.c) -------------------------------------------- */

/*
 * A ring of cap bytes between one producer and one consumer. Offsets are
 * absolute stream positions. The consumer may step back (rewind) to any
 * byte still held; to make that possible the producer is only let in while
 * the ring keeps the last `replay` bytes the consumer went past, so at
 * most cap - replay bytes are waiting to be sent.
 */
struct xq {
	pthread_mutex_t mu;
	pthread_cond_t room;	/* producer waits here */
	pthread_cond_t data;	/* consumer waits here */
	unsigned char *buf;
	uint64_t cap, replay;
	/* All below protected by mu. */
	uint64_t head;		/* bytes put in so far */
	uint64_t pos;		/* next byte the consumer hands on */
	uint64_t high;		/* furthest pos ever reached */
	bool closed;		/* producer is done: pos == head means the end */
	int fail;		/* consumer gave up: producer gets this */
	bool cancel;		/* everyone stops waiting */
	uint64_t want;		/* consumer sleeps until this much is queued */
	/* Sync (xq_sync): the consumer calls xq_peek_batch again only once
	 * what it took before has left the process (written to the file, or
	 * sent on the socket: libcurl asks its read callback for more only
	 * when its upload buffer is empty), so at that call `wire` becomes
	 * pos. A sync waits on `flushed` for wire to reach its target. */
	pthread_cond_t flushed;	/* xq_sync waits here */
	uint64_t wire;		/* bytes known to have left the process */
	uint64_t flush_to;	/* a sync waits for wire to reach this; 0 none */
	bool ended;		/* the consumer is gone (xq_fail was called) */
	/* --verify: the CRC-32 of the stream, extended by the consumer as it
	 * hands bytes on (xq_advance), each byte once however often a resume
	 * sends it again; the writer never computes it (issue 12.2). */
	bool crc_on;		/* set before the consumer starts */
	uint64_t crc_pos;	/* bytes crc covers (consumer's) */
	uint32_t crc;
};

int xq_init(struct xq *q, uint64_t cap, uint64_t replay);
void xq_destroy(struct xq *q);
/* Producer: copies len bytes in, blocking while full. 0, q->fail, or
 * -ECANCELED. */
int xq_put(struct xq *q, const void *data, size_t len);
/* Producer: the n pieces in order, as one xq_put of their concatenation
 * but with one lock round when they fit at once (a record's framing and
 * payload: no lock per piece, no wake-up per piece). */
struct xq_piece {
	const void *p;
	size_t len;
};
int xq_putv(struct xq *q, const struct xq_piece *v, int n);
/* Producer, frame in place (issue 12.1): where a payload can be read
 * (read(2), by the kernel) straight into the ring, `skip` bytes past the
 * head (room for the record's framing header), with at least `need`
 * contiguous free bytes there (*n: how many); -EAGAIN when there is not
 * that much room now (never waits), q->fail or -ECANCELED. A later
 * xq_putv whose piece points into the ring takes it without a copy; the
 * piece must then be exactly at its place in the stream (-EFAULT, with
 * nothing written, otherwise). The caller guarantees nobody else puts
 * anything in between. */
int xq_landing(struct xq *q, size_t skip, size_t need, void **p, size_t *n);
/* The stream CRC so far (crc_on). */
uint32_t xq_crc(struct xq *q);
/* Producer, without a copy: the free contiguous space at head (waits for
 * some), to be filled and then committed. Same errors as xq_put. */
int xq_reserve(struct xq *q, void **p, size_t *n);
void xq_commit(struct xq *q, size_t n);
/* Producer: no more data. */
void xq_close(struct xq *q);
/* Consumer: the contiguous bytes at pos (waits for some). *n == 0 at the
 * end. -ECANCELED when cancelled. */
int xq_peek(struct xq *q, const void **p, size_t *n);
/* Like xq_peek, but once some bytes are there, waits up to max_ms more
 * for at least min (so the network gets large writes, not the 4-byte
 * headers of a tape format one at a time), unless a sync is waiting.
 * Calling it again says that everything handed on before has left the
 * process (see `wire`). */
int xq_peek_batch(struct xq *q, const void **p, size_t *n, size_t min,
		  unsigned max_ms);
/* Producer (or anyone): waits until the first `to` bytes have left the
 * process (see `wire`), cutting short a batching wait of the consumer so
 * a partial batch goes out now. 0, q->fail, -ECANCELED, or -EPIPE when
 * the consumer ended without reaching `to`. Costs the hot path nothing:
 * only a pending sync makes the consumer signal anyone. */
int xq_sync(struct xq *q, uint64_t to);
/* Like xq_peek but returns -EAGAIN instead of waiting. */
int xq_peek_nowait(struct xq *q, const void **p, size_t *n);
/* Consumer: n bytes of the last peek were handed on. */
void xq_advance(struct xq *q, size_t n);
/* Consumer: continue from offset `to` (-ERANGE if no longer held: only
 * the replay window behind the furthest byte sent is, never more). */
int xq_rewind(struct xq *q, uint64_t to);
/* The oldest offset still held (a resume may start there or later). */
uint64_t xq_oldest(struct xq *q);
/* Consumer: compares [off, off+n) of the stream with p: 0 equal, 1 not
 * (*bad is the first differing offset), -ERANGE when those bytes are not
 * all held (before xq_oldest, or not sent yet). */
int xq_compare(struct xq *q, uint64_t off, const void *p, size_t n,
	       uint64_t *bad);
void xq_fail(struct xq *q, int err);
void xq_cancel(struct xq *q);
void xq_counts(struct xq *q, uint64_t *head, uint64_t *high);

/* ---- credentials and questions (creds.c) -------------------------------- */

/* Finds the password for *user at host: --password-file, REELFS_PASSWORD
 * (both only for a named user), ~/.netrc (its own host and login; may also
 * supply *user, then malloc'd), a prompt on the terminal. *out is borrowed:
 * the one cached copy, alive until exit; never free it. It is NULL with
 * rc 0 when there is no user (anonymous: libcurl's default password). */
int xcred_password(const struct xfer_opts *o, char **user, const char *host,
		   const char **out, char *err, size_t errlen);
/* Wipes and frees a secret. */
void xcred_free(char *secret);
/* Asks a y/N question on the terminal: 1 yes, 0 no, -ENOTTY without one. */
int xcred_ask(const char *question);

/* ---- backends ----------------------------------------------------------- */

/* Called by a backend's send once the server has accepted the data
 * channel (the first moment bytes can flow) and, while sending, now and
 * then so the caller can draw progress. */
struct xsend_hooks {
	void (*ready)(void *ctx);
	void (*tick)(void *ctx);
	void *ctx;
};

/*
 * One table per kind of target. Functions return 0 or a negative errno
 * and fill err with a sentence (without the URL; the caller adds it).
 * -EAGAIN means "the connection failed; reconnecting may help";
 * -EREMOTEIO from send: the server failed to store the data (FTP 451),
 * which may be a full disk; retried like -EAGAIN.
 */
struct xb_ops {
	const char *name;
	/* Connects, logs in, checks the directory (mkdir creates it). */
	int (*open)(void **st, const struct xurl *u, const struct xfer_opts *o,
		    bool for_write, char *err, size_t errlen);
	/* Forgets the current connection; the next call makes a new one. */
	int (*reconnect)(void *st, char *err, size_t errlen);
	int (*stat)(void *st, const char *name, uint64_t *size, time_t *mtime,
		    char *err, size_t errlen);
	/* Optional (file://): 0 when `name` is absent or may be replaced by
	 * this upload; -EPERM with a sentence when it is a symbolic link or a
	 * file someone else owns (never reused, whatever --overwrite says). */
	int (*check_part)(void *st, const char *name, char *err, size_t errlen);
	/* Sends q from its position to name, which holds exactly `offset`
	 * bytes before (0: create or truncate), until q ends. -ENOSPC when
	 * the server is full, -ECANCELED when q was cancelled. */
	int (*send)(void *st, const char *name, uint64_t offset, struct xq *q,
		    const struct xsend_hooks *h, char *err, size_t errlen);
	/* Renames; -EEXIST when `to` exists and replace is false. */
	int (*rename)(void *st, const char *from, const char *to, bool replace,
		      char *err, size_t errlen);
	int (*fetch)(void *st, const char *name, uint64_t offset, uint64_t length,
		     int (*cb)(void *ctx, const void *p, size_t n), void *ctx,
		     char *err, size_t errlen);
	int (*list)(void *st, struct xfer_entry **v, size_t *n,
		    char *err, size_t errlen);
	void (*close)(void *st);
};

extern const struct xb_ops xb_file_ops;
extern const struct xb_ops xb_curl_ops;
extern const struct xb_ops xb_s3_ops;	/* s3://BUCKET/KEY (s3_*.c) */

static inline bool xurl_is_s3(const struct xurl *u)
{
	return u->scheme && u->scheme[0] == 's' && u->scheme[1] == '3' &&
	       !u->scheme[2];
}

static inline const struct xb_ops *xb_for(const struct xurl *u)
{
	return u->local ? &xb_file_ops : xurl_is_s3(u) ? &xb_s3_ops : &xb_curl_ops;
}

/* ---- listing lines (listparse.c) ---------------------------------------- */

/* One MLSD line: 1 parsed, 0 skip (".", "..", cdir), -EINVAL bad. */
int xlist_parse_mlsd(const char *line, struct xfer_entry *e);
/* One LIST line (Unix ls -l style or DOS style). now fixes year-less
 * dates. 1 parsed, 0 skip ("total", ".", ".."), -EINVAL bad. */
int xlist_parse_list(const char *line, time_t now, struct xfer_entry *e);
/* Whether every line of an MLSD body is a fact line (so no entry means
 * an empty directory, not a server that sent LIST's text). */
bool xlist_mlsd_plausible(const char *buf, size_t len);
/* Splits a listing buffer into entries, sorted by name. */
int xlist_parse(const char *buf, size_t len, bool mlsd, struct xfer_entry **v,
		size_t *n);
int xlist_sort_cmp(const void *a, const void *b);

#endif
