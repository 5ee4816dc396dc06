/*
 * dec_aws.c - the decoder for AWSTAPE and HET chunk chains: 6-byte headers
 * (this chunk's length, the previous chunk's length, flags1, flags2), records
 * spread over chunks from BEGIN to END, tape marks as empty MARK chunks, and
 * for HET zlib-compressed blocks.
 *
 * A one-chunk uncompressed record inside the pushed buffer goes to the
 * caller from that buffer; anything else is gathered (at most 2 MiB) and,
 * when compressed, inflated into a second 2 MiB buffer. This file must never
 * inflate past the format's maximum record.
 */
#include "dec_internal.h"

#include <stdlib.h>
#include <string.h>

#define KNOWN_FLAGS (TAPE_AWS_BEGIN | TAPE_AWS_END | TAPE_AWS_ZLIB | TAPE_AWS_BZIP2)

static int finish_record(struct tape_dec *d)
{
	d->in_rec = false;
	/* Empty chunks can add up to an empty record (BEGIN of 0 bytes, then
	 * END of 0 bytes); a zero-length record is not a record. */
	if (d->buf_have == 0)
		return tape_dec_fail(d, TAPE_ERR_BAD_FLAG, d->rec_off,
				     "empty record (its chunks hold no bytes)");
	if (!d->rec_comp)
		return tape_dec_record(d, d->rec_off, d->buf, d->buf_have,
				       tape_crc32(0, d->buf, d->buf_have));
	size_t max = d->fmt->max_record;
	if (!d->zout && !(d->zout = malloc(max)))
		return tape_dec_fail(d, TAPE_ERR_INFLATE, d->rec_off,
				     "no memory to decompress a block");
	if (!d->z_init) {
		if (inflateInit(&d->z) != Z_OK)
			return tape_dec_fail(d, TAPE_ERR_INFLATE, d->rec_off,
					     "zlib could not start");
		d->z_init = true;
	} else if (inflateReset(&d->z) != Z_OK) {
		return tape_dec_fail(d, TAPE_ERR_INFLATE, d->rec_off, "zlib could not restart");
	}
	d->z.next_in = d->buf;
	d->z.avail_in = (uInt)d->buf_have;
	d->z.next_out = d->zout;
	d->z.avail_out = (uInt)max;
	int zr = inflate(&d->z, Z_FINISH);
	if (zr != Z_STREAM_END) {
		if (d->z.avail_out == 0 && zr != Z_DATA_ERROR && zr != Z_NEED_DICT)
			return tape_dec_fail(d, TAPE_ERR_TOO_BIG, d->rec_off,
					     "compressed block inflates past %zu bytes", max);
		return tape_dec_fail(d, TAPE_ERR_INFLATE, d->rec_off,
				     "compressed block of %zu bytes does not inflate (%s)",
				     d->buf_have, d->z.msg ? d->z.msg : "incomplete stream");
	}
	if (d->z.avail_in != 0 || d->z.total_out == 0)
		return tape_dec_fail(d, TAPE_ERR_INFLATE, d->rec_off,
				     "compressed block of %zu bytes has %s", d->buf_have,
				     d->z.avail_in ? "bytes after its zlib stream" : "no data");
	size_t out = d->z.total_out;
	return tape_dec_record(d, d->rec_off, d->zout, out, tape_crc32(0, d->zout, out));
}

/* A complete header h at d->el_off. Sets up the chunk's data, or handles a
 * tape mark. */
