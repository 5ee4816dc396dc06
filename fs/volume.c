/*
 * volume.c - one reel: records go through the encoder, whose image bytes
 * go straight into the upload queue; a capacity in image bytes with an
 * early warning; at the end, publish and a manifest beside the image.
 *
 * It must never write part of a record: a record is either framed and
 * queued whole, or refused before the encoder sees it. It knows nothing
 * of FUSE, and never maps errors for a particular tool: it returns the
 * core's negative errno and keeps a sentence.
 *
 * Locking: two mutexes, taken in this order when both are needed.
 *   io_lock serialises the data path (encoder, upload writes, finish).
 *           It may be held for a long time: back-pressure blocks inside
 *           xfer_upload_write, and finish drains and verifies.
 *   lock    is held only briefly and protects state, err, errmsg, counts
 *           (a snapshot of the encoder's counts), finish_rc and end, so
 *           that vol_get_status never waits behind a blocked writer.
 * Fields set at open and never changed (cfg copies, up, enc pointers) need
 * no lock.
 */
#include "volume.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "file_index.h"
#include "manifest.h"

#include <zlib.h>

/* Room kept free below the capacity for what must always still fit once a
 * record has been refused: the end-of-data marks that finish() adds, and a
 * couple of tape marks the tool writes when it closes its volume. A tape
 * mark costs 4 bytes (SIMH family) or 6 (AWS/HET); 16 covers two. */
#define VOL_MARK_RESERVE 16

/* The counts after each of the last VOL_TAIL elements accepted (records
 * and marks): after a server-full, the last one the server holds whole is
 * where this reel can end, with exact counts for its manifest. 56 bytes
 * each; a loss spanning more elements than this cannot be carried over
 * (the loud failure stays). */
#define VOL_TAIL 16384

struct vol {
	/* Set at open, read-only afterwards. */
	char *url;
	uint64_t capacity;
	const struct xfer_opts *xo;
	const struct tape_format *format;
	struct xfer_upload *up;
	struct tape_enc *enc;

	char *part_name;		/* "NAME.part", for sentences */

	pthread_mutex_t io_lock;	/* the data path; see above */
	bool server_full;		/* io_lock: the sink saw -ENOSPC */
	struct tape_counts *tail;	/* io_lock: ring of VOL_TAIL, or NULL */
	uint64_t tail_n;		/* io_lock: elements pushed */
	/* Set by vol_salvage for the manifest of a reel the server cut: its
	 * counts up to the last whole element it holds. io_lock. */
	bool truncated;
	uint64_t truncated_at;
	struct tape_counts trunc_counts;
	/* What was accepted before finish added the end-of-data marks (a
	 * full server found by finish carries only the data over). io_lock. */
	bool data_ended;
	uint64_t data_accepted, data_tail_n;
	struct tape_file_index findex;	/* io_lock: for the manifest's index */
	/* Write after read (vol_put_prefix): the old image's bytes that
	 * come before the first record, and their counts. io_lock. */
	bool has_base;
	struct tape_counts base;
	bool base_scanned;		/* its records and marks went through lscan */
	/* io_lock: the ANSI labels of what was accepted, for the manifest
	 * (so `reel ls -l` names a labelled tape's files without reading
	 * it); NULL when out of memory (then the manifest has no labels). */
	struct tape_label_scan *lscan;

	pthread_mutex_t lock;		/* short; see above */
	/* The storeset facts: from the options, or from the reel before
	 * this one in a --next chain (vol_join_storeset, before the first
	 * record) and from the reel after it (vol_set_next_url). Given
	 * options are kept; *_fixed says which were given. */
	char *prev_url, *next_url;	/* lock */
	char storeset[40];		/* lock */
	unsigned reel;			/* lock */
	bool storeset_fixed, reel_fixed, prev_fixed, next_fixed;
	enum vol_state state;		/* lock */
	int err;			/* lock: sticky, 0 when none */
	char errmsg[XFER_ERRLEN];	/* lock */
	struct tape_counts counts;	/* lock: snapshot after each call */
	bool finished;			/* lock: vol_finish ran */
	/* A manifest was formatted: its next is final. Not finished: a
	 * finish that met a full server publishes later (vol_salvage),
	 * after the hand-over named the next reel. */
	bool manifest_out;		/* lock */
	/* Image bytes up to the end of the last record or mark the writer
	 * was told was accepted (vol_record/vol_mark returned 0). */
	uint64_t accepted;		/* lock */
	bool full_noted;		/* lock: the server-full sentence is set */
	uint64_t lost;			/* lock: accepted bytes the server lacks */
	int finish_rc;			/* lock */
	time_t start, end;		/* lock */
};

