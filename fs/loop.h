/*
 * loop.h - reelfs's multi-threaded FUSE request loop (see loop.c for why
 * not libfuse's fuse_session_loop_mt).
 */
#ifndef REELFS_LOOP_H
#define REELFS_LOOP_H

#include <fuse_lowlevel.h>

/* Serves requests with nthreads workers until unmount or a signal
 * (fuse_set_signal_handlers must be installed; the calling thread only
 * waits). Returns 0 or a negative errno. */
int rfs_loop(struct fuse_session *se, int nthreads);

#endif
