/*
 * volume_data.c - the volume's data path: records and tape marks into
 * the encoder, each checked against the capacity first, and the landings
 * that let a record be framed in place in the upload queue.
 *
 * It must never write part of a record: a record that does not fit is
 * refused before the encoder sees it, and nothing is written.
 */
#include "volume_int.h"

#include <errno.h>
#include <inttypes.h>

#include "log.h"

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

static int vol_record_as(struct vol *v, const void *data, size_t len,
			 bool later)
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
	} else if (!rc && later) {
		/* vol_complete snapshots the counts, once the CRC is in. */
		rc = tape_enc_record_later(v->enc, data, len);
		if (rc)
			rc = vol_after(v, rc, "writing a record");
		else if (v->lscan)
			tape_label_scan_record(v->lscan, data, len);
	} else if (!rc) {
		rc = vol_after(v, tape_enc_record(v->enc, data, len), "writing a record");
		if (!rc && v->lscan)
			tape_label_scan_record(v->lscan, data, len);
	}
	pthread_mutex_unlock(&v->io_lock);
	return rc;
}

int vol_record(struct vol *v, const void *data, size_t len)
{
	return vol_record_as(v, data, len, false);
}

int vol_record_later(struct vol *v, const void *data, size_t len)
{
	return vol_record_as(v, data, len, true);
}

void vol_complete(struct vol *v)
{
	pthread_mutex_lock(&v->io_lock);
	tape_enc_complete(v->enc);
	(void)vol_after(v, 0, "writing a record");
	pthread_mutex_unlock(&v->io_lock);
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
