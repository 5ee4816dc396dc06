/*
 * dec.c - the streaming decoder's core: events to the caller, counts that
 * mirror the encoder's, the sticky error, and "auto" format sniffing.
 *
 * Bytes are pushed in pieces of any size; the family parsers (dec_simh.c,
 * dec_aws.c) hand whole records back from the caller's buffer when a record
 * lies inside it, and gather it otherwise, so memory stays bounded by the
 * format's largest record (plus the sniff window in auto mode), never by
 * the size of the image. This file never does I/O.
 */
#include "dec_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Auto mode decides within this many bytes at most. */
#define SNIFF_LIMIT (256u * 1024)

struct tape_dec *tape_dec_new(const struct tape_format *f,
			      tape_event_fn cb, void *ctx)
{
	struct tape_dec *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->fmt = f;
	d->auto_mode = f == NULL;
	d->allow_comp = f ? f->compress : true;
	d->cb = cb;
	d->ctx = ctx;
	d->sniff_next = 16;
	return d;
}

int tape_dec_fail(struct tape_dec *d, enum tape_error_kind kind, uint64_t off,
		  const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(d->msg, sizeof(d->msg), "%s at image offset %llu (%s)", what,
		 (unsigned long long)off, tape_error_kind_name(kind));
	d->stop = -EILSEQ;
	struct tape_event ev = {
		.kind = TAPE_EV_ERROR, .offset = off, .err = kind, .msg = d->msg,
	};
	d->cb(d->ctx, &ev);
	return -EILSEQ;
}

static int deliver(struct tape_dec *d, const struct tape_event *ev)
{
	int rc = d->cb(d->ctx, ev);

	if (rc < 0) {
		d->stop = rc;
		snprintf(d->msg, sizeof(d->msg),
			 "decoding stopped by the reader at image offset %llu (error %d)",
			 (unsigned long long)ev->offset, -rc);
	}
	return rc < 0 ? rc : 0;
}

int tape_dec_record(struct tape_dec *d, uint64_t off, const void *data,
		    size_t len, uint32_t crc)
{
	d->counts.records++;
	d->counts.payload_bytes += len;
	d->counts.payload_crc = tape_crc32_combine(d->counts.payload_crc, crc, len);
	tape_fc_record(&d->fc, &d->counts);
	d->trailing_marks = 0;
	struct tape_event ev = {
		.kind = TAPE_EV_RECORD, .offset = off, .data = data, .len = len,
	};
	return deliver(d, &ev);
}

int tape_dec_mark(struct tape_dec *d, uint64_t off)
{
	tape_fc_mark(&d->fc, &d->counts);
	if (d->trailing_marks < 2)
		d->trailing_marks++;
	struct tape_event ev = { .kind = TAPE_EV_MARK, .offset = off };
	return deliver(d, &ev);
}

int tape_dec_eom(struct tape_dec *d, uint64_t off)
{
	d->done = true;
	struct tape_event ev = { .kind = TAPE_EV_EOM, .offset = off };
	return deliver(d, &ev);
}

void tape_dec_consume(struct tape_dec *d, const void *p, size_t n)
{
	d->counts.image_crc = tape_crc32(d->counts.image_crc, p, n);
	d->counts.image_bytes += n;
	d->pos += n;
}

void tape_dec_consume_crc(struct tape_dec *d, uint32_t crc, size_t n)
{
	d->counts.image_crc = tape_crc32_combine(d->counts.image_crc, crc, n);
	d->counts.image_bytes += n;
	d->pos += n;
}

int tape_dec_reserve(struct tape_dec *d, size_t n)
{
	if (n <= d->buf_cap)
		return 0;
	/* Grow geometrically, but never past what the format allows. */
	size_t cap = d->buf_cap ? d->buf_cap : 4096;
	while (cap < n)
		cap *= 2;
	if (cap > d->fmt->max_record + 8 && n <= d->fmt->max_record + 8)
		cap = d->fmt->max_record + 8;
	uint8_t *nb = realloc(d->buf, cap);
	if (!nb)
		return -ENOMEM;
	d->buf = nb;
	d->buf_cap = cap;
	return 0;
}

static int family_push(struct tape_dec *d, const uint8_t *p, size_t n)
{
	if (d->done || n == 0)
		return 0;
	return d->fmt->family == TAPE_FAM_SIMH ? tape_dec_simh_push(d, p, n)
					       : tape_dec_aws_push(d, p, n);
}

/* Auto mode: commit to f and decode the bytes held so far. */
static int adopt(struct tape_dec *d, const struct tape_format *f)
{
	uint8_t *held = d->sniff;
	size_t n = d->sniff_have;

	d->fmt = f;
	d->pad_unsure = f->family == TAPE_FAM_SIMH;
	d->sniff = NULL;
	d->sniff_have = 0;
	d->sniff_cap = 0;
	int rc = family_push(d, held, n);
	free(held);
	return rc;
}

