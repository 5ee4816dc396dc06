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
 * Workers block every signal; the calling thread waits on a semaphore and
 * is the one that takes SIGINT/SIGTERM: the handler (main.c) posts it
 * through rfs_loop_wake, and before_stop runs while the workers still
 * serve (a release on its way can still be processed). Workers can only
 * be cancelled while waiting for a request, never while processing one,
 * so no request is cut in half.
 */
#include "loop.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define RFS_MAX_THREADS 16

struct rfs_pool {
	struct fuse_session *se;
	sem_t done;		/* posted by a worker that saw the end */
	int error;		/* first receive error, negative errno */
	pthread_mutex_t lock;	/* protects error */
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

static void *rfs_worker(void *arg)
{
	struct rfs_pool *pool = arg;
	struct fuse_buf buf = { .mem = NULL };
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_cleanup_push(rfs_free_buf, &buf);
	while (!fuse_session_exited(pool->se)) {
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		int res = fuse_session_receive_buf(pool->se, &buf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
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
			break;
		}
		fuse_session_process_buf(pool->se, &buf);
	}
	sem_post(&pool->done);
	pthread_cleanup_pop(1);
	return NULL;
}

int rfs_loop(struct fuse_session *se, int nthreads,
	     void (*before_stop)(void *arg), void *arg)
{
	struct rfs_pool pool = { .se = se };
	pthread_t tid[RFS_MAX_THREADS];
	int n = 0, rc = 0;
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > RFS_MAX_THREADS)
		nthreads = RFS_MAX_THREADS;
	sem_init(&pool.done, 0, 0);
	pthread_mutex_init(&pool.lock, NULL);

	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (; n < nthreads; n++) {
		int e = pthread_create(&tid[n], NULL, rfs_worker, &pool);
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
	 * EINTR otherwise). */
	while (n > 0 && !fuse_session_exited(se)) {
		if (sem_wait(&pool.done) == 0)
			break;
	}
	if (before_stop)
		before_stop(arg);
	fuse_session_exit(se);
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
	pthread_mutex_destroy(&pool.lock);
	return rc;
}
