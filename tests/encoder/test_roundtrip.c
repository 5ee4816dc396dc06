/*
 * test_roundtrip.c - every format, through memory and back: records of the
 * interesting sizes (1, 2, around 512, around 64 KiB, 1 MiB, the format
 * maximum), empty files, many files, the encoder's limits and call order,
 * and encoder counts equal to decoder counts and to CRCs computed here.
 */
#include "testutil.h"

static int is_het(const struct tape_format *f)
{
	return strcmp(tape_format_name(f), "het") == 0;
}

/* Encodes each size as one record, a mark after every third record, then
 * finish. The image goes to m, the payload to pay. */
static void encode_sizes(const struct tape_format *f, const size_t *sizes, int n,
			 const struct tape_enc_options *opt, int text,
			 struct membuf *m, struct membuf *pay, struct tape_counts *c)
{
	struct tape_enc *e = tape_enc_new(f, opt, mb_sink, m);
	CHECK(e != NULL, "tape_enc_new");
	for (int i = 0; i < n; i++) {
		uint8_t *d = tu_xmalloc(sizes[i]);
		fill_data(d, sizes[i], (uint32_t)i + 7, text);
		uint64_t before = m->len;
		uint64_t cost = tape_enc_record_cost(e, sizes[i]);
		int rc = tape_enc_record(e, d, sizes[i]);
		CHECK(rc == 0, "%s: record of %zu: %d %s", tape_format_name(f), sizes[i], rc,
		      tape_enc_error(e));
		CHECK(m->len - before <= cost, "%s: cost %" PRIu64 " < actual %zu",
		      tape_format_name(f), cost, (size_t)(m->len - before));
		if (!is_het(f))
			CHECK(m->len - before == cost, "%s: cost %" PRIu64 " != actual %zu",
			      tape_format_name(f), cost, (size_t)(m->len - before));
		mb_append(pay, d, sizes[i]);
		free(d);
		if (i % 3 == 2)
			CHECK(tape_enc_mark(e) == 0, "mark");
	}
	uint64_t before = m->len, fcost = tape_enc_finish_cost(e);
	CHECK(tape_enc_finish(e) == 0, "finish: %s", tape_enc_error(e));
	CHECK(m->len - before == fcost, "finish cost %" PRIu64 " != %zu", fcost,
	      (size_t)(m->len - before));
	CHECK(tape_enc_finished(e), "finished");
	tape_enc_counts(e, c);
	tape_enc_free(e);
}

static void check_counts_equal(const char *what, const struct tape_counts *a,
			       const struct tape_counts *b)
{
	CHECK(a->files == b->files, "%s: files %" PRIu64 " vs %" PRIu64, what, a->files, b->files);
	CHECK(a->records == b->records, "%s: records %" PRIu64 " vs %" PRIu64, what,
	      a->records, b->records);
	CHECK(a->marks == b->marks, "%s: marks %" PRIu64 " vs %" PRIu64, what, a->marks, b->marks);
	CHECK(a->payload_bytes == b->payload_bytes, "%s: payload bytes", what);
	CHECK(a->image_bytes == b->image_bytes, "%s: image bytes %" PRIu64 " vs %" PRIu64,
	      what, a->image_bytes, b->image_bytes);
	CHECK(a->payload_crc == b->payload_crc, "%s: payload crc %08x vs %08x", what,
	      a->payload_crc, b->payload_crc);
	CHECK(a->image_crc == b->image_crc, "%s: image crc %08x vs %08x", what,
	      a->image_crc, b->image_crc);
}

