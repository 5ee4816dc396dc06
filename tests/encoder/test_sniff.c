/*
 * test_sniff.c - format sniffing: tape_sniff() on the first bytes of images
 * of every format, auto-mode decoding choosing the same, and the cases the
 * bytes cannot decide (documented: mtd reads as simh, a HET image without a
 * compressed block reads as aws, e11 without an odd record as simh).
 */
#include "testutil.h"

static void image(const char *fmt, const size_t *sizes, int n, int text, struct membuf *m)
{
	uint8_t d[70000];
	fill_data(d, sizeof(d), 4, text);
	mb_init(m);
	struct tape_enc *e = tape_enc_new(tape_format_by_name(fmt), NULL, mb_sink, m);
	for (int i = 0; i < n; i++)
		tape_enc_record(e, d, sizes[i]);
	tape_enc_finish(e);
	tape_enc_free(e);
}

static void expect(const char *fmt, const size_t *sizes, int n, int text, const char *want)
{
	struct membuf m;
	image(fmt, sizes, n, text, &m);
	const struct tape_format *f = tape_sniff(m.p, m.len);
	CHECK(f && strcmp(tape_format_name(f), want) == 0, "%s image sniffed as %s, want %s",
	      fmt, f ? tape_format_name(f) : "nothing", want);
	const struct tape_format *found = NULL;
	struct evlog log;
	el_init(&log, 0);
	for (size_t step = 0; step < 3; step++) {
		log.n = 0;
		CHECK(decode_image(NULL, m.p, m.len, step == 2 ? 1000 : step, &log, NULL, &found,
				   NULL) == 0, "%s auto decode", fmt);
		CHECK(el_count(&log, TAPE_EV_RECORD) == (size_t)n, "%s auto: records", fmt);
		CHECK(found && strcmp(tape_format_name(found), want) == 0,
		      "%s: auto decoder says %s, want %s", fmt, found ? tape_format_name(found) : "?",
		      want);
	}
	el_free(&log);
	mb_free(&m);
}

int main(void)
{
	static const size_t even[] = { 80, 10240, 10240, 512 };
	static const size_t odd[] = { 80, 81, 10240 };
	static const size_t late_odd[] = { 65536, 65536, 65536, 65536, 65536, 3 };
	static const size_t big_odd[] = { 1000001, 2 };

	expect("simh", odd, 3, 0, "simh");
	expect("e11", odd, 3, 0, "e11");
	expect("mtd", odd, 3, 0, "simh");
	expect("simh", even, 4, 0, "simh");
	expect("e11", even, 4, 0, "simh");	/* no odd record: cannot tell */
	expect("aws", even, 4, 0, "aws");
	expect("aws", odd, 3, 1, "aws");
	expect("het", even, 4, 1, "het");
	expect("het", even, 4, 0, "aws");	/* nothing compressed: reads as aws */
	/* The odd record lies past the sniff window or inside a huge first
	 * record: the decoder pins the padding when it meets it. */
	{
		struct membuf m;
		const struct tape_format *found;
		struct evlog log;
		const char *fmts[] = { "e11", "simh" };
		for (int i = 0; i < 2; i++) {
			for (int which = 0; which < 2; which++) {
				const size_t *sz = which ? big_odd : late_odd;
				int n = which ? 2 : 6;
				uint8_t *d = calloc(1, 1000001);
				mb_init(&m);
				struct tape_enc *e = tape_enc_new(tape_format_by_name(fmts[i]), NULL,
								  mb_sink, &m);
				for (int k = 0; k < n; k++)
					tape_enc_record(e, d, sz[k]);
				tape_enc_finish(e);
				tape_enc_free(e);
				free(d);
				for (size_t step = 0; step < 2; step++) {
					el_init(&log, 0);
					CHECK(decode_image(NULL, m.p, m.len, step ? 4097 : 0, &log, NULL,
							   &found, NULL) == 0, "%s late odd", fmts[i]);
					CHECK(el_count(&log, TAPE_EV_RECORD) == (size_t)n, "records");
					CHECK(found == tape_format_by_name(fmts[i]), "%s: pinned as %s",
					      fmts[i], tape_format_name(found));
					el_free(&log);
				}
				mb_free(&m);
			}
		}
	}
	CHECK(tape_sniff("ab", 2) == NULL, "too few bytes");
	CHECK(tape_sniff("This is plain text, not a tape.", 31) == NULL, "text");
	static const uint8_t two_marks[8] = { 0 };
	CHECK(tape_sniff(two_marks, 8) == tape_format_by_name("simh"), "empty simh tape");
	static const uint8_t aws_marks[12] = { 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0x40, 0 };
	CHECK(tape_sniff(aws_marks, 12) == tape_format_by_name("aws"), "empty aws tape");
	return tu_result("test_sniff");
}
