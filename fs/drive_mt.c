/*
 * drive_mt.c - the mtio side of the drive: MTIOCTOP operations (weof,
 * setblk, the ones that finish the volume, nop; everything else refused
 * with a log line) and the position and status that MTIOCGET/MTIOCPOS
 * report. Status readers only take the short snap lock.
 */
#include "drive_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *drv_op_name(int op)
{
	switch (op) {
	case MTFSF: return "fsf";
	case MTBSF: return "bsf";
	case MTFSR: return "fsr";
	case MTBSR: return "bsr";
	case MTEOM: return "eom";
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

int drv_mtop(struct drv *d, const struct mtop *op)
{
	pthread_mutex_lock(&d->io);
	int rc = 0;
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
	case MTWEOF:
#ifdef MTWEOFI
	case MTWEOFI:
#endif
		if ((rc = drv_gate(d)) || (rc = drv_drain(d)))
			break;
		for (int i = 0; i < op->mt_count && !rc; i++)
			rc = drv_put_mark(d);
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
			rlog(RLOG_ERR, "setblk %d refused: the block size must be "
			     "0 (variable) up to %zu bytes.", op->mt_count,
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
	case MTOFFL:
	case MTUNLOAD:
		rc = drv_finish_locked(d, op->mt_op == MTREW ? "rewind" : "unload");
		break;
	default:
		rlog(RLOG_ERR, "mt %s (operation %d) is not supported by a "
		     "streamed tape; nothing was done.", drv_op_name(op->mt_op),
		     op->mt_op);
		rc = -EINVAL;
	}
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

void drv_last_error(struct drv *d, char *buf, size_t len)
{
	pthread_mutex_lock(&d->snap);
	snprintf(buf, len, "%s", d->errmsg);
	pthread_mutex_unlock(&d->snap);
}