static void vol_set_error(struct vol *v, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The encoder's counts c, after the old image's prefix (write after
 * read). When records follow it, every mark of the prefix ends a file
 * (counts.c's rule). io_lock held. */
static void vol_add_base(const struct vol *v, struct tape_counts *c)
{
	if (!v->has_base)
		return;
	const struct tape_counts *b = &v->base;
	c->files += c->records ? b->marks : b->files;
	c->payload_crc = (uint32_t)crc32_combine(b->payload_crc, c->payload_crc,
						 (z_off_t)c->payload_bytes);
	c->image_crc = (uint32_t)crc32_combine(b->image_crc, c->image_crc,
					       (z_off_t)c->image_bytes);
	c->records += b->records;
	c->marks += b->marks;
	c->payload_bytes += b->payload_bytes;
	c->image_bytes += b->image_bytes;
}

/* Records the first failure; later ones keep the first sentence, which
 * names the cause. Called with v->lock held. */
static void vol_set_error(struct vol *v, int err, const char *fmt, ...)
{
	if (v->err)
		return;
	v->err = err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->errmsg, sizeof(v->errmsg), fmt, ap);
	va_end(ap);
}

/* The server ran out of space (452/552). The sending thread has asked
 * the server how much of NAME.part it holds (confirmed) before it failed
 * the queue, so the records accepted but not stored are exactly the
 * accepted image bytes beyond that. One sentence says what was saved and
 * what was lost; the volume stays usable for marks (which fail the same
 * way) and finish (which leaves NAME.part). Called with v->lock held. */
static void vol_note_server_full(struct vol *v)
{
	if (v->full_noted)
		return;
	v->full_noted = true;
	struct xfer_stats s;
	xfer_upload_stats(v->up, &s);
	/* Records the HET pool accepted and never emitted count too (their
	 * bound: an upper limit of the image bytes they would have made). */
	uint64_t accepted = v->accepted + tape_enc_pending_cost(v->enc);
	v->lost = accepted > s.confirmed ? accepted - s.confirmed : 0;
	const char *who = xfer_url_is_local(v->url) ? "the disk" : "the server";
	if (v->lost)
		vol_set_error(v, -ENOSPC, "%s: %s ran out of space after %" PRIu64
			      " bytes; %" PRIu64 " bytes of records already "
			      "accepted from the writer could not be stored, so "
			      "the backup on this reel is incomplete; it stays %s",
			      xfer_upload_url(v->up), who, s.confirmed, v->lost,
			      v->part_name);
	else
		vol_set_error(v, -ENOSPC, "%s: %s ran out of space after %" PRIu64
			      " bytes (end of medium); every record accepted "
			      "from the writer is stored, but the reel cannot be "
			      "completed, so it stays %s", xfer_upload_url(v->up),
			      who, s.confirmed, v->part_name);
	if (!v->finished)
		v->state = v->lost ? VOL_FAILED : VOL_FULL;
}

/* The encoder's sink: every image slice goes to the upload queue. Server
 * full is remembered so the caller can tell it from other failures. */
static int vol_sink(void *ctx, const struct tape_slice *s, int n)
{
	struct vol *v = ctx;
	/* A record's framing and payload in one hand-over (issue 12.3). */
	struct xfer_piece p[64];
	for (int i = 0; i < n; ) {
		int k = 0;
		for (; i < n && k < 64; i++)
			p[k++] = (struct xfer_piece){ s[i].base, s[i].len };
		int rc = xfer_upload_writev(v->up, p, k);
		if (rc == -ENOSPC)
			v->server_full = true;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Every record and mark whose image bytes reached the queue: a point the
 * reel can end at after a server-full (salvage). With a HET pool this
 * runs after the write() that accepted the record has returned; records
 * still being compressed are covered by tape_enc_pending_cost. Runs in
 * the encoder's caller, io_lock held. */
static void vol_settled(void *ctx, const struct tape_counts *k)
{
	struct vol *v = ctx;
	pthread_mutex_lock(&v->lock);
	v->accepted = k->image_bytes;
	if (v->tail)
		v->tail[v->tail_n++ % VOL_TAIL] = *k;
	pthread_mutex_unlock(&v->lock);
}

/* HET blocks are compressed on this many threads (encoder/enc_pool.c):
 * the online cores, or REELFS_HET_THREADS (1: in the writer's thread, as
 * before issue 12; for benchmarks and tests). */
static int vol_het_threads(void)
{
	const char *e = getenv("REELFS_HET_THREADS");
	if (e && *e) {
		long n = strtol(e, NULL, 10);
		if (n >= 1 && n <= 64)
			return (int)n;
	}
	return tape_enc_default_threads();
}

static void vol_make_storeset_id(char *out, size_t len)
{
	unsigned char b[8];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		memcpy(b, &t, sizeof(b));
	}
	snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7]);
}

static char *vol_strdup_display(const char *url)
{
	return url ? xfer_url_display(url) : NULL;
}

struct vol *vol_open(const struct vol_config *c, char *err, size_t errlen)
{
	struct vol *v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory opening a volume");
		return NULL;
	}
	pthread_mutex_init(&v->io_lock, NULL);
	pthread_mutex_init(&v->lock, NULL);
	v->xo = c->xfer;
	v->capacity = c->capacity;
	v->reel = c->reel ? c->reel : 1;
	v->reel_fixed = c->reel != 0;
	v->prev_fixed = c->prev_url != NULL;
	v->next_fixed = c->next_url != NULL;
	v->storeset_fixed = c->storeset_id && *c->storeset_id;
	v->url = strdup(c->url);
	v->prev_url = vol_strdup_display(c->prev_url);
	v->next_url = vol_strdup_display(c->next_url);
	if (!v->url || (c->prev_url && !v->prev_url) ||
	    (c->next_url && !v->next_url)) {
		snprintf(err, errlen, "out of memory opening a volume");
		goto fail;
	}
	char *base = xfer_url_basename(v->url);
	if (base && asprintf(&v->part_name, "%s.part", base) < 0)
		v->part_name = NULL;
	free(base);
	if (!v->part_name) {
		snprintf(err, errlen, "out of memory opening a volume");
		goto fail;
	}
	if (c->storeset_id && *c->storeset_id)
		snprintf(v->storeset, sizeof(v->storeset), "%s", c->storeset_id);
	else
		vol_make_storeset_id(v->storeset, sizeof(v->storeset));

	const struct tape_format *f = c->format ? c->format : tape_format_default();
	v->format = f;
	struct tape_enc_options eo = c->enc;
	if (eo.threads == 0)
		eo.threads = vol_het_threads();
	v->enc = tape_enc_new(f, &eo, vol_sink, v);
	if (!v->enc) {
		snprintf(err, errlen, "out of memory creating the %s encoder",
			 tape_format_name(f));
		goto fail;
	}
	tape_enc_on_settle(v->enc, vol_settled, v);
	v->up = xfer_upload_open(c->url, c->xfer, err, errlen);
	if (!v->up)
		goto fail;
	v->tail = calloc(VOL_TAIL, sizeof(*v->tail));	/* NULL: no salvage */
	v->lscan = tape_label_scan_new(TAPE_MANIFEST_MAX_LABEL_FILES);
	v->state = VOL_WRITING;
	v->start = time(NULL);
	return v;
