/*
 * loop.c - a fixed pool of threads that read FUSE requests and process
 * them, all reading the one /dev/fuse descriptor.
 *
 * Why not fuse_session_loop_mt: with libfuse 3.14 it measured 2x slower
 * here than a plain loop for a stream of 64 KiB writes (300-350 MB/s vs
 * 650-870 MB/s into a tmpfs file), whatever its thread settings, and it
 * warns about max threads with its defaults. A fixed pool needs no thread
 * creation on the hot path. Several threads are needed because a write
 * may block on upload back-pressure (or an mt offline on publishing)
 * while `status` and `mt status` must still be answered.
 *
 * Leader and followers (issue 12.3): one thread at a time reads
 * /dev/fuse; the others are parked. The thread that has just replied
 * reads the next request itself when nobody else is reading, so a stream
 * of writes is served by one thread with a warm cache, as a single-thread
 * loop would (with all four in read(), the kernel woke them in turn, and
 * the daemon spent about 30% more CPU per GiB). A watchdog, the calling
 * thread, wakes a parked one whenever a request has been in processing
 * for a tick (RFS_TICK_MS) with nobody reading: a blocked write delays
 * a `status` read by at most two ticks, never forever.
 *
 * Frame in place (issue 12.1, landing.c): when no request is in
 * processing, the leader arms the drive's landing and reads the next
 * request with a write's payload going straight into the upload queue.
 * The drive stays held (drive_land.c) until that request is handled, so
 * nothing else queues bytes in between; only this thread could, since
 * nobody else reads or processes meanwhile. The one exception is the
 * calling thread at a signal, before before_stop touches the drive: it
 * turns landing off and kicks an armed leader out of its read with
 * SIGUSR2 (unblocked in workers, no SA_RESTART), again every 10 ms until
 * it has disarmed (a kick just before the read would be missed).
 *
 * Workers block every other signal; the calling thread waits on a semaphore and
 * is the one that takes SIGINT/SIGTERM: the handler (main.c) posts it
 * through rfs_loop_wake, and before_stop runs while the workers still
 * serve (a release on its way can still be processed). Workers can only
 * be cancelled while waiting for a request, never while processing one,
 * so no request is cut in half.
 */
#include "loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "follow.h"
#include "fuseio.h"
#include "landing.h"
#include "log.h"

#define RFS_MAX_THREADS 16
#define RFS_TICK_MS 20

struct rfs_pool {
	struct fuse_session *se;
	sem_t done;		/* posted by a worker that saw the end */
	int error;		/* first receive error, negative errno */
	pthread_mutex_t lock;	/* protects all below */
	pthread_cond_t spare;	/* parked workers wait here */
	bool reading;		/* a worker is in (or going to) read() */
	bool stopping;		/* parked workers leave */
	bool all_read;		/* no leader: every idle worker reads */
	unsigned parked;	/* workers waiting on spare */
	unsigned busy;		/* workers processing a request */
	uint64_t started;	/* requests taken into processing so far */
	const struct rfs_landing *land;	/* NULL: never frame in place */
	bool no_landing;	/* the calling thread is stopping the drive */
	bool armed;		/* a worker reads with the landing armed */
	pthread_t armed_tid;
	pthread_cond_t unarmed;	/* armed became false */
};

/* The running loop's semaphore, for rfs_loop_wake (a signal handler). */
static sem_t *volatile rfs_wake_sem;

void rfs_loop_wake(void)
{
	sem_t *s = rfs_wake_sem;
	if (s)
		sem_post(s);	/* async-signal-safe */
}

static void rfs_free_buf(void *p)
{
	struct fuse_buf *b = p;
	free(b->mem);
	b->mem = NULL;
}

/* Waits until nobody reads, then becomes the reader; false to leave. */
static bool rfs_take_lead(struct rfs_pool *pool, struct rfs_follow *f)
{
	pthread_mutex_lock(&pool->lock);
	while (pool->reading && !pool->stopping && !pool->all_read) {
		if (f->pinned) {
			pthread_mutex_unlock(&pool->lock);
			rfs_follow_release(f);
			pthread_mutex_lock(&pool->lock);
			continue;
		}
		pool->parked++;
		pthread_cond_wait(&pool->spare, &pool->lock);
		pool->parked--;
	}
	bool lead = !pool->stopping;
	if (lead)
		pool->reading = true;
	pthread_mutex_unlock(&pool->lock);
	return lead;
}

