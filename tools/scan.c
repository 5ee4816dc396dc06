/*
 * scan.c - streams a source through the decoder and turns its events into
 * tape files with record counts, payload bytes and a size histogram, plus
 * end of data, end of medium and the first error with its offset. Used by
 * `reel map`, `reel verify` and `reel ls --deep`.
 *
 * Memory stays bounded whatever the image: one read buffer, and per file a
 * histogram of at most REEL_HIST_MAX exact sizes. Files are handed to the
 * caller as they end; it must never collect them, or hold an image.
 *
 * Numbering follows `mt fsf`: tape files from 1, each ended by a tape
 * mark. Two marks in a row at the end are the end of data; an empty file
 * only counts when data follows it, so the end-of-data pair never adds a
 * file (the rule of encoder/counts.c, which fills counts.files). Records
 * after the last mark are reported as one more, unterminated, file; that
 * file is not in counts.files.
 */
#include "reel.h"

#include <errno.h>
#include <inttypes.h>
#include <zlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hist_add(struct reel_hist *h, size_t size)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->bin[i].size == size) {
			h->bin[i].count++;
			return;
		}
	if (h->n < REEL_HIST_MAX) {
		h->bin[h->n].size = size;
		h->bin[h->n].count = 1;
		h->n++;
		return;
	}
	if (!h->other || size < h->other_min)
		h->other_min = size;
	if (!h->other || size > h->other_max)
		h->other_max = size;
	h->other++;
}

static int bin_cmp(const void *a, const void *b)
{
	const struct reel_hist_bin *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->size < y->size ? 1 : (x->size > y->size ? -1 : 0);
}

void reel_hist_text(const struct reel_hist *h, char *buf, size_t len)
{
	struct reel_hist_bin bins[REEL_HIST_MAX];
	size_t used = 0;

	memcpy(bins, h->bin, h->n * sizeof(bins[0]));
	qsort(bins, h->n, sizeof(bins[0]), bin_cmp);
	buf[0] = '\0';
	for (size_t i = 0; i < h->n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%zu x %llu",
					 i ? ", " : "", bins[i].size,
					 (unsigned long long)bins[i].count);
	if (h->other && used < len)
		snprintf(buf + used, len - used, ", %llu others of %zu..%zu",
			 (unsigned long long)h->other, h->other_min, h->other_max);
}

/* The labels seen in a tape file, as its map line names them. */
static const char *const label_names[] = {
	[TAPE_LABEL_VOL1] = "VOL1",
	[TAPE_LABEL_HDR1] = "HDR1", [TAPE_LABEL_HDR2] = "HDR2",
	[TAPE_LABEL_HDR3] = "HDR3", [TAPE_LABEL_HDR4] = "HDR4",
	[TAPE_LABEL_EOF1] = "EOF1", [TAPE_LABEL_EOF2] = "EOF2",
	[TAPE_LABEL_EOF3] = "EOF3", [TAPE_LABEL_EOF4] = "EOF4",
	[TAPE_LABEL_EOV1] = "EOV1", [TAPE_LABEL_EOV2] = "EOV2",
	[TAPE_LABEL_EOV3] = "EOV3", [TAPE_LABEL_EOV4] = "EOV4",
};

/* Feeds one record to the label reader and notes, for the current tape
 * file, which labels it holds or which labelled file's data it is. */
static void label_record(struct reel_scan *s, const struct tape_event *ev)
{
	tape_label_scan_record(s->ls, ev->data, ev->len);
	if (!tape_label_scan_labelled(s->ls))
		return;
	enum tape_label_kind k = tape_label_kind(ev->data, ev->len);
	struct reel_file *f = &s->cur;
	if (k == TAPE_LABEL_NONE) {
		if (s->ls_after_hdr && !f->data_of) {
			f->data_of = s->ls_index;
			memcpy(f->data_name, s->ls_name, sizeof(f->data_name));
		}
		return;
	}
	const char *name = (size_t)k < sizeof(label_names) / sizeof(label_names[0]) &&
			   label_names[k] ? label_names[k] : "other";
	size_t used = strlen(f->labels);
	if (used + strlen(name) + 5 < sizeof(f->labels))
		snprintf(f->labels + used, sizeof(f->labels) - used, "%s%s",
			 used ? " " : "", name);
	else if (!strstr(f->labels, "..."))
		snprintf(f->labels + used, sizeof(f->labels) - used, " ...");
}

