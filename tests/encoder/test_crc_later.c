/*
 * test_crc_later.c - a record whose CRCs are owed (tape_enc_record_later,
 * issue 12.2) ends up exactly as tape_enc_record would have left it: the
 * same image bytes, counts and salvage points, whichever call settles it.
 * And it really is owed: its counts and its salvage point appear only at
 * completion, so a drive can answer the writer first.
 */
#include "testutil.h"

#define MAX_SETTLES 4096

struct settles {
	struct tape_counts k[MAX_SETTLES];
	size_t n;
};

static void on_settle(void *ctx, const struct tape_counts *after)
{
	struct settles *s = ctx;
	if (s->n < MAX_SETTLES)
		s->k[s->n] = *after;
	s->n++;
}

static uint32_t lcg(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 8;
}

static bool same_counts(const struct tape_counts *a, const struct tape_counts *b)
{
	return a->files == b->files && a->records == b->records &&
	       a->marks == b->marks && a->payload_bytes == b->payload_bytes &&
	       a->image_bytes == b->image_bytes &&
	       a->payload_crc == b->payload_crc && a->image_crc == b->image_crc;
}

/* One format, one sequence of records and marks, through both calls. */
static void run(const char *name, const struct tape_enc_options *opt,
		uint32_t seed, const uint8_t *data, size_t max)
{
	const struct tape_format *f = tape_format_by_name(name);
	struct membuf ma, mb;
	mb_init(&ma);
	mb_init(&mb);
	static struct settles sa, sb;
	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	struct tape_enc *a = tape_enc_new(f, opt, mb_sink, &ma);
	struct tape_enc *b = tape_enc_new(f, opt, mb_sink, &mb);
	tape_enc_on_settle(a, on_settle, &sa);
	tape_enc_on_settle(b, on_settle, &sb);
	uint32_t x = seed, payload_crc = (uint32_t)crc32(0L, Z_NULL, 0);
	size_t owed = 0, lands = 0, ops = 600;
	bool left = false;	/* b's last record was left owed */
	for (size_t i = 0; i < ops; i++) {
		uint32_t r = lcg(&x);
		if (r % 11 == 0) {
			CHECK(tape_enc_mark(a) == 0 && tape_enc_mark(b) == 0,
			      "%s: mark %zu", name, i);
			left = false;
			continue;
		}
		size_t len = 1 + lcg(&x) % (r % 3 ? 16384 : max);
		size_t off = lcg(&x) % (max - len + 1);
		const uint8_t *p = data + off;
		size_t before = sb.n;
		/* a never owes: its landing answers for b's (the contract). */
		lands += tape_enc_landing(a, len) != 0;
		CHECK(tape_enc_record(a, p, len) == 0, "%s: record %zu", name, i);
		CHECK(tape_enc_record_later(b, p, len) == 0, "%s: later %zu", name, i);
		payload_crc = (uint32_t)crc32_z(payload_crc, p, len);
		/* The call settles a record left owed before it. */
		if (sb.n == before + left) {
			owed++;
			left = false;
			/* Owed: it settles at whatever comes next. */
			switch (lcg(&x) % 3) {
			case 0:
				tape_enc_complete(b);
				break;
			case 1: {
				struct tape_counts k;
				tape_enc_counts(b, &k);
				break;
			}
			default:
				left = true;	/* the next call settles it */
				break;
			}
		} else {
			left = false;
		}
		if (lcg(&x) % 5 == 0) {
			left = false;
			struct tape_counts ka, kb;
			tape_enc_counts(a, &ka);
			tape_enc_counts(b, &kb);
			CHECK(same_counts(&ka, &kb), "%s: counts differ after op %zu", name, i);
		}
	}
	CHECK(tape_enc_finish(a) == 0 && tape_enc_finish(b) == 0, "%s: finish", name);
	struct tape_counts ka, kb;
	tape_enc_counts(a, &ka);
	tape_enc_counts(b, &kb);
	CHECK(same_counts(&ka, &kb), "%s: final counts differ", name);
	CHECK(ma.len == mb.len && memcmp(ma.p, mb.p, ma.len) == 0,
	      "%s: images differ (%zu and %zu bytes)", name, ma.len, mb.len);
	CHECK(kb.image_crc == (uint32_t)crc32_z(0, mb.p, mb.len) && kb.image_bytes == mb.len,
	      "%s: image CRC %08x is not the image's", name, kb.image_crc);
	CHECK(kb.payload_crc == payload_crc, "%s: payload CRC %08x, want %08x", name,
	      kb.payload_crc, payload_crc);
	CHECK(sa.n == sb.n, "%s: %zu salvage points, want %zu", name, sb.n, sa.n);
	for (size_t i = 0; i < sa.n && i < MAX_SETTLES; i++)
		if (!same_counts(&sa.k[i], &sb.k[i])) {
			CHECK(0, "%s: salvage point %zu differs", name, i);
			break;
		}
	/* Exactly the records framed in place owe their CRCs; HET none. */
	CHECK(owed == lands, "%s: %zu records were owed, %zu framed in place", name,
	      owed, lands);
	CHECK(strcmp(name, "het") == 0 ? owed == 0 : owed > 0,
	      "%s: %zu records were owed", name, owed);
	printf("%s: %zu records owed their CRC, %zu salvage points alike\n", name, owed, sa.n);
	tape_enc_free(a);
	tape_enc_free(b);
	mb_free(&ma);
	mb_free(&mb);
}

int main(void)
{
	static uint8_t data[300000];
	fill_data(data, sizeof(data), 2, 0);
	for (int i = 0; i < N_ALL_FORMATS; i++)
		run(all_format_names[i], NULL, 7u + (uint32_t)i, data, sizeof(data));
	/* AWS records over one chunk are framed in pieces: inline. */
	struct tape_enc_options small = { .chunk_size = 4096 };
	run("aws", &small, 99u, data, sizeof(data));
	return tu_result("test_crc_later");
}
