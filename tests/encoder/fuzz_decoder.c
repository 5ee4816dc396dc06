/*
 * fuzz_decoder.c - libFuzzer target for the streaming decoder.
 *
 * Input: byte 0 picks the mode (auto or one fixed format), byte 1 seeds the
 * split pattern, the rest is the image. The image is decoded twice, in one
 * push and in pieces cut where the seed says; both runs must give the same
 * events and counts (the decoder's promise that splits do not matter), and
 * every record byte is read so ASan sees any bad pointer. Also built without
 * libFuzzer by test_fuzz_replay.c, which feeds it generated images.
 */
#include "tape.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fz_log {
	uint64_t events, last_off, sum;
	int err;
	uint64_t err_off;
};

static int fz_cb(void *ctx, const struct tape_event *e)
{
	struct fz_log *l = ctx;
	const uint8_t *p = e->data;

	l->events++;
	l->last_off = e->offset;
	if (e->kind == TAPE_EV_RECORD) {
		if (e->len == 0)
			abort();	/* a record is never empty */
		for (size_t i = 0; i < e->len; i++)
			l->sum = l->sum * 31 + p[i];
	}
	if (e->kind == TAPE_EV_ERROR) {
		l->err = (int)e->err;
		l->err_off = e->offset;
		if (!e->msg || !e->msg[0])
			abort();
	}
	return 0;
}

static void fz_run(const struct tape_format *f, const uint8_t *p, size_t n,
		   uint8_t seed, struct fz_log *l, struct tape_counts *c, int *rc_out)
{
	struct tape_dec *d = tape_dec_new(f, fz_cb, l);
	size_t off = 0, step = 0;
	int rc = 0;

	if (!d)
		return;
	while (off < n && rc == 0) {
		size_t take = n - off;
		if (seed) {
			/* Pieces of 1..(seed % 61 + 1) bytes, varying. */
			step = step * 1103515245u + seed + 12345u;
			take = (step >> 8) % ((size_t)seed % 61 + 1) + 1;
			if (take > n - off)
				take = n - off;
		}
		rc = tape_dec_push(d, p + off, take);
		off += take;
	}
	if (rc == 0)
		rc = tape_dec_end(d);
	tape_dec_counts(d, c);
	(void)tape_dec_format(d);
	(void)tape_dec_at_eod(d);
	(void)tape_dec_error(d);
	*rc_out = rc;
	tape_dec_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { NULL, "mtd", "simh", "e11", "aws", "het" };

	if (size < 2)
		return 0;
	const struct tape_format *f = names[data[0] % 6] ? tape_format_by_name(names[data[0] % 6])
						       : NULL;
	uint8_t seed = data[1] ? data[1] : 1;
	const uint8_t *img = data + 2;
	size_t n = size - 2;

	(void)tape_sniff(img, n);
	struct fz_log a = { 0 }, b = { 0 };
	struct tape_counts ca, cb;
	int ra = 0, rb = 0;
	fz_run(f, img, n, 0, &a, &ca, &ra);
	fz_run(f, img, n, seed, &b, &cb, &rb);
	/* After an error, image_bytes/image_crc cover what was consumed,
	 * which depends on the split; everything else must not. */
	if (ra != 0) {
		ca.image_bytes = cb.image_bytes = 0;
		ca.image_crc = cb.image_crc = 0;
	}
	if (ra != rb || a.events != b.events || a.sum != b.sum || a.err != b.err ||
	    a.err_off != b.err_off || a.last_off != b.last_off ||
	    memcmp(&ca, &cb, sizeof(ca)) != 0)
		abort();	/* splitting changed the outcome */
	if (ra == 0 && ca.image_bytes > n)
		abort();
	return 0;
}
