/*
 * test_reblock.c - the fixed-block reblocker: exact block sizes whatever the
 * write sizes, a short or zero-padded last block, and full blocks passed
 * straight from the caller's buffer (no copy) when nothing is held.
 */
#include "testutil.h"

struct blocks {
	struct membuf all;
	size_t n, sizes[4096];
	const uint8_t *from[4096];
	int fail_at;
};

static int emit(void *ctx, const void *rec, size_t len)
{
	struct blocks *b = ctx;
	if ((int)b->n == b->fail_at)
		return -EIO;
	b->sizes[b->n] = len;
	b->from[b->n] = rec;
	b->n++;
	mb_append(&b->all, rec, len);
	return 0;
}

static void run(size_t bs, bool pad, const size_t *writes, int nw)
{
	struct blocks b = { .fail_at = -1 };
	uint8_t data[20000];
	size_t total = 0, off = 0;

	mb_init(&b.all);
	fill_data(data, sizeof(data), 9, 0);
	struct tape_reblock *r = tape_reblock_new(bs, pad, emit, &b);
	CHECK(tape_reblock_size(r) == bs, "size");
	for (int i = 0; i < nw; i++) {
		CHECK(tape_reblock_write(r, data + off, writes[i]) == 0, "write");
		off += writes[i];
		total += writes[i];
		CHECK(tape_reblock_pending(r) == total % bs, "pending %zu", tape_reblock_pending(r));
	}
	CHECK(tape_reblock_flush(r) == 0, "flush");
	CHECK(tape_reblock_pending(r) == 0, "nothing pending after flush");
	CHECK(tape_reblock_flush(r) == 0 && b.n == (total + bs - 1) / bs, "second flush emits nothing");
	for (size_t i = 0; i + 1 < b.n; i++)
		CHECK(b.sizes[i] == bs, "block %zu is %zu bytes", i, b.sizes[i]);
	if (b.n && total % bs)
		CHECK(b.sizes[b.n - 1] == (pad ? bs : total % bs), "last block %zu", b.sizes[b.n - 1]);
	CHECK(total == 0 || memcmp(b.all.p, data, total) == 0, "bytes kept in order");
	if (pad && total % bs)
		for (size_t i = total; i < b.all.len; i++)
			CHECK(b.all.p[i] == 0, "padding is zero");
	tape_reblock_free(r);
	mb_free(&b.all);
}

static void test_zero_copy(void)
{
	struct blocks b = { .fail_at = -1 };
	uint8_t data[4096];
	mb_init(&b.all);
	struct tape_reblock *r = tape_reblock_new(512, false, emit, &b);
	CHECK(tape_reblock_write(r, data, 2048) == 0, "write");
	CHECK(b.n == 4, "four blocks");
	for (size_t i = 0; i < 4; i++)
		CHECK(b.from[i] == data + 512 * i, "block %zu came from the caller's buffer", i);
	/* Something held: that block is copied, the rest again zero-copy. */
	CHECK(tape_reblock_write(r, data, 100) == 0, "write");
	CHECK(tape_reblock_write(r, data + 100, 412 + 1024) == 0, "write");
	CHECK(b.n == 7, "three more blocks");
	CHECK(b.from[4] != data, "the topped-up block is the reblocker's copy");
	CHECK(b.from[5] == data + 512 && b.from[6] == data + 1024, "then straight again");
	CHECK(tape_reblock_write(r, NULL, 0) == 0, "empty write");
	tape_reblock_free(r);
	mb_free(&b.all);

	/* An emit error is returned. */
	struct blocks f = { .fail_at = 1 };
	mb_init(&f.all);
	r = tape_reblock_new(10, false, emit, &f);
	CHECK(tape_reblock_write(r, data, 35) == -EIO, "error returned");
	tape_reblock_free(r);
	mb_free(&f.all);
	CHECK(tape_reblock_new(0, false, emit, &f) == NULL, "block size 0 refused");
}

int main(void)
{
	static const size_t w1[] = { 10240 };
	static const size_t w2[] = { 1, 511, 512, 513, 1000, 3, 10240, 7 };
	static const size_t w3[] = { 100, 100, 100 };
	static const size_t w4[] = { 0, 0 };
	for (int pad = 0; pad < 2; pad++) {
		run(512, pad, w1, 1);
		run(512, pad, w2, 8);
		run(10240, pad, w2, 8);
		run(7, pad, w2, 8);
		run(1, pad, w3, 3);
		run(1000, pad, w3, 3);
		run(64, pad, w4, 2);
	}
	test_zero_copy();
	return tu_result("test_reblock");
}