fail:
	vol_free(v);	/* v->up is NULL here: nothing was uploaded */
	return NULL;
}

/* Whether a record of len bytes still fits with the reserve, and after it
 * labels label records of TAPE_LABEL_LEN bytes and marks tape marks (the
 * trailer labels that end a labelled reel). io_lock held. */
static bool vol_fits_labels(struct vol *v, size_t len, unsigned labels,
			    unsigned marks)
{
	if (!v->capacity)
		return true;
	/* With HET blocks still being compressed, their bound stands in
	 * for their size; only when that does not fit are they waited for,
	 * so the answer is exactly the one compressing in place gives. A
	 * failure while emitting them is the encoder's sticky error, which
	 * the record then meets. */
	for (;;) {
		struct tape_counts k;
		tape_enc_counts(v->enc, &k);
		uint64_t pend = tape_enc_pending_cost(v->enc);
		uint64_t need = k.image_bytes + pend +
				tape_enc_record_cost(v->enc, len) +
				(uint64_t)labels * tape_enc_record_cost(v->enc, 80) +
				(uint64_t)marks * tape_enc_mark_cost(v->enc) +
				tape_enc_finish_cost(v->enc) + VOL_MARK_RESERVE;
		if (need <= v->capacity)
			return true;
		if (!tape_enc_pending(v->enc))
			return false;
		if (tape_enc_settle(v->enc) < 0)
			return true;
	}
}

static bool vol_fits(struct vol *v, size_t len)
{
	return vol_fits_labels(v, len, 0, 0);
}

int vol_check_room(struct vol *v, size_t len)
{
	return vol_check_room_labels(v, len, 0, 0);
}

int vol_check_room_labels(struct vol *v, size_t len, unsigned labels,
			  unsigned marks)
{
	pthread_mutex_lock(&v->lock);
	int rc = v->err ? v->err : 0;
	enum vol_state st = v->state;
	pthread_mutex_unlock(&v->lock);
	if (rc)
		return rc;
	if (st == VOL_FULL)
		return -ENOSPC;
	if (st != VOL_WRITING)
		return -EPIPE;
	pthread_mutex_lock(&v->io_lock);
	bool ok = vol_fits_labels(v, len, labels, marks);
	pthread_mutex_unlock(&v->io_lock);
	return ok ? 0 : -ENOSPC;
}

/* After an encoder call: snapshot the counts, turn a failure into the
 * volume's sticky state. io_lock held. */
static int vol_after(struct vol *v, int rc, const char *what)
{
	pthread_mutex_lock(&v->lock);
	tape_enc_counts(v->enc, &v->counts);
	vol_add_base(v, &v->counts);
	if (rc == 0) {
		/* accepted and tail: vol_settled */
	} else if (rc == -ENOSPC && v->server_full) {
		/* The server holds a prefix of the image; it can never be
		 * completed, so it stays NAME.part. Marks would fail too. */
		vol_note_server_full(v);
	} else if (rc < 0 && rc != -EINVAL) {
		const char *why = xfer_upload_error(v->up);
		if (!why || !*why)
			why = tape_enc_error(v->enc);
		const char *url = xfer_upload_url(v->up);
		if (why && *why && strncmp(why, url, strlen(url)) == 0)
			/* The transfer's sentence names the URL already. */
			vol_set_error(v, rc == -EPIPE ? -EPIPE : -EIO,
				      "%s (while %s)", why, what);
		else
			vol_set_error(v, rc == -EPIPE ? -EPIPE : -EIO,
				      "%s: %s failed: %s", url, what,
				      why && *why ? why : strerror(-rc));
		if (!v->finished)
			v->state = VOL_FAILED;
	}
	int out = rc;
	if (rc < 0 && rc != -EINVAL)
		out = v->err;
	pthread_mutex_unlock(&v->lock);
	return out;
}

/* Returns the sticky error or a state error before touching the encoder. */
static int vol_gate(struct vol *v, bool is_mark)
{
	pthread_mutex_lock(&v->lock);
	int rc = v->err;
	if (!rc) {
		if (v->state == VOL_FULL && !is_mark)
			rc = -ENOSPC;
		else if (v->state != VOL_WRITING && v->state != VOL_FULL)
			rc = -EPIPE;
	}
	pthread_mutex_unlock(&v->lock);
	return rc;
}

int vol_record(struct vol *v, const void *data, size_t len)
{
	pthread_mutex_lock(&v->io_lock);
	int rc = vol_gate(v, false);
	if (!rc && !vol_fits(v, len)) {
		/* Early warning: nothing is written; marks still fit. */
		pthread_mutex_lock(&v->lock);
		if (v->state == VOL_WRITING) {
			v->state = VOL_FULL;
			rlog(RLOG_INFO, "%s: capacity of %" PRIu64 " bytes reached "
			     "after %" PRIu64 " records; only tape marks fit now.",
			     xfer_upload_url(v->up), v->capacity,
			     v->counts.records);
		}
		pthread_mutex_unlock(&v->lock);
		rc = -ENOSPC;
	} else if (!rc) {
		rc = vol_after(v, tape_enc_record(v->enc, data, len), "writing a record");
		if (!rc && v->lscan)
			tape_label_scan_record(v->lscan, data, len);
	}
	pthread_mutex_unlock(&v->io_lock);
	return rc;
}

