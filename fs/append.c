/*
 * append.c - writing after reading, as on a real tape: on a loaded tape
 * positioned at the beginning, right after a tape mark or at the end of
 * data, an open for writing starts a new tape file there. The image is
 * replaced by a new one that keeps the old bytes before that point: they
 * are downloaded and uploaded again, streamed through memory (the
 * upload's bounded queue), into NAME.part, which replaces NAME only when
 * the new image is published (mt rewind, offline, unmount). Until then
 * the old image stays whole.
 *
 * APPE is never used: at the end of data the old image still holds its
 * end-of-data marks after the point where the new file begins, and FTP
 * cannot cut a file, so appending to it would leave them in the middle.
 *
 * It refuses, with a sentence, where writing cannot be done safely:
 * inside a tape file (that file would be cut), on a reel of a storeset
 * that goes on (the later reels would become unreachable), after `mt
 * offline` (no tape is loaded).
 */
#include "append.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rdrive.h"
#include "readmode.h"

/* Every drive and volume made here; freed at exit (other threads may
 * still hold a retired one until then). */
struct rfs_made {
	struct rfs_made *next;
	struct drv *drv;
	struct vol *vol;
};

static pthread_mutex_t rfs_app_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rfs_made *rfs_made;
static struct xfer_opts rfs_app_xo;	/* the mount's, overwrite=always */

struct prefix {
	struct vol *vol;
	struct tape_dec *dec;
	uint64_t records;
	unsigned mark_len;
	int rc;
};

static int prefix_event(void *ctx, const struct tape_event *ev)
{
	struct prefix *p = ctx;
	if (ev->kind == TAPE_EV_RECORD) {
		p->records++;
		vol_prefix_record(p->vol, ev->data, ev->len);	/* its labels */
	} else if (ev->kind == TAPE_EV_MARK)
		vol_prefix_mark(p->vol, ev->offset + p->mark_len, p->records);
	return 0;
}

static int prefix_bytes(void *ctx, const void *data, size_t n)
{
	struct prefix *p = ctx;
	int rc = tape_dec_push(p->dec, data, n);
	if (rc < 0)
		return p->rc = -EILSEQ;
	rc = vol_put_prefix(p->vol, data, n);
	return rc < 0 ? (p->rc = rc) : 0;
}

/* The new volume with the old image's first `at` bytes in it. */
static struct vol *open_with_prefix(struct rfs_ctx *c, const struct rdr_append *ap,
				    char *err, size_t errlen)
{
	const struct tape_format *f = ap->format ? ap->format : tape_format_default();
	struct vol_config vc = {
		.url = ap->url, .xfer = &rfs_app_xo, .format = f,
		.storeset_id = ap->storeset[0] ? ap->storeset : NULL,
	};
	(void)c;
	struct vol *v = vol_open(&vc, err, errlen);
	if (!v || ap->offset == 0)
		return v;
	const char *name = tape_format_name(f);
	struct prefix p = {
		.vol = v, .mark_len = !strcmp(name, "aws") || !strcmp(name, "het") ? 6 : 4,
	};
	p.dec = tape_dec_new(f, prefix_event, &p);
	char e[XFER_ERRLEN] = "";
	int rc = p.dec ? xfer_fetch(ap->url, &rfs_app_xo, 0, ap->offset, prefix_bytes,
				    &p, e, sizeof(e)) : -ENOMEM;
	if (!rc && tape_dec_end(p.dec) < 0)
		rc = -EILSEQ;
	if (!rc) {
		struct tape_counts k;
		tape_dec_counts(p.dec, &k);
		vol_prefix_counts(v, &k);
	} else if (rc == -EILSEQ || p.rc == -EILSEQ) {
		snprintf(err, errlen, "the old image is damaged before the point "
			 "where the new file would begin (%s)",
			 tape_dec_error(p.dec));
	} else if (p.rc) {
		snprintf(err, errlen, "%s", vol_error(v));
	} else {
		snprintf(err, errlen, "copying the old image's first %" PRIu64
			 " bytes failed: %s", ap->offset, e[0] ? e : strerror(-rc));
	}
	tape_dec_free(p.dec);
	if (rc) {
		vol_abort(v);
		vol_free(v);
		return NULL;
	}
	return v;
}