/* A tape mark: a header group just ended means the next tape file is the
 * data of the labelled file the reader has just added. */
static void label_mark(struct reel_scan *s)
{
	tape_label_scan_mark(s->ls);
	s->ls_after_hdr = false;
	if (!tape_label_scan_labelled(s->ls) || !strstr(s->cur.labels, "HDR1"))
		return;
	size_t n = tape_label_scan_count(s->ls);
	if (!n || tape_label_scan_total(s->ls) != n)
		return;
	const struct tape_label_file_info *fi = tape_label_scan_file(s->ls, n - 1);
	if (!fi)
		return;
	s->ls_after_hdr = true;
	s->ls_index = n;
	snprintf(s->ls_name, sizeof(s->ls_name), "%s", fi->name);
}

static void file_start(struct reel_scan *s, uint64_t offset)
{
	memset(&s->cur, 0, sizeof(s->cur));
	s->cur.number = s->files + 1;
	s->cur.offset = offset;
}

static void emit(struct reel_scan *s, struct reel_file *f)
{
	s->files++;
	f->number = s->files;
	if (s->on_file)
		s->on_file(s->ctx, f);
}

/* Empty files seen since the last record: real only if data follows. */
struct pending {
	uint64_t count;
	uint64_t offset;
};

struct scan_run {
	struct reel_scan *s;
	struct pending empties;
};

static void flush_empties(struct scan_run *r)
{
	for (uint64_t i = 0; i < r->empties.count; i++) {
		struct reel_file f = { .offset = r->empties.offset, .ended = true };
		emit(r->s, &f);
	}
	r->empties.count = 0;
}

static int on_event(void *ctx, const struct tape_event *ev)
{
	struct scan_run *r = ctx;
	struct reel_scan *s = r->s;

	switch (ev->kind) {
	case TAPE_EV_RECORD:
		if (s->pair_open)
			s->data_after_eod = true;
		s->pair_open = false;
		if (r->empties.count) {
			flush_empties(r);
			file_start(s, ev->offset);
		}
		if (!s->cur.records)
			s->cur.offset = ev->offset;
		if (s->ls)
			label_record(s, ev);
		s->cur.records++;
		s->cur.bytes += ev->len;
		hist_add(&s->cur.hist, ev->len);
		s->prev_mark = false;
		break;
	case TAPE_EV_MARK:
		if (s->prev_mark && !s->pair_open) {
			s->pair_open = true;
			s->eod_offset = s->prev_mark_offset;
		}
		s->prev_mark_offset = ev->offset;
		if (s->ls)
			label_mark(s);
		if (s->cur.records) {
			s->cur.ended = true;
			emit(s, &s->cur);
		} else {
			if (!r->empties.count)
				r->empties.offset = ev->offset;
			r->empties.count++;
		}
		file_start(s, ev->offset);
		s->prev_mark = true;
		break;
	case TAPE_EV_EOM:
		if (!s->eom) {
			s->eom = true;
			s->eom_offset = ev->offset;
		}
		break;
	case TAPE_EV_ERROR:
		if (!s->damaged) {
			s->damaged = true;
			s->err_kind = ev->err;
			s->err_offset = ev->offset;
			snprintf(s->err_msg, sizeof(s->err_msg), "%s",
				 ev->msg ? ev->msg : tape_error_kind_name(ev->err));
		}
		break;
	}
	/* The caller's reader went away (`reel map ... | head`): reading
	 * the rest of a remote image would be work for nobody. */
	return s->stop ? -ECANCELED : 0;
}

/* Reads until at least want bytes are in buf or the source ends; pipes
 * and downloads hand out small pieces, and sniffing wants a fair sample. */
