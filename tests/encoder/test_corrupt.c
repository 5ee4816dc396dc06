/*
 * test_corrupt.c - damaged and truncated images, hand-built byte by byte so
 * they do not depend on our encoder: each must give the right error kind at
 * the right image offset, pushed whole and pushed one byte at a time.
 */
#include "testutil.h"

struct img {
	uint8_t b[256];
	size_t n;
};

static void w32(struct img *m, uint32_t v)
{
	put32(m->b + m->n, v);
	m->n += 4;
}

static void wbytes(struct img *m, const char *s, size_t n)
{
	memcpy(m->b + m->n, s, n);
	m->n += n;
}

/* SIMH record with explicit header/trailer values and padding. */
static void srec(struct img *m, uint32_t hdr, const char *data, size_t n, int pad,
		 uint32_t trl)
{
	w32(m, hdr);
	wbytes(m, data, n);
	if (pad)
		m->b[m->n++] = 0;
	w32(m, trl);
}

static void ahdr(struct img *m, uint16_t cur, uint16_t prev, uint8_t f1)
{
	put16(m->b + m->n, cur);
	put16(m->b + m->n + 2, prev);
	m->b[m->n + 4] = f1;
	m->b[m->n + 5] = 0;
	m->n += 6;
}

static void achunk(struct img *m, const char *data, uint16_t n, uint16_t prev, uint8_t f1)
{
	ahdr(m, n, prev, f1);
	wbytes(m, data, n);
}

struct ccase {
	const char *name;
	const char *fmt;		/* NULL: auto */
	void (*make)(struct img *m);
	enum tape_error_kind err;
	uint64_t offset;
	unsigned records_before;	/* RECORD events before the error */
};

static void simh_mismatch(struct img *m) { srec(m, 10, "0123456789", 10, 0, 11); }
static void simh_trunc_hdr(struct img *m) { w32(m, 0); m->b[m->n++] = 10; m->b[m->n++] = 0; }
static void simh_trunc_data(struct img *m) { w32(m, 0); w32(m, 10); wbytes(m, "01234", 5); }
static void simh_trunc_trl(struct img *m) { srec(m, 2, "ab", 2, 0, 2); m->n -= 1; }
static void simh_reserved(struct img *m) { srec(m, 2, "ab", 2, 0, 2); w32(m, 0xFF000000u); }
static void simh_reserved2(struct img *m) { w32(m, 0); w32(m, 0xFFFFFFFDu); }
static void simh_errflag(struct img *m) { srec(m, 0x8000000Au, "0123456789", 10, 0, 0x8000000Au); }
static void simh_toobig(struct img *m) { w32(m, 0x01000000u); }
static void simh_padded_as_e11(struct img *m) { srec(m, 3, "abc", 3, 1, 3); }
static void simh_unpadded_as_simh(struct img *m) { srec(m, 3, "abc", 3, 0, 3); w32(m, 0); w32(m, 0); }
static void simh_after_gap(struct img *m) { w32(m, 0xFFFFFFFEu); srec(m, 4, "abcd", 4, 0, 5); }
static void aws_prev(struct img *m) { achunk(m, "abcde", 5, 0, 0xA0); achunk(m, "xy", 2, 4, 0xA0); }
static void aws_first_prev(struct img *m) { achunk(m, "abcde", 5, 7, 0xA0); }
static void aws_no_begin(struct img *m) { achunk(m, "abc", 3, 0, 0x20); }
static void aws_no_end(struct img *m) { achunk(m, "abc", 3, 0, 0x80); ahdr(m, 0, 3, 0x40); }
static void aws_two_begins(struct img *m) { achunk(m, "abc", 3, 0, 0x80); achunk(m, "de", 2, 3, 0xA0); }
static void aws_trunc_rec(struct img *m) { ahdr(m, 0, 0, 0x40); achunk(m, "abc", 3, 0, 0x80); }
static void aws_trunc_chunk(struct img *m) { achunk(m, "abc", 3, 0, 0xA0); ahdr(m, 9, 3, 0xA0); wbytes(m, "1234", 4); }
static void aws_trunc_hdr(struct img *m) { achunk(m, "abc", 3, 0, 0xA0); ahdr(m, 9, 3, 0xA0); m->n -= 2; }
static void aws_comp_flag(struct img *m) { achunk(m, "abc", 3, 0, 0xA1); }
static void aws_unknown_flag(struct img *m) { achunk(m, "abc", 3, 0, 0xB0); }
static void aws_mark_len(struct img *m) { ahdr(m, 0, 0, 0x40); achunk(m, "abc", 3, 0, 0x40); }
static void aws_empty(struct img *m) { ahdr(m, 0, 0, 0x40); ahdr(m, 0, 0, 0xA0); }
static void aws_empty_chunks(struct img *m) { ahdr(m, 0, 0, 0x40); ahdr(m, 0, 0, 0x80); ahdr(m, 0, 0, 0x20); }
static void het_garbage(struct img *m) { achunk(m, "not zlib at all", 15, 0, 0xA1); }
static void het_bzip2(struct img *m) { achunk(m, "BZh9", 4, 0, 0xA2); }
static void het_mixed(struct img *m) { achunk(m, "ab", 2, 0, 0x81); achunk(m, "cd", 2, 2, 0x20); }
static void het_trailing(struct img *m)
{
	uint8_t z[64];
	uLongf zl = sizeof(z);
	compress2(z, &zl, (const Bytef *)"hello hello hello", 17, 6);
	z[zl++] = 'X';
	ahdr(m, (uint16_t)zl, 0, 0xA1);
	memcpy(m->b + m->n, z, zl);
	m->n += zl;
}
static void het_truncated_stream(struct img *m)
{
	uint8_t z[64];
	uLongf zl = sizeof(z);
	compress2(z, &zl, (const Bytef *)"hello hello hello", 17, 6);
	ahdr(m, 0, 0, 0x40);
	ahdr(m, (uint16_t)(zl - 3), 0, 0xA1);
	memcpy(m->b + m->n, z, zl - 3);
	m->n += zl - 3;
}
static void garbage(struct img *m) { wbytes(m, "This is not a tape image, just text.", 36); }

