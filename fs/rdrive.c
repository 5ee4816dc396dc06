/*
 * rdrive.c - the drive in read mode (rdrive.h): st's reading semantics,
 * the mtio operations that position, and MOUNT/status, over a loaded
 * tape (reader.c).
 *
 * Locking: io serialises reads and mt operations (it is held while the
 * reader downloads); snap is short and protects the snapshot that status,
 * MTIOCGET and MTIOCPOS copy, so they never wait behind a download.
 * Order: io, snap.
 *
 * What a read request gets is rdrive_read.c's.
 */
#include "rdrive_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "log.h"
#include "reclimit.h"
#include "safetext.h"

static void snapshot(struct rdrive *rd)
{
	struct rdr_pos p;
	struct rdr_stats s;
	rdr_get_pos(rd->r, &p);
	rdr_get_stats(rd->r, &s);
	pthread_mutex_lock(&rd->snap);
	rd->pos = p;
	rd->stats = s;
	/* The strings change only with the reel (or once the format is
	 * sniffed): not copied on every read. */
	if (p.reel != rd->snap_reel || !rd->format[0]) {
		rd->snap_reel = p.reel;
		snprintf(rd->url, sizeof(rd->url), "%s", s.url ? s.url : "");
		snprintf(rd->format, sizeof(rd->format), "%s", s.format ? s.format : "");
	}
	rd->stats.url = NULL;
	rd->stats.format = NULL;
	rd->snap_block = rd->block_size;
	pthread_mutex_unlock(&rd->snap);
}

void rdrive_refuse(struct rdrive *rd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rlog(RLOG_INFO, "%s", msg);
	pthread_mutex_lock(&rd->snap);
	snprintf(rd->note, sizeof(rd->note), "%s", msg);
	pthread_mutex_unlock(&rd->snap);
}

/* A read or positioning failure: the reader's sentence (it names the
 * position), logged once per distinct sentence. io held. */
int rdrive_failure(struct rdrive *rd, int rc)
{
	const char *why = rdr_error(rd->r);
	if (strncmp(rd->logged, why, sizeof(rd->logged) - 1) != 0) {
		snprintf(rd->logged, sizeof(rd->logged), "%s", why);
		rlog(RLOG_ERR, "%s.", why);
	}
	pthread_mutex_lock(&rd->snap);
	snprintf(rd->note, sizeof(rd->note), "%s", why);
	rd->failed = true;
	pthread_mutex_unlock(&rd->snap);
	return rc == -ENOMEM ? -ENOMEM : -EIO;
}

struct rdrive *rdrive_open(const struct rdrive_config *c, char *err, size_t errlen)
{
	struct rdrive *rd = calloc(1, sizeof(*rd));
	if (!rd) {
		snprintf(err, errlen, "out of memory loading the tape");
		return NULL;
	}
	struct rdr_config rc = { .url = c->url, .xo = c->xo, .format = c->format,
				 .single = c->single };
	rd->r = rdr_open(&rc, err, errlen);
	if (!rd->r) {
		free(rd);
		return NULL;
	}
	pthread_mutex_init(&rd->io, NULL);
	pthread_mutex_init(&rd->snap, NULL);
	rd->block_size = c->block_size;
	rd->xo = c->xo;
	rd->max_request = c->max_request ? c->max_request : 1u << 20;
	snapshot(rd);
	return rd;
}

void rdrive_free(struct rdrive *rd)
{
	if (!rd)
		return;
	rdr_free(rd->r);
	free(rd->scratch);
	pthread_mutex_destroy(&rd->io);
	pthread_mutex_destroy(&rd->snap);
	free(rd);
}

void rdrive_set_max_request(struct rdrive *rd, size_t n)
{
	pthread_mutex_lock(&rd->io);
	rd->max_request = n;
	pthread_mutex_unlock(&rd->io);
}

/* ---- reading -------------------------------------------------------------- */

int rdrive_read(struct rdrive *rd, uint64_t id, size_t size, off_t off,
		rdrive_reply_fn reply, void *ctx)
{
	rlog_debug("tape read request: %zu bytes at offset %jd.", size,
		   (intmax_t)off);
	pthread_mutex_lock(&rd->io);
	rd->reader = id;
	int rc = rd->block_size ? rdrive_read_fixed(rd, id, size, off, reply, ctx)
				: rdrive_read_variable(rd, id, size, off, reply, ctx);
	snapshot(rd);
	pthread_mutex_unlock(&rd->io);
	return rc;
}

