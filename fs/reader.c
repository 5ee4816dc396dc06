/*
 * reader.c - a loaded tape read element by element (reader.h): the reels
 * of a storeset, the streamed download of the current one through the
 * decoder, resuming after faults within --retries, and the logical
 * elements on top (the end-of-data marks of a reel that goes on on the
 * next are dropped, as `reel cat` drops them; the end of data is a tape
 * mark after a mark with nothing but marks after it).
 *
 * It must never hand out bytes the decoder did not accept as a whole
 * record, never follow a manifest's next link out of the reel's own
 * directory, and never hold more than the download's --buffer plus a
 * few MiB. No FUSE here.
 */
#include "reader_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int rdr_set_error(struct rdr *r, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- reels and manifests ------------------------------------------------ */

struct small {
	char *p;
	size_t len, max;
};

static int small_cb(void *ctx, const void *p, size_t n)
{
	struct small *b = ctx;
	if (n > b->max - b->len)
		return -EFBIG;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* NAME.manifest.json beside the reel, when there is one. A manifest that
 * does not parse is left aside with a warning: the image reads without
 * it (forward spacing then reads and discards). */
static void load_manifest(struct rdr *r, struct rdr_reel *rl)
{
	char *base = xfer_url_basename(rl->url);
	char *mname = base ? malloc(strlen(base) + sizeof(TAPE_MANIFEST_SUFFIX)) : NULL;
	char *murl = NULL;
	struct small b = { .max = TAPE_MANIFEST_MAX_TEXT };
	char e[XFER_ERRLEN] = "", why[256];

	if (mname) {
		sprintf(mname, "%s%s", base, TAPE_MANIFEST_SUFFIX);
		murl = xfer_url_sibling(rl->url, mname);
	}
	b.p = murl ? malloc(b.max + 1) : NULL;
	if (!b.p)
		goto out;
	int rc = xfer_fetch(murl, r->xo, 0, 0, small_cb, &b, e, sizeof(e));
	if (rc == 0) {
		b.p[b.len] = '\0';
		if (tape_manifest_parse(b.p, b.len, &rl->man, why, sizeof(why)) == 0)
			rl->has_man = true;
		else
			rlog(RLOG_WARN, "%s: its manifest is left aside (%s); the "
			     "image is read without it.", rl->shown, why);
	} else if (rc != -ENOENT) {
		rlog(RLOG_INFO, "%s: no manifest could be read (%s); the image "
		     "is read without it.", rl->shown, e);
	}
out:
	free(b.p);
	free(murl);
	free(mname);
	free(base);
}

/* Appends reel url (owned by the reel from here on). */
static int add_reel(struct rdr *r, char *url, char *err, size_t errlen)
{
	if (r->nreels == RDR_MAX_REELS) {
		free(url);
		snprintf(err, errlen, "the storeset has more than %d reels; "
			 "reading stops here", RDR_MAX_REELS);
		return -EIO;
	}
	struct rdr_reel *nv = realloc(r->reels, (r->nreels + 1) * sizeof(*nv));
	if (!nv) {
		free(url);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->reels = nv;
	struct rdr_reel *rl = &r->reels[r->nreels];
	memset(rl, 0, sizeof(*rl));
	rl->url = url;
	rl->shown = xfer_url_display(url);
	if (!rl->shown) {
		free(url);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	char e[XFER_ERRLEN];
	time_t mt;
	int rc = xfer_stat(url, r->xo, &rl->size, &mt, e, sizeof(e));
	if (rc) {
		snprintf(err, errlen, "%s", e);
		free(rl->shown);
		free(url);
		return rc;
	}
	load_manifest(r, rl);
	rl->valid = rl->size;
	if (rl->has_man && rl->man.truncated &&
	    (rl->size == XFER_SIZE_UNKNOWN || rl->man.truncated_at <= rl->size))
		rl->valid = rl->man.truncated_at;
	if (r->want_fmt)
		rl->fmt = r->want_fmt;
	else if (rl->has_man)
		rl->fmt = tape_format_by_name(rl->man.format);
	rl->last = r->single || !rl->has_man || !rl->man.next_url;
	r->nreels++;
	return 0;
}

struct rdr *rdr_open(const struct rdr_config *c, char *err, size_t errlen)
{
	struct rdr *r = calloc(1, sizeof(*r));
	char *url = c->url ? strdup(c->url) : NULL;
	if (!r || !url) {
		free(r);
		free(url);
		snprintf(err, errlen, "out of memory opening the tape for reading");
		return NULL;
	}
	r->xo = c->xo;
	r->want_fmt = c->format;
	r->single = c->single;
	r->chunk = malloc(RDR_CHUNK);
	if (!r->chunk) {
		free(url);
		free(r);
		snprintf(err, errlen, "out of memory opening the tape for reading");
		return NULL;
	}
	int rc = add_reel(r, url, err, errlen);
	if (rc) {
		rdr_free(r);
		return NULL;
	}
	r->reels[0].bases_known = true;
	r->after_mark = true;
	r->stats.image_bytes = r->reels[0].size == XFER_SIZE_UNKNOWN ? 0 : r->reels[0].size;
	return r;
}

void rdr_free(struct rdr *r)
{
	if (!r)
		return;
	rdr_stream_stop(r);
	for (size_t i = 0; i < r->nreels; i++) {
		free(r->reels[i].url);
		free(r->reels[i].shown);
		tape_manifest_clear(&r->reels[i].man);
	}
	free(r->reels);
	free(r->chunk);
	free(r->evs);
	free(r->arena);
	free(r->win);
	free(r);
}

/* The reel after the current one: only a file in the same directory
 * (the link's last component joined to this reel's URL, so the reader's
 * credentials never go elsewhere), whose manifest names the same
 * storeset and the next reel number. */
int rdr_enter_next_reel(struct rdr *r)
{
	struct rdr_reel *rl = &r->reels[r->cur];
	if (r->cur + 1 >= r->nreels) {
		char *name = xfer_url_basename(rl->man.next_url);
		char *url = name ? xfer_url_sibling(rl->url, name) : NULL;
		free(name);
		if (!url)
			return rdr_set_error(r, -ENOMEM, "out of memory");
		char e[XFER_ERRLEN];
		int rc = add_reel(r, url, e, sizeof(e));
		rl = &r->reels[r->cur];
		if (rc)
			return rdr_set_error(r, -EIO, "%s names %s as its next reel, "
					     "which cannot be read: %s", rl->shown,
					     rl->man.next_url, e);
		struct rdr_reel *nx = &r->reels[r->cur + 1];
		if (!nx->has_man || strcmp(nx->man.storeset, rl->man.storeset) != 0 ||
		    nx->man.reel != rl->man.reel + 1) {
			r->nreels--;
			char shown[1024];
			snprintf(shown, sizeof(shown), "%s", nx->shown);
			free(nx->url);
			free(nx->shown);
			tape_manifest_clear(&nx->man);
			return rdr_set_error(r, -EIO, "%s names %s as its next reel, "
					     "but that image's manifest is not reel "
					     "%u of storeset %s; reading stops at the "
					     "end of reel %u", rl->shown, shown,
					     rl->man.reel + 1, rl->man.storeset,
					     rl->man.reel);
		}
	}
	struct rdr_reel *nx = &r->reels[r->cur + 1];
	if (!nx->bases_known && r->block >= 0) {
		nx->bases_known = true;
		nx->file_base = r->fileno;
		nx->block_base = (uint64_t)r->block;
	}
	rlog(RLOG_INFO, "%s ends; reading goes on with the next reel, %s.",
	     r->reels[r->cur].shown, nx->shown);
	rdr_jump(r, r->cur + 1, 0, r->fileno, r->blkno, r->block, r->after_mark);
	r->stats.image_bytes = nx->size == XFER_SIZE_UNKNOWN ? 0 : nx->size;
	return 0;
}

/* ---- the stream ---------------------------------------------------------- */

static struct rdr_ev *ev_add(struct rdr *r)
{
	if (r->nev == r->evcap) {
		size_t nc = r->evcap ? r->evcap * 2 : 256;
		struct rdr_ev *nv = realloc(r->evs, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		r->evs = nv;
		r->evcap = nc;
	}
	struct rdr_ev *e = &r->evs[r->nev++];
	memset(e, 0, sizeof(*e));
	return e;
}

static int on_event(void *ctx, const struct tape_event *ev)
{
	struct rdr *r = ctx;
	if (r->ended)
		return -ECANCELED;
	if (ev->kind == TAPE_EV_RECORD && ev->len > r->acap - r->alen) {
		size_t nc = r->acap ? r->acap : RDR_CHUNK;
		while (nc - r->alen < ev->len)
			nc *= 2;
		uint8_t *na = realloc(r->arena, nc);
		if (!na)
			return -ENOMEM;
		r->arena = na;
		r->acap = nc;
	}
	struct rdr_ev *e = ev_add(r);
	if (!e)
		return -ENOMEM;
	e->off = ev->offset;
	switch (ev->kind) {
	case TAPE_EV_RECORD:
		e->kind = EV_REC;
		e->data = r->alen;
		e->len = ev->len;
		memcpy(r->arena + r->alen, ev->data, ev->len);
		r->alen += ev->len;
		break;
	case TAPE_EV_MARK:
		e->kind = EV_MARK;
		break;
	case TAPE_EV_EOM:
		e->kind = EV_END;	/* SIMH end of medium: nothing after it */
		r->ended = true;
		return -ECANCELED;
	case TAPE_EV_ERROR:
		e->kind = EV_ERR;
		snprintf(r->evmsg, sizeof(r->evmsg), "%s", ev->msg ? ev->msg : "damaged image");
		r->ended = true;
		break;
	}
	return 0;
}

void rdr_stream_stop(struct rdr *r)
{
	xfer_download_close(r->dl);
	r->dl = NULL;
	tape_dec_free(r->dec);
	r->dec = NULL;
}

void rdr_jump(struct rdr *r, size_t reel, uint64_t offset, uint64_t fileno,
	      int64_t blkno, int64_t block, bool after_mark)
{
	rdr_stream_stop(r);
	r->nev = r->head = 0;
	r->alen = 0;
	r->ended = false;
	r->cur = reel;
	r->start = r->fed = offset;
	r->fileno = fileno;
	r->blkno = blkno;
	r->block = block;
	r->after_mark = after_mark;
	r->tries = 0;
}

static void push_err(struct rdr *r, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void push_err(struct rdr *r, uint64_t off, const char *fmt, ...)
{
	struct rdr_ev *e = ev_add(r);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->evmsg, sizeof(r->evmsg), fmt, ap);
	va_end(ap);
	if (e) {
		e->kind = EV_ERR;
		e->off = off;
	}
	r->ended = true;
	rdr_stream_stop(r);
}

static void push_end(struct rdr *r, uint64_t off)
{
	struct rdr_ev *e = ev_add(r);
	if (e) {
		e->kind = EV_END;
		e->off = off;
	}
	r->ended = true;
	rdr_stream_stop(r);
}

static int stream_open(struct rdr *r, char *e, size_t elen)
{
	struct rdr_reel *rl = &r->reels[r->cur];
	uint64_t len = 0;
	if (rl->valid != XFER_SIZE_UNKNOWN)
		len = rl->valid - r->fed;
	r->dl = xfer_download_open(rl->url, r->xo, r->fed, len, e, elen);
	if (!r->dl)
		return -EIO;
	if (r->fed != r->start)
		r->stats.resumes++;
	else if (r->start)
		r->stats.jumps++;
	return 0;
}

static int stream_start(struct rdr *r)
{
	struct rdr_reel *rl = &r->reels[r->cur];
	char e[XFER_ERRLEN];
	if (!rl->fmt && r->start != 0) {
		push_err(r, r->start, "the format of %s is not known", rl->shown);
		return -EIO;
	}
	r->dec = tape_dec_new(rl->fmt, on_event, r);
	if (!r->dec || (rl->fmt && tape_dec_start_at(r->dec, r->start) < 0)) {
		push_err(r, r->start, "out of memory starting the decoder");
		return -ENOMEM;
	}
	if (rl->valid != XFER_SIZE_UNKNOWN && r->start >= rl->valid) {
		/* Nothing left to download: the reel ends here. */
		if (tape_dec_end(r->dec) == 0 || !r->ended)
			push_end(r, r->start);
		return 0;
	}
	if (stream_open(r, e, sizeof(e)) < 0) {
		push_err(r, r->start, "%s", e);
		return -EIO;
	}
	return 0;
}

/* The download failed (or ended short of the size the server declared)
 * at r->fed: resume there within --retries, as uploads do. */
static bool stream_resume(struct rdr *r, const char *why)
{
	struct rdr_reel *rl = &r->reels[r->cur];
	int max = r->xo->retries;
	xfer_download_close(r->dl);
	r->dl = NULL;
	while ((int)r->tries < max) {
		r->tries++;
		rlog(RLOG_INFO, "%s: the download stopped at byte %" PRIu64 " (%s); "
		     "resuming there (attempt %u of %d).", rl->shown, r->fed, why,
		     r->tries, max);
		usleep(200000u * r->tries);
		char e[XFER_ERRLEN];
		if (stream_open(r, e, sizeof(e)) == 0)
			return true;
		rlog(RLOG_INFO, "%s: resuming failed: %s", rl->shown, e);
	}
	return false;
}

/* Compacts the queue: the events already passed and their bytes go. */
static void compact(struct rdr *r)
{
	if (r->head == 0)
		return;
	size_t left = r->nev - r->head;
	memmove(r->evs, r->evs + r->head, left * sizeof(*r->evs));
	r->nev = left;
	r->head = 0;
	size_t low = r->alen;
	for (size_t i = 0; i < left; i++)
		if (r->evs[i].kind == EV_REC) {
			low = r->evs[i].data;
			break;
		}
	memmove(r->arena, r->arena + low, r->alen - low);
	r->alen -= low;
	for (size_t i = 0; i < left; i++)
		if (r->evs[i].kind == EV_REC)
			r->evs[i].data -= low;
}

int rdr_fill(struct rdr *r, size_t k)
{
	while (r->nev - r->head <= k) {
		if (r->ended)
			return 0;
		if (!r->dec && stream_start(r) < 0)
			return 0;
		if (r->ended)
			return 0;
		compact(r);
		struct rdr_reel *rl = &r->reels[r->cur];
		ssize_t n = xfer_download_read(r->dl, r->chunk, RDR_CHUNK);
		if (n < 0) {
			const char *why = xfer_download_error(r->dl);
			char keep[XFER_ERRLEN];
			snprintf(keep, sizeof(keep), "%s", why && *why ? why : strerror((int)-n));
			if (n != -ENOENT && stream_resume(r, keep))
				continue;
			push_err(r, r->fed, "reading %s failed at image offset %" PRIu64
				 " after %d resumed attempt%s: %s", rl->shown, r->fed,
				 r->xo->retries, r->xo->retries == 1 ? "" : "s", keep);
			return 0;
		}
		if (n == 0) {
			if (rl->valid != XFER_SIZE_UNKNOWN && r->fed < rl->valid) {
				if (stream_resume(r, "the server closed the download early"))
					continue;
				push_err(r, r->fed, "reading %s failed at image offset %"
					 PRIu64 ": the download ends short of the %" PRIu64
					 " bytes the server declared", rl->shown, r->fed,
					 rl->valid);
				return 0;
			}
			tape_dec_end(r->dec);
			if (!r->ended)
				push_end(r, r->fed);
			return 0;
		}
		r->tries = 0;
		r->fed += (uint64_t)n;
		r->stats.downloaded += (uint64_t)n;
		int rc = tape_dec_push(r->dec, r->chunk, (size_t)n);
		if (!rl->fmt && r->dec)
			rl->fmt = tape_dec_format(r->dec);
		if (rc == -ENOMEM && !r->ended)
			push_err(r, r->fed, "out of memory reading %s", rl->shown);
		if (r->ended && r->dec)
			rdr_stream_stop(r);
	}
	return 0;
}

/* ---- logical elements ---------------------------------------------------- */

static int ev_error(struct rdr *r, const struct rdr_ev *e)
{
	struct rdr_reel *rl = &r->reels[r->cur];
	char blk[32] = "?";
	if (r->blkno >= 0)
		snprintf(blk, sizeof(blk), "%" PRId64, r->blkno);
	/* The decoder's sentence names the first bad byte's offset. */
	(void)e;
	return rdr_set_error(r, -EIO, "%s: the record at file %" PRIu64 ", block "
			     "%s cannot be read: %s", rl->shown, r->fileno, blk,
			     r->evmsg);
}

/* Whether the marks from the head run to the end of the reel within
 * limit marks; *run is how many there are. */
static bool marks_to_end(struct rdr *r, size_t limit, size_t *run)
{
	size_t m = 0;
	for (;;) {
		rdr_fill(r, m);
		if (r->head + m >= r->nev)
			return false;
		enum rdr_ev_kind k = r->evs[r->head + m].kind;
		if (k == EV_END) {
			*run = m;
			return true;
		}
		if (k != EV_MARK || m >= limit)
			return false;
		m++;
	}
}

int rdr_peek(struct rdr *r, struct rdr_elem *out)
{
	for (;;) {
		rdr_fill(r, 0);
		if (r->head >= r->nev)
			return rdr_set_error(r, -EIO, "out of memory reading the tape");
		struct rdr_ev *e = &r->evs[r->head];
		struct rdr_reel *rl = &r->reels[r->cur];
		memset(out, 0, sizeof(*out));
		out->reel = (unsigned)r->cur + 1;
		out->offset = e->off;
		size_t run;
		switch (e->kind) {
		case EV_ERR:
			return ev_error(r, e);
		case EV_END:
			if (rl->last) {
				out->kind = RDR_EOD;
				return 0;
			}
			if (rdr_enter_next_reel(r) < 0)
				return -EIO;
			continue;
		case EV_REC:
			out->kind = RDR_RECORD;
			out->data = r->arena + e->data;
			out->len = e->len;
			return 0;
		case EV_MARK:
			if (!rl->last) {
				/* The last two marks of a reel that goes on
				 * are its end of data: not on the tape. */
				if (marks_to_end(r, 2, &run) && run <= 2) {
					r->head++;
					continue;
				}
			} else if (r->after_mark && marks_to_end(r, RDR_MARK_RUN, &run)) {
				out->kind = RDR_EOD;
				return 0;
			}
			out->kind = RDR_MARK;
			return 0;
		}
	}
}

void rdr_next(struct rdr *r)
{
	struct rdr_elem el;
	if (rdr_peek(r, &el) < 0 || el.kind == RDR_EOD)
		return;
	r->head++;
	if (r->block >= 0)
		r->block++;
	if (el.kind == RDR_RECORD) {
		if (r->blkno >= 0)
			r->blkno++;
		r->after_mark = false;
	} else {
		r->fileno++;
		r->blkno = 0;
		r->after_mark = true;
	}
}

void rdr_get_pos(struct rdr *r, struct rdr_pos *out)
{
	memset(out, 0, sizeof(*out));
	out->fileno = r->fileno;
	out->blkno = r->blkno;
	out->block = r->block;
	out->reel = (unsigned)r->cur + 1;
	out->offset = r->head < r->nev ? r->evs[r->head].off : r->start;
	out->bot = r->cur == 0 && out->offset == 0 && r->block <= 0;
	out->after_mark = r->after_mark;
	if (r->head < r->nev && r->reels[r->cur].last) {
		const struct rdr_ev *e = &r->evs[r->head];
		size_t run;
		out->eod = e->kind == EV_END ||
			   (e->kind == EV_MARK && r->after_mark &&
			    marks_to_end(r, RDR_MARK_RUN, &run));
	}
}

void rdr_get_stats(struct rdr *r, struct rdr_stats *out)
{
	*out = r->stats;
	struct rdr_reel *rl = &r->reels[r->cur];
	out->format = rl->fmt ? tape_format_name(rl->fmt) : "";
	out->manifest = rl->has_man;
	out->indexed = rl->has_man && rl->man.nindex > 0;
	out->url = rl->shown;
}

const char *rdr_error(struct rdr *r)
{
	return r->err;
}

const struct tape_format *rdr_format(struct rdr *r)
{
	return r->reels[r->cur].fmt;
}

const char *rdr_url(struct rdr *r)
{
	return r->reels[r->cur].url;
}

bool rdr_last_reel(struct rdr *r)
{
	return r->reels[r->cur].last;
}

int rdr_append_point(struct rdr *r, struct rdr_append *out)
{
	struct rdr_elem el;
	memset(out, 0, sizeof(*out));
	if (rdr_peek(r, &el) < 0)
		return -EIO;
	struct rdr_reel *rl = &r->reels[r->cur];
	if (!rl->last || (rl->has_man && rl->man.truncated))
		return rdr_set_error(r, -EPERM, "%s is a reel of a storeset that "
				     "goes on on the next reel; writing here would "
				     "leave the reels after it unreachable", rl->shown);
	bool bot = r->cur == 0 && el.offset == 0;
	if (!bot && el.kind != RDR_EOD && !(r->after_mark && r->blkno == 0)) {
		char blk[32] = "?";
		if (r->blkno >= 0)
			snprintf(blk, sizeof(blk), "%" PRId64, r->blkno);
		return rdr_set_error(r, -EPERM, "the tape is inside tape file %"
				     PRIu64 " (block %s); writing there would cut "
				     "that file. Space to its end (mt fsf 1) or to "
				     "the end of data (mt eod) first", r->fileno, blk);
	}
	out->url = rl->url;
	out->format = rl->fmt;
	out->offset = el.offset;
	out->fileno = r->fileno;
	out->eod = el.kind == RDR_EOD;
	if (rl->has_man)
		snprintf(out->storeset, sizeof(out->storeset), "%s", rl->man.storeset);
	rdr_jump(r, r->cur, el.offset, r->fileno, r->blkno, r->block, r->after_mark);
	return 0;
}