static int on_header(struct tape_dec *d, const uint8_t *h)
{
	uint16_t cur = tape_le16(h), prev = tape_le16(h + 2);
	uint8_t f1 = h[4];
	uint64_t off = d->el_off;

	if (d->chain_free) {
		d->chain_free = false;
		d->last_cur = prev;
	}
	if (prev != d->last_cur)
		return tape_dec_fail(d, TAPE_ERR_CHAIN, off,
				     "previous-length field is %u but the previous chunk held %u bytes",
				     prev, d->last_cur);
	d->last_cur = cur;
	if (f1 & TAPE_AWS_MARK) {
		if (d->in_rec)
			return tape_dec_fail(d, TAPE_ERR_CHAIN, off,
					     "tape mark before the end of the record begun at offset %llu",
					     (unsigned long long)d->rec_off);
		if (cur != 0 || f1 != TAPE_AWS_MARK)
			return tape_dec_fail(d, TAPE_ERR_BAD_FLAG, off,
					     "tape mark with flags 0x%02X and length %u", f1, cur);
		return tape_dec_mark(d, off);
	}
	if (f1 & ~KNOWN_FLAGS)
		return tape_dec_fail(d, TAPE_ERR_BAD_FLAG, off, "unknown flag bits 0x%02X", f1);
	uint8_t comp = f1 & (TAPE_AWS_ZLIB | TAPE_AWS_BZIP2);
	if (comp && !d->allow_comp)
		return tape_dec_fail(d, TAPE_ERR_BAD_FLAG, off,
				     "compression flags 0x%02X in an %s image", comp, d->fmt->name);
	if (comp == (TAPE_AWS_ZLIB | TAPE_AWS_BZIP2))
		return tape_dec_fail(d, TAPE_ERR_BAD_FLAG, off, "both zlib and bzip2 flags set");
	if (f1 & TAPE_AWS_BEGIN) {
		if (d->in_rec)
			return tape_dec_fail(d, TAPE_ERR_CHAIN, off,
					     "a record begins before the one begun at offset %llu ended",
					     (unsigned long long)d->rec_off);
		d->in_rec = true;
		d->rec_off = off;
		d->rec_comp = comp;
		d->buf_have = 0;
	} else if (!d->in_rec) {
		return tape_dec_fail(d, TAPE_ERR_CHAIN, off,
				     "chunk continues a record that never began (no begin-of-record flag)");
	} else if (comp != d->rec_comp) {
		return tape_dec_fail(d, TAPE_ERR_BAD_FLAG, off,
				     "compression flags differ between chunks of one block");
	}
	if (comp == TAPE_AWS_BZIP2)
		return tape_dec_fail(d, TAPE_ERR_INFLATE, off,
				     "bzip2-compressed blocks are not supported");
	if ((f1 & TAPE_AWS_BEGIN) && (f1 & TAPE_AWS_END) && cur == 0)
		return tape_dec_fail(d, TAPE_ERR_BAD_FLAG, off, "empty record");
	if (d->buf_have + cur > d->fmt->max_record)
		return tape_dec_fail(d, TAPE_ERR_TOO_BIG, off,
				     "record grows past the %s maximum of %zu bytes",
				     d->fmt->name, d->fmt->max_record);
	/* Auto mode: a compressed block is what tells HET from AWS. */
	if (comp && d->auto_mode)
		d->fmt = &tape_fmt_het;
	d->chunk_left = cur;
	d->chunk_end = f1 & TAPE_AWS_END;
	if (tape_dec_reserve(d, d->buf_have + cur) < 0)
		return tape_dec_fail(d, TAPE_ERR_TOO_BIG, off, "no memory to gather the record");
	if (cur == 0) {
		if (d->chunk_end)
			return finish_record(d);
		return 0;
	}
	d->st = TAPE_DST_DATA;
	return 0;
}

/* A single-chunk uncompressed record whose bytes are all in [p, p+n):
 * hand it over without a copy. Returns bytes used, 0 if not applicable, or
 * a negative stop value. */
static long fast_record(struct tape_dec *d, const uint8_t *p, size_t n)
{
	uint16_t cur = tape_le16(p);

	if (p[4] != (TAPE_AWS_BEGIN | TAPE_AWS_END) || cur == 0 ||
	    n < TAPE_AWS_HDR + (size_t)cur || d->in_rec ||
	    tape_le16(p + 2) != d->last_cur)
		return 0;
	d->el_off = d->pos;
	d->last_cur = cur;
	uint32_t crc = tape_crc32(0, p + TAPE_AWS_HDR, cur);
	tape_dec_consume(d, p, TAPE_AWS_HDR);
	tape_dec_consume_crc(d, crc, cur);
	int rc = tape_dec_record(d, d->el_off, p + TAPE_AWS_HDR, cur, crc);
	return rc ? rc : (long)(TAPE_AWS_HDR + cur);
}

int tape_dec_aws_push(struct tape_dec *d, const uint8_t *p, size_t n)
{
	int rc;

	while (n > 0 && !d->done) {
		if (d->st == TAPE_DST_HDR) {
			if (d->hdr_have == 0 && n >= TAPE_AWS_HDR) {
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
			size_t take = TAPE_AWS_HDR - d->hdr_have;
			if (take > n)
				take = n;
			memcpy(d->hdr + d->hdr_have, p, take);
			tape_dec_consume(d, p, take);
			d->hdr_have += take;
			p += take;
			n -= take;
			if (d->hdr_have < TAPE_AWS_HDR)
				return 0;
			d->hdr_have = 0;
			rc = on_header(d, d->hdr);
			if (rc)
				return rc;
		} else {
			size_t take = d->chunk_left < n ? d->chunk_left : n;
			memcpy(d->buf + d->buf_have, p, take);
			tape_dec_consume(d, p, take);
			d->buf_have += take;
			d->chunk_left -= take;
			p += take;
			n -= take;
			if (d->chunk_left > 0)
				return 0;
			d->st = TAPE_DST_HDR;
			if (d->chunk_end) {
				rc = finish_record(d);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

int tape_dec_aws_end(struct tape_dec *d)
{
	if (d->st == TAPE_DST_DATA || d->hdr_have > 0)
		return tape_dec_fail(d, TAPE_ERR_TRUNCATED, d->el_off,
				     "the image ends inside the chunk that starts");
	if (d->in_rec)
		return tape_dec_fail(d, TAPE_ERR_TRUNCATED, d->rec_off,
				     "the image ends before the end-of-record chunk of the record that starts");
	return 0;
}