void rdrive_flush(struct rdrive *rd, uint64_t id)
{
	pthread_mutex_lock(&rd->io);
	if (id && rd->reader == id) {
		rd->reader = 0;
		struct rdr_pos p;
		rdr_get_pos(rd->r, &p);
		if (!p.after_mark && !p.eod) {
			rdrive_drop_partial(rd);
			if (rdr_space_files(rd->r, 1) < 0)
				rlog(RLOG_INFO, "spacing to the next file at close: %s.",
				     rdr_error(rd->r));
		}
		snapshot(rd);
	}
	pthread_mutex_unlock(&rd->io);
}

/* ---- mt ------------------------------------------------------------------ */

void rdrive_set_changer(struct rdrive *rd, const struct rdrive_changer *c)
{
	rd->changer = *c;
}

/* mt offline with a magazine's changer: the next slot's reel is loaded,
 * at its start, read alone. io held. */
static int rdrive_change(struct rdrive *rd)
{
	char err[XFER_ERRLEN + 200] = "";
	char *url = rd->changer.next_url(rd->changer.ctx, err, sizeof(err));
	struct rdr *r = NULL;
	if (url) {
		struct rdr_config rc = { .url = url, .xo = rd->xo, .single = true };
		r = rdr_open(&rc, err, sizeof(err));
	}
	if (!r) {
		free(url);
		rlog(RLOG_ERR, "mt offline: the magazine cannot load its next "
		     "reel: %s.", err);
		pthread_mutex_lock(&rd->snap);
		snprintf(rd->note, sizeof(rd->note), "mt offline: the magazine "
			 "cannot load its next reel: %s", err);
		pthread_mutex_unlock(&rd->snap);
		return -EIO;
	}
	rdr_free(rd->r);
	rd->r = r;
	rd->logged[0] = '\0';
	rd->changer.loaded(rd->changer.ctx, url);
	free(url);
	return 0;
}

int rdrive_mtop(struct rdrive *rd, const struct mtop *op)
{
	int rc = 0;
	int64_t n = op->mt_count;
	pthread_mutex_lock(&rd->io);
	rdrive_drop_partial(rd);
	rd->reader = 0;
	if ((op->mt_op == MTOFFL || op->mt_op == MTUNLOAD) &&
	    rd->changer.next_url) {
		rc = rdrive_change(rd);
		snapshot(rd);
		pthread_mutex_unlock(&rd->io);
		return rc;
	}
	switch (op->mt_op) {
	case MTNOP:
		break;
	case MTREW:
	case MTOFFL:
#ifdef MTUNLOAD
	case MTUNLOAD:
#endif
		rc = rdr_rewind(rd->r);
		break;
	case MTFSF:
		rc = rdr_space_files(rd->r, n);
		break;
	case MTBSF:
		rc = rdr_space_files(rd->r, -n);
		break;
	case MTFSFM:
		/* Forward over n marks, then back before the last one. */
		rc = rdr_space_files(rd->r, n);
		if (!rc && n > 0)
			rc = rdr_space_files(rd->r, -1);
		break;
	case MTBSFM:
		rc = rdr_space_files(rd->r, -n);
		if (!rc && n > 0)
			rc = rdr_space_files(rd->r, 1);
		break;
	case MTFSR:
		rc = rdr_space_records(rd->r, n);
		break;
	case MTBSR:
		rc = rdr_space_records(rd->r, -n);
		break;
	case MTEOM:
		rc = rdr_eod(rd->r);
		break;
	case MTSEEK:
		if (n < 0) {
			rdrive_refuse(rd, "mt seek %" PRId64 " refused: a block "
				      "number is 0 or more.", n);
			rc = -EINVAL;
			break;
		}
		rc = rdr_seek(rd->r, (uint64_t)n);
		break;
	case MTSETBLK: {
		const struct tape_format *f = rdr_format(rd->r);
		size_t max = f ? rfs_max_record(f) : RFS_MAX_RECORD;
		if (n < 0 || (uint64_t)n > max) {
			rdrive_refuse(rd, "mt setblk %" PRId64 " refused: the block "
				      "size must be 0 (variable) up to %zu bytes.",
				      n, max);
			rc = -EINVAL;
			break;
		}
		rd->block_size = (size_t)n;
		break;
	}
	default:
		rdrive_refuse(rd, "mt %s (operation %d) is not supported on a "
			      "loaded tape; nothing was done.", drv_op_name(op->mt_op),
			      op->mt_op);
		rc = -EINVAL;
	}
	if (rc && rc != -EINVAL) {
		char why[XFER_ERRLEN + 300];
		snprintf(why, sizeof(why), "mt %s %d: %s", drv_op_name(op->mt_op),
			 op->mt_count, rdr_error(rd->r));
		rlog(RLOG_INFO, "%s.", why);
		pthread_mutex_lock(&rd->snap);
		snprintf(rd->note, sizeof(rd->note), "%s", why);
		pthread_mutex_unlock(&rd->snap);
		rc = rc == -ENOMEM ? -ENOMEM : -EIO;
	}
	snapshot(rd);
	pthread_mutex_unlock(&rd->io);
	return rc;
}

