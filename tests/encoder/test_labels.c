/*
 * test_labels.c - the ANSI label layer end to end: the label writer
 * (tape_lbl_*) into each of the five encoders, the image back through the
 * streaming decoder into tape_label_scan, and every label field, the
 * record-and-mark layout and the data compared with what went in. One and
 * several files, names longer than 17 characters (HDR4), lazy header
 * labels, a file continued over three reels (EOV, sections 1-3), a reel
 * filled inside a file and between files (the writer's reserve keeps the
 * image within capacity), VMS saveset recognition, name conversion.
 */
#include "labels.h"
#include "testutil.h"

#include <time.h>

/* ---- a host: the writer's sink into an encoder, with a capacity ---- */

struct host {
	struct tape_enc *e;
	struct tape_lbl *l;
	struct membuf img;
	uint64_t cap;		/* image bytes; 0: none */
	unsigned refused;
};

static uint64_t reserve_bytes(struct host *h)
{
	unsigned labels, marks;

	tape_lbl_reserve(h->l, &labels, &marks);
	uint64_t b = labels * tape_enc_record_cost(h->e, TAPE_LABEL_LEN) +
		     marks * tape_enc_mark_cost(h->e);
	CHECK(b == tape_lbl_reserve_cost(h->l, h->e), "reserve cost");
	CHECK(labels <= 7 && marks <= 4, "reserve of %u labels %u marks", labels, marks);
	return b;
}

static uint64_t host_used(struct host *h)
{
	struct tape_counts c;

	tape_enc_counts(h->e, &c);
	return c.image_bytes;
}

/* The capacity rule of labels.c's protocol: refuse an element when it and
 * what must follow it would not fit. */
static int host_record(void *ctx, const void *data, size_t len)
{
	struct host *h = ctx;

	if (h->cap && host_used(h) + tape_enc_record_cost(h->e, len) + reserve_bytes(h) > h->cap) {
		h->refused++;
		return -ENOSPC;
	}
	return tape_enc_record(h->e, data, len);
}

static int host_mark(void *ctx)
{
	struct host *h = ctx;

	if (h->cap && host_used(h) + tape_enc_mark_cost(h->e) + reserve_bytes(h) > h->cap) {
		h->refused++;
		return -ENOSPC;
	}
	return tape_enc_mark(h->e);
}

static void host_open(struct host *h, const struct tape_format *f, const char *volid,
		      const char *owner, uint64_t cap, const struct tape_lbl_cont *cont)
{
	struct tape_lbl_sink sink = { host_record, host_mark, h };
	char err[200];

	memset(h, 0, sizeof(*h));
	mb_init(&h->img);
	h->cap = cap;
	h->e = tape_enc_new(f, NULL, mb_sink, &h->img);
	CHECK(h->e != NULL, "tape_enc_new");
	h->l = tape_lbl_new(volid, owner, &sink, cont, err, sizeof(err));
	CHECK(h->l != NULL, "tape_lbl_new: %s", err);
	if (!h->l)
		exit(1);
}

/* Finishes the image (the encoder adds no marks after a proper end). */
static void host_finish(struct host *h)
{
	uint64_t before = host_used(h);

	CHECK(tape_enc_finish(h->e) == 0, "finish: %s", tape_enc_error(h->e));
	CHECK(host_used(h) == before, "the labelled volume did not end with two tape marks");
	if (h->cap)
		CHECK(host_used(h) <= h->cap, "image of %" PRIu64 " bytes passes the capacity %" PRIu64,
		      host_used(h), h->cap);
	tape_lbl_free(h->l);
	tape_enc_free(h->e);
	h->l = NULL;
	h->e = NULL;
}

/* ---- reading back: decoder -> scan, plus the layout and the data ---- */

struct readback {
	struct tape_label_scan *s;
	char layout[4096];	/* one letter per element: see rb_cb */
	size_t nl;
	struct membuf data;	/* data records (not labels), in order */
	unsigned data_records;
};

static int rb_cb(void *ctx, const struct tape_event *ev)
{
	struct readback *r = ctx;
	char c = '?';

	if (ev->kind == TAPE_EV_MARK) {
		tape_label_scan_mark(r->s);
		c = '|';
	} else if (ev->kind == TAPE_EV_RECORD) {
		enum tape_label_kind k = tape_label_kind(ev->data, ev->len);
		tape_label_scan_record(r->s, ev->data, ev->len);
		switch (k) {
		case TAPE_LABEL_VOL1: c = 'V'; break;
		case TAPE_LABEL_HDR1: c = 'H'; break;
		case TAPE_LABEL_HDR2: case TAPE_LABEL_HDR3: case TAPE_LABEL_HDR4: c = 'h'; break;
		case TAPE_LABEL_EOF1: c = 'E'; break;
		case TAPE_LABEL_EOF2: case TAPE_LABEL_EOF3: case TAPE_LABEL_EOF4: c = 'e'; break;
		case TAPE_LABEL_EOV1: c = 'O'; break;
		case TAPE_LABEL_EOV2: case TAPE_LABEL_EOV3: case TAPE_LABEL_EOV4: c = 'o'; break;
		default:
			c = 'd';
			mb_append(&r->data, ev->data, ev->len);
			r->data_records++;
		}
	} else {
		CHECK(0, "decoder: %s", ev->msg ? ev->msg : "event");
	}
	if (r->nl + 1 < sizeof(r->layout))
		r->layout[r->nl++] = c;
	r->layout[r->nl] = '\0';
	return 0;
}

