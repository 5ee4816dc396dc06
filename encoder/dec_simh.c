/*
 * dec_simh.c - the decoder for the SIMH layout (mtd, simh, e11): a 32-bit
 * little-endian length, the data (padded to even length for mtd and simh),
 * the same length again; markers instead of a length for tape mark, end of
 * medium and erase gap.
 *
 * A record that lies whole inside the pushed buffer goes to the caller
 * from that buffer; otherwise it is gathered. This file must never read
 * past what was pushed, whatever the length words claim.
 */
#include "dec_internal.h"

#include <string.h>

static size_t pad_of(const struct tape_dec *d, uint32_t len)
{
	return (d->fmt->pad_odd && (len & 1) && !d->pad_unsure) ? 1 : 0;
}

/* Auto mode, the first odd record of length len: t points at the bytes
 * right after its data (have of them, 4 or more). With E11 they are the
 * trailer; with SIMH a pad byte comes first. The two cannot both match:
 * an odd length's low byte is never the zero pad. Returns the pad (0/1)
 * and pins the format, or -1 when neither layout fits (or 5 bytes are
 * needed and only 4 are there: -2). */
static int pin_pad(struct tape_dec *d, const uint8_t *t, size_t have, uint32_t len)
{
	if (tape_le32(t) == len) {
		d->fmt = &tape_fmt_e11;
		d->pad_unsure = false;
		return 0;
	}
	if (have < 5)
		return -2;
	if (tape_le32(t + 1) == len) {
		d->fmt = &tape_fmt_simh;
		d->pad_unsure = false;
		return 1;
	}
	return -1;
}

/* A complete header word v at d->el_off. */
static int on_header(struct tape_dec *d, uint32_t v)
{
	if (v == TAPE_SIMH_MARK)
		return tape_dec_mark(d, d->el_off);
	if (v == TAPE_SIMH_EOM)
		return tape_dec_eom(d, d->el_off);
	if (v == TAPE_SIMH_GAP)
		return 0;	/* erase gap: nothing recorded here */
	if (v >= TAPE_SIMH_RESERVED)
		return tape_dec_fail(d, TAPE_ERR_RESERVED, d->el_off,
				     "reserved marker 0x%08X", v);
	if (v & TAPE_SIMH_ERRFLAG)
		return tape_dec_fail(d, TAPE_ERR_BAD_FLAG, d->el_off,
				     "record of %u bytes flagged as bad (length word 0x%08X)",
				     v & TAPE_SIMH_MAX, v);
	if (v > d->fmt->max_record)
		return tape_dec_fail(d, TAPE_ERR_TOO_BIG, d->el_off,
				     "length word 0x%08X exceeds the %s maximum of %zu bytes",
				     v, d->fmt->name, d->fmt->max_record);
	d->rec_len = v;
	d->need = v + pad_of(d, v);
	d->buf_have = 0;
	if (tape_dec_reserve(d, d->need) < 0)
		return tape_dec_fail(d, TAPE_ERR_TOO_BIG, d->el_off,
				     "no memory to gather a %u-byte record", v);
	d->st = TAPE_DST_DATA;
	return 0;
}

static int check_trailer(struct tape_dec *d, uint32_t t)
{
	if (t == d->rec_len)
		return 0;
	return tape_dec_fail(d, TAPE_ERR_MISMATCH, d->el_off + 4 + d->need,
			     "trailer length %u differs from header length %u of the record at offset %llu",
			     t, d->rec_len, (unsigned long long)d->el_off);
}

/* Header at p with the whole record and trailer inside [p, p+n): hand it
 * over without a copy. Returns bytes used, 0 when it is not whole, or a
 * negative stop value. */
