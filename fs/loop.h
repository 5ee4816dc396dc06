/*
 * loop.h - reelfs's multi-threaded FUSE request loop (see loop.c for why
 * not libfuse's fuse_session_loop_mt).
 */
#ifndef REELFS_LOOP_H
#define REELFS_LOOP_H

#include <fuse_lowlevel.h>

struct rfs_landing;

/* Serves requests with nthreads workers until unmount or rfs_loop_wake
 * (the calling thread only waits). Then calls before_stop(arg) while the
 * workers still serve (so a signal handler's decision can wait for a
 * release on its way), and stops them. land (landing.h; NULL for none)
 * lets writes be framed in place; it must outlive the loop. SIGUSR2 is
 * the loop's own. Returns 0 or a negative errno. */
int rfs_loop(struct fuse_session *se, int nthreads,
	     const struct rfs_landing *land,
	     void (*before_stop)(void *arg), void *arg);
/* Async-signal-safe: makes the running rfs_loop wake up and stop. */
void rfs_loop_wake(void);

#endif