void rdrive_mtget(struct rdrive *rd, struct mtget *g)
{
	pthread_mutex_lock(&rd->snap);
	struct rdr_pos p = rd->pos;
	size_t bs = rd->snap_block;
	pthread_mutex_unlock(&rd->snap);
	memset(g, 0, sizeof(*g));
	g->mt_type = MT_ISSCSI2;
	g->mt_dsreg = (long)((bs << MT_ST_BLKSIZE_SHIFT) & MT_ST_BLKSIZE_MASK);
	g->mt_fileno = (int)p.fileno;
	g->mt_blkno = (int)p.blkno;
	long st = GMT_ONLINE(~0L);
	if (p.bot)
		st |= GMT_BOT(~0L);
	if (p.after_mark && p.fileno > 0 && p.blkno == 0 && !p.eod)
		st |= GMT_EOF(~0L);
	if (p.eod)
		st |= GMT_EOD(~0L);
	g->mt_gstat = st;
}

void rdrive_mtpos(struct rdrive *rd, struct mtpos *p)
{
	pthread_mutex_lock(&rd->snap);
	p->mt_blkno = rd->pos.block >= 0 ? (long)rd->pos.block : -1;
	pthread_mutex_unlock(&rd->snap);
}

uint64_t rdrive_image_bytes(struct rdrive *rd)
{
	pthread_mutex_lock(&rd->snap);
	uint64_t n = rd->stats.image_bytes;
	pthread_mutex_unlock(&rd->snap);
	return n;
}

int rdrive_append_point(struct rdrive *rd, struct rdr_append *out, char *url,
			size_t urllen, char *err, size_t errlen)
{
	pthread_mutex_lock(&rd->io);
	rdrive_drop_partial(rd);
	int rc = rdr_append_point(rd->r, out);
	if (rc)
		snprintf(err, errlen, "%s", rdr_error(rd->r));
	else
		snprintf(url, urllen, "%s", out->url);
	out->url = url;
	snapshot(rd);
	pthread_mutex_unlock(&rd->io);
	return rc;
}

bool rdrive_failed(struct rdrive *rd)
{
	pthread_mutex_lock(&rd->snap);
	bool f = rd->failed;
	pthread_mutex_unlock(&rd->snap);
	return f;
}

char *rdrive_status(struct rdrive *rd, size_t *len)
{
	pthread_mutex_lock(&rd->snap);
	struct rdr_pos p = rd->pos;
	struct rdr_stats s = rd->stats;
	char url[sizeof(rd->url) * 4], err[sizeof(rd->note) * 4];
	safetext(rd->url, url, sizeof(url));
	safetext(rd->note, err, sizeof(err));
	char fmt[16];
	snprintf(fmt, sizeof(fmt), "%s", rd->format[0] ? rd->format : "unknown");
	size_t bs = rd->snap_block;
	bool failed = rd->failed;
	pthread_mutex_unlock(&rd->snap);

	char blk[32], lblk[32];
	snprintf(blk, sizeof(blk), p.blkno >= 0 ? "%" PRId64 : "unknown", p.blkno);
	snprintf(lblk, sizeof(lblk), p.block >= 0 ? "%" PRId64 : "unknown", p.block);
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	if (!f)
		return NULL;
	fprintf(f, "url: %s\nmode: read\nformat: %s\nstate: %s\nreel: %u\n"
		"file: %" PRIu64 "\nblock: %s\nposition: %s\noffset: %" PRIu64
		"\nblock_size: %zu\nimage_bytes: %" PRIu64 "\ndownloaded: %" PRIu64
		"\nresumes: %u\njumps: %u\nmanifest: %s\nlast_error: %s\n",
		url, fmt, p.eod ? "end of data" : failed ? "failed" : "loaded",
		p.reel, p.fileno, blk, lblk, p.offset, bs, s.image_bytes,
		s.downloaded, s.resumes, s.jumps,
		s.indexed ? "indexed" : s.manifest ? "yes" : "none", err);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	*len = n;
	return out;
}
