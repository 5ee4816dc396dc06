/*
 * drive_mt.c - the mtio side of the drive: MTIOCTOP operations (weof,
 * setblk, the ones that finish the volume, nop; everything else refused
 * with a log line) and the position and status that MTIOCGET/MTIOCPOS
 * report. Status readers only take the short snap lock.
 */
#include "drive_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

const char *drv_op_name(int op)
{
	switch (op) {
	case MTWEOF: return "weof";
	case MTREW: return "rewind";
	case MTOFFL: return "offline";
	case MTEOM: return "eod";
	case MTSETBLK: return "setblk";
	case MTFSF: return "fsf";
	case MTBSF: return "bsf";
	case MTFSR: return "fsr";
	case MTBSR: return "bsr";
	case MTFSFM: return "fsfm";
	case MTBSFM: return "bsfm";
	case MTFSS: return "fss";
	case MTBSS: return "bss";
	case MTERASE: return "erase";
	case MTRETEN: return "retension";
	case MTSEEK: return "seek";
	case MTLOAD: return "load";
	case MTLOCK: return "lock";
	case MTUNLOCK: return "unlock";
	case MTSETDRVBUFFER: return "drvbuffer";
	case MTSETDENSITY: return "setdensity";
	default: return "this";
	}
}

/* Operations that space over tape files or records. */
static bool drv_is_space_op(int op)
{
	return op == MTFSF || op == MTFSFM || op == MTFSR || op == MTBSF ||
	       op == MTBSFM || op == MTBSR || op == MTFSS || op == MTBSS;
}

/* mt-st's `asf N` is MTREW then MTFSF N on the same descriptor; it must
 * be refused before the rewind finishes the volume. So a rewind takes
 * effect at the close of its open, or at the next operation that is not
 * a forward space from that open (drv_settle_rewind). io held. */
static int drv_rewind(struct drv *d, uint64_t id)
{
	if (d->finish_done)
		return d->finish_rc;
	/* What can fail before publishing fails here, as on a drive that
	 * writes its buffer out before it rewinds. */
	int rc = drv_gate(d);
	if (!rc)
		rc = drv_drain(d);
	if (!rc && drv_sync_upload(d) == -EIO)
		rc = -EIO;
	/* Even after a failure: the volume still ends at this open's close
	 * (as NAME.part when it cannot be completed). */
	d->rew_pending = id;
	return rc;
}

