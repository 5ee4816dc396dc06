/*
 * test_kat.c - known answers: tiny images written out by hand, byte by
 * byte, from the format descriptions (docs/formats.md), so the framing is
 * proven independently of our own encoder. The encoder must produce exactly
 * these bytes, and the decoder must read them back with the right offsets.
 */
#include "testutil.h"

/* "ABC", mark, "hello!", end of data. */
static const uint8_t simh_img[] = {
	0x03, 0x00, 0x00, 0x00, 'A', 'B', 'C', 0x00, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x06, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o', '!', 0x06, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t e11_img[] = {
	0x03, 0x00, 0x00, 0x00, 'A', 'B', 'C', 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x06, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o', '!', 0x06, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* Chunk size 4: "hello!" spans two chunks. */
static const uint8_t aws_img[] = {
	0x03, 0x00, 0x00, 0x00, 0xA0, 0x00, 'A', 'B', 'C',
	0x00, 0x00, 0x03, 0x00, 0x40, 0x00,
	0x04, 0x00, 0x00, 0x00, 0x80, 0x00, 'h', 'e', 'l', 'l',
	0x02, 0x00, 0x04, 0x00, 0x20, 0x00, 'o', '!',
	0x00, 0x00, 0x02, 0x00, 0x40, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x40, 0x00,
};

struct kat {
	const char *fmt;
	const uint8_t *img;
	size_t len;
	uint64_t offsets[5];	/* record, mark, record, mark, mark */
};

static const struct kat kats[] = {
	{ "simh", simh_img, sizeof(simh_img), { 0, 12, 16, 30, 34 } },
	{ "mtd", simh_img, sizeof(simh_img), { 0, 12, 16, 30, 34 } },
	{ "e11", e11_img, sizeof(e11_img), { 0, 11, 15, 29, 33 } },
	{ "aws", aws_img, sizeof(aws_img), { 0, 9, 15, 33, 39 } },
};

static void check_kat(const struct kat *k)
{
	struct membuf m;
	struct tape_enc_options o = { .chunk_size = 4 };
	mb_init(&m);
	struct tape_enc *e = tape_enc_new(tape_format_by_name(k->fmt), &o, mb_sink, &m);
	tape_enc_record(e, "ABC", 3);
	tape_enc_mark(e);
	tape_enc_record(e, "hello!", 6);
	tape_enc_finish(e);
	tape_enc_free(e);
	CHECK(m.len == k->len && memcmp(m.p, k->img, k->len) == 0,
	      "%s: encoder output differs from the hand-written image (%zu vs %zu bytes)",
	      k->fmt, m.len, k->len);
	mb_free(&m);

	for (int pass = 0; pass < 2; pass++) {
		struct evlog log;
		struct tape_counts c;
		int eod;
		el_init(&log, 1);
		CHECK(decode_image(pass ? NULL : tape_format_by_name(k->fmt), k->img, k->len, 0, &log,
				   &c, NULL, &eod) == 0, "%s decode", k->fmt);
		static const enum tape_event_kind kinds[5] = {
			TAPE_EV_RECORD, TAPE_EV_MARK, TAPE_EV_RECORD, TAPE_EV_MARK, TAPE_EV_MARK,
		};
		CHECK(log.n == 5, "%s: %zu events", k->fmt, log.n);
		for (size_t i = 0; i < log.n && i < 5; i++)
			CHECK(log.ev[i].kind == kinds[i] && log.ev[i].offset == k->offsets[i],
			      "%s event %zu: kind %d at %" PRIu64, k->fmt, i, log.ev[i].kind,
			      log.ev[i].offset);
		CHECK(log.payload.len == 9 && memcmp(log.payload.p, "ABChello!", 9) == 0,
		      "%s payload", k->fmt);
		CHECK(c.files == 2 && c.marks == 3 && c.records == 2 && eod, "%s counts", k->fmt);
		CHECK(c.image_crc == (uint32_t)crc32(0, k->img, (uInt)k->len), "%s image crc", k->fmt);
		CHECK(c.payload_crc == (uint32_t)crc32(0, (const Bytef *)"ABChello!", 9), "payload crc");
		el_free(&log);
	}
}

/* HET: a compressible block is stored as one zlib stream in a single
 * chunk flagged BEGIN|END|ZLIB, followed by two marks whose previous-length
 * fields chain back to it. The compressor may be zlib or libdeflate, so the
 * stream is checked by what zlib's own uncompress() (Hercules' way) makes
 * of it, not by its bytes. */
static void check_het(void)
{
	uint8_t block[200];
	memset(block, 'a', sizeof(block));

	struct membuf m;
	mb_init(&m);
	struct tape_enc *e = tape_enc_new(tape_format_by_name("het"), NULL, mb_sink, &m);
	tape_enc_record(e, block, sizeof(block));
	tape_enc_finish(e);
	tape_enc_free(e);

	const uint8_t *p = m.p;
	size_t zl = (size_t)(p[0] | p[1] << 8);
	CHECK(zl > 0 && zl < sizeof(block), "het block not compressed (%zu bytes)", zl);
	CHECK(m.len == 6 + zl + 12, "het image is %zu bytes, want %zu", m.len, 6 + zl + 12);
	CHECK(p[2] == 0 && p[3] == 0 && p[4] == 0xA1 && p[5] == 0, "het block header");
	uint8_t back[sizeof(block)];
	uLongf bl = sizeof(back);
	CHECK(uncompress(back, &bl, p + 6, (uLong)zl) == Z_OK && bl == sizeof(block) &&
	      memcmp(back, block, sizeof(block)) == 0, "het block does not inflate to the record");
	const uint8_t *mk = p + 6 + zl;
	CHECK(mk[0] == 0 && mk[1] == 0 && (size_t)(mk[2] | mk[3] << 8) == zl && mk[4] == 0x40 &&
	      mk[5] == 0, "first mark after het block");
	static const uint8_t mark2[6] = { 0, 0, 0, 0, 0x40, 0 };
	CHECK(memcmp(mk + 6, mark2, 6) == 0, "second mark");

	struct evlog log;
	const struct tape_format *found;
	el_init(&log, 1);
	CHECK(decode_image(NULL, m.p, m.len, 1, &log, NULL, &found, NULL) == 0, "het decode");
	CHECK(found == tape_format_by_name("het"), "sniffed het");
	CHECK(log.payload.len == sizeof(block) && memcmp(log.payload.p, block, sizeof(block)) == 0,
	      "het payload");
	el_free(&log);
	mb_free(&m);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(kats) / sizeof(kats[0]); i++)
		check_kat(&kats[i]);
	check_het();
	return tu_result("test_kat");
}
