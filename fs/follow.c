/*
 * follow.c - the worker that serves a stream of tape writes (or reads)
 * runs on the CPU of the thread that makes them (follow.h; issue 12).
 *
 * Every record is a synchronous hand-off: the writer sleeps in write()
 * while a worker frames the record and replies, and the worker sleeps in
 * its read of /dev/fuse while the writer makes the next one. Only one of
 * the two runs at any time. Left to itself, the kernel wakes each on
 * whichever CPU is idle, so every hand-off wakes a thread on the other
 * CPU: an inter-processor interrupt and, on a virtual machine, an idle
 * vCPU's exit from halt, twice per record. On the writer's CPU the same
 * hand-off is a local context switch; the upload thread and the server
 * keep the other CPUs. Measured on the 2-vCPU development VM (1 GiB to
 * vsftpd on tmpfs, medians of 5 alternating rounds, fs/README "What
 * limits the drive's rate"): tar -b 128 went from about 600-700 MB/s to
 * 850-890, level with `tar | curl -T -`, and used a fifth less CPU.
 *
 * It holds only as long as the writer stays. At each reply the writer is
 * woken while the worker still runs on its CPU, so the scheduler may put
 * it on another CPU that is idle at that instant; with small records
 * (tar -b 20, a reply every 40 us) that happens often enough (hundreds of
 * times a second, 87% of the writer's migrations were at our reply) that
 * following gains little: 207-240 MB/s before, 236-256 after. A writer
 * started with `taskset -c N` cannot move, and there the drive reached
 * 350-376 MB/s at -b 20. Moving the writer ourselves would change
 * another program's affinity behind its back, so we do not.
 *
 * How: on a write or read request, at most every FOLLOW_PERIOD_NS, read
 * which CPU the caller last ran on (/proc/TID/stat, field 39; the caller
 * is asleep in its system call, so that is where it will be woken) and,
 * when it is one of this worker's own CPUs, restrict the worker to it.
 * The caller then stays there too: our reply wakes it on its previous
 * CPU, which is ours. If the scheduler moves it, the next look follows.
 * Nothing else changes affinity, and a worker that parks gets its own
 * back. REELFS_FOLLOW=0 in the daemon's environment turns this off (for
 * benchmarks).
 */
#include "follow.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Looking more often made no difference to the rate (1 and 100 ms were
 * tried), only to the writer's migrations: each look that moves the
 * worker onto the writer's CPU gives the scheduler one more chance to
 * wake the writer on the other, idle one. */
#define FOLLOW_PERIOD_NS (10 * 1000000ULL)

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void rfs_follow_init(struct rfs_follow *f)
{
	memset(f, 0, sizeof(*f));
	f->stat_fd = -1;
	const char *env = getenv("REELFS_FOLLOW");
	if (env && !strcmp(env, "0"))
		return;
	if (sched_getaffinity(0, sizeof(f->base), &f->base) != 0)
		return;	/* over CPU_SETSIZE CPUs: leave the scheduler be */
	f->on = CPU_COUNT(&f->base) > 1;
}

/* The CPU task tid last ran on, or -1. The file stays open while the
 * caller is the same: reading it again from offset 0 gives fresh values
 * for a third of the cost of opening it. */
static int caller_cpu(struct rfs_follow *f, uint32_t tid)
{
	char line[1024];
	if (f->stat_fd < 0 || f->stat_tid != tid) {
		if (f->stat_fd >= 0)
			close(f->stat_fd);
		char path[48];
		snprintf(path, sizeof(path), "/proc/%u/stat", tid);
		f->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
		f->stat_tid = tid;
		if (f->stat_fd < 0)
			return -1;
	}
	ssize_t n = pread(f->stat_fd, line, sizeof(line) - 1, 0);
	if (n <= 0) {
		close(f->stat_fd);	/* the caller is gone */
		f->stat_fd = -1;
		f->stat_tid = 0;
		return -1;
	}
	line[n] = '\0';
	/* The command name may hold spaces and ')': fields count from the
	 * last ')'. After it comes field 3 (state); processor is 39. */
	char *p = strrchr(line, ')');
	if (!p)
		return -1;
	for (int field = 2; field < 39; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
	}
	char *end;
	long cpu = strtol(p + 1, &end, 10);
	if (end == p + 1 || cpu < 0 || cpu >= CPU_SETSIZE)
		return -1;
	return (int)cpu;
}

void rfs_follow_request(struct rfs_follow *f, const struct fuse_in_header *in)
{
	if (!f->on || (in->opcode != FUSE_WRITE && in->opcode != FUSE_READ) ||
	    in->pid == 0)
		return;	/* pid 0: a caller outside our pid namespace */
	uint64_t t = now_ns();
	if (t < f->next_ns)
		return;
	f->next_ns = t + FOLLOW_PERIOD_NS;
	int cpu = caller_cpu(f, in->pid);
	if (cpu < 0 || !CPU_ISSET(cpu, &f->base) || (f->pinned && cpu == f->cpu))
		return;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) != 0) {
		f->on = false;	/* not allowed here (a seccomp profile): stop trying */
		rlog_debug("a FUSE worker cannot follow its caller to CPU %d; it stays where the scheduler puts it.", cpu);
		return;
	}
	f->pinned = true;
	f->cpu = cpu;
}

void rfs_follow_release(struct rfs_follow *f)
{
	if (!f->pinned)
		return;
	sched_setaffinity(0, sizeof(f->base), &f->base);
	f->pinned = false;
	f->next_ns = 0;
}

void rfs_follow_end(void *arg)
{
	struct rfs_follow *f = arg;
	if (f->stat_fd >= 0)
		close(f->stat_fd);
	f->stat_fd = -1;
}