static void rfs_stop_parked(struct rfs_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->spare);
	pthread_mutex_unlock(&pool->lock);
}

static void rfs_unarm(struct rfs_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	pool->armed = false;
	pthread_cond_broadcast(&pool->unarmed);
	pthread_mutex_unlock(&pool->lock);
}

/* The leader, before it reads: arms the landing when no request is in
 * processing (see above). */
static bool rfs_arm(struct rfs_pool *pool, void **land, size_t *room)
{
	if (!pool->land)
		return false;
	pthread_mutex_lock(&pool->lock);
	bool ok = pool->busy == 0 && !pool->no_landing;
	if (ok) {
		pool->armed = true;
		pool->armed_tid = pthread_self();
	}
	pthread_mutex_unlock(&pool->lock);
	if (ok && pool->land->arm(pool->land->ctx, land, room) == 0)
		return true;
	if (ok)
		rfs_unarm(pool);
	return false;
}

/* A cancel can only come in a read (at the end, after the kick). */
struct rfs_armed_read {
	struct rfs_pool *pool;
	bool armed;
};

static void rfs_cancel_armed(void *p)
{
	struct rfs_armed_read *a = p;
	if (a->armed) {
		a->pool->land->disarm(a->pool->land->ctx);
		rfs_unarm(a->pool);
	}
}

static void rfs_free_spill(void *p)
{
	struct rfs_spill *s = p;
	free(s->mem);
	s->mem = NULL;
}

/* A write read with the landing armed: the drive takes it, or libfuse
 * processes it as any other request. */
static void rfs_landed_write(struct rfs_pool *pool, struct rfs_land_req *req,
			     struct rfs_spill *spill)
{
	const struct rfs_landing *l = pool->land;
	int res;
	if (l->write(l->ctx, req->u.w.in.nodeid, &req->u.w.wi, req->land, &res)) {
		rfs_land_reply(pool->se, req, res);
		l->after(l->ctx);	/* the writer goes on meanwhile */
		return;
	}
	l->disarm(l->ctx);
	struct fuse_buf b;
	if (rfs_land_spill(req, spill, &b) == 0)
		fuse_session_process_buf(pool->se, &b);
	else
		rfs_land_reply(pool->se, req, -ENOMEM);
}

static void *rfs_worker(void *arg)
{
	struct rfs_pool *pool = arg;
	struct fuse_buf buf = { .mem = NULL };
	struct rfs_spill spill = { NULL, 0 };
	struct rfs_land_req req;
	struct rfs_armed_read ar = { .pool = pool };
	struct rfs_follow follow;
	rfs_follow_init(&follow);
	sigset_t kick;
	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_cleanup_push(rfs_free_buf, &buf);
	pthread_cleanup_push(rfs_free_spill, &spill);
	pthread_cleanup_push(rfs_cancel_armed, &ar);
	pthread_cleanup_push(rfs_follow_end, &follow);
	while (!fuse_session_exited(pool->se) && rfs_take_lead(pool, &follow)) {
		void *land = NULL;
		size_t room = 0;
		ar.armed = rfs_arm(pool, &land, &room);
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		int res = ar.armed ? (int)rfs_land_read(pool->se, &req, land, room)
				   : fuse_session_receive_buf(pool->se, &buf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		struct fuse_buf *todo = &buf, sbuf;
		bool landed = false;
		if (ar.armed) {
			ar.armed = false;
			rfs_unarm(pool);
			landed = res > 0 && rfs_land_is_write(&req);
			rfs_fuseio_note(NULL, 0);	/* a spilled read is noted below */
			if (!landed) {
				pool->land->disarm(pool->land->ctx);
				todo = &sbuf;
				if (res > 0 && rfs_land_spill(&req, &spill, &sbuf) < 0) {
					rfs_land_reply(pool->se, &req, -ENOMEM);
					res = -EAGAIN;	/* answered */
				} else if (res > 0) {
					rfs_fuseio_note(sbuf.mem, (ssize_t)sbuf.size);
				}
			}
		}
		pthread_mutex_lock(&pool->lock);
		pool->reading = false;
		if (res > 0) {
			pool->busy++;
			pool->started++;
		}
		pthread_mutex_unlock(&pool->lock);
		if (res == -EINTR || res == -EAGAIN)
			continue;
		if (res <= 0) {
			/* -ENODEV: unmounted; 0: the device closed. */
			if (res < 0 && res != -ENODEV) {
				pthread_mutex_lock(&pool->lock);
				if (!pool->error)
					pool->error = res;
				pthread_mutex_unlock(&pool->lock);
			}
			fuse_session_exit(pool->se);
			rfs_stop_parked(pool);
			break;
		}
		/* Both hold the request's header first (splice is off). */
		rfs_follow_request(&follow, landed ? &req.u.w.in
					  : (const struct fuse_in_header *)todo->mem);
		if (landed)
			rfs_landed_write(pool, &req, &spill);
		else
			fuse_session_process_buf(pool->se, todo);
		pthread_mutex_lock(&pool->lock);
		pool->busy--;
		pthread_mutex_unlock(&pool->lock);
	}
	sem_post(&pool->done);
	pthread_cleanup_pop(1);
	pthread_cleanup_pop(1);
	pthread_cleanup_pop(1);
	pthread_cleanup_pop(1);
	return NULL;
}

/* The watchdog's tick: a parked worker takes the lead when the same
 * request has been in processing since the last tick with nobody
 * reading (it may be blocked, and requests would wait behind it). */
static void rfs_watch(struct rfs_pool *pool, uint64_t *seen)
{
	pthread_mutex_lock(&pool->lock);
	if (!pool->reading && pool->busy && pool->parked &&
	    pool->started == *seen)
		pthread_cond_signal(&pool->spare);
	*seen = pool->started;
	pthread_mutex_unlock(&pool->lock);
}

static void rfs_kick_handler(int sig)
{
	(void)sig;	/* only interrupts the read: see above */
}

/* Calling thread: no more landings; an armed leader leaves its read. */
static void rfs_end_landing(struct rfs_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	pool->no_landing = true;
	while (pool->armed) {
		pthread_kill(pool->armed_tid, SIGUSR2);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&pool->unarmed, &pool->lock, &ts);
	}
	pthread_mutex_unlock(&pool->lock);
}