/* Encode sizes, decode (fixed format, then auto), compare everything. */
static void roundtrip(const struct tape_format *f, const size_t *sizes, int n,
		      const struct tape_enc_options *opt, int text, size_t step)
{
	struct membuf img, pay;
	struct tape_counts ec, dc;
	char what[64];

	snprintf(what, sizeof(what), "%s/%zu..", tape_format_name(f), sizes[0]);
	mb_init(&img);
	mb_init(&pay);
	encode_sizes(f, sizes, n, opt, text, &img, &pay, &ec);

	/* Encoder counts against what we can compute from outside. */
	CHECK(ec.image_bytes == img.len, "%s: image_bytes", what);
	CHECK(ec.image_crc == (uint32_t)crc32(0, img.p, (uInt)img.len), "%s: image crc", what);
	CHECK(ec.payload_crc == (uint32_t)crc32(0, pay.p, (uInt)pay.len), "%s: payload crc", what);
	CHECK(ec.records == (uint64_t)n, "%s: records", what);
	CHECK(ec.payload_bytes == pay.len, "%s: payload bytes", what);
	CHECK(ec.files == (uint64_t)(n + 2) / 3, "%s: files %" PRIu64, what, ec.files);

	for (int pass = 0; pass < 2; pass++) {
		struct evlog log;
		const struct tape_format *found = NULL;
		int eod = 0;

		el_init(&log, 1);
		int rc = decode_image(pass ? NULL : f, img.p, img.len, step, &log, &dc,
				      &found, &eod);
		CHECK(rc == 0, "%s pass %d: decode rc %d", what, pass, rc);
		CHECK(el_error(&log) == NULL, "%s pass %d: error event kind %d at %" PRIu64,
		      what, pass, el_error(&log) ? (int)el_error(&log)->err : 0,
		      el_error(&log) ? el_error(&log)->offset : 0);
		CHECK(eod, "%s: end of data seen", what);
		CHECK(log.payload.len == pay.len &&
		      memcmp(log.payload.p, pay.p, pay.len) == 0, "%s pass %d: payload differs",
		      what, pass);
		size_t r = 0;
		for (size_t i = 0; i < log.n; i++)
			if (log.ev[i].kind == TAPE_EV_RECORD) {
				CHECK(r < (size_t)n && log.ev[i].len == sizes[r],
				      "%s: record %zu length %zu", what, r, log.ev[i].len);
				r++;
			}
		check_counts_equal(what, &ec, &dc);
		if (pass == 1)
			CHECK(found != NULL, "%s: auto found nothing", what);
		el_free(&log);
	}
	mb_free(&img);
	mb_free(&pay);
}

static void test_sizes(void)
{
	static const size_t common[] = { 1, 2, 511, 512, 513, 65535, 65536, 65537, 1 << 20 };
	const int nc = (int)(sizeof(common) / sizeof(common[0]));

	for (int i = 0; i < N_ALL_FORMATS; i++) {
		const struct tape_format *f = tape_format_by_name(all_format_names[i]);
		size_t max = tape_format_max_record(f);

		roundtrip(f, common, nc, NULL, 0, 0);
		roundtrip(f, common, nc, NULL, 1, 0);
		/* Pushed in 4099-byte pieces: records cross pushes. */
		roundtrip(f, common, nc, NULL, 1, 4099);
		size_t big[] = { max, 3, max - 1 };
		roundtrip(f, big, 3, NULL, 1, 0);
		roundtrip(f, big, 3, NULL, 0, 1 << 16);
		/* Small chunks make AWS/HET records span many chunks. */
		struct tape_enc_options o = { .het_level = 9, .chunk_size = 1000 };
		roundtrip(f, common, nc, &o, 1, 777);
		struct tape_enc_options o1 = { .het_level = 1, .chunk_size = 1 };
		size_t small[] = { 1, 2, 3, 100, 2000 };
		roundtrip(f, small, 5, &o1, 1, 0);
	}
}

static void test_odd_lengths(void)
{
	size_t odd[41];
	for (int i = 0; i < 41; i++)
		odd[i] = (size_t)(2 * i + 1) * (i % 5 + 1) | 1;
	for (int i = 0; i < N_ALL_FORMATS; i++)
		roundtrip(tape_format_by_name(all_format_names[i]), odd, 41, NULL, i & 1, 3);
}

/* Exact framing sizes of odd records: padding only where documented. */
static void test_padding(void)
{
	static const struct { const char *name; size_t image; } want[] = {
		{ "mtd", 8 + 3 + 1 + 8 }, { "simh", 8 + 3 + 1 + 8 }, { "e11", 8 + 3 + 8 },
		{ "aws", 6 + 3 + 12 }, { "het", 6 + 3 + 12 },
	};
	for (int i = 0; i < 5; i++) {
		struct membuf m;
		mb_init(&m);
		struct tape_enc *e = tape_enc_new(tape_format_by_name(want[i].name), NULL,
						  mb_sink, &m);
		CHECK(tape_enc_record(e, "abc", 3) == 0, "record");
		CHECK(tape_enc_finish(e) == 0, "finish");
		CHECK(m.len == want[i].image, "%s: image of one 3-byte record is %zu bytes",
		      want[i].name, m.len);
		CHECK(m.calls == 3, "%s: one sink call per record/mark, got %u", want[i].name,
		      m.calls);
		tape_enc_free(e);
		mb_free(&m);
	}
}

