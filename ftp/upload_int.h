/*
 * upload_int.h - the transfer object's state, shared by upload.c (open,
 * write, finish, stats), up_send.c (the sending thread and its resumes)
 * and up_publish.c (size check, rename, verify). Not for other files.
 */
#ifndef REELFS_UPLOAD_INT_H
#define REELFS_UPLOAD_INT_H

#include "xfer_int.h"

enum up_state { UP_STARTING, UP_SENDING, UP_DONE };

struct xfer_upload {
	char *display;		/* URL without password, for messages */
	struct xurl u;
	const struct xb_ops *ops;
	void *b;		/* backend state; the sender owns it until DONE */
	bool b_borrowed;	/* b is a published upload's (xfer_put_small_after) */
	char *part;		/* "NAME.part" */
	enum xfer_overwrite overwrite;
	bool name_existed;	/* NAME at open: whether it existed, and its */
	uint64_t name_size;	/* size and time then (publish compares) */
	time_t name_mtime;
	bool verify;
	int retries;
	int progress;		/* 1: draw the progress line */
	struct xq q;
	pthread_t thread;
	pthread_mutex_t join_mu;	/* protects thread_started: abort may
					 * race with finish from another thread */
	bool thread_started;

	pthread_mutex_t mu;	/* protects everything below */
	pthread_cond_t cv;
	enum up_state state;
	bool aborting;
	int rc;			/* sticky: 0, -EIO, -ENOSPC, -EPIPE */
	char err[XFER_ERRLEN];
	bool finished;		/* finish or abort was called */
	uint64_t queued;	/* writer side */
	uint64_t confirmed;
	unsigned reconnects;
	bool published, verified;
	uint32_t crc;		/* --verify: the stream CRC, from q at finish */
	void *reserved;		/* writer side: space given by reserve */
	size_t reserved_len;
	double t0, cpu0;
	double rate_t[2];	/* two samples for rate_now */
	uint64_t rate_b[2];
	double last_draw;
	bool drew;
};

/* Keeps the first error (the sticky one). Call with u->mu held, or before
 * the sending thread runs. */
void up_set_error(struct xfer_upload *u, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The backoff before reconnect attempt n+1: 0.25 s doubling, at most 8. */
double up_delay(int attempt);
/* Sleeps up to secs; false when the upload is being abandoned. */
bool up_backoff(struct xfer_upload *u, double secs);
/* Redraws the progress line (mu held). */
void up_draw(struct xfer_upload *u, bool final);
/* The sending thread. */
void *up_sender(void *arg);
/* After the last byte: SIZE check, rename, --verify. */
int up_publish(struct xfer_upload *u);

#endif
