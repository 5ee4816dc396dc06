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
 * offline` (no tape is loaded), and past the beginning of a labelled
 * tape (VOL1 first): the file would be unlabelled and follow the labels'
 * end of volume, breaking the label sequence VMS BACKUP and our listings
 * read; `reel send --append --label` adds a labelled file instead.
 * Writing at the beginning replaces the whole tape, labels and all, as a
 * real drive does, so that stays allowed.
 */
#include "append.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"
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

/* The first element of a reel: whether it is a VOL1 label. An ANSI
 * labelled reel (each reel of a labelled set) begins with one. */
struct first {
	bool seen, vol1;
	struct tape_label_vol vol;
};

static int first_event(void *ctx, const struct tape_event *ev)
{
	struct first *f = ctx;
	if (f->seen || (ev->kind != TAPE_EV_RECORD && ev->kind != TAPE_EV_MARK))
		return 0;
	f->seen = true;
	f->vol1 = ev->kind == TAPE_EV_RECORD &&
		  tape_label_kind(ev->data, ev->len) == TAPE_LABEL_VOL1;
	if (f->vol1 && tape_label_parse_vol1(ev->data, ev->len, &f->vol) < 0)
		snprintf(f->vol.volid, sizeof(f->vol.volid), "?");
	return 0;
}

static int first_bytes(void *ctx, const void *p, size_t n)
{
	(void)tape_dec_push(ctx, p, n);	/* damage: the prefix copy says it */
	return 0;
}

/* 0 when a tape file may begin at ap->offset as far as labels go;
 * -EPERM with the sentence in err on a labelled reel past its beginning
 * (-EIO when its first bytes cannot be read). Reads at most the first
 * 64 KiB: a VOL1 record is 80 bytes in every format. */
static int check_unlabelled(const struct rdr_append *ap, const char *url,
			    char *err, size_t errlen)
{
	if (ap->offset == 0)
		return 0;	/* from the beginning: a new tape */
	const struct tape_format *f = ap->format ? ap->format : tape_format_default();
	struct first fi = { 0 };
	struct tape_dec *dec = tape_dec_new(f, first_event, &fi);
	if (!dec)
		return -ENOMEM;
	char e[XFER_ERRLEN] = "";
	uint64_t len = ap->offset < 65536 ? ap->offset : 65536;
	int rc = xfer_fetch(ap->url, &rfs_app_xo, 0, len, first_bytes, dec, e,
			    sizeof(e));
	tape_dec_free(dec);
	if (rc) {
		snprintf(err, errlen, "reading the tape's first record (to tell "
			 "whether it is labelled) failed: %.300s",
			 e[0] ? e : strerror(-rc));
		return -EIO;
	}
	if (!fi.vol1)
		return 0;
	snprintf(err, errlen, "this is a labelled tape (ANSI labels, volume %s): "
		 "a tape file written after reading would be unlabelled and "
		 "follow the labels' end of volume, which breaks the label "
		 "sequence VMS BACKUP and reel ls read; add a labelled file with "
		 "`reel send --append --label NAME %.300s` instead (or rewind "
		 "and write from the beginning to replace the whole tape)",
		 fi.vol.volid, url);
	return -EPERM;
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
	rc = check_unlabelled(&ap, url, err, sizeof(err));
	if (rc) {
		rdrive_refuse(rd, "writing refused: %s; nothing was written.", err);
		goto out;
	}
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
