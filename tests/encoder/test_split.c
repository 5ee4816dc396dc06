/*
 * test_split.c - the decoder gives the same events however the image is cut:
 * every single split point, every pair of split points on a tiny image, and
 * one byte at a time, for every format, with a fixed format and with auto.
 */
#include "testutil.h"

/* Pushes img cut at the given points (sorted, may repeat), then ends. */
static int decode_cuts(const struct tape_format *f, const uint8_t *img, size_t len,
		       const size_t *cuts, int ncuts, struct evlog *log,
		       struct tape_counts *c)
{
	struct tape_dec *d = tape_dec_new(f, el_cb, log);
	size_t at = 0;
	int rc = 0;

	for (int i = 0; i <= ncuts && rc == 0; i++) {
		size_t to = i < ncuts ? cuts[i] : len;
		rc = tape_dec_push(d, img + at, to - at);
		at = to;
	}
	if (rc == 0)
		rc = tape_dec_end(d);
	tape_dec_counts(d, c);
	tape_dec_free(d);
	return rc;
}

static void build(const char *name, const struct tape_enc_options *opt, struct membuf *m)
{
	struct tape_enc *e = tape_enc_new(tape_format_by_name(name), opt, mb_sink, m);
	uint8_t d[320];
	fill_data(d, sizeof(d), 1, 1);
	static const size_t sizes[] = { 1, 2, 3, 7, 80, 255, 300 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		tape_enc_record(e, d + i, sizes[i]);
		if (i == 2) {
			tape_enc_mark(e);
			tape_enc_mark(e);
		}
	}
	tape_enc_mark(e);
	tape_enc_record(e, d, 5);
	tape_enc_finish(e);
	tape_enc_free(e);
}

static void build_tiny(const char *name, struct membuf *m)
{
	struct tape_enc_options o = { .chunk_size = 4 };
	struct tape_enc *e = tape_enc_new(tape_format_by_name(name), &o, mb_sink, m);
	tape_enc_record(e, "abc", 3);
	tape_enc_mark(e);
	tape_enc_record(e, "0123456789", 10);
	tape_enc_finish(e);
	tape_enc_free(e);
}

static int same_counts(const struct tape_counts *a, const struct tape_counts *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static void split_all(const char *name, const struct tape_enc_options *opt, int tiny)
{
	struct membuf m;
	mb_init(&m);
	if (tiny)
		build_tiny(name, &m);
	else
		build(name, opt, &m);
	for (int pass = 0; pass < 2; pass++) {
		const struct tape_format *f = pass ? NULL : tape_format_by_name(name);
		struct evlog ref, log;
		struct tape_counts rc0, c;

		el_init(&ref, 0);
		CHECK(decode_cuts(f, m.p, m.len, NULL, 0, &ref, &rc0) == 0, "%s whole", name);
		CHECK(el_error(&ref) == NULL, "%s: no error", name);
		CHECK(el_count(&ref, TAPE_EV_RECORD) == (tiny ? 2u : 8u) &&
		      el_count(&ref, TAPE_EV_MARK) == (tiny ? 3u : 5u),
		      "%s: reference has %zu events", name, ref.n);
		CHECK(rc0.image_bytes == m.len, "%s: all consumed", name);
		for (size_t k = 0; k <= m.len; k++) {
			el_init(&log, 0);
			CHECK(decode_cuts(f, m.p, m.len, &k, 1, &log, &c) == 0, "%s cut %zu", name, k);
			CHECK(el_equal(&ref, &log) && same_counts(&rc0, &c),
			      "%s (%s): events differ when cut at %zu", name, f ? "fixed" : "auto", k);
			el_free(&log);
		}
		if (tiny)
			for (size_t a = 0; a <= m.len; a++)
				for (size_t b = a; b <= m.len; b++) {
					size_t cuts[2] = { a, b };
					el_init(&log, 0);
					decode_cuts(f, m.p, m.len, cuts, 2, &log, &c);
					CHECK(el_equal(&ref, &log) && same_counts(&rc0, &c),
					      "%s: events differ when cut at %zu,%zu", name, a, b);
					el_free(&log);
				}
		el_init(&log, 0);
		CHECK(decode_image(f, m.p, m.len, 1, &log, &c, NULL, NULL) == 0, "%s bytewise", name);
		CHECK(el_equal(&ref, &log) && same_counts(&rc0, &c), "%s: one byte at a time differs",
		      name);
		el_free(&log);
		el_free(&ref);
	}
	mb_free(&m);
}

/* A callback that stops decoding: the value comes back and sticks. */
static void test_stop(void)
{
	struct membuf m;
	mb_init(&m);
	build("simh", NULL, &m);
	struct evlog log;
	el_init(&log, 0);
	log.stop_after = 2;
	struct tape_dec *d = tape_dec_new(tape_format_by_name("simh"), el_cb, &log);
	CHECK(tape_dec_push(d, m.p, m.len) == -ECANCELED, "callback value returned");
	CHECK(log.n == 2, "no events after the stop: %zu", log.n);
	CHECK(tape_dec_push(d, m.p, 1) == -ECANCELED, "sticky");
	CHECK(tape_dec_end(d) == -ECANCELED, "sticky end");
	tape_dec_free(d);
	el_free(&log);
	mb_free(&m);
}

int main(void)
{
	for (int i = 0; i < N_ALL_FORMATS; i++) {
		struct tape_enc_options small = { .chunk_size = 100, .het_level = 6 };
		split_all(all_format_names[i], NULL, 0);
		split_all(all_format_names[i], &small, 0);
		split_all(all_format_names[i], NULL, 1);
	}
	test_stop();
	return tu_result("test_split");
}