int reel_scan_run(struct reel_scan *s, struct reel_src *src)
{
	struct scan_run r = { .s = s };
	char *buf = malloc(REEL_CHUNK);
	struct tape_dec *d = NULL;
	int rc = 0;

	file_start(s, 0);
	if (s->labels)
		s->ls = tape_label_scan_new(REEL_LABEL_FILES_MAX);
	if (!buf || (s->labels && !s->ls)) {
		snprintf(s->io_msg, sizeof(s->io_msg), "out of memory.");
		s->io_failed = true;
		rc = -ENOMEM;
		goto out;
	}
	ssize_t n = reel_src_fill(src, buf, REEL_SNIFF_BYTES);
	if (n < 0)
		goto io_error;
	s->bytes_read = (uint64_t)n;
	const struct tape_format *f = s->format;
	if (!f)
		f = reel_pick_format(s->name, buf, (size_t)n);
	if (s->on_start)
		s->on_start(s->ctx, f);
	d = tape_dec_new(f, on_event, &r);
	if (!d) {
		snprintf(s->io_msg, sizeof(s->io_msg), "out of memory.");
		s->io_failed = true;
		rc = -ENOMEM;
		goto out;
	}
	uint64_t fed = 0, tail = 0;
	/* A server that declared no size is read only to a little past the
	 * image's end of data: marks alone after it (an endless stream of
	 * zeros is SIMH tape marks) are not read for ever. */
	bool bounded = reel_src_bounded(src);
	uint64_t after_eod = 0;
	uint32_t tail_crc = (uint32_t)crc32(0L, Z_NULL, 0);
	while (n > 0) {
		size_t k = (size_t)n;
		if (s->limited && fed + k > s->limit) {
			/* Past the valid part: CRC and count only. */
			k = (size_t)(s->limit - fed);
			tail_crc = (uint32_t)crc32(tail_crc, (const Bytef *)buf + k,
						   (uInt)((size_t)n - k));
			tail += (size_t)n - k;
		}
		fed += k;
		rc = k ? tape_dec_push(d, buf, k) : 0;
		if (rc == -EILSEQ || s->damaged)
			break;
		if (rc == -ECANCELED && s->stop) {
			s->stopped = true;
			rc = 0;
			goto out;
		}
		if (rc < 0) {
			/* Not the image's fault: say what stopped the decoder. */
			s->io_failed = true;
			snprintf(s->io_msg, sizeof(s->io_msg), "decoding stopped: %s.",
				 strerror(-rc));
			goto out;
		}
		after_eod = s->pair_open ? after_eod + k : 0;
		if (!bounded && after_eod > REEL_AFTER_EOD_MAX) {
			s->io_failed = true;
			snprintf(s->io_msg, sizeof(s->io_msg), "the server went on "
				 "sending more than %u bytes after the image's end of "
				 "data at offset %" PRIu64 " without declaring a size; "
				 "stopped reading there.", REEL_AFTER_EOD_MAX,
				 s->eod_offset);
			rc = -EIO;
			goto out;
		}
		n = reel_src_read(src, buf, REEL_CHUNK);
		if (n < 0)
			goto io_error;
		s->bytes_read += (uint64_t)n;
	}
	/* Draining after damage counts the rest; not from a server that never
	 * said how much there is. */
	while (s->damaged && s->drain && bounded && n > 0) {
		n = reel_src_read(src, buf, REEL_CHUNK);
		if (n < 0)
			goto io_error;
		s->bytes_read += (uint64_t)n;
	}
	if (!s->damaged)
		tape_dec_end(d);
	s->used = tape_dec_format(d);
	tape_dec_counts(d, &s->counts);
	if (tail && !s->damaged)
		s->counts.image_crc = (uint32_t)crc32_combine(s->counts.image_crc,
							      tail_crc, (z_off_t)tail);
	if (!s->damaged && s->cur.records) {
		s->cur.ended = false;	/* records not closed by a tape mark */
		s->unterminated = true;
		emit(s, &s->cur);
	}
	s->eod = !s->damaged && s->pair_open;
	rc = s->damaged ? 1 : 0;
	goto out;
io_error:
	s->io_failed = true;
	snprintf(s->io_msg, sizeof(s->io_msg), "%s", reel_src_error(src));
	rc = (int)n;
	if (d) {
		s->used = tape_dec_format(d);
		tape_dec_counts(d, &s->counts);
	}
out:
	if (s->ls) {
		/* What the labels said up to where reading stopped. */
		reel_labels_from_scan(&s->lbl, s->ls);
		tape_label_scan_free(s->ls);
		s->ls = NULL;
	}
	tape_dec_free(d);
	free(buf);
	return rc;
}