static void readback(const struct tape_format *f, const struct membuf *img, struct readback *r)
{
	struct tape_dec *d;

	memset(r, 0, sizeof(*r));
	mb_init(&r->data);
	r->s = tape_label_scan_new(64);
	d = tape_dec_new(f, rb_cb, r);
	/* In odd pieces, as from a socket. */
	for (size_t off = 0; off < img->len; off += 1000)
		CHECK(tape_dec_push(d, img->p + off, img->len - off < 1000 ? img->len - off : 1000) == 0,
		      "push: %s", tape_dec_error(d));
	CHECK(tape_dec_end(d) == 0, "dec end: %s", tape_dec_error(d));
	CHECK(tape_dec_at_eod(d), "image does not end with two tape marks");
	tape_dec_free(d);
}

static void rb_free(struct readback *r)
{
	tape_label_scan_free(r->s);
	mb_free(&r->data);
}

/* ---- expectations ---- */

struct want {
	const char *name;	/* converted */
	const char *set_id;
	uint32_t section, sequence;
	uint64_t blocks;
	uint32_t block_len;
	bool continued;
	time_t created;
};

static void check_file(const char *what, const struct tape_label_file_info *fi,
		       const struct want *w)
{
	struct tm tm;

	CHECK(fi != NULL, "%s: file missing", what);
	if (!fi)
		return;
	localtime_r(&w->created, &tm);
	CHECK(strcmp(fi->name, w->name) == 0, "%s: name \"%s\" want \"%s\"", what, fi->name, w->name);
	CHECK(strcmp(fi->set_id, w->set_id) == 0, "%s: set id \"%s\" want \"%s\"", what,
	      fi->set_id, w->set_id);
	CHECK(fi->section == w->section, "%s: section %u want %u", what, fi->section, w->section);
	CHECK(fi->sequence == w->sequence, "%s: sequence %u want %u", what, fi->sequence,
	      w->sequence);
	CHECK(fi->generation == 1 && fi->generation_version == 0, "%s: generation %u.%u", what,
	      fi->generation, fi->generation_version);
	CHECK(fi->created_year == tm.tm_year + 1900 && fi->created_yday == tm.tm_yday + 1,
	      "%s: created %d/%d want %d/%d", what, fi->created_year, fi->created_yday,
	      tm.tm_year + 1900, tm.tm_yday + 1);
	CHECK(fi->expires_year == 0 && fi->expires_yday == 0, "%s: expires %d/%d", what,
	      fi->expires_year, fi->expires_yday);
	CHECK(fi->block_count == w->blocks, "%s: blocks %" PRIu64 " want %" PRIu64, what,
	      fi->block_count, w->blocks);
	CHECK(strcmp(fi->system, "DECFILE11A") == 0, "%s: system \"%s\"", what, fi->system);
	CHECK(fi->accessibility == ' ', "%s: accessibility '%c'", what, fi->accessibility);
	CHECK(fi->record_format == 'F', "%s: format '%c'", what, fi->record_format);
	CHECK(fi->block_len == w->block_len && fi->record_len == w->block_len,
	      "%s: block %u record %u want %u", what, fi->block_len, fi->record_len, w->block_len);
	CHECK(fi->carriage_control == 'M', "%s: carriage control '%c'", what, fi->carriage_control);
	CHECK(fi->buffer_offset == 0, "%s: buffer offset %u", what, fi->buffer_offset);
	CHECK(fi->has_rms && fi->rms_rtype == 1 && fi->rms_rattrib == 0 &&
	      fi->rms_rsize == w->block_len && fi->rms_maxrec == w->block_len,
	      "%s: HDR3 rms %d type %u attr %u size %u max %u", what, fi->has_rms, fi->rms_rtype,
	      fi->rms_rattrib, fi->rms_rsize, fi->rms_maxrec);
	CHECK(fi->continued == w->continued, "%s: continued %d want %d", what, fi->continued,
	      w->continued);
}