int rfs_append_open(struct rfs_ctx *c)
{
	pthread_mutex_lock(&rfs_app_lock);
	int rc = 0;
	if (c->mag) {
		rdrive_refuse(c->rd, "writing on a magazine loaded for reading "
			      "is not supported; nothing was written.");
		rc = -EPERM;
		goto out;
	}
	if (c->unloaded) {
		if (c->drv)
			drv_refuse(c->drv, "no tape is loaded (mt offline unloaded "
				   "it); nothing was written.");
		rc = -EIO;
		goto out;
	}
	struct rdrive *rd = rfs_reader(c);
	if (!rd) {
		rc = -EIO;
		goto out;
	}
	struct rdr_append ap;
	char url[4096], err[XFER_ERRLEN + 300];
	rc = rdrive_append_point(rd, &ap, url, sizeof(url), err, sizeof(err));
	if (rc) {
		rdrive_refuse(rd, "writing refused: %s; nothing was written.", err);
		rc = rc == -EPERM ? -EPERM : -EIO;
		goto out;
	}
	rfs_app_xo = *c->xo;	/* shallow: the mount's strings live on */
	rfs_app_xo.overwrite = XFER_OVERWRITE_ALWAYS;
	rlog(RLOG_INFO, "%s: a new tape file begins at image offset %" PRIu64
	     " (file %" PRIu64 "%s); the old image's bytes before it go into a "
	     "new upload, which replaces the image when it is published (mt "
	     "rewind, offline or unmount)%s.", url, ap.offset, ap.fileno,
	     ap.eod ? ", the end of data" : "",
	     ap.eod || ap.offset == 0 ? "" : "; the tape files after it are "
	     "dropped, as on a tape");
	struct made_pair { struct vol *v; struct drv *d; } np = { 0 };
	np.v = open_with_prefix(c, &ap, err, sizeof(err));
	if (!np.v) {
		rdrive_refuse(rd, "writing after reading failed: %s; nothing was "
			      "written and %s is unchanged.", err, url);
		rc = -EIO;
		goto out;
	}
	struct drv_config dc = {
		.vol = np.v, .block_size = 0, .max_request = c->max_write,
	};
	np.d = drv_new(&dc);
	struct rfs_made *m = np.d ? calloc(1, sizeof(*m)) : NULL;
	if (!m) {
		drv_free(np.d);
		vol_abort(np.v);
		vol_free(np.v);
		rc = -ENOMEM;
		goto out;
	}
	m->drv = np.d;
	m->vol = np.v;
	m->next = rfs_made;
	rfs_made = m;
	c->drv = np.d;	/* the one before stays alive until exit */
out:
	pthread_mutex_unlock(&rfs_app_lock);
	return rc;
}

int rfs_append_finish(struct rfs_ctx *c)
{
	int bad = 0;
	pthread_mutex_lock(&rfs_app_lock);
	for (struct rfs_made *m = rfs_made; m; m = m->next) {
		drv_finish(m->drv, "unmount");
		if (!drv_all_published(m->drv)) {
			rlog(RLOG_ERR, "%s was not published; the image there is "
			     "unchanged.", vol_url(m->vol));
			bad = 1;
		}
	}
	(void)c;
	pthread_mutex_unlock(&rfs_app_lock);
	return bad;
}

void rfs_append_free(void)
{
	pthread_mutex_lock(&rfs_app_lock);
	while (rfs_made) {
		struct rfs_made *m = rfs_made;
		rfs_made = m->next;
		drv_free(m->drv);
		vol_free(m->vol);
		free(m);
	}
	pthread_mutex_unlock(&rfs_app_lock);
}
