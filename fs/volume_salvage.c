/*
 * volume_salvage.c - a full server under a storeset: the records and
 * marks the server did not keep are decoded from the upload queue and
 * handed to the next reel, and this reel is published cut at the last
 * element the server holds whole, with a manifest saying so.
 *
 * It never publishes a reel whose carried-over part did not reach the
 * next reel.
 */
#include "volume_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>

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