static void check_volume(const char *what, struct readback *r, const char *volid,
			 const char *owner)
{
	const struct tape_label_vol *v = tape_label_scan_volume(r->s);

	CHECK(tape_label_scan_labelled(r->s), "%s: not seen as labelled", what);
	CHECK(v != NULL, "%s: no VOL1", what);
	if (!v)
		return;
	CHECK(strcmp(v->volid, volid) == 0, "%s: volid \"%s\" want \"%s\"", what, v->volid, volid);
	CHECK(strcmp(v->owner, owner) == 0, "%s: owner \"%s\" want \"%s\"", what, v->owner, owner);
	CHECK(v->access == ' ' && v->standard == '3', "%s: access '%c' standard '%c'", what,
	      v->access, v->standard);
	CHECK(tape_label_scan_problem(r->s) == NULL, "%s: scan problem: %s", what,
	      tape_label_scan_problem(r->s));
}

/* ---- the cases ---- */

static const time_t t_2026 = 1796000000;	/* 2026-11-30 */
static const time_t t_1999 = 930000000;		/* 1999-06-21 */

/* One file of n records of len bytes, block length given. */
static void one_file(const struct tape_format *f)
{
	const char *fn = tape_format_name(f);
	struct host h;
	struct readback r;
	struct membuf pay;
	uint8_t buf[8192];
	struct tape_lbl_file tf = { .name = "backup.bck", .block_len = 8192, .created = t_2026 };

	mb_init(&pay);
	host_open(&h, f, "vol001", "reelfs", 0, NULL);
	CHECK(tape_lbl_begin_file(h.l, &tf) == 0, "%s: begin: %s", fn, tape_lbl_error(h.l));
	CHECK(tape_lbl_in_file(h.l), "%s: in file", fn);
	CHECK(tape_lbl_begin_file(h.l, &tf) == -EBUSY, "%s: begin twice", fn);
	for (int i = 0; i < 5; i++) {
		fill_data(buf, sizeof(buf), (uint32_t)i, 0);
		CHECK(tape_lbl_record(h.l, buf, sizeof(buf)) == 0, "%s: record", fn);
		mb_append(&pay, buf, sizeof(buf));
	}
	CHECK(tape_lbl_blocks(h.l) == 5, "%s: blocks", fn);
	CHECK(tape_lbl_end_volume(h.l) == 0, "%s: end volume: %s", fn, tape_lbl_error(h.l));
	CHECK(tape_lbl_end_volume(h.l) == 0, "%s: end volume twice", fn);
	CHECK(tape_lbl_record(h.l, buf, 10) == -EPIPE, "%s: record after the end", fn);
	host_finish(&h);

	readback(f, &h.img, &r);
	check_volume(fn, &r, "VOL001", "REELFS");
	CHECK(strcmp(r.layout, "VHhh|ddddd|Eee||") == 0,
	      "%s: layout %s", fn, r.layout);
	CHECK(tape_label_scan_count(r.s) == 1 && tape_label_scan_total(r.s) == 1, "%s: count", fn);
	struct want w = { "BACKUP.BCK", "VOL001", 1, 1, 5, 8192, false, t_2026 };
	check_file(fn, tape_label_scan_file(r.s, 0), &w);
	CHECK(tape_label_scan_saveset(r.s, 0) == NULL, "%s: random data seen as a saveset", fn);
	CHECK(r.data.len == pay.len && memcmp(r.data.p, pay.p, pay.len) == 0, "%s: data differ", fn);
	rb_free(&r);
	mb_free(&pay);
	mb_free(&h.img);
}

/* Several files: a long name (HDR4), a lazy block length, an empty file, a
 * 1999 date, a name needing conversion. */