/* Auto mode: hold bytes until the sniffer is sure or the window is full.
 * The sniffer only ever looks at prefixes of fixed lengths (16, 32, 64, ...
 * bytes, then everything at the end of input), so the choice it makes does
 * not depend on how the caller happened to split the input. */
static int sniff_push(struct tape_dec *d, const uint8_t **pp, size_t *pn,
		      bool at_end)
{
	size_t take = SNIFF_LIMIT - d->sniff_have;
	bool certain, hopeless;
	const struct tape_format *f;

	if (take > *pn)
		take = *pn;
	if (take > 0) {
		/* Grow as bytes come: most images are decided within a few KiB. */
		if (d->sniff_have + take > d->sniff_cap) {
			size_t cap = d->sniff_cap ? d->sniff_cap : 4096;
			while (cap < d->sniff_have + take)
				cap *= 2;
			if (cap > SNIFF_LIMIT)
				cap = SNIFF_LIMIT;
			uint8_t *nb = realloc(d->sniff, cap);
			if (!nb)
				return -ENOMEM;
			d->sniff = nb;
			d->sniff_cap = cap;
		}
		memcpy(d->sniff + d->sniff_have, *pp, take);
		d->sniff_have += take;
		*pp += take;
		*pn -= take;
	}
	while (d->sniff_next <= d->sniff_have) {
		size_t len = d->sniff_next;
		bool full = len >= SNIFF_LIMIT;

		f = tape_sniff_detail(d->sniff, len, false, &certain, &hopeless);
		if (hopeless || (!f && full))
			return tape_dec_fail(d, TAPE_ERR_UNKNOWN, 0,
					     "the first %zu bytes match no tape format (mtd, simh, e11, aws, het)",
					     len);
		if (f && (certain || full))
			return adopt(d, f);
		d->sniff_next = len * 2 > SNIFF_LIMIT ? SNIFF_LIMIT : len * 2;
	}
	if (!at_end || d->sniff_have == 0)
		return 0;
	f = tape_sniff_detail(d->sniff, d->sniff_have, true, &certain, &hopeless);
	if (!f)
		return tape_dec_fail(d, TAPE_ERR_UNKNOWN, 0,
				     "the %zu bytes of input match no tape format (mtd, simh, e11, aws, het)",
				     d->sniff_have);
	return adopt(d, f);
}

int tape_dec_start_at(struct tape_dec *d, uint64_t offset)
{
	if (!d->fmt || d->pos != 0)
		return -EINVAL;
	d->pos = offset;
	d->chain_free = offset != 0;
	return 0;
}

int tape_dec_push(struct tape_dec *d, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (d->stop)
		return d->stop;
	if (!d->fmt) {
		int rc = sniff_push(d, &p, &len, false);
		if (rc < 0 || !d->fmt)
			return rc;
	}
	return family_push(d, p, len);
}

int tape_dec_end(struct tape_dec *d)
{
	if (d->stop)
		return d->stop;
	if (!d->fmt) {
		const uint8_t *p = NULL;
		size_t n = 0;
		int rc = sniff_push(d, &p, &n, true);
		if (rc < 0 || !d->fmt)
			return rc;
	}
	if (d->done)
		return 0;
	return d->fmt->family == TAPE_FAM_SIMH ? tape_dec_simh_end(d)
					       : tape_dec_aws_end(d);
}

const struct tape_format *tape_dec_format(const struct tape_dec *d)
{
	return d->fmt;
}

void tape_dec_counts(const struct tape_dec *d, struct tape_counts *out)
{
	*out = d->counts;
}

bool tape_dec_at_eod(const struct tape_dec *d)
{
	return d->trailing_marks >= 2;
}

const char *tape_dec_error(const struct tape_dec *d)
{
	return d->msg[0] ? d->msg : "no error";
}

void tape_dec_free(struct tape_dec *d)
{
	if (!d)
		return;
	if (d->z_init)
		inflateEnd(&d->z);
	free(d->zout);
	free(d->buf);
	free(d->sniff);
	free(d);
}

const char *tape_error_kind_name(enum tape_error_kind k)
{
	switch (k) {
	case TAPE_ERR_NONE: return "no error";
	case TAPE_ERR_MISMATCH: return "header/trailer mismatch";
	case TAPE_ERR_TRUNCATED: return "truncated";
	case TAPE_ERR_RESERVED: return "reserved marker";
	case TAPE_ERR_BAD_FLAG: return "bad flag";
	case TAPE_ERR_CHAIN: return "broken chunk chain";
	case TAPE_ERR_INFLATE: return "decompression failed";
	case TAPE_ERR_TOO_BIG: return "record too big";
	case TAPE_ERR_UNKNOWN: return "unknown format";
	}
	return "unknown error";
}