/* The header bytes a record framed in place has in front of it, and the
 * queue's landing for it; io_lock held. */
static int vol_land_at(struct vol *v, size_t len, size_t need, void **p,
		       size_t *n)
{
	pthread_mutex_lock(&v->lock);
	bool writing = v->state == VOL_WRITING && !v->err;
	pthread_mutex_unlock(&v->lock);
	size_t hdr = writing ? tape_enc_landing(v->enc, len) : 0;
	if (!hdr)
		return -EAGAIN;
	return xfer_upload_landing(v->up, hdr, need, p, n);
}

int vol_landing(struct vol *v, size_t need, void **p, size_t *n)
{
	pthread_mutex_lock(&v->io_lock);
	int rc = vol_land_at(v, 1, need, p, n);
	pthread_mutex_unlock(&v->io_lock);
	return rc;
}

int vol_landing_run(struct vol *v, size_t len, void **p, size_t *n,
		    size_t *step)
{
	pthread_mutex_lock(&v->io_lock);
	int rc = vol_land_at(v, len, len + 8, p, n);
	*step = (size_t)tape_enc_record_cost(v->enc, len);
	pthread_mutex_unlock(&v->io_lock);
	return rc;
}

bool vol_landed_at(struct vol *v, const void *data, size_t len)
{
	void *p;
	size_t n;
	pthread_mutex_lock(&v->io_lock);
	/* Room for the payload and the longest trailer (5 bytes). */
	bool ok = vol_land_at(v, len, len + 8, &p, &n) == 0 && p == data;
	pthread_mutex_unlock(&v->io_lock);
	return ok;
}

/* Whether one more tape mark fits below the capacity with the end of
 * data after it (the mark itself may be part of that end); io_lock held. */
static bool vol_mark_fits(struct vol *v)
{
	if (!v->capacity)
		return true;
	/* A mark waits for the pending records anyway; their failure is
	 * what the mark then meets. */
	if (tape_enc_settle(v->enc) < 0)
		return true;
	struct tape_counts k;
	tape_enc_counts(v->enc, &k);
	uint64_t mark = tape_enc_mark_cost(v->enc);
	uint64_t fin = tape_enc_finish_cost(v->enc);
	return k.image_bytes + (mark > fin ? mark : fin) <= v->capacity;
}

int vol_mark(struct vol *v)
{
	pthread_mutex_lock(&v->io_lock);
	int rc = vol_gate(v, true);
	if (!rc && !vol_mark_fits(v)) {
		/* Marks obey the capacity too: nothing is written. */
		pthread_mutex_lock(&v->lock);
		if (v->state == VOL_WRITING)
			v->state = VOL_FULL;
		pthread_mutex_unlock(&v->lock);
		rc = -ENOSPC;
	} else if (!rc)
		rc = vol_after(v, tape_enc_mark(v->enc), "writing a tape mark");
	if (!rc) {
		struct tape_counts k;
		tape_enc_counts(v->enc, &k);
		tape_findex_mark(&v->findex, v->base.image_bytes + k.image_bytes,
				 v->base.records + k.records);
		if (v->lscan)
			tape_label_scan_mark(v->lscan);
	}
	pthread_mutex_unlock(&v->io_lock);
	return rc;
}

/* The labels for m, from what was accepted; not for a reel the server
 * cut (its labels would describe bytes it does not hold), nor after a
 * write after read (the old image's bytes were copied, not scanned): a
 * listing then reads the image's own labels. */
static void vol_manifest_labels_locked(struct vol *v, struct tape_manifest *m)
{
	m->labels_recorded = false;
	m->labels = NULL;
	m->nlabels = 0;
	if (v->lscan && !v->truncated && (!v->has_base || v->base_scanned))
		(void)tape_manifest_set_labels(m, v->lscan);
}

void vol_manifest_labels(struct vol *v, struct tape_manifest *m)
{
	pthread_mutex_lock(&v->io_lock);
	vol_manifest_labels_locked(v, m);
	pthread_mutex_unlock(&v->io_lock);
}

/* The manifest beside the published image: NAME.manifest.json, written
 * whole through NAME.manifest.json.part and a rename. io_lock held. */
