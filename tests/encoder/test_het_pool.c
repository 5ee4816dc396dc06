/*
 * test_het_pool.c - HET blocks compressed on worker threads (issue 12
 * point 4) make byte for byte the image the single-threaded encoder makes,
 * with the same counts after every record and mark; the pending cost is an
 * upper bound; after a sink failure every accepted record is either in the
 * image or handed back by tape_enc_unsent, in order. With Hercules'
 * hetmap installed, the pooled image is also read by it.
 */
#include "testutil.h"

#include <unistd.h>

#define NREC 600

struct settles {
	struct tape_counts *k;
	size_t n, cap;
};

static void on_settle(void *ctx, const struct tape_counts *after)
{
	struct settles *s = ctx;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->k = realloc(s->k, s->cap * sizeof(*s->k));
		if (!s->k)
			exit(2);
	}
	s->k[s->n++] = *after;
}

/* Record i: a length between 1 byte and 70 KiB (some span two chunks),
 * compressible text, incompressible noise or all zeros. */
static size_t max_len = 70000;	/* 65535 for Hercules 3.13's hetmap */

static size_t rec_len(unsigned i)
{
	static const size_t fixed[] = { 1, 2, 80, 65535, 65536, 70000, 10240 };
	size_t n = i < 7 ? fixed[i] : 1 + (i * 7919u) % 70000u;
	return n > max_len ? max_len : n;
}

static void rec_fill(uint8_t *d, size_t len, unsigned i)
{
	uint32_t x = 2463534242u + i;
	for (size_t j = 0; j < len; j++) {
		switch (i % 3) {
		case 0: d[j] = (uint8_t)("tape records of text "[(j + i) % 21]); break;
		case 1: x ^= x << 13; x ^= x >> 17; x ^= x << 5; d[j] = (uint8_t)x; break;
		default: d[j] = 0;
		}
	}
}

/* Encodes the same stream with `threads`; checks the pending bound at
 * every record. */
static void encode(int threads, struct membuf *out, struct settles *st,
		   struct tape_counts *k)
{
	struct tape_enc_options o = { .het_level = 1, .threads = threads };
	struct tape_enc *e = tape_enc_new(tape_format_by_name("het"), &o, mb_sink, out);
	uint8_t *d = tu_xmalloc(70000);

	CHECK(e != NULL, "encoder");
	tape_enc_on_settle(e, on_settle, st);
	for (unsigned i = 0; i < NREC; i++) {
		size_t len = rec_len(i);
		rec_fill(d, len, i);
		CHECK(tape_enc_record(e, d, len) == 0, "record %u: %s", i, tape_enc_error(e));
		if (i % 97 == 96)
			CHECK(tape_enc_mark(e) == 0, "mark");
		if (i % 131 == 130) {
			CHECK(tape_enc_settle(e) == 0, "settle");
			CHECK(tape_enc_pending(e) == 0, "nothing pending after settle");
			CHECK(tape_enc_pending_cost(e) == 0, "no pending cost after settle");
		}
	}
	CHECK(tape_enc_finish(e) == 0, "finish: %s", tape_enc_error(e));
	CHECK(tape_enc_pending(e) == 0, "nothing pending after finish");
	tape_enc_counts(e, k);
	tape_enc_free(e);
	free(d);
}

/* The pending bound holds: image bytes once settled never exceed what
 * counts + pending cost said before. */
static void check_bound(int threads)
{
	struct membuf out;
	struct tape_enc_options o = { .het_level = 1, .threads = threads };
	mb_init(&out);
	struct tape_enc *e = tape_enc_new(tape_format_by_name("het"), &o, mb_sink, &out);
	uint8_t *d = tu_xmalloc(70000);
	for (unsigned i = 0; i < 200; i++) {
		size_t len = rec_len(i);
		rec_fill(d, len, i);
		CHECK(tape_enc_record(e, d, len) == 0, "record");
		struct tape_counts c;
		tape_enc_counts(e, &c);
		uint64_t bound = c.image_bytes + tape_enc_pending_cost(e);
		CHECK(tape_enc_settle(e) == 0, "settle");
		tape_enc_counts(e, &c);
		CHECK(c.image_bytes <= bound, "settled %" PRIu64 " above the bound %"
		      PRIu64, c.image_bytes, bound);
	}
	tape_enc_free(e);
	mb_free(&out);
	free(d);
}

struct unsent {
	unsigned n;
	unsigned next;		/* the record index it should be */
	int bad;
};

