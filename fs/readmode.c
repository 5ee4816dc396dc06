/*
 * readmode.c - the read drive behind a writing mount: once `mt rewind`
 * (or offline, or unmount's finish) has published the reel, the next
 * read or mt operation loads it from its URL, as a real drive reads back
 * what it just wrote. A read mount has its read drive from the start.
 */
#include "readmode.h"

#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "rdrive.h"

static pthread_mutex_t rfs_rd_lock = PTHREAD_MUTEX_INITIALIZER;

static bool published(struct rfs_ctx *c)
{
	/* A magazine loads its next reel when one ends: it never reads
	 * back what it wrote. */
	if (!c->drv || drv_has_magazine(c->drv))
		return false;
	struct drv_state ds;
	struct vol_status vs;
	drv_get_state(c->drv, &ds);
	/* A magazine unloaded by mt offline loads its next slot for the
	 * next record: it is changing reels, not reading one back. */
	if (!ds.finished || drv_mag_waiting(c->drv))
		return false;
	vol_get_status(drv_vol_hold(c->drv), &vs);
	drv_vol_unhold(c->drv);
	return vs.state == VOL_PUBLISHED;
}

bool rfs_reading(struct rfs_ctx *c)
{
	if (c->drv)
		return !c->unloaded && published(c);
	return c->rd != NULL;
}

/* Read drives replaced by a newer load stay alive until exit: another
 * thread may still be using one. */
struct rfs_old_rd {
	struct rfs_old_rd *next;
	struct rdrive *rd;
};
static struct rfs_old_rd *rfs_old;
static struct vol *rfs_rd_vol;	/* the volume c->rd was loaded from */

struct rdrive *rfs_reader(struct rfs_ctx *c)
{
	pthread_mutex_lock(&rfs_rd_lock);
	struct rdrive *rd = c->rd;
	if (c->drv) {
		/* A writing drive: read only what it has published. */
		struct vol *v = drv_vol_hold(c->drv);
		if (c->unloaded || !published(c)) {
			rd = NULL;
		} else if (!rd || v != rfs_rd_vol) {
			char err[XFER_ERRLEN + 100];
			/* Its URL never holds a password. */
			struct rdrive_config rc = {
				.url = vol_url(v), .xo = c->xo, .format = vol_format(v),
				.max_request = c->max_write, .single = true,
			};
			rd = rdrive_open(&rc, err, sizeof(err));
			if (rd) {
				rlog(RLOG_INFO, "%s is published; loaded for reading.",
				     vol_url(v));
				struct rfs_old_rd *o = c->rd ? malloc(sizeof(*o)) : NULL;
				if (o) {
					o->rd = c->rd;
					o->next = rfs_old;
					rfs_old = o;
				}
				if (c->rd && !o) {
					rdrive_free(rd);
					rd = c->rd;	/* keep what works */
				}
				else {
					c->rd = rd;
					rfs_rd_vol = v;
				}
			} else {
				drv_refuse(c->drv, "loading the published reel for "
					   "reading failed: %s.", err);
			}
		}
		drv_vol_unhold(c->drv);
	}
	pthread_mutex_unlock(&rfs_rd_lock);
	return rd;
}

void rfs_reader_free(struct rfs_ctx *c)
{
	rdrive_free(c->rd);
	c->rd = NULL;
	while (rfs_old) {
		struct rfs_old_rd *o = rfs_old;
		rfs_old = o->next;
		rdrive_free(o->rd);
		free(o);
	}
}