static int vol_publish_manifest(struct vol *v, char *err, size_t errlen)
{
	struct tape_manifest m;
	memset(&m, 0, sizeof(m));
	snprintf(m.format, sizeof(m.format), "%s", tape_format_name(v->format));
	tape_enc_counts(v->enc, &m.counts);
	vol_add_base(v, &m.counts);
	if (v->truncated) {
		m.counts = v->trunc_counts;
		m.truncated = true;
		m.truncated_at = v->truncated_at;
	}
	pthread_mutex_lock(&v->lock);
	m.start = v->start;
	m.end = v->end;
	snprintf(m.storeset, sizeof(m.storeset), "%s", v->storeset);
	m.reel = v->reel;
	/* Borrowed, never freed through m: they change only before the
	 * first record (prev) or before a manifest is formatted (next, from
	 * here on final), under io_lock like this. */
	m.prev_url = v->prev_url;
	m.next_url = v->next_url;
	v->manifest_out = true;
	pthread_mutex_unlock(&v->lock);
	snprintf(m.version, sizeof(m.version), "%s", REELFS_VERSION);
	tape_findex_fill(&v->findex, &m.counts, &m);
	vol_manifest_labels_locked(v, &m);

	char *json = tape_manifest_to_json(&m);
	free(m.file_offsets);
	free(m.file_records);
	free(m.labels);
	if (!json) {
		snprintf(err, errlen, "out of memory formatting the manifest");
		return -ENOMEM;
	}
	char *name = xfer_url_basename(v->url);
	char *murl = NULL;
	if (name) {
		size_t n = strlen(name) + sizeof(TAPE_MANIFEST_SUFFIX);
		char *mname = malloc(n);
		if (mname) {
			snprintf(mname, n, "%s%s", name, TAPE_MANIFEST_SUFFIX);
			murl = xfer_url_sibling(v->url, mname);
			free(mname);
		}
	}
	int rc;
	if (!murl) {
		snprintf(err, errlen, "out of memory naming the manifest");
		rc = -ENOMEM;
	} else {
		char e[XFER_ERRLEN - 100] = "";
		/* The image is safe already; a transient refusal (vsftpd
		 * answers "500 OOPS" when a session process fails under load)
		 * must not cost its manifest. Replacing it is idempotent. */
		for (int i = 0; i < 3; i++) {
			if (i)
				usleep(200000u * (unsigned)i);
			rc = xfer_put_small(murl, v->xo, json, strlen(json), e,
					    sizeof(e));
			if (rc == 0)
				break;
			rlog(RLOG_INFO, "writing the manifest failed (%s)%s", e,
			     i < 2 ? "; trying again." : ".");
		}
		if (rc < 0)
			snprintf(err, errlen, "the image is published, but its "
				 "manifest could not be written: %s", e);
	}
	free(murl);
	free(name);
	free(json);
	return rc;
}

int vol_finish(struct vol *v)
{
	pthread_mutex_lock(&v->io_lock);
	pthread_mutex_lock(&v->lock);
	if (v->finished) {
		int rc = v->finish_rc;
		pthread_mutex_unlock(&v->lock);
		pthread_mutex_unlock(&v->io_lock);
		return rc;
	}
	int rc = v->err;
	v->finished = true;
	if (!rc)
		v->state = VOL_FINISHING;
	pthread_mutex_unlock(&v->lock);

	if (!rc)
		rc = vol_after(v, tape_enc_settle(v->enc), "ending the data");
	if (!rc) {
		pthread_mutex_lock(&v->lock);
		v->data_ended = true;
		v->data_accepted = v->accepted;
		v->data_tail_n = v->tail_n;
		pthread_mutex_unlock(&v->lock);
		rc = vol_after(v, tape_enc_finish(v->enc), "ending the data");
	}
	if (!rc) {
		rc = xfer_upload_finish(v->up);
		if (rc < 0) {
			pthread_mutex_lock(&v->lock);
			const char *why = xfer_upload_error(v->up);
			if (rc == -ENOSPC)
				/* The drain met the 552: the last records
				 * were accepted, the writer has gone. */
				vol_note_server_full(v);
			else
				vol_set_error(v, rc, "%s", why && *why ? why :
					      "publishing the image failed");
			rc = v->err;
			pthread_mutex_unlock(&v->lock);
		}
	} else {
		xfer_upload_abort(v->up);
	}
	pthread_mutex_lock(&v->lock);
	v->end = time(NULL);
	pthread_mutex_unlock(&v->lock);
	if (!rc) {
		char err[XFER_ERRLEN] = "";
		rc = vol_publish_manifest(v, err, sizeof(err));
		if (rc < 0) {
			pthread_mutex_lock(&v->lock);
			vol_set_error(v, rc, "%s", err);
			pthread_mutex_unlock(&v->lock);
		}
	}
	pthread_mutex_lock(&v->lock);
	v->finish_rc = rc;
	v->state = rc ? VOL_FAILED : VOL_PUBLISHED;
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_unlock(&v->io_lock);
	return rc;
}

void vol_abort(struct vol *v)
{
	/* No io_lock: abort must work while a writer is blocked in the queue;
	 * xfer_upload_abort wakes it with -EPIPE. */
	pthread_mutex_lock(&v->lock);
	if (!v->finished) {
		v->finished = true;
		vol_set_error(v, -EPIPE, "%s: the volume was abandoned; what was "
			      "sent stays as the incomplete .part file",
			      xfer_upload_url(v->up));
		v->finish_rc = v->err;
		v->state = VOL_FAILED;
	}
	pthread_mutex_unlock(&v->lock);
	xfer_upload_abort(v->up);
}

void vol_get_status(struct vol *v, struct vol_status *out)
{
	memset(out, 0, sizeof(*out));
	xfer_upload_stats(v->up, &out->xfer);
	pthread_mutex_lock(&v->lock);
	out->state = v->state;
	out->counts = v->counts;
	out->capacity = v->capacity;
	if (!v->capacity) {
		out->remaining = UINT64_MAX;
	} else {
		uint64_t used = v->counts.image_bytes + VOL_MARK_RESERVE;
		out->remaining = used < v->capacity ? v->capacity - used : 0;
		if (v->state == VOL_FULL)
			out->remaining = 0;
	}
	snprintf(out->last_error, sizeof(out->last_error), "%s", v->errmsg);
	snprintf(out->storeset_id, sizeof(out->storeset_id), "%s", v->storeset);
	out->start = v->start;
	out->end = v->end;
	out->server_full = v->full_noted;
	out->lost_bytes = v->lost;
	pthread_mutex_unlock(&v->lock);
}

const char *vol_state_name(enum vol_state s)
{
	switch (s) {
	case VOL_WRITING: return "writing";
	case VOL_FULL: return "full";
	case VOL_FINISHING: return "finishing";
	case VOL_PUBLISHED: return "published";
	case VOL_FAILED: return "failed";
	}
	return "unknown";
}