static long fast_record(struct tape_dec *d, const uint8_t *p, size_t n)
{
	uint32_t v = tape_le32(p);

	if (v == 0 || v > d->fmt->max_record)
		return 0;
	size_t dl = v + pad_of(d, v);
	if (n < 8 + dl)
		return 0;
	if (d->pad_unsure && (v & 1)) {
		int pad = pin_pad(d, p + 4 + v, n - 4 - v, v);
		if (pad == -2)
			return 0;
		if (pad >= 0)
			dl = v + (size_t)pad;
		else
			dl = v + pad_of(d, v) + (d->fmt->pad_odd ? 1 : 0);
		if (n < 8 + dl)
			return 0;
	}
	d->el_off = d->pos;
	d->rec_len = v;
	d->need = dl;
	int rc = check_trailer(d, tape_le32(p + 4 + dl));
	if (rc)
		return rc;
	uint32_t crc = tape_crc32(0, p + 4, v);
	tape_dec_consume(d, p, 4);
	tape_dec_consume_crc(d, crc, v);
	tape_dec_consume(d, p + 4 + v, dl - v + 4);
	rc = tape_dec_record(d, d->el_off, p + 4, v, crc);
	return rc ? rc : (long)(8 + dl);
}

int tape_dec_simh_push(struct tape_dec *d, const uint8_t *p, size_t n)
{
	int rc;

	while (n > 0 && !d->done) {
		if (d->st == TAPE_DST_HDR) {
			if (d->hdr_have == 0 && n >= 8) {
				long used = fast_record(d, p, n);
				if (used < 0)
					return (int)used;
				if (used > 0) {
					p += used;
					n -= (size_t)used;
					continue;
				}
			}
			if (d->hdr_have == 0)
				d->el_off = d->pos;
			size_t take = 4 - d->hdr_have < n ? 4 - d->hdr_have : n;
			memcpy(d->hdr + d->hdr_have, p, take);
			tape_dec_consume(d, p, take);
			d->hdr_have += take;
			p += take;
			n -= take;
			if (d->hdr_have < 4)
				return 0;
			d->hdr_have = 0;
			rc = on_header(d, tape_le32(d->hdr));
			if (rc)
				return rc;
		} else if (d->st == TAPE_DST_DATA) {
			size_t take = d->need - d->buf_have < n ? d->need - d->buf_have : n;
			memcpy(d->buf + d->buf_have, p, take);
			tape_dec_consume(d, p, take);
			d->buf_have += take;
			p += take;
			n -= take;
			if (d->buf_have == d->need)
				d->st = TAPE_DST_TRL;
		} else {
			/* Normally 4 bytes; 5 while an odd record may be padded. */
			bool maybe_pad = d->pad_unsure && (d->rec_len & 1);
			size_t want = maybe_pad ? 5 : 4;
			if (maybe_pad && d->hdr_have == 4)
				want = tape_le32(d->hdr) == d->rec_len ? 4 : 5;
			size_t take = want - d->hdr_have < n ? want - d->hdr_have : n;
			if (maybe_pad && d->hdr_have < 4 && take > 4 - d->hdr_have)
				take = 4 - d->hdr_have;	/* look at 4 first */
			memcpy(d->hdr + d->hdr_have, p, take);
			tape_dec_consume(d, p, take);
			d->hdr_have += take;
			p += take;
			n -= take;
			if (d->hdr_have < 4 || (maybe_pad && d->hdr_have == 4 &&
						tape_le32(d->hdr) != d->rec_len))
				continue;
			const uint8_t *t = d->hdr;
			if (maybe_pad) {
				int pad = pin_pad(d, d->hdr, d->hdr_have, d->rec_len);
				if (pad != 0) {
					d->need = d->rec_len + 1;
					t = d->hdr + 1;
				}
			}
			d->hdr_have = 0;
			d->st = TAPE_DST_HDR;
			rc = check_trailer(d, tape_le32(t));
			if (rc)
				return rc;
			rc = tape_dec_record(d, d->el_off, d->buf, d->rec_len,
					     tape_crc32(0, d->buf, d->rec_len));
			if (rc)
				return rc;
		}
	}
	return 0;
}

int tape_dec_simh_end(struct tape_dec *d)
{
	if (d->st == TAPE_DST_HDR && d->hdr_have == 0)
		return 0;
	if (d->st == TAPE_DST_HDR)
		return tape_dec_fail(d, TAPE_ERR_TRUNCATED, d->el_off,
				     "the image ends inside a length word");
	return tape_dec_fail(d, TAPE_ERR_TRUNCATED, d->el_off,
			     "the image ends inside the %u-byte record that starts",
			     d->rec_len);
}
