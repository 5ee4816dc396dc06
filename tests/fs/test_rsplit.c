/*
 * test_rsplit.c - unit test of fs/rsplit.c: what each FUSE request of a
 * read() the kernel split gets of a tape record, as measured on this
 * machine (1 MiB requests; a first piece up to a page shorter for a
 * buffer that is not page-aligned; offsets counting the bytes answered).
 * Plain C, no FUSE.
 */
#include <stdio.h>
#include <string.h>

#include "rsplit.h"

#include "../check.h"

#define MIB ((size_t)1 << 20)

/* Runs one read() of count bytes (count_known: its size is learnt, as
 * caller.c does) against a record of len bytes, piece by piece as the
 * kernel sends them (first piece first bytes shorter); returns the bytes
 * the read() got, -12 for ENOMEM; *passed tells whether the record was
 * passed. */
static long long one_read(struct rsplit *s, uint64_t id, size_t count,
			  bool count_known, size_t first_short, size_t len,
			  bool *passed, size_t *checked_from)
{
	size_t got = 0;
	*passed = false;
	for (;;) {
		size_t piece = count - got;
		size_t cap = got == 0 ? MIB - first_short : MIB;
		if (piece > cap)
			piece = cap;
		if (piece == 0)
			return (long long)got;
		struct rsplit_step st = rsplit_request(s, id, piece, (off_t)got,
			count_known ? (long long)count : -1, !*passed, len, MIB);
		if (st.act == RS_TOO_SHORT)
			return got ? -1000 : -12;	/* never after data */
		if (st.act == RS_NOTHING)
			return (long long)got;
		CHECK(st.from == got);			/* in order, no gap */
		CHECK(st.n <= piece);
		*checked_from = st.from;
		got += st.n;
		if (st.pass)
			*passed = true;
		if (st.n < piece)			/* short: the read() ends */
			return (long long)got;
	}
}

static void test_known_count(void)
{
	struct rsplit s;
	rsplit_reset(&s);
	bool passed;
	size_t from;
	size_t len = 3 * MIB;
	/* Buffers smaller than the record, even by one byte: ENOMEM,
	 * nothing passed. */
	size_t small[] = { 1000, MIB - 48, MIB, 2 * MIB, 3 * MIB - 1 };
	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		CHECK(one_read(&s, 1, small[i], true, 48, len, &passed, &from) == -12);
		CHECK(!passed && !s.partial);
	}
	/* Exactly the record, and larger: whole, passed. */
	CHECK(one_read(&s, 1, 3 * MIB, true, 896, len, &passed, &from) == (long long)len);
	CHECK(passed);
	CHECK(one_read(&s, 1, 4 * MIB, true, 0, len, &passed, &from) == (long long)len);
	CHECK(passed);
	/* A record that ends at a piece's end: the next piece gets 0. */
	CHECK(one_read(&s, 1, 4 * MIB, true, 0, 2 * MIB, &passed, &from) == (long long)(2 * MIB));
	CHECK(passed && !s.partial);
	/* Records within one request never need the count. */
	struct rsplit_step st = rsplit_request(&s, 1, MIB, 0, -1, true, 5000, MIB);
	CHECK(st.act == RS_SERVE && st.n == 5000 && st.pass);
	st = rsplit_request(&s, 1, 4096, 0, -1, true, 5000, MIB);
	CHECK(st.act == RS_TOO_SHORT);
}

static void test_continuations_belong_to_their_read(void)
{
	struct rsplit s;
	rsplit_reset(&s);
	struct rsplit_step st = rsplit_request(&s, 7, MIB, 0, 4 * MIB, true, 3 * MIB, MIB);
	CHECK(st.act == RS_SERVE && st.from == 0 && st.n == MIB && !st.pass);
	/* Another open's continuation, or a wrong offset: nothing. */
	st = rsplit_request(&s, 8, MIB, MIB, -1, true, 3 * MIB, MIB);
	CHECK(st.act == RS_NOTHING);
	st = rsplit_request(&s, 7, MIB, 2 * MIB, -1, true, 3 * MIB, MIB);
	CHECK(st.act == RS_NOTHING);
	st = rsplit_request(&s, 7, MIB, MIB, -1, true, 3 * MIB, MIB);
	CHECK(st.act == RS_SERVE && st.from == MIB && st.n == MIB && !st.pass);
	/* A continuation with no record at the head (a mark): nothing. */
	struct rsplit m;
	rsplit_reset(&m);
	st = rsplit_request(&m, 7, MIB, MIB, -1, false, 0, MIB);
	CHECK(st.act == RS_NOTHING);
	/* The read() is interrupted now (a signal): the next read() finds
	 * the record cut; with its size known it gets it whole. */
	st = rsplit_request(&s, 7, MIB, 0, 3 * MIB, true, 3 * MIB, MIB);
	CHECK(st.was_cut && st.taken == 2 * MIB);
	CHECK(st.act == RS_SERVE && st.from == 0 && st.n == MIB);
	st = rsplit_request(&s, 7, MIB, MIB, -1, true, 3 * MIB, MIB);
	st = rsplit_request(&s, 7, MIB, 2 * MIB, -1, true, 3 * MIB, MIB);
	CHECK(st.act == RS_SERVE && st.from == 2 * MIB && st.pass);
	CHECK(!s.partial && !s.cut);
}

static void test_unknown_count(void)
{
	struct rsplit s;
	rsplit_reset(&s);
	bool passed;
	size_t from;
	size_t len = 3 * MIB;
	/* Not knowing the read()'s size, a whole request is taken as the
	 * first piece of a larger read(): a 4 MiB buffer gets the record. */
	CHECK(one_read(&s, 1, 4 * MIB, false, 48, len, &passed, &from) == (long long)len);
	CHECK(passed);
	/* A smaller request is not: ENOMEM. */
	CHECK(one_read(&s, 1, MIB - 8192, false, 0, len, &passed, &from) == -12);
	/* A 1 MiB read() gets the first MiB (unavoidable without its size),
	 * the record stays; the next 1 MiB read() is ENOMEM (no loop of
	 * first pieces), and a large enough one gets it whole. */
	CHECK(one_read(&s, 1, MIB, false, 0, len, &passed, &from) == (long long)MIB);
	CHECK(!passed);
	struct rsplit_step st = rsplit_request(&s, 1, MIB, 0, -1, true, len, MIB);
	CHECK(st.was_cut && st.taken == MIB && st.act == RS_TOO_SHORT);
	CHECK(one_read(&s, 1, 4 * MIB, false, 0, len, &passed, &from) == (long long)len);
	CHECK(passed && !s.cut);
	/* A cut record met by a read() of known size is decided by it. */
	CHECK(one_read(&s, 1, MIB, false, 0, len, &passed, &from) == (long long)MIB);
	CHECK(one_read(&s, 1, 2 * MIB, true, 0, len, &passed, &from) == -12);
	CHECK(one_read(&s, 1, 3 * MIB, true, 0, len, &passed, &from) == (long long)len);
	CHECK(passed);
}

int main(void)
{
	test_known_count();
	test_continuations_belong_to_their_read();
	test_unknown_count();
	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	return failures ? 1 : 0;
}