/* The sentence stays valid until vol_free: errmsg is written once. */
const char *vol_error(struct vol *v)
{
	pthread_mutex_lock(&v->lock);
	const char *e = v->errmsg;
	pthread_mutex_unlock(&v->lock);
	return e;
}

const char *vol_url(const struct vol *v)
{
	return xfer_upload_url(v->up);
}

const char *vol_storeset(const struct vol *v)
{
	return v->storeset;
}

/* One storeset fact from the reel before: a given option is kept, and a
 * disagreement is logged. Returns whether the value was taken. */
static bool vol_take(bool fixed, bool differs, const char *url,
		     const char *what)
{
	if (fixed && differs)
		rlog(RLOG_WARN, "%s: the reel before it in the chain gives %s, "
		     "but the one given to this reel is kept; `reel cat` will "
		     "not follow the chain across it.", url, what);
	return !fixed;
}

int vol_join_storeset(struct vol *v, const char *id, unsigned reel,
		      const char *prev_url, char *err, size_t errlen)
{
	char *prev = prev_url && *prev_url ? xfer_url_display(prev_url) : NULL;
	if (prev_url && *prev_url && !prev) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_lock(&v->io_lock);
	pthread_mutex_lock(&v->lock);
	int rc = 0;
	const char *url = xfer_upload_url(v->up);
	if (v->finished || v->counts.records || v->counts.marks) {
		snprintf(err, errlen, "%s has been written to already (%" PRIu64
			 " records, %" PRIu64 " marks), so it cannot continue "
			 "the storeset of the reel before it", url,
			 v->counts.records, v->counts.marks);
		rc = -EBUSY;
	} else {
		if (id && *id && vol_take(v->storeset_fixed,
					   strcmp(id, v->storeset) != 0, url,
					   "another storeset id"))
			snprintf(v->storeset, sizeof(v->storeset), "%s", id);
		if (reel && vol_take(v->reel_fixed, reel != v->reel, url,
				     "another reel number"))
			v->reel = reel;
		if (prev && vol_take(v->prev_fixed, !v->prev_url ||
				     strcmp(prev, v->prev_url) != 0, url,
				     "another previous reel")) {
			free(v->prev_url);
			v->prev_url = prev;
			prev = NULL;
		}
	}
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_unlock(&v->io_lock);
	free(prev);
	return rc;
}

int vol_set_next_url(struct vol *v, const char *next_url)
{
	char *next = xfer_url_display(next_url);
	if (!next)
		return -ENOMEM;
	pthread_mutex_lock(&v->io_lock);
	pthread_mutex_lock(&v->lock);
	/* Until the manifest is written, also after a finish: one that met
	 * a full server hands over first and publishes in vol_salvage. */
	bool late = v->manifest_out;
	bool take = !late &&
		    vol_take(v->next_fixed, !v->next_url ||
			     strcmp(next, v->next_url) != 0,
			     xfer_upload_url(v->up), "another next reel");
	if (take) {
		free(v->next_url);
		v->next_url = next;
		next = NULL;
	}
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_unlock(&v->io_lock);
	if (late)
		rlog(RLOG_WARN, "%s: its manifest was written already, so it "
		     "does not name its next reel %s; `reel cat` will not follow "
		     "the chain across it.", vol_url(v), next);
	free(next);
	return 0;
}

unsigned vol_reel(struct vol *v)
{
	pthread_mutex_lock(&v->lock);
	unsigned r = v->reel;
	pthread_mutex_unlock(&v->lock);
	return r;
}

void vol_get_storeset(struct vol *v, char *id, size_t len)
{
	pthread_mutex_lock(&v->lock);
	snprintf(id, len, "%s", v->storeset);
	pthread_mutex_unlock(&v->lock);
}

const struct tape_format *vol_format(const struct vol *v)
{
	return v->format;
}

/* The upload's failure, waited for (sync) or not, turned into the
 * volume's sticky error as a write's would be. */
static int vol_upload_state(struct vol *v, bool wait)
{
	pthread_mutex_lock(&v->io_lock);
	pthread_mutex_lock(&v->lock);
	int rc = v->err;
	bool live = !v->finished &&
		    (v->state == VOL_WRITING || v->state == VOL_FULL);
	pthread_mutex_unlock(&v->lock);
	if (!rc && live) {
		/* io_lock is held while a sync waits, so no record slips in
		 * behind the bytes it waits for; status readers only take
		 * lock, and vol_abort wakes it (the queue is cancelled).
		 * HET blocks still being compressed are part of what a sync
		 * waits for. */
		rc = wait ? tape_enc_settle(v->enc) : 0;
		if (rc == 0)
			rc = wait ? xfer_upload_sync(v->up) : xfer_upload_check(v->up);
		if (rc == -ENOSPC)
			v->server_full = true;
		if (rc < 0)
			rc = vol_after(v, rc, "sending the image");
	}
	pthread_mutex_unlock(&v->io_lock);
	return rc;
}

int vol_poll(struct vol *v)
{
	return vol_upload_state(v, false);
}

int vol_sync(struct vol *v)
{
	return vol_upload_state(v, true);
}

uint64_t vol_lost_bytes(struct vol *v)
{
	pthread_mutex_lock(&v->lock);
	uint64_t n = v->lost;
	pthread_mutex_unlock(&v->lock);
	return n;
}