static void several_files(const struct tape_format *f)
{
	static const char *names[] = { "first.dat", "a_rather_long_file_name_for_hdr4.save",
				       "Empty", "mixed case/ü name" };
	static const char *conv[] = { "FIRST.DAT", "A_RATHER_LONG_FILE_NAME_FOR_HDR4.SAVE",
				      "EMPTY", "MIXED_CASE/__NAME" };
	static const uint32_t blen[] = { 2048, 0, 512, 0 };
	static const unsigned nrec[] = { 3, 7, 0, 2 };
	static const size_t rlen[] = { 2048, 32256, 512, 10 };
	const char *fn = tape_format_name(f);
	struct host h;
	struct readback r;
	struct membuf pay;
	uint8_t *buf = tu_xmalloc(32256);

	mb_init(&pay);
	host_open(&h, f, "tape1", NULL, 0, NULL);
	for (int i = 0; i < 4; i++) {
		struct tape_lbl_file tf = { .name = names[i], .block_len = blen[i],
					    .created = i == 3 ? t_1999 : t_2026 };
		CHECK(tape_lbl_begin_file(h.l, &tf) == 0, "%s: begin %d: %s", fn, i,
		      tape_lbl_error(h.l));
		for (unsigned j = 0; j < nrec[i]; j++) {
			fill_data(buf, rlen[i], (uint32_t)(i * 100 + j), 1);
			CHECK(tape_lbl_record(h.l, buf, rlen[i]) == 0, "%s: record", fn);
			mb_append(&pay, buf, rlen[i]);
		}
		CHECK(tape_lbl_end_file(h.l) == 0, "%s: end file: %s", fn, tape_lbl_error(h.l));
		CHECK(!tape_lbl_in_file(h.l), "%s: in file after end", fn);
	}
	CHECK(tape_lbl_end_volume(h.l) == 0, "%s: end volume", fn);
	host_finish(&h);

	readback(f, &h.img, &r);
	check_volume(fn, &r, "TAPE1", "");
	CHECK(strcmp(r.layout, "VHhh|ddd|Eee|Hhhh|ddddddd|Eeee|Hhh||Eee|Hhh|dd|Eee||") == 0,
	      "%s: layout %s", fn, r.layout);
	CHECK(tape_label_scan_count(r.s) == 4, "%s: count %zu", fn, tape_label_scan_count(r.s));
	/* Where each file's data is: from the layout string. */
	for (size_t i = 0, marks = 0, recs = 0, hdr = 0; r.layout[i]; i++) {
		char c = r.layout[i];
		if (c == '|') {
			marks++;
		} else {
			if (c == 'H')
				hdr++;
			recs++;
		}
		if (c == '|' && hdr && i > 0 && strchr("Hh", r.layout[i - 1])) {
			const struct tape_label_file_info *fi = tape_label_scan_file(r.s, hdr - 1);
			CHECK(fi && fi->data_file == marks && fi->data_record == recs,
			      "%s: file %zu data at file %" PRIu64 " record %" PRIu64 ", want %zu %zu",
			      fn, hdr - 1, fi ? fi->data_file : 0, fi ? fi->data_record : 0, marks, recs);
		}
	}
	for (int i = 0; i < 4; i++) {
		struct want w = { conv[i], "TAPE1", 1, (uint32_t)i + 1, nrec[i], (uint32_t)rlen[i],
				  false, i == 3 ? t_1999 : t_2026 };
		char what[64];
		snprintf(what, sizeof(what), "%s file %d", fn, i);
		check_file(what, tape_label_scan_file(r.s, (size_t)i), &w);
	}
	CHECK(r.data.len == pay.len && memcmp(r.data.p, pay.p, pay.len) == 0, "%s: data differ", fn);
	rb_free(&r);
	mb_free(&pay);
	mb_free(&h.img);
	free(buf);
}

/* One file over three reels: the host refuses a record (ENOSPC), ends the
 * reel, and opens the next with the continuation state. */
