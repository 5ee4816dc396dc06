/*
 * sniff.c - guesses the container format from the first bytes of an image.
 *
 * Each candidate layout is walked over the bytes: SIMH with padding, SIMH
 * without (E11), and AWS chunk chains. A layout that meets an impossible
 * value is refuted; among the rest the one that explains more bytes wins.
 * HET is AWS with compression flags, so an AWS walk that meets one says
 * HET (a HET image without compressed blocks reads as AWS, which decodes
 * identically). SIMH and E11 differ only after an odd-length record, and
 * MTD is never reported: it decodes exactly like SIMH. This file only
 * reads the bytes it is given.
 */
#include "format_ops.h"

struct walk {
	size_t good;		/* bytes explained by complete elements */
	unsigned elements;
	bool bad;		/* met something impossible for this layout */
	bool odd;		/* an odd-length record was explained */
	bool comp;		/* AWS: a compressed block was seen */
	bool plausible;		/* SIMH: first length word is a possible record */
};

static void walk_simh(const uint8_t *p, size_t n, bool pad, struct walk *w)
{
	size_t off = 0;

	while (off + 4 <= n) {
		uint32_t v = tape_le32(p + off);

		if (v == TAPE_SIMH_MARK || v == TAPE_SIMH_GAP) {
			off += 4;
		} else if (v == TAPE_SIMH_EOM) {
			w->elements++;
			w->good = off + 4;
			return;
		} else if (v > TAPE_SIMH_MAX) {
			w->bad = true;
			return;
		} else {
			size_t dl = v + ((pad && (v & 1)) ? 1 : 0);

			if (off == 0)
				w->plausible = true;
			if (off + 8 + dl > n)
				return;
			if (tape_le32(p + off + 4 + dl) != v) {
				w->bad = true;
				return;
			}
			w->odd |= v & 1;
			off += 8 + dl;
		}
		w->elements++;
		w->good = off;
	}
}

static void walk_aws(const uint8_t *p, size_t n, struct walk *w)
{
	size_t off = 0;
	uint16_t prev = 0;
	bool in_rec = false;

	while (off + TAPE_AWS_HDR <= n) {
		uint16_t cur = tape_le16(p + off);
		uint8_t f1 = p[off + 4];

		if (tape_le16(p + off + 2) != prev) {
			w->bad = true;
			return;
		}
		if (f1 & TAPE_AWS_MARK) {
			if (cur != 0 || in_rec || f1 != TAPE_AWS_MARK) {
				w->bad = true;
				return;
			}
		} else {
			uint8_t comp = f1 & (TAPE_AWS_ZLIB | TAPE_AWS_BZIP2);

			if ((f1 & ~(TAPE_AWS_BEGIN | TAPE_AWS_END | TAPE_AWS_ZLIB |
				    TAPE_AWS_BZIP2)) || cur == 0 ||
			    comp == (TAPE_AWS_ZLIB | TAPE_AWS_BZIP2) ||
			    ((f1 & TAPE_AWS_BEGIN) ? in_rec : !in_rec)) {
				w->bad = true;
				return;
			}
			w->comp |= comp != 0;
			in_rec = !(f1 & TAPE_AWS_END);
		}
		if (off + TAPE_AWS_HDR + cur > n)
			return;
		off += TAPE_AWS_HDR + cur;
		prev = cur;
		w->elements++;
		w->good = off;
	}
}

const struct tape_format *tape_sniff_detail(const void *data, size_t len,
					    bool at_end, bool *certain,
					    bool *hopeless)
{
	struct walk a = { 0 }, s = { 0 }, u = { 0 };

	*certain = false;
	*hopeless = false;
	if (len < 4)
		return NULL;
	walk_aws(data, len, &a);
	walk_simh(data, len, true, &s);
	walk_simh(data, len, false, &u);
	if (len < TAPE_AWS_HDR)
		a.bad = true;	/* too short to say; let SIMH speak */
	/* A plausible first length word with nothing else fitting still says
	 * SIMH: the decoder then names the damage (say, a bad trailer) at its
	 * offset instead of calling the whole image unknown. */
	*hopeless = a.bad && s.bad && u.bad && !s.plausible;

	/* The better SIMH variant: padding is decided by an odd record. */
	const struct tape_format *simh = &tape_fmt_simh;
	struct walk *sw = &s;
	bool pad_known = false;
	if (s.bad && !u.bad) {
		simh = &tape_fmt_e11;
		sw = &u;
		pad_known = u.odd;
	} else if (!s.bad) {
		pad_known = s.odd && u.bad;
	}
	bool simh_ok = !sw->bad && (sw->elements > 0 || sw->plausible);
	bool aws_ok = !a.bad && a.elements > 0;
	const struct tape_format *aws = a.comp ? &tape_fmt_het : &tape_fmt_aws;

	if (simh_ok && aws_ok) {
		*certain = at_end;
		return a.good > sw->good ? aws : simh;
	}
	if (aws_ok) {
		*certain = at_end || (s.bad && u.bad);
		return aws;
	}
	if (simh_ok) {
		*certain = at_end || (a.bad && pad_known);
		return simh;
	}
	if (a.bad && s.plausible) {
		*certain = at_end;
		return &tape_fmt_simh;
	}
	return NULL;
}

const struct tape_format *tape_sniff(const void *data, size_t len)
{
	bool certain, hopeless;

	return tape_sniff_detail(data, len, false, &certain, &hopeless);
}
