/*
 * test_zerocopy.c - "data moves once": the encoder hands the caller's own
 * payload pointer to the sink (no copy to put a header in front), and the
 * decoder hands out records from the pushed buffer when a record lies whole
 * inside it. Both are checked by pointer, so a copy anywhere fails here.
 */
#include "testutil.h"

struct watch {
	const uint8_t *lo, *hi;		/* the caller's payload buffer */
	size_t inside;			/* payload bytes passed by pointer */
	size_t calls;
};

static int watch_sink(void *ctx, const struct tape_slice *v, int n)
{
	struct watch *w = ctx;
	w->calls++;
	for (int i = 0; i < n; i++) {
		const uint8_t *b = v[i].base;
		if (b >= w->lo && b + v[i].len <= w->hi)
			w->inside += v[i].len;
	}
	return 0;
}

struct dwatch {
	const uint8_t *lo, *hi;
	size_t records, from_input;
};

static int dwatch_cb(void *ctx, const struct tape_event *e)
{
	struct dwatch *w = ctx;
	if (e->kind == TAPE_EV_RECORD) {
		const uint8_t *b = e->data;
		w->records++;
		if (b >= w->lo && b + e->len <= w->hi)
			w->from_input++;
	}
	return 0;
}

int main(void)
{
	static uint8_t data[200000];
	fill_data(data, sizeof(data), 2, 0);	/* random: HET stores it raw */
	for (int i = 0; i < N_ALL_FORMATS; i++) {
		const struct tape_format *f = tape_format_by_name(all_format_names[i]);
		struct watch w = { data, data + sizeof(data), 0, 0 };
		struct tape_enc *e = tape_enc_new(f, NULL, watch_sink, &w);
		size_t total = 0;
		for (size_t len = 1; len < sizeof(data); len = len * 3 + 1) {
			CHECK(tape_enc_record(e, data, len) == 0, "record");
			total += len;
		}
		tape_enc_finish(e);
		tape_enc_free(e);
		CHECK(w.inside == total, "%s: %zu of %zu payload bytes reached the sink from the "
		      "caller's buffer", all_format_names[i], w.inside, total);

		/* Decoder: an image pushed whole gives records from that buffer
		 * (single-chunk AWS/HET records; here all are <= 65535). */
		struct membuf m;
		mb_init(&m);
		e = tape_enc_new(f, NULL, mb_sink, &m);
		for (size_t len = 1; len <= 65535; len = len * 5 + 3)
			tape_enc_record(e, data, len);
		tape_enc_finish(e);
		tape_enc_free(e);
		struct dwatch dw = { m.p, m.p + m.len, 0, 0 };
		struct tape_dec *d = tape_dec_new(f, dwatch_cb, &dw);
		CHECK(tape_dec_push(d, m.p, m.len) == 0 && tape_dec_end(d) == 0, "decode");
		tape_dec_free(d);
		CHECK(dw.records > 5 && dw.from_input == dw.records,
		      "%s: %zu of %zu records came straight from the pushed buffer",
		      all_format_names[i], dw.from_input, dw.records);
		mb_free(&m);
	}
	return tu_result("test_zerocopy");
}