static const struct ccase cases[] = {
	{ "simh trailer mismatch", "simh", simh_mismatch, TAPE_ERR_MISMATCH, 14, 0 },
	{ "mtd trailer mismatch", "mtd", simh_mismatch, TAPE_ERR_MISMATCH, 14, 0 },
	{ "auto trailer mismatch", NULL, simh_mismatch, TAPE_ERR_MISMATCH, 14, 0 },
	{ "simh truncated header", "simh", simh_trunc_hdr, TAPE_ERR_TRUNCATED, 4, 0 },
	{ "simh truncated data", "simh", simh_trunc_data, TAPE_ERR_TRUNCATED, 4, 0 },
	{ "e11 truncated trailer", "e11", simh_trunc_trl, TAPE_ERR_TRUNCATED, 0, 0 },
	{ "simh reserved", "simh", simh_reserved, TAPE_ERR_RESERVED, 10, 1 },
	{ "simh reserved top", "simh", simh_reserved2, TAPE_ERR_RESERVED, 4, 0 },
	{ "simh error flag", "simh", simh_errflag, TAPE_ERR_BAD_FLAG, 0, 0 },
	{ "simh too big", "simh", simh_toobig, TAPE_ERR_TOO_BIG, 0, 0 },
	{ "simh image read as e11", "e11", simh_padded_as_e11, TAPE_ERR_MISMATCH, 7, 0 },
	{ "e11 image read as simh", "simh", simh_unpadded_as_simh, TAPE_ERR_MISMATCH, 8, 0 },
	{ "mismatch after erase gap", "simh", simh_after_gap, TAPE_ERR_MISMATCH, 12, 0 },
	{ "aws previous length", "aws", aws_prev, TAPE_ERR_CHAIN, 11, 1 },
	{ "aws first previous length", "aws", aws_first_prev, TAPE_ERR_CHAIN, 0, 0 },
	{ "aws missing begin", "aws", aws_no_begin, TAPE_ERR_CHAIN, 0, 0 },
	{ "aws missing end", "aws", aws_no_end, TAPE_ERR_CHAIN, 9, 0 },
	{ "aws two begins", "aws", aws_two_begins, TAPE_ERR_CHAIN, 9, 0 },
	{ "aws truncated record", "aws", aws_trunc_rec, TAPE_ERR_TRUNCATED, 6, 0 },
	{ "aws truncated chunk", "aws", aws_trunc_chunk, TAPE_ERR_TRUNCATED, 9, 1 },
	{ "het truncated header", "het", aws_trunc_hdr, TAPE_ERR_TRUNCATED, 9, 1 },
	{ "aws compression flag", "aws", aws_comp_flag, TAPE_ERR_BAD_FLAG, 0, 0 },
	{ "aws unknown flag", "aws", aws_unknown_flag, TAPE_ERR_BAD_FLAG, 0, 0 },
	{ "aws mark with length", "aws", aws_mark_len, TAPE_ERR_BAD_FLAG, 6, 0 },
	{ "aws empty record", "aws", aws_empty, TAPE_ERR_BAD_FLAG, 6, 0 },
	{ "aws empty record over two chunks", "aws", aws_empty_chunks, TAPE_ERR_BAD_FLAG, 6, 0 },
	{ "het not zlib", "het", het_garbage, TAPE_ERR_INFLATE, 0, 0 },
	{ "auto het not zlib", NULL, het_garbage, TAPE_ERR_INFLATE, 0, 0 },
	{ "het bzip2", "het", het_bzip2, TAPE_ERR_INFLATE, 0, 0 },
	{ "het mixed compression", "het", het_mixed, TAPE_ERR_BAD_FLAG, 8, 0 },
	{ "het bytes after stream", "het", het_trailing, TAPE_ERR_INFLATE, 0, 0 },
	{ "het truncated stream", "het", het_truncated_stream, TAPE_ERR_INFLATE, 6, 0 },
	{ "auto garbage", NULL, garbage, TAPE_ERR_UNKNOWN, 0, 0 },
};