int vol_put_prefix(struct vol *v, const void *data, size_t len)
{
	pthread_mutex_lock(&v->io_lock);
	struct tape_counts k;
	tape_enc_counts(v->enc, &k);
	/* HET blocks still being compressed are records already written. */
	int rc = k.records || k.marks || tape_enc_pending(v->enc) ? -EBUSY : 0;
	if (!rc && len)
		rc = xfer_upload_write(v->up, data, len);
	if (!rc) {
		v->has_base = true;
		v->base.image_bytes += len;
		v->base.image_crc = (uint32_t)crc32(v->base.image_crc, data, (uInt)len);
	} else if (rc != -EBUSY) {
		pthread_mutex_lock(&v->lock);
		vol_set_error(v, -EIO, "%s: copying the old image failed: %s",
			      xfer_upload_url(v->up), xfer_upload_error(v->up));
		v->state = VOL_FAILED;
		pthread_mutex_unlock(&v->lock);
		rc = -EIO;
	}
	pthread_mutex_unlock(&v->io_lock);
	return rc;
}

void vol_prefix_record(struct vol *v, const void *data, size_t len)
{
	pthread_mutex_lock(&v->io_lock);
	if (v->lscan)
		tape_label_scan_record(v->lscan, data, len);
	pthread_mutex_unlock(&v->io_lock);
}

void vol_prefix_mark(struct vol *v, uint64_t offset_after, uint64_t records)
{
	pthread_mutex_lock(&v->io_lock);
	tape_findex_mark(&v->findex, offset_after, records);
	if (v->lscan)
		tape_label_scan_mark(v->lscan);
	pthread_mutex_unlock(&v->io_lock);
}

void vol_prefix_counts(struct vol *v, const struct tape_counts *c)
{
	pthread_mutex_lock(&v->io_lock);
	v->base.files = c->files;
	v->base.records = c->records;
	v->base.marks = c->marks;
	v->base.payload_bytes = c->payload_bytes;
	v->base.payload_crc = c->payload_crc;
	v->base_scanned = true;	/* every record and mark of it was decoded */
	pthread_mutex_lock(&v->lock);
	tape_enc_counts(v->enc, &v->counts);
	vol_add_base(v, &v->counts);
	v->accepted = v->counts.image_bytes;
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_unlock(&v->io_lock);
}

