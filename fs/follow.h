/*
 * follow.h - a FUSE worker runs on the CPU of the thread whose tape
 * writes or reads it serves (issue 12; why and measured: follow.c).
 */
#ifndef REELFS_FOLLOW_H
#define REELFS_FOLLOW_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/fuse.h>

/* One worker's state; its own, no lock. */
struct rfs_follow {
	bool on;		/* following is possible and wanted */
	bool pinned;		/* the affinity is one CPU of ours, not base */
	int cpu;		/* that CPU */
	uint64_t next_ns;	/* no look at the caller before (CLOCK_MONOTONIC) */
	cpu_set_t base;		/* the affinity the worker started with */
	int stat_fd;		/* /proc/stat_tid/stat, open; or -1 */
	uint32_t stat_tid;
};

/* At the worker's start: reads its affinity; off when REELFS_FOLLOW=0 is
 * in the environment, on one CPU, or when the affinity cannot be read. */
void rfs_follow_init(struct rfs_follow *f);
/* A request was read: for a write or a read, at most every 10 ms, moves
 * the calling worker to the CPU its caller last ran on, if the daemon
 * may use that CPU. Cheap otherwise (a clock read). */
void rfs_follow_request(struct rfs_follow *f, const struct fuse_in_header *in);
/* The worker parks (another one reads): its own affinity back, so an
 * idle thread is never held on one CPU. */
void rfs_follow_release(struct rfs_follow *f);
/* The worker leaves (a cleanup handler: arg is the struct rfs_follow). */
void rfs_follow_end(void *arg);

#endif