static void three_reels(const struct tape_format *f, bool long_name)
{
	const char *fn = tape_format_name(f);
	const char *name = long_name ? "multi_reel_saveset_name.bck" : "multi.bck";
	const char *cname = long_name ? "MULTI_REEL_SAVESET_NAME.BCK" : "MULTI.BCK";
	static const char *vols[] = { "REEL01", "REEL02", "REEL03" };
	struct membuf pay, back;
	struct tape_lbl_cont cont;
	uint64_t per_reel[3] = { 0 }, total = 0;
	uint8_t buf[4096];
	int reel = 0;
	struct host h;
	/* Room for the labels and about 20 blocks per reel. */
	uint64_t cap = 20 * (4096 + 16) + 30 * 100;
	const uint64_t want_total = 48;

	mb_init(&pay);
	mb_init(&back);
	host_open(&h, f, vols[0], NULL, cap, NULL);
	struct tape_lbl_file tf = { .name = name, .block_len = 4096, .created = t_2026 };
	CHECK(tape_lbl_begin_file(h.l, &tf) == 0, "%s: begin", fn);
	while (total < want_total) {
		fill_data(buf, sizeof(buf), (uint32_t)total, 0);
		int rc = tape_lbl_record(h.l, buf, sizeof(buf));
		if (rc == -ENOSPC) {
			CHECK(reel < 2, "%s: a third reel full", fn);
			CHECK(tape_lbl_blocks(h.l) == per_reel[reel], "%s: blocks", fn);
			CHECK(tape_lbl_end_reel(h.l, &cont) == 0, "%s: end reel: %s", fn,
			      tape_lbl_error(h.l));
			CHECK(cont.in_file && cont.section == (uint32_t)reel + 2 && cont.sequence == 1 &&
			      strcmp(cont.set_id, "REEL01") == 0 && strcmp(cont.name, cname) == 0,
			      "%s: continuation state", fn);
			host_finish(&h);
			struct readback r;
			readback(f, &h.img, &r);
			check_volume(fn, &r, vols[reel], "");
			struct want w = { cname, "REEL01", (uint32_t)reel + 1, 1, per_reel[reel], 4096,
					  true, t_2026 };
			check_file(fn, tape_label_scan_file(r.s, 0), &w);
			char want_layout[200];
			snprintf(want_layout, sizeof(want_layout), "VH%s|%.*s|O%s||",
				 long_name ? "hhh" : "hh", (int)per_reel[reel],
				 "dddddddddddddddddddddddddddddddddddddddddddd",
				 long_name ? "ooo" : "oo");
			CHECK(strcmp(r.layout, want_layout) == 0, "%s: reel %d layout %s", fn, reel + 1,
			      r.layout);
			mb_append(&back, r.data.p, r.data.len);
			rb_free(&r);
			mb_free(&h.img);
			reel++;
			host_open(&h, f, vols[reel], NULL, cap, &cont);
			continue;
		}
		CHECK(rc == 0, "%s: record: %d %s", fn, rc, tape_lbl_error(h.l));
		if (rc)
			break;
		mb_append(&pay, buf, sizeof(buf));
		per_reel[reel]++;
		total++;
	}
	CHECK(reel == 2, "%s: %d reels, want 3", fn, reel + 1);
	CHECK(per_reel[0] > 10 && per_reel[1] > 10 && per_reel[2] > 0, "%s: blocks per reel", fn);
	CHECK(tape_lbl_end_volume(h.l) == 0, "%s: end volume", fn);
	host_finish(&h);
	struct readback r;
	readback(f, &h.img, &r);
	check_volume(fn, &r, vols[2], "");
	struct want w = { cname, "REEL01", 3, 1, per_reel[2], 4096, false, t_2026 };
	check_file(fn, tape_label_scan_file(r.s, 0), &w);
	mb_append(&back, r.data.p, r.data.len);
	rb_free(&r);
	mb_free(&h.img);
	CHECK(back.len == pay.len && memcmp(back.p, pay.p, pay.len) == 0,
	      "%s: data over three reels differ", fn);
	mb_free(&pay);
	mb_free(&back);
}

/* The reel fills between files: the next file's HDR1 is refused, the reel
 * ends cleanly, and the file starts on the next reel as section 1; a file
 * after it continues the sequence numbers. Also with lazy labels. */
static void full_between_files(const struct tape_format *f, uint32_t blen)
{
	const char *fn = tape_format_name(f);
	struct host h;
	struct readback r;
	struct tape_lbl_cont cont;
	uint8_t buf[1000];
	struct tape_lbl_file a = { .name = "A", .block_len = blen, .created = t_2026 };
	struct tape_lbl_file b = { .name = "B", .block_len = blen, .created = t_2026 };
	int rc;

	fill_data(buf, sizeof(buf), 5, 0);
	host_open(&h, f, "R1", NULL, 0, NULL);
	CHECK(tape_lbl_begin_file(h.l, &a) == 0, "%s: begin A: %s", fn, tape_lbl_error(h.l));
	CHECK(tape_lbl_record(h.l, buf, sizeof(buf)) == 0, "%s: A record: %s", fn,
	      tape_lbl_error(h.l));
	CHECK(tape_lbl_end_file(h.l) == 0, "%s: end A: %s", fn, tape_lbl_error(h.l));
	/* Room for the volume's end, not for B's labels. */
	h.cap = host_used(&h) + tape_enc_mark_cost(h.e) + 200;
	rc = tape_lbl_begin_file(h.l, &b);
	if (rc == 0)
		rc = tape_lbl_record(h.l, buf, sizeof(buf));
	CHECK(rc == -ENOSPC, "%s: B fits on a full reel (%d)", fn, rc);
	CHECK(tape_lbl_end_reel(h.l, &cont) == 0, "%s: end reel: %s", fn, tape_lbl_error(h.l));
	CHECK(cont.in_file && cont.section == 1 && cont.sequence == 2 && strcmp(cont.name, "B") == 0,
	      "%s: cont in %d section %u sequence %u", fn, cont.in_file, cont.section, cont.sequence);
	host_finish(&h);
	readback(f, &h.img, &r);
	check_volume(fn, &r, "R1", "");
	CHECK(strcmp(r.layout, "VHhh|d|Eee||") == 0, "%s: layout %s", fn, r.layout);
	rb_free(&r);
	mb_free(&h.img);

	host_open(&h, f, "R2", NULL, 0, &cont);
	CHECK(tape_lbl_record(h.l, buf, sizeof(buf)) == 0, "%s: B record: %s", fn,
	      tape_lbl_error(h.l));
	CHECK(tape_lbl_end_file(h.l) == 0, "%s: end B", fn);
	struct tape_lbl_file c = { .name = "C", .block_len = 1000, .created = t_2026 };
	CHECK(tape_lbl_begin_file(h.l, &c) == 0, "%s: begin C", fn);
	CHECK(tape_lbl_end_volume(h.l) == 0, "%s: end volume", fn);
	host_finish(&h);
	readback(f, &h.img, &r);
	check_volume(fn, &r, "R2", "");
	CHECK(strcmp(r.layout, "VHhh|d|Eee|Hhh||Eee||") == 0, "%s: layout %s", fn, r.layout);
	struct want wb = { "B", "R1", 1, 2, 1, 1000, false, t_2026 };
	struct want wc = { "C", "R1", 1, 3, 0, 1000, false, t_2026 };
	check_file(fn, tape_label_scan_file(r.s, 0), &wb);
	check_file(fn, tape_label_scan_file(r.s, 1), &wc);
	rb_free(&r);
	mb_free(&h.img);
}