static int take_unsent(void *ctx, const void *rec, size_t len)
{
	struct unsent *u = ctx;
	uint8_t *d = tu_xmalloc(70000);
	size_t want = rec_len(u->next);
	rec_fill(d, want, u->next);
	if (len != want || memcmp(d, rec, len) != 0)
		u->bad++;
	free(d);
	u->n++;
	u->next++;
	return 0;
}

/* A sink that fails part way: settled + unsent = every accepted record. */
static void check_failure(int threads, long fail_call)
{
	struct membuf out;
	struct settles st = { 0 };
	struct tape_enc_options o = { .het_level = 1, .threads = threads };
	mb_init(&out);
	out.fail_at_call = fail_call;
	struct tape_enc *e = tape_enc_new(tape_format_by_name("het"), &o, mb_sink, &out);
	tape_enc_on_settle(e, on_settle, &st);
	uint8_t *d = tu_xmalloc(70000);
	unsigned accepted = 0;
	int rc = 0;
	for (unsigned i = 0; i < 300 && rc == 0; i++) {
		size_t len = rec_len(i);
		rec_fill(d, len, i);
		rc = tape_enc_record(e, d, len);
		if (rc == 0)
			accepted++;
	}
	if (rc == 0)
		rc = tape_enc_finish(e);
	CHECK(rc == -ENOSPC, "the failure reaches the writer (%d)", rc);
	struct tape_counts c;
	tape_enc_counts(e, &c);
	struct unsent u = { 0, (unsigned)c.records, 0 };
	CHECK(tape_enc_unsent(e, take_unsent, &u) == 0, "unsent");
	CHECK(u.bad == 0, "%d unsent records differ from what was written", u.bad);
	CHECK(c.records + u.n == accepted, "threads %d: %" PRIu64 " settled + %u "
	      "unsent != %u accepted", threads, c.records, u.n, accepted);
	if (threads >= 2)
		CHECK(tape_enc_pending(e) == u.n, "pending counts the unsent");
	tape_enc_free(e);
	mb_free(&out);
	free(st.k);
	free(d);
}

static void hetmap_reads(const struct membuf *img, const struct tape_counts *k)
{
	if (access("/usr/bin/hetmap", X_OK) != 0) {
		printf("hetmap not installed (Debian package hercules): skipped\n");
		return;
	}
	char dir[] = "/tmp/reelfs-hetpool-XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	char path[128], cmd[256];
	snprintf(path, sizeof(path), "%s/pool.het", dir);
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(img->p, 1, img->len, f) == img->len, "write image");
	if (f)
		fclose(f);
	/* Blocks: per file, then the total; Hercules 3.13 counts blocks. */
	snprintf(cmd, sizeof(cmd), "hetmap -f %s 2>&1 | grep -E '^Blocks' | tail -1 | "
		 "tr -dc 0-9", path);
	FILE *p = popen(cmd, "r");
	char buf[64] = "";
	if (p) {
		if (!fgets(buf, sizeof(buf), p))
			buf[0] = '\0';
		pclose(p);
	}
	CHECK(strtoull(buf, NULL, 10) == k->records, "hetmap counts %s blocks, "
	      "want %" PRIu64, buf, k->records);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	struct membuf ref;
	struct settles sref = { 0 };
	struct tape_counts kref;

	mb_init(&ref);
	encode(1, &ref, &sref, &kref);
	CHECK(kref.records == NREC, "records");
	for (int threads = 2; threads <= 5; threads += 3) {
		struct membuf img;
		struct settles s = { 0 };
		struct tape_counts k;
		mb_init(&img);
		encode(threads, &img, &s, &k);
		CHECK(img.len == ref.len && memcmp(img.p, ref.p, ref.len) == 0,
		      "threads %d: the image differs from the single-threaded one "
		      "(%zu vs %zu bytes)", threads, img.len, ref.len);
		CHECK(memcmp(&k, &kref, sizeof(k)) == 0, "threads %d: counts differ", threads);
		CHECK(s.n == sref.n && memcmp(s.k, sref.k, s.n * sizeof(*s.k)) == 0,
		      "threads %d: counts after each element differ (%zu vs %zu)",
		      threads, s.n, sref.n);
		mb_free(&img);
		free(s.k);
	}
	{
		struct membuf img;
		struct settles s = { 0 };
		struct tape_counts k;
		mb_init(&img);
		max_len = 65535;
		encode(2, &img, &s, &k);
		hetmap_reads(&img, &k);
		max_len = 70000;
		mb_free(&img);
		free(s.k);
	}
	check_bound(2);
	for (long call = 0; call < 280; call += 37) {
		check_failure(1, call);
		check_failure(2, call);
		check_failure(4, call);
	}
	mb_free(&ref);
	free(sref.k);
	return tu_result("test_het_pool");
}