void vol_free(struct vol *v)
{
	if (!v)
		return;
	xfer_upload_free(v->up);
	tape_enc_free(v->enc);
	free(v->tail);
	tape_findex_free(&v->findex);
	tape_label_scan_free(v->lscan);
	free(v->part_name);
	free(v->url);
	free(v->prev_url);
	free(v->next_url);
	pthread_mutex_destroy(&v->io_lock);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

/* ---- a full server under a storeset: carry on ------------------------- */

struct vol_salv {
	struct vol *v;
	struct tape_dec *dec;
	vol_salvage_fn fn;
	void *ctx;
	int skip;		/* leading events of the preamble to drop */
	int cb_rc;		/* fn's failure */
	uint32_t crc;		/* image CRC, extended over [B, held) */
	struct vol_salvage_info *info;
};

static int vol_salv_crc(void *ctx, const void *p, size_t n)
{
	struct vol_salv *s = ctx;
	s->crc = (uint32_t)crc32(s->crc, p, (uInt)n);
	return 0;
}

static int vol_salv_event(void *ctx, const struct tape_event *ev)
{
	struct vol_salv *s = ctx;
	if (ev->kind != TAPE_EV_RECORD && ev->kind != TAPE_EV_MARK)
		return 0;	/* errors are read after the push */
	if (s->skip > 0) {
		s->skip--;
		return 0;
	}
	int rc = s->fn(s->ctx, ev->kind == TAPE_EV_MARK, ev->data, ev->len);
	if (rc < 0) {
		s->cb_rc = rc;
		return rc;
	}
	if (ev->kind == TAPE_EV_MARK) {
		s->info->marks++;
	} else {
		s->info->records++;
		s->info->payload += ev->len;
	}
	return 0;
}

static int vol_salv_unsent(void *ctx, const void *rec, size_t len)
{
	struct vol_salv *s = ctx;
	int rc = s->fn(s->ctx, false, rec, len);
	if (rc < 0) {
		s->cb_rc = rc;
		return rc;
	}
	s->info->records++;
	s->info->payload += len;
	return 0;
}

static int vol_salv_push(void *ctx, const void *p, size_t n)
{
	struct vol_salv *s = ctx;
	return tape_dec_push(s->dec, p, n);
}

static int vol_salv_first6(void *ctx, const void *p, size_t n)
{
	unsigned char *h = ctx;
	size_t have = h[6];
	size_t take = n < 6 - have ? n : 6 - have;
	memcpy(h + have, p, take);
	h[6] = (unsigned char)(have + take);
	return 0;
}

/* AWS and HET headers name the previous chunk's length, which the decoder
 * checks: decoding from the middle of an image starts with a stand-in
 * chunk of that length (an uncompressed one-chunk record), dropped. */
static int vol_salv_preamble(struct vol_salv *s, uint64_t from, uint64_t to,
			     char *err, size_t errlen)
{
	const char *fmt = tape_format_name(s->v->format);
	if (strcmp(fmt, "aws") != 0 && strcmp(fmt, "het") != 0)
		return 0;
	if (to - from < 6)
		return 0;
	unsigned char h[7] = { 0 };
	int rc = xfer_upload_salvage_read(s->v->up, from, from + 6,
					  vol_salv_first6, h, err, errlen);
	if (rc)
		return rc;
	unsigned prev = (unsigned)h[2] | (unsigned)h[3] << 8;
	if (prev == 0)
		return 0;
	unsigned char pre[6] = { (unsigned char)prev, (unsigned char)(prev >> 8),
				 0, 0, 0x80 | 0x20, 0 };	/* begin|end */
	static const unsigned char zero[4096];
	s->skip = 1;	/* before the push: it is emitted during it */
	if ((rc = tape_dec_push(s->dec, pre, sizeof(pre))) < 0)
		return rc;
	for (unsigned left = prev; left; ) {
		unsigned n = left < sizeof(zero) ? left : (unsigned)sizeof(zero);
		if ((rc = tape_dec_push(s->dec, zero, n)) < 0)
			return rc;
		left -= n;
	}
	if (s->skip) {
		snprintf(err, errlen, "the stand-in chunk before byte %llu did "
			 "not decode as one record", (unsigned long long)from);
		return -EILSEQ;
	}
	return 0;
}

int vol_salvage(struct vol *v, vol_salvage_fn fn, void *ctx,
		struct vol_salvage_info *info, char *err, size_t errlen)
{
	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&v->io_lock);
	pthread_mutex_lock(&v->lock);
	/* Before finish, or after a finish that met the full server (the
	 * end-of-data marks it added are not carried over). */
	bool ok = v->full_noted && !v->truncated && v->state != VOL_PUBLISHED;
	uint64_t accepted = v->data_ended ? v->data_accepted : v->accepted;
	uint64_t tail_n = v->data_ended ? v->data_tail_n : v->tail_n;
	pthread_mutex_unlock(&v->lock);
	int rc = 0;
	struct vol_salv s = { .v = v, .fn = fn, .ctx = ctx, .info = info };
	if (!ok || !v->tail) {
		snprintf(err, errlen, "%s: nothing to carry over (the server is "
			 "not out of space, or the reel is finished)", vol_url(v));
		rc = -EINVAL;
		goto out;
	}
	uint64_t held;
	if ((rc = xfer_upload_salvage_size(v->up, &held, err, errlen)) < 0)
		goto out;
	/* The last element the server holds whole. */
	struct tape_counts kb;
	memset(&kb, 0, sizeof(kb));
	uint64_t first = tail_n > VOL_TAIL ? tail_n - VOL_TAIL : 0;
	bool found = first == 0;	/* else the image's start is too far */
	for (uint64_t i = tail_n; i > first; i--) {
		const struct tape_counts *k = &v->tail[(i - 1) % VOL_TAIL];
		if (k->image_bytes <= held && k->image_bytes <= accepted) {
			kb = *k;
			found = true;
			break;
		}
	}
	if (!found) {
		snprintf(err, errlen, "%s: more than %d records and marks lie "
			 "beyond what the server holds, more than reelfs keeps "
			 "track of", vol_url(v), VOL_TAIL);
		rc = -ERANGE;
		goto out;
	}
	uint64_t b = kb.image_bytes;
	info->held = held;
	info->valid = b;
	info->carried = accepted - b;
	/* The file as the server holds it: its CRC from the counts at b and
	 * the bytes after b, which the queue still holds. */
	s.crc = kb.image_crc;
	if (held > b && (rc = xfer_upload_salvage_read(v->up, b, held,
				vol_salv_crc, &s, err, errlen)) < 0)
		goto out;
	s.dec = tape_dec_new(v->format, vol_salv_event, &s);
	if (!s.dec) {
		snprintf(err, errlen, "out of memory decoding what the server did "
			 "not keep");
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = vol_salv_preamble(&s, b, accepted, err, errlen)) < 0)
		goto out_dec;
	rc = xfer_upload_salvage_read(v->up, b, accepted, vol_salv_push, &s,
				      err, errlen);
	if (rc == 0)
		rc = tape_dec_end(s.dec);
	/* Records the HET pool accepted that never reached the queue follow,
	 * in order (nothing else can come after them: a mark settles). */
	if (rc == 0) {
		info->carried += tape_enc_pending_cost(v->enc);
		rc = tape_enc_unsent(v->enc, vol_salv_unsent, &s);
	}
	if (rc < 0) {
		if (s.cb_rc)
			snprintf(err, errlen, "writing them to the next reel failed "
				 "(%s)", strerror(-s.cb_rc));
		else if (rc == -EILSEQ)
			snprintf(err, errlen, "the queued image does not decode: "
				 "%s", tape_dec_error(s.dec));
		goto out_dec;
	}
	/* This reel ends at b: publish what the server holds, with a
	 * manifest that says where its valid part ends. */
	v->truncated = true;
	v->truncated_at = b;
	v->trunc_counts = kb;
	v->trunc_counts.image_bytes = held;
	v->trunc_counts.image_crc = s.crc;
	pthread_mutex_lock(&v->lock);
	v->finished = true;
	v->state = VOL_FINISHING;
	pthread_mutex_unlock(&v->lock);
	char e[XFER_ERRLEN] = "";
	rc = xfer_upload_salvage_publish(v->up, e, sizeof(e));
	pthread_mutex_lock(&v->lock);
	v->end = time(NULL);
	pthread_mutex_unlock(&v->lock);
	if (rc == 0)
		rc = vol_publish_manifest(v, e, sizeof(e));
	pthread_mutex_lock(&v->lock);
	if (rc == 0) {
		/* Not an error any more: the reel is published as it is. */
		v->err = 0;
		v->errmsg[0] = '\0';
		v->lost = 0;
		v->finish_rc = 0;
		v->state = VOL_PUBLISHED;
	} else {
		snprintf(err, errlen, "%s", e);
		v->finish_rc = v->err ? v->err : -EIO;
		v->state = VOL_FAILED;
	}
	pthread_mutex_unlock(&v->lock);
out_dec:
	tape_dec_free(s.dec);
out:
	pthread_mutex_unlock(&v->io_lock);
	return rc < 0 ? rc : 0;
}