/* Empty files, empty tape, many files: the file-counting rule. */
static void test_files(void)
{
	for (int i = 0; i < N_ALL_FORMATS; i++) {
		const struct tape_format *f = tape_format_by_name(all_format_names[i]);
		struct membuf m;
		struct tape_counts ec, dc;
		struct evlog log;
		int eod;

		/* Untouched tape: two marks, no file. */
		mb_init(&m);
		struct tape_enc *e = tape_enc_new(f, NULL, mb_sink, &m);
		CHECK(tape_enc_finish_cost(e) == 2 * (i < 3 ? 4u : 6u), "finish cost empty");
		CHECK(tape_enc_finish(e) == 0, "finish");
		CHECK(tape_enc_finish(e) == 0, "finish twice");
		tape_enc_counts(e, &ec);
		CHECK(ec.files == 0 && ec.marks == 2 && ec.records == 0,
		      "%s empty: files %" PRIu64 " marks %" PRIu64, f ? all_format_names[i] : "",
		      ec.files, ec.marks);
		tape_enc_free(e);
		el_init(&log, 0);
		CHECK(decode_image(f, m.p, m.len, 1, &log, &dc, NULL, &eod) == 0, "decode");
		check_counts_equal("empty", &ec, &dc);
		CHECK(eod && el_count(&log, TAPE_EV_MARK) == 2, "empty tape eod");
		el_free(&log);
		mb_free(&m);

		/* R M M R, finish: file 2 is empty; R M M R M M. */
		mb_init(&m);
		e = tape_enc_new(f, NULL, mb_sink, &m);
		tape_enc_record(e, "x", 1);
		tape_enc_mark(e);
		tape_enc_mark(e);
		tape_enc_record(e, "yz", 2);
		CHECK(tape_enc_finish_cost(e) == 2 * (i < 3 ? 4u : 6u), "finish cost");
		tape_enc_finish(e);
		tape_enc_counts(e, &ec);
		CHECK(ec.files == 3 && ec.marks == 4, "%s R M M R: files %" PRIu64 " marks %" PRIu64,
		      all_format_names[i], ec.files, ec.marks);
		tape_enc_free(e);
		el_init(&log, 0);
		CHECK(decode_image(NULL, m.p, m.len, 0, &log, &dc, NULL, &eod) == 0, "decode");
		check_counts_equal("R M M R", &ec, &dc);
		el_free(&log);
		mb_free(&m);

		/* R M, finish adds only one mark. */
		mb_init(&m);
		e = tape_enc_new(f, NULL, mb_sink, &m);
		tape_enc_record(e, "x", 1);
		tape_enc_mark(e);
		CHECK(tape_enc_finish_cost(e) == (i < 3 ? 4u : 6u), "finish cost after mark");
		tape_enc_finish(e);
		tape_enc_counts(e, &ec);
		CHECK(ec.files == 1 && ec.marks == 2, "R M: files %" PRIu64, ec.files);
		tape_enc_free(e);
		mb_free(&m);

		/* 1000 files of one record each. */
		mb_init(&m);
		e = tape_enc_new(f, NULL, mb_sink, &m);
		uint8_t buf[1100];
		fill_data(buf, sizeof(buf), 3, 1);
		for (int k = 0; k < 1000; k++) {
			CHECK(tape_enc_record(e, buf, (size_t)k % 1000 + 1) == 0, "rec");
			CHECK(tape_enc_mark(e) == 0, "mark");
		}
		tape_enc_finish(e);
		tape_enc_counts(e, &ec);
		CHECK(ec.files == 1000 && ec.marks == 1001 && ec.records == 1000,
		      "1000 files: %" PRIu64 " %" PRIu64, ec.files, ec.marks);
		tape_enc_free(e);
		el_init(&log, 0);
		CHECK(decode_image(NULL, m.p, m.len, 0, &log, &dc, NULL, &eod) == 0, "decode");
		check_counts_equal("1000 files", &ec, &dc);
		CHECK(eod, "eod");
		el_free(&log);
		mb_free(&m);
	}
}