int rfs_loop(struct fuse_session *se, int nthreads,
	     const struct rfs_landing *land,
	     void (*before_stop)(void *arg), void *arg)
{
	struct rfs_pool pool = { .se = se, .land = land };
	pthread_t tid[RFS_MAX_THREADS];
	int n = 0, rc = 0;
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > RFS_MAX_THREADS)
		nthreads = RFS_MAX_THREADS;
	sem_init(&pool.done, 0, 0);
	pthread_mutex_init(&pool.lock, NULL);
	pthread_cond_init(&pool.spare, NULL);
	pthread_cond_init(&pool.unarmed, NULL);
	if (land) {
		struct sigaction sa = { .sa_handler = rfs_kick_handler };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR2, &sa, NULL);	/* no SA_RESTART */
	}

	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (; n < nthreads; n++) {
		int e = pthread_create(&tid[n], NULL, rfs_worker, &pool);
		if (e == 0)
			pthread_setname_np(tid[n], "reelfs-fuse");
		if (e) {
			rlog(RLOG_ERR, "cannot start a FUSE worker thread (%s).",
			     strerror(e));
			rc = -e;
			break;
		}
	}
	rfs_wake_sem = &pool.done;
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	/* Wait for unmount (a worker posts) or a signal (its handler posts;
	 * EINTR otherwise), watching for blocked requests every tick. */
	uint64_t seen = 0;
	while (n > 0 && !fuse_session_exited(se)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += RFS_TICK_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		if (sem_timedwait(&pool.done, &ts) == 0)
			break;
		if (errno == ETIMEDOUT)
			rfs_watch(&pool, &seen);
	}
	rfs_end_landing(&pool);
	/* before_stop may wait for requests on their way, and the watchdog
	 * stops: every idle worker reads from now on, as before leaders. */
	pthread_mutex_lock(&pool.lock);
	pool.all_read = true;
	pthread_cond_broadcast(&pool.spare);
	pthread_mutex_unlock(&pool.lock);
	if (before_stop)
		before_stop(arg);
	fuse_session_exit(se);
	rfs_stop_parked(&pool);
	for (int i = 0; i < n; i++)
		pthread_cancel(tid[i]);	/* takes effect only in a receive */
	for (int i = 0; i < n; i++)
		pthread_join(tid[i], NULL);
	if (!rc)
		rc = pool.error;
	pthread_sigmask(SIG_BLOCK, &all, &old);	/* no handler posts now */
	rfs_wake_sem = NULL;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sem_destroy(&pool.done);
	pthread_cond_destroy(&pool.spare);
	pthread_cond_destroy(&pool.unarmed);
	pthread_mutex_destroy(&pool.lock);
	return rc;
}
