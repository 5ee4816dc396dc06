/*
 * locate.c - finds where a single flipped bit lies from nothing but a CRC
 * difference, so `reel verify` can name the offset of damage that leaves
 * the framing intact (a bit flipped inside a record's data).
 *
 * Why this works: CRC-32 is linear. For two texts of equal length,
 * crc(a) ^ crc(b) depends only on a ^ b; for a single bit at byte k it is
 * T[1 << bit] carried through the n-1-k zero bytes after it. Each step
 * over a zero byte is invertible (the top byte of T[i] differs for every
 * i), so walking back from the difference byte by byte and comparing with
 * the eight single-bit values finds every (byte, bit) that explains it, in
 * one pass over the length and without reading the data.
 *
 * A 32-bit check admits chance matches (about n*8 / 2^32 of them), so a
 * caller must confirm a candidate with a second, independent CRC (the
 * payload CRC against the image CRC), or present it as a possibility.
 * It reads no data and allocates nothing.
 */
#include "reel.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static uint32_t crc_tab[256];
static uint8_t crc_inv[256];	/* top byte of crc_tab[i] -> i */
static bool crc_ready;

static void crc_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (c & 1 ? 0xEDB88320u : 0);
		crc_tab[i] = c;
		crc_inv[c >> 24] = (uint8_t)i;
	}
	crc_ready = true;
}

size_t reel_crc_flips(uint32_t got, uint32_t want, uint64_t len,
		      struct reel_flip *out, size_t max)
{
	size_t n = 0;
	uint32_t r = got ^ want;

	if (!crc_ready)
		crc_init();
	if (r == 0 || len == 0)
		return 0;
	for (uint64_t m = 0; m < len; m++) {
		for (unsigned bit = 0; bit < 8; bit++)
			if (r == crc_tab[1u << bit]) {
				if (n < max) {
					out[n].offset = len - 1 - m;
					out[n].bit = bit;
				}
				n++;
			}
		/* One zero byte backwards: undo r' = (r >> 8) ^ T[r & 0xff]. */
		unsigned i = crc_inv[r >> 24];
		r = ((r ^ crc_tab[i]) << 8) | i;
	}
	return n;
}

#define LOCATE_MAX 16
/* reel_crc_flips walks back one byte per step, about 7 s per GB here, and
 * verify would run it twice: past this size a caller is told the search was
 * skipped instead of waiting minutes after the CRCs already said "damaged". */
#define LOCATE_MAX_BYTES (1ull << 30)

struct placing {
	const struct reel_flip *img, *pay;
	size_t nimg, npay;
	uint64_t payload;	/* payload bytes before the current record */
	uint64_t file, record;	/* current tape file and record in it, from 1 */
	bool found;
	struct reel_flip hit;	/* the confirmed image offset */
	uint64_t hit_payload, hit_file, hit_record, hit_byte;
	bool in_framing;	/* a candidate outside every record's data */
	struct reel_flip framing;
};

static int place_event(void *ctx, const struct tape_event *ev)
{
	struct placing *p = ctx;
	if (ev->kind == TAPE_EV_MARK) {
		p->file++;
		p->record = 0;
		return 0;
	}
	if (ev->kind != TAPE_EV_RECORD)
		return 0;
	p->record++;
	/* SIMH framing: a 4-byte length, then the data. */
	uint64_t start = ev->offset + 4, end = start + ev->len;
	for (size_t i = 0; i < p->nimg; i++) {
		uint64_t c = p->img[i].offset;
		if (c < start || c >= end)
			continue;
		uint64_t po = p->payload + (c - start);
		for (size_t k = 0; k < p->npay; k++)
			if (p->pay[k].offset == po && p->pay[k].bit == p->img[i].bit &&
			    !p->found) {
				p->found = true;
				p->hit = p->img[i];
				p->hit_payload = po;
				p->hit_file = p->file;
				p->hit_record = p->record;
				p->hit_byte = c - start;
			}
	}
	p->payload += ev->len;
	return 0;
}

static bool simh_framed(const struct tape_format *f)
{
	const char *n = tape_format_name(f);
	return !strcmp(n, "mtd") || !strcmp(n, "simh") || !strcmp(n, "e11");
}

void reel_locate_damage(const char *name, const struct xfer_opts *o,
			const struct tape_format *f, const struct tape_counts *got,
			const struct tape_counts *want)
{
	struct reel_flip img[LOCATE_MAX], pay[LOCATE_MAX];
	char *shown = reel_display(name);

	if (got->image_bytes > LOCATE_MAX_BYTES) {
		reel_error("%s: the damage was not located: searching an image of "
			   "more than %llu bytes for one flipped bit takes too long.",
			   shown, LOCATE_MAX_BYTES);
		goto out;
	}
	size_t ni = reel_crc_flips(got->image_crc, want->image_crc,
				   got->image_bytes, img, LOCATE_MAX);
	size_t np = reel_crc_flips(got->payload_crc, want->payload_crc,
				   got->payload_bytes, pay, LOCATE_MAX);

	if (ni == 0) {
		reel_error("%s: no single flipped bit explains the image CRC "
			   "difference: more than one bit differs.", shown);
		goto out;
	}
	if (f && simh_framed(f) && ni <= LOCATE_MAX && np <= LOCATE_MAX) {
		char err[XFER_ERRLEN];
		struct placing p = { .img = img, .pay = pay, .nimg = ni, .npay = np,
				     .file = 1 };
		struct reel_src *src = reel_src_open(name, o, err, sizeof(err));
		struct tape_dec *d = src ? tape_dec_new(f, place_event, &p) : NULL;
		char *buf = d ? malloc(REEL_CHUNK) : NULL;
		ssize_t n = 0;
		while (buf && (n = reel_src_read(src, buf, REEL_CHUNK)) > 0 &&
		       tape_dec_push(d, buf, (size_t)n) == 0)
			;
		free(buf);
		tape_dec_free(d);
		reel_src_close(src);
		if (p.found) {
			reel_error("%s: the damage is one flipped bit (value 0x%02x) at "
				   "image offset %" PRIu64 ": byte %" PRIu64 " of record %"
				   PRIu64 " of tape file %" PRIu64 " (payload offset %"
				   PRIu64 "); both CRCs confirm it.", shown,
				   1u << p.hit.bit, p.hit.offset, p.hit_byte,
				   p.hit_record, p.hit_file, p.hit_payload);
			goto out;
		}
		if (np == 0 && got->payload_crc == want->payload_crc && ni == 1) {
			reel_error("%s: the payload is intact; one flipped bit (value "
				   "0x%02x) at image offset %" PRIu64 " in the framing "
				   "(padding) explains the difference.", shown,
				   1u << img[0].bit, img[0].offset);
			goto out;
		}
	}
	if (ni == 1)
		reel_error("%s: if a single bit flipped, it is the one of value 0x%02x "
			   "at image offset %" PRIu64 " (the image CRC allows no other).",
			   shown, 1u << img[0].bit, img[0].offset);
	else
		reel_error("%s: %zu positions could each explain the image CRC "
			   "difference as one flipped bit; the first is at image "
			   "offset %" PRIu64 ".", shown, ni, img[0].offset);
out:
	free(shown);
}