/* Limits, call order, sticky errors. */
static void test_api(void)
{
	for (int i = 0; i < N_ALL_FORMATS; i++) {
		const struct tape_format *f = tape_format_by_name(all_format_names[i]);
		struct membuf m;
		struct tape_counts c;
		static uint8_t one[1];

		mb_init(&m);
		struct tape_enc *e = tape_enc_new(f, NULL, mb_sink, &m);
		CHECK(tape_enc_record(e, one, 0) == -EINVAL, "zero length");
		CHECK(m.len == 0, "nothing emitted for a rejected record");
		size_t max = tape_format_max_record(f);
		uint8_t *big = calloc(1, max + 1);
		CHECK(tape_enc_record(e, big, max + 1) == -EINVAL, "over max");
		CHECK(m.len == 0, "nothing emitted");
		CHECK(strstr(tape_enc_error(e), "record") != NULL, "error says why: %s",
		      tape_enc_error(e));
		CHECK(tape_enc_record(e, "ok", 2) == 0, "still usable");
		tape_enc_counts(e, &c);
		CHECK(c.records == 1, "only the good record counted");
		CHECK(tape_enc_finish(e) == 0, "finish");
		CHECK(tape_enc_record(e, "ok", 2) == -EPIPE, "record after finish");
		CHECK(tape_enc_mark(e) == -EPIPE, "mark after finish");
		CHECK(tape_enc_finish_cost(e) == 0, "no cost after finish");
		free(big);
		tape_enc_free(e);
		mb_free(&m);

		/* Sink failure is sticky. */
		mb_init(&m);
		m.fail_at_call = 1;
		e = tape_enc_new(f, NULL, mb_sink, &m);
		CHECK(tape_enc_record(e, "a", 1) == 0, "first");
		CHECK(tape_enc_record(e, "b", 1) == -ENOSPC, "sink error returned");
		CHECK(tape_enc_record(e, "c", 1) == -ENOSPC, "sticky");
		CHECK(tape_enc_mark(e) == -ENOSPC, "sticky mark");
		CHECK(tape_enc_finish(e) == -ENOSPC, "sticky finish");
		tape_enc_counts(e, &c);
		CHECK(c.records == 1 && c.image_bytes == m.len, "counts only what the sink took");
		tape_enc_free(e);
		mb_free(&m);
	}
	CHECK(tape_format_by_name("nope") == NULL, "unknown name");
	CHECK(tape_format_default() == tape_format_by_name("mtd"), "default mtd");
	CHECK(strcmp(tape_format_names(), "mtd,simh,e11,aws,het") == 0, "names");
	static const struct { const char *path, *name; } paths[] = {
		{ "a/b/vol1.mtd", "mtd" }, { "x.tap", "simh" }, { "x.TAP.part", "simh" },
		{ "x.e11", "e11" }, { "/t/x.aws.part", "aws" }, { "x.het", "het" },
		{ "x.tar", NULL }, { "mtd", NULL }, { ".part", NULL }, { "x.part", NULL },
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const struct tape_format *f = tape_format_from_path(paths[i].path);
		CHECK(paths[i].name ? f == tape_format_by_name(paths[i].name) : f == NULL,
		      "from_path(%s)", paths[i].path);
	}
	CHECK(tape_format_max_record(tape_format_by_name("simh")) == 0x00FFFFFF, "simh max");
	CHECK(tape_format_max_record(tape_format_by_name("het")) == 2u << 20, "het max");
}

/* HET keeps compression only when it helps; both kinds decode. */
static void test_het_compression(void)
{
	for (int text = 0; text < 2; text++) {
		struct membuf m;
		uint8_t d[40000];
		fill_data(d, sizeof(d), 11, text);
		mb_init(&m);
		struct tape_enc *e = tape_enc_new(tape_format_by_name("het"), NULL, mb_sink, &m);
		CHECK(tape_enc_record(e, d, sizeof(d)) == 0, "record");
		CHECK(tape_enc_finish(e) == 0, "finish");
		tape_enc_free(e);
		CHECK(text ? (m.p[4] & 0x01) && m.len < sizeof(d) * 3 / 4
			   : !(m.p[4] & 0x01) && m.len == sizeof(d) + 18,
		      "text=%d: flags 0x%02x, image %zu", text, m.p[4], m.len);
		mb_free(&m);
	}
}

int main(void)
{
	test_api();
	test_padding();
	test_files();
	test_het_compression();
	test_odd_lengths();
	test_sizes();
	return tu_result("test_roundtrip");
}