int drv_mtop(struct drv *d, const struct mtop *op, uint64_t id, bool writer)
{
	int rc = 0;
	pthread_mutex_lock(&d->wlock);
	if (!writer) {
		/* `mt weof` right after the writer's close: its release
		 * writes the writer's mark first. */
		drv_await_release(d, 2000, false);
	}
	rc = d->release_err;
	d->release_err = 0;
	pthread_mutex_unlock(&d->wlock);
	if (rc)
		return rc;
	pthread_mutex_lock(&d->io);
	if (d->rew_pending && d->rew_pending == id && drv_is_space_op(op->mt_op)) {
		d->rew_pending = 0;
		if (op->mt_op == MTFSF)
			drv_refuse(d, "mt asf %d (rewind, then space forward over "
				   "%d tape files) is not supported by this "
				   "write-only drive; nothing was done: the volume "
				   "was not rewound and stays open for writing.",
				   op->mt_count, op->mt_count);
		else
			drv_refuse(d, "mt %s after a rewind is not supported by "
				   "this write-only drive; nothing was done: the "
				   "volume was not rewound and stays open for "
				   "writing.", drv_op_name(op->mt_op));
		rc = -EINVAL;
		goto out;
	}
	if ((op->mt_op != MTREW || d->rew_pending != id) &&
	    (rc = drv_settle_rewind(d)) != 0)
		goto out;
	switch (op->mt_op) {
	case MTNOP:
		/* As st flushes its buffer on MTNOP: hand on a held record,
		 * let it go out and report a transfer that failed behind the
		 * writer. */
		rc = drv_commit_held(d);
		if (!rc && drv_sync_upload(d) == -EIO)
			rc = -EIO;
		if (!rc)
			rc = drv_sticky(d);
		break;
	case MTEOM:
		/* A write-only drive is always at the end of its data. */
		if (!(rc = drv_gate(d)))
			rc = drv_commit_held(d);
		break;
	case MTWEOF:
#ifdef MTWEOFI
	case MTWEOFI:
#endif
		if (op->mt_count < 0 || op->mt_count > DRV_MAX_WEOF) {
			drv_refuse(d, "mt weof %d refused: the count must be 0 to "
				   "%d tape marks; nothing was written.",
				   op->mt_count, DRV_MAX_WEOF);
			rc = -EINVAL;
			break;
		}
		if ((op->mt_count && (rc = drv_mag_load(d))) ||
		    (rc = drv_gate(d)) || (rc = drv_drain(d)))
			break;
		for (int i = 0; i < op->mt_count && !rc; i++) {
			if (atomic_load(&d->stop)) {
				drv_refuse(d, "mt weof %d stopped after %d tape "
					   "marks: reelfs is stopping on a signal.",
					   op->mt_count, i);
				rc = -EIO;
				break;
			}
			rc = drv_put_mark(d);
		}
		/* A drive writes filemarks synchronously: the buffer goes to
		 * the medium first. The next reel does that itself. */
		if (!rc && d->chain_fd < 0) {
			int prc = drv_sync_upload(d);
			if (prc == -EIO)
				rc = -EIO;
			else if (d->loss_pending)
				rc = drv_report_loss(d);
		}
		break;
	case MTSETBLK: {
		if ((rc = drv_gate(d)) || (rc = drv_drain(d)))
			break;
		size_t n = (size_t)op->mt_count;
		if (op->mt_count < 0 || n > drv_max_record(d)) {
			drv_refuse(d, "mt setblk %d refused: the block size must "
				   "be 0 (variable) up to %zu bytes.", op->mt_count,
				   drv_max_record(d));
			rc = -EINVAL;
			break;
		}
		tape_reblock_free(d->rb);
		d->rb = n ? tape_reblock_new(n, true, drv_emit, d) : NULL;
		if (n && !d->rb)
			rc = -ENOMEM;
		pthread_mutex_lock(&d->snap);
		d->st.block_size = d->rb ? n : 0;
		pthread_mutex_unlock(&d->snap);
		break;
	}
	case MTREW:
		rc = drv_rewind(d, id);
		break;
	case MTOFFL:
	case MTUNLOAD:
		rc = drv_finish_locked(d, "unload");
		if (!rc && d->mag && !d->unloaded)
			drv_mag_unload(d);	/* a magazine loads the next */
		break;
	default:
		drv_refuse(d, "mt %s (operation %d) is not supported by a "
			   "streamed tape; nothing was done.",
			   drv_op_name(op->mt_op), op->mt_op);
		rc = -EINVAL;
	}
out:
	pthread_mutex_unlock(&d->io);
	return rc;
}

void drv_get_state(struct drv *d, struct drv_state *out)
{
	pthread_mutex_lock(&d->snap);
	*out = d->st;
	pthread_mutex_unlock(&d->snap);
}

void drv_mtget(struct drv *d, struct mtget *g)
{
	struct drv_state s;
	drv_get_state(d, &s);
	memset(g, 0, sizeof(*g));
	g->mt_type = MT_ISSCSI2;
	g->mt_dsreg = (long)((s.block_size << MT_ST_BLKSIZE_SHIFT) &
			     MT_ST_BLKSIZE_MASK);
	g->mt_fileno = (int)s.fileno;
	g->mt_blkno = (int)s.blkno;
	long st = 0;
	if (!s.finished)
		st |= GMT_ONLINE(~0L);
	else
		st |= GMT_WR_PROT(~0L);
	if (s.at_bot && !s.finished)
		st |= GMT_BOT(~0L);
	if (s.at_eof)
		st |= GMT_EOF(~0L);
	if (s.at_eot)
		st |= GMT_EOT(~0L);
	g->mt_gstat = st;
}

void drv_mtpos(struct drv *d, struct mtpos *p)
{
	struct drv_state s;
	drv_get_state(d, &s);
	p->mt_blkno = (long)(s.blocks + s.fileno);
}

bool drv_last_error(struct drv *d, char *buf, size_t len)
{
	pthread_mutex_lock(&d->snap);
	bool sticky = d->err != 0;
	snprintf(buf, len, "%s", sticky ? d->errmsg : d->note);
	pthread_mutex_unlock(&d->snap);
	return sticky;
}