/* A reel ended before anything (a volume with no file) and a reel ended
 * between files. */
static void empty_volume(const struct tape_format *f)
{
	struct host h;
	struct readback r;
	struct tape_lbl_cont cont;

	host_open(&h, f, "EMPTY", "owner name", 0, NULL);
	CHECK(tape_lbl_end_volume(h.l) == 0, "end volume");
	host_finish(&h);
	readback(f, &h.img, &r);
	check_volume("empty", &r, "EMPTY", "OWNER_NAME");
	CHECK(strcmp(r.layout, "V||") == 0, "empty layout %s", r.layout);
	CHECK(tape_label_scan_count(r.s) == 0, "empty count");
	rb_free(&r);
	mb_free(&h.img);

	host_open(&h, f, "E2", NULL, 0, NULL);
	CHECK(tape_lbl_end_reel(h.l, &cont) == 0, "end reel");
	CHECK(!cont.in_file && cont.magic == TAPE_LBL_CONT_MAGIC, "cont between files");
	host_finish(&h);
	mb_free(&h.img);
}

/* ---- savesets ---- */

static void make_bbh(uint8_t *b, uint32_t size, uint32_t number, const char *name)
{
	memset(b, 0, size);
	fill_data(b + 256, size - 256, number, 0);
	put16(b, 256);
	put32(b + 8, number);
	put32(b + 40, size);
	b[48] = (uint8_t)strlen(name);
	memcpy(b + 49, name, strlen(name));
}

static void savesets(const struct tape_format *f)
{
	const char *fn = tape_format_name(f);
	struct tape_saveset_info si;
	uint8_t *b = tu_xmalloc(32256);
	struct host h;
	struct readback r;

	make_bbh(b, 8192, 1, "USERS.BCK");
	CHECK(tape_saveset_probe(b, 8192, &si) == 0, "probe");
	CHECK(si.block_size == 8192 && si.block_number == 1 && strcmp(si.name, "USERS.BCK") == 0,
	      "probe fields %u %u %s", si.block_size, si.block_number, si.name);
	CHECK(tape_saveset_probe(b, 255, &si) == -EINVAL, "probe short");
	CHECK(tape_saveset_probe(b, 256, &si) == 0, "probe of the header only");
	b[1] = 0;
	CHECK(tape_saveset_probe(b, 8192, &si) == -EINVAL, "probe header size 0");
	make_bbh(b, 8192, 1, "USERS.BCK");
	put32(b + 40, 1024);
	CHECK(tape_saveset_probe(b, 8192, &si) == -EINVAL, "probe block size 1024");
	put32(b + 40, 70000);
	CHECK(tape_saveset_probe(b, 8192, &si) == -EINVAL, "probe block size 70000");
	make_bbh(b, 8192, 1, "USERS.BCK");
	b[48] = 32;
	CHECK(tape_saveset_probe(b, 8192, &si) == -EINVAL, "probe name of 32");
	b[48] = 0;
	CHECK(tape_saveset_probe(b, 8192, &si) == -EINVAL, "probe empty name");
	fill_data(b, 8192, 3, 0);
	CHECK(tape_saveset_probe(b, 8192, &si) == -EINVAL, "probe random");
	memset(b, 0, 8192);
	CHECK(tape_saveset_probe(b, 8192, &si) == -EINVAL, "probe zeros");

	/* A labelled saveset of 32256-byte blocks, found by the scan. */
	host_open(&h, f, "SAVE01", NULL, 0, NULL);
	struct tape_lbl_file tf = { .name = "disk.bck", .created = t_2026 };
	CHECK(tape_lbl_begin_file(h.l, &tf) == 0, "begin");
	for (uint32_t i = 1; i <= 3; i++) {
		make_bbh(b, 32256, i, "DISK.BCK");
		CHECK(tape_lbl_record(h.l, b, 32256) == 0, "saveset record");
	}
	tape_lbl_end_volume(h.l);
	host_finish(&h);
	readback(f, &h.img, &r);
	const struct tape_saveset_info *ss = tape_label_scan_saveset(r.s, 0);
	CHECK(ss != NULL, "%s: saveset not recognised", fn);
	if (ss)
		CHECK(ss->block_size == 32256 && ss->block_number == 1 &&
		      strcmp(ss->name, "DISK.BCK") == 0, "%s: saveset %u %s", fn, ss->block_size,
		      ss->name);
	struct want w = { "DISK.BCK", "SAVE01", 1, 1, 3, 32256, false, t_2026 };
	check_file(fn, tape_label_scan_file(r.s, 0), &w);
	rb_free(&r);
	mb_free(&h.img);
	free(b);
}