static void run_case(const struct ccase *c, size_t step)
{
	struct img m = { .n = 0 };
	struct evlog log;
	struct tape_counts cnt;

	c->make(&m);
	el_init(&log, 0);
	const struct tape_format *f = c->fmt ? tape_format_by_name(c->fmt) : NULL;
	int rc = decode_image(f, m.b, m.n, step, &log, &cnt, NULL, NULL);
	const struct ev_rec *e = el_error(&log);
	CHECK(rc == -EILSEQ, "%s (step %zu): rc %d", c->name, step, rc);
	CHECK(e != NULL, "%s (step %zu): no error event", c->name, step);
	if (e) {
		CHECK(e->err == c->err, "%s (step %zu): kind %s, want %s", c->name, step,
		      tape_error_kind_name(e->err), tape_error_kind_name(c->err));
		CHECK(e->offset == c->offset, "%s (step %zu): offset %" PRIu64 ", want %" PRIu64,
		      c->name, step, e->offset, c->offset);
		CHECK(e == &log.ev[log.n - 1], "%s: error is the last event", c->name);
	}
	CHECK(el_count(&log, TAPE_EV_RECORD) == c->records_before,
	      "%s: %zu records before the error", c->name, el_count(&log, TAPE_EV_RECORD));
	el_free(&log);
}

/* The message names the offset, and the error is sticky. */
static void test_message(void)
{
	struct img m = { .n = 0 };
	struct evlog log;
	simh_mismatch(&m);
	el_init(&log, 0);
	struct tape_dec *d = tape_dec_new(tape_format_by_name("simh"), el_cb, &log);
	CHECK(tape_dec_push(d, m.b, m.n) == -EILSEQ, "push");
	CHECK(strstr(tape_dec_error(d), "offset 14") != NULL, "message: %s", tape_dec_error(d));
	CHECK(tape_dec_push(d, m.b, m.n) == -EILSEQ, "sticky");
	CHECK(tape_dec_end(d) == -EILSEQ, "sticky end");
	CHECK(log.n == 1, "one error event only");
	tape_dec_free(d);
	el_free(&log);
}

/* HET block that inflates past 2 MiB. */
static void test_het_too_big(void)
{
	size_t n = (2u << 20) + 1;
	uint8_t *raw = calloc(1, n);
	uLongf zl = compressBound((uLong)n);
	uint8_t *z = tu_xmalloc(zl);
	compress2(z, &zl, raw, (uLong)n, 9);
	CHECK(zl < 65535, "fits one chunk");
	uint8_t *img = tu_xmalloc(zl + 6);
	put16(img, (uint16_t)zl);
	put16(img + 2, 0);
	img[4] = 0xA1;
	img[5] = 0;
	memcpy(img + 6, z, zl);
	struct evlog log;
	el_init(&log, 0);
	CHECK(decode_image(tape_format_by_name("het"), img, zl + 6, 0, &log, NULL, NULL, NULL) ==
	      -EILSEQ, "rc");
	CHECK(el_error(&log) && el_error(&log)->err == TAPE_ERR_TOO_BIG, "too big");
	el_free(&log);
	free(raw);
	free(z);
	free(img);
}

/* AWS record whose chunks add up past 2 MiB: error at the chunk that
 * crosses the limit. */
static void test_aws_too_big(void)
{
	const size_t chunk = 65535, nchunks = 33;
	size_t len = nchunks * (chunk + 6);
	uint8_t *img = calloc(1, len);
	for (size_t i = 0; i < nchunks; i++) {
		uint8_t *h = img + i * (chunk + 6);
		put16(h, (uint16_t)chunk);
		put16(h + 2, i ? (uint16_t)chunk : 0);
		h[4] = i == 0 ? 0x80 : 0;
	}
	struct evlog log;
	el_init(&log, 0);
	decode_image(tape_format_by_name("aws"), img, len, 8192, &log, NULL, NULL, NULL);
	const struct ev_rec *e = el_error(&log);
	CHECK(e && e->err == TAPE_ERR_TOO_BIG && e->offset == 32 * (chunk + 6),
	      "aws too big at %" PRIu64, e ? e->offset : 0);
	el_free(&log);
	free(img);
}

/* End of medium stops decoding; what follows is not read. */
static void test_eom(void)
{
	struct img m = { .n = 0 };
	srec(&m, 2, "ab", 2, 0, 2);
	w32(&m, 0xFFFFFFFFu);
	wbytes(&m, "garbage", 7);
	struct evlog log;
	el_init(&log, 0);
	int eod;
	CHECK(decode_image(tape_format_by_name("simh"), m.b, m.n, 1, &log, NULL, NULL, &eod) == 0,
	      "eom decodes");
	CHECK(log.n == 2 && log.ev[1].kind == TAPE_EV_EOM && log.ev[1].offset == 10,
	      "record then EOM at 10");
	CHECK(!eod, "no end of data");
	el_free(&log);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_case(&cases[i], 0);
		run_case(&cases[i], 1);
		run_case(&cases[i], 5);
	}
	test_message();
	test_het_too_big();
	test_aws_too_big();
	test_eom();
	return tu_result("test_corrupt");
}