/* ---- small pieces ---- */

static void names(void)
{
	char out[TAPE_LABEL_NAME_MAX + 1];
	char longin[200];

	CHECK(tape_label_name_convert("saveset.bck;1", out) == 13 &&
	      strcmp(out, "SAVESET.BCK;1") == 0, "%s", out);
	tape_label_name_convert("my file-\xc3\xbc[x].$1", out);
	CHECK(strcmp(out, "MY_FILE-__X_.$1") == 0, "%s", out);
	tape_label_name_convert("a\tb\x7f" "c~{}", out);
	CHECK(strcmp(out, "A_B_C___") == 0, "%s", out);
	memset(longin, 'x', sizeof(longin) - 1);
	longin[sizeof(longin) - 1] = '\0';
	CHECK(tape_label_name_convert(longin, out) == TAPE_LABEL_NAME_MAX, "cut to 76");
	CHECK(tape_label_name_convert("", out) == 0 && out[0] == '\0', "empty");

	/* Refusals of the writer. */
	struct membuf m;
	char err[200];
	mb_init(&m);
	struct tape_enc *e = tape_enc_new(tape_format_by_name("simh"), NULL, mb_sink, &m);
	struct host h = { .e = e };
	struct tape_lbl_sink sink = { host_record, host_mark, &h };
	CHECK(tape_lbl_new("TOOLONG", NULL, &sink, NULL, err, sizeof(err)) == NULL, "volid of 7");
	CHECK(tape_lbl_new("", NULL, &sink, NULL, err, sizeof(err)) == NULL, "empty volid");
	struct tape_lbl *l = tape_lbl_new("ok", NULL, &sink, NULL, err, sizeof(err));
	h.l = l;
	CHECK(l != NULL, "volid ok");
	struct tape_lbl_file bad = { .name = "" };
	CHECK(tape_lbl_begin_file(l, &bad) == -EINVAL, "empty name");
	bad.name = "x";
	bad.record_format = 'U';
	CHECK(tape_lbl_begin_file(l, &bad) == -EINVAL, "format U");
	CHECK(tape_lbl_record(l, "x", 1) == -EINVAL, "record outside a file");
	struct tape_lbl_cont bc;
	memset(&bc, 'A', sizeof(bc));		/* nothing terminated */
	bc.magic = TAPE_LBL_CONT_MAGIC;
	bc.in_file = true;
	struct tape_lbl *l2 = tape_lbl_new("ok", NULL, &sink, &bc, err, sizeof(err));
	CHECK(l2 != NULL, "an unterminated continuation state: %s", err);
	tape_lbl_free(l2);
	memset(&bc, 0, sizeof(bc));
	bc.magic = TAPE_LBL_CONT_MAGIC;
	bc.in_file = true;
	CHECK(tape_lbl_new("ok", NULL, &sink, &bc, err, sizeof(err)) == NULL, "cont without a name");
	bc.magic = 0;
	bc.in_file = false;
	CHECK(tape_lbl_new("ok", NULL, &sink, &bc, err, sizeof(err)) == NULL, "cont without magic");
	tape_lbl_free(l);
	tape_enc_free(e);
	mb_free(&m);
}

static void kinds_and_parse(void)
{
	char lab[81];
	struct tape_label_file_info fi;

	memset(lab, ' ', 80);
	memcpy(lab, "HDR1", 4);
	CHECK(tape_label_kind(lab, 80) == TAPE_LABEL_HDR1, "HDR1");
	CHECK(tape_label_kind(lab, 79) == TAPE_LABEL_NONE, "79 bytes");
	memcpy(lab, "UHL1", 4);
	CHECK(tape_label_kind(lab, 80) == TAPE_LABEL_OTHER, "UHL1");
	memcpy(lab, "HDR9", 4);
	CHECK(tape_label_kind(lab, 80) == TAPE_LABEL_OTHER, "HDR9");
	memcpy(lab, "EOV3", 4);
	CHECK(tape_label_kind(lab, 80) == TAPE_LABEL_EOV3, "EOV3");
	memcpy(lab, "XYZ1", 4);
	CHECK(tape_label_kind(lab, 80) == TAPE_LABEL_NONE, "XYZ1");
	/* Blank number fields read as 0; letters are refused. */
	memcpy(lab, "HDR1", 4);
	memset(&fi, 0, sizeof(fi));
	CHECK(tape_label_parse_into(lab, 80, &fi) == 0 && fi.section == 0 && fi.created_year == 0,
	      "blank HDR1");
	memcpy(lab + 27, "00A1", 4);
	CHECK(tape_label_parse_into(lab, 80, &fi) == -EINVAL, "letters in the section");
	memcpy(lab + 27, "  12", 4);
	CHECK(tape_label_parse_into(lab, 80, &fi) == 0 && fi.section == 12, "leading spaces");
	memcpy(lab + 41, "126001", 6);
	CHECK(tape_label_parse_into(lab, 80, &fi) == 0 && fi.created_year == 2126 &&
	      fi.created_yday == 1, "22nd century date %d", fi.created_year);
	memcpy(lab + 41, " 99400", 6);
	tape_label_parse_into(lab, 80, &fi);
	CHECK(fi.created_year == 0, "day 400");
	CHECK(tape_label_parse_vol1(lab, 80, &(struct tape_label_vol){ 0 }) == -EINVAL, "not VOL1");
	char iso[11];
	CHECK(tape_label_date_iso(2026, 334, iso) == 0 && strcmp(iso, "2026-11-30") == 0, "%s", iso);
	CHECK(tape_label_date_iso(2024, 366, iso) == 0 && strcmp(iso, "2024-12-31") == 0, "%s", iso);
	CHECK(tape_label_date_iso(2000, 60, iso) == 0 && strcmp(iso, "2000-02-29") == 0, "%s", iso);
	CHECK(tape_label_date_iso(1999, 1, iso) == 0 && strcmp(iso, "1999-01-01") == 0, "%s", iso);
	CHECK(tape_label_date_iso(1900, 366, iso) == -EINVAL && iso[0] == '\0', "1900 not leap");
	CHECK(tape_label_date_iso(0, 0, iso) == -EINVAL, "blank date");

	/* An unlabelled tape, and a labelled one that goes wrong. */
	struct tape_label_scan *s = tape_label_scan_new(4);
	uint8_t data[100] = { 0 };
	tape_label_scan_record(s, data, sizeof(data));
	tape_label_scan_mark(s);
	CHECK(!tape_label_scan_labelled(s) && tape_label_scan_volume(s) == NULL, "unlabelled");
	CHECK(tape_label_scan_problem(s) == NULL, "unlabelled is no problem");
	tape_label_scan_free(s);
	s = tape_label_scan_new(4);
	memset(lab, ' ', 80);
	memcpy(lab, "VOL1ABC", 7);
	tape_label_scan_record(s, lab, 80);
	tape_label_scan_record(s, data, sizeof(data));
	CHECK(tape_label_scan_labelled(s) && tape_label_scan_problem(s) != NULL,
	      "data record where HDR1 belongs");
	tape_label_scan_free(s);
	/* More files than kept: counted. */
	s = tape_label_scan_new(2);
	tape_label_scan_record(s, lab, 80);
	for (int i = 0; i < 5; i++) {
		memset(lab, ' ', 80);
		memcpy(lab, "HDR1X", 5);
		tape_label_scan_record(s, lab, 80);
		tape_label_scan_mark(s);
		tape_label_scan_mark(s);
		memcpy(lab, "EOF1X", 5);
		tape_label_scan_record(s, lab, 80);
		tape_label_scan_mark(s);
	}
	tape_label_scan_mark(s);
	CHECK(tape_label_scan_count(s) == 2 && tape_label_scan_total(s) == 5, "kept %zu of %llu",
	      tape_label_scan_count(s), (unsigned long long)tape_label_scan_total(s));
	CHECK(tape_label_scan_problem(s) == NULL, "problem: %s", tape_label_scan_problem(s));
	CHECK(tape_label_scan_file(s, 2) == NULL, "file 2 not kept");
	tape_label_scan_free(s);
}

int main(void)
{
	names();
	kinds_and_parse();
	for (int i = 0; i < N_ALL_FORMATS; i++) {
		const struct tape_format *f = tape_format_by_name(all_format_names[i]);
		one_file(f);
		several_files(f);
		three_reels(f, false);
		three_reels(f, true);
		full_between_files(f, 1000);
		full_between_files(f, 0);
		empty_volume(f);
		savesets(f);
	}
	return tu_result("test_labels");
}
