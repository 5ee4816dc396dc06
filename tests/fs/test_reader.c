/*
 * test_reader.c - unit test of the reader core (fs/reader.c,
 * fs/reader_pos.c) over file:// images in a temporary directory, in
 * every format, with the manifest's file index and without it: records,
 * tape marks and the end of data one at a time with st's counts (file,
 * block, logical block), a refused record staying, positioning (files
 * and records both ways, seek, end of data, rewind) and its errors at
 * the ends of the tape, records above 1 MiB, a damaged image read as an
 * error at its position, and a storeset of two reels read as one tape.
 * Plain C, no FUSE, no server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reader.h"
#include "volume.h"

#include "../check.h"

/* The tape: file 0 = three records (one odd), file 1 empty, file 2 = a
 * record above 1 MiB and a small one. Logical blocks: records and marks
 * counted from the beginning. */
static const size_t sizes[] = { 100, 3, 5000, 0, 0, 1500000, 10 };
#define NELEM (sizeof(sizes) / sizeof(sizes[0]))	/* 0: a mark */

static unsigned char *payload(size_t i)
{
	unsigned char *p = malloc(sizes[i] ? sizes[i] : 1);
	for (size_t k = 0; k < sizes[i]; k++)
		p[k] = (unsigned char)(k * 31 + i * 7);
	return p;
}

static int write_image(const char *url, const char *fmt)
{
	struct xfer_opts o;
	xfer_opts_init(&o);
	struct vol_config c = { .url = url, .xfer = &o,
				.format = tape_format_by_name(fmt) };
	char err[XFER_ERRLEN];
	struct vol *v = vol_open(&c, err, sizeof(err));
	if (!v) {
		fprintf(stderr, "vol_open %s: %s\n", url, err);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < NELEM && !rc; i++) {
		if (sizes[i]) {
			unsigned char *p = payload(i);
			rc = vol_record(v, p, sizes[i]);
			free(p);
		} else {
			rc = vol_mark(v);
		}
	}
	if (!rc)
		rc = vol_mark(v);	/* the end of file 2 */
	if (!rc)
		rc = vol_finish(v);
	vol_free(v);
	return rc;
}

static struct rdr *open_reader(const char *url, struct xfer_opts *o)
{
	xfer_opts_init(o);
	o->retries = 0;
	/* A small read-ahead: each jump reserves it anew (and meson's
	 * MALLOC_PERTURB_ fills every reservation). */
	o->buffer_size = 1u << 20;
	struct rdr_config c = { .url = url, .xo = o };
	char err[XFER_ERRLEN + 256];
	struct rdr *r = rdr_open(&c, err, sizeof(err));
	if (!r)
		fprintf(stderr, "rdr_open %s: %s\n", url, err);
	return r;
}

static void expect_pos(struct rdr *r, uint64_t fileno, int64_t blkno, int64_t block)
{
	struct rdr_pos p;
	rdr_get_pos(r, &p);
	CHECK(p.fileno == fileno);
	CHECK(p.blkno == blkno);
	CHECK(p.block == block);
	if (p.fileno != fileno || p.blkno != blkno || p.block != block)
		fprintf(stderr, "  position file %llu block %lld logical %lld, "
			"expected %llu %lld %lld\n", (unsigned long long)p.fileno,
			(long long)p.blkno, (long long)p.block,
			(unsigned long long)fileno, (long long)blkno, (long long)block);
}

/* The element at the head is element i of the tape (NELEM: the mark
 * that ends file 2). */
static void expect_elem(struct rdr *r, size_t i)
{
	struct rdr_elem el;
	CHECK(rdr_peek(r, &el) == 0);
	if (i < NELEM && sizes[i]) {
		CHECK(el.kind == RDR_RECORD && el.len == sizes[i]);
		unsigned char *p = payload(i);
		CHECK(el.kind == RDR_RECORD && el.len == sizes[i] &&
		      memcmp(el.data, p, sizes[i]) == 0);
		free(p);
	} else {
		CHECK(el.kind == RDR_MARK);
	}
}

static void test_sequential(struct rdr *r)
{
	uint64_t fileno = 0;
	int64_t blkno = 0;
	for (size_t i = 0; i <= NELEM; i++) {
		expect_pos(r, fileno, blkno, (int64_t)i);
		expect_elem(r, i);
		expect_elem(r, i);	/* peeking does not pass it */
		rdr_next(r);
		if (i == NELEM || !sizes[i]) {
			fileno++;
			blkno = 0;
		} else {
			blkno++;
		}
	}
	struct rdr_elem el;
	struct rdr_pos p;
	for (int k = 0; k < 2; k++) {	/* the end of data stays */
		CHECK(rdr_peek(r, &el) == 0 && el.kind == RDR_EOD);
		rdr_next(r);
	}
	rdr_get_pos(r, &p);
	CHECK(p.eod && p.fileno == 3 && p.block == (int64_t)NELEM + 1);
	CHECK(rdr_rewind(r) == 0);
	rdr_get_pos(r, &p);
	CHECK(p.bot && !p.eod && p.fileno == 0 && p.block == 0);
	expect_elem(r, 0);
}

static void test_positioning(struct rdr *r, bool indexed)
{
	struct rdr_stats s;
	rdr_rewind(r);
	/* fsf 2: file 2's first record, logical block 5. */
	CHECK(rdr_space_files(r, 2) == 0);
	expect_pos(r, 2, 0, 5);
	expect_elem(r, 5);
	rdr_get_stats(r, &s);
	CHECK(indexed ? s.jumps > 0 : s.jumps == 0);
	CHECK(s.indexed == indexed);
	/* bsf 1: before the mark that ends file 1 (empty); with the index
	 * the block in the file is known, else -1 as st. */
	CHECK(rdr_space_files(r, -1) == 0);
	expect_pos(r, 1, indexed ? 0 : -1, 4);
	expect_elem(r, 4);
	/* bsf 2 more: before the mark ending file 0, after its 3 records. */
	CHECK(rdr_space_files(r, -1) == 0);
	expect_pos(r, 0, indexed ? 3 : -1, 3);
	expect_elem(r, 3);
	/* bsr 1: the record before (5000 bytes). */
	CHECK(rdr_space_records(r, -1) == 0);
	expect_elem(r, 2);
	/* bsr past the beginning of the tape: EIO, at the beginning. */
	CHECK(rdr_space_records(r, -5) == -EIO);
	CHECK(strstr(rdr_error(r), "beginning of the tape") != NULL);
	expect_elem(r, 0);
	/* fsr 2, then fsr 5 stops after the mark with EIO. */
	rdr_rewind(r);
	CHECK(rdr_space_records(r, 2) == 0);
	expect_pos(r, 0, 2, 2);
	CHECK(rdr_space_records(r, 5) == -EIO);
	CHECK(strstr(rdr_error(r), "tape mark") != NULL);
	expect_pos(r, 1, 0, 4);
	/* bsr at the start of a file stops at the mark, not crossing it. */
	CHECK(rdr_space_records(r, -1) == -EIO);
	expect_pos(r, 1, 0, 4);
	/* seek to logical block 6 (the 10-byte record), back to 1. */
	CHECK(rdr_seek(r, 6) == 0);
	expect_pos(r, 2, 1, 6);
	expect_elem(r, 6);
	CHECK(rdr_seek(r, 1) == 0);
	expect_pos(r, 0, 1, 1);
	expect_elem(r, 1);
	/* eod, and nothing past it. */
	CHECK(rdr_eod(r) == 0);
	struct rdr_pos p;
	rdr_get_pos(r, &p);
	CHECK(p.eod && p.fileno == 3);
	CHECK(rdr_space_files(r, 1) == -EIO);
	CHECK(strstr(rdr_error(r), "end of data") != NULL);
	CHECK(rdr_seek(r, 100) == -EIO);
	/* bsf past the beginning: EIO, rewound. */
	rdr_rewind(r);
	CHECK(rdr_space_files(r, 1) == 0);
	CHECK(rdr_space_files(r, -2) == -EIO);
	rdr_get_pos(r, &p);
	CHECK(p.bot);
}

static void test_format(const char *dir, const char *fmt)
{
	char url[600], path[600], bare[600], cmd[2000];
	snprintf(url, sizeof(url), "file://%s/t.%s", dir, fmt);
	snprintf(path, sizeof(path), "%s/t.%s", dir, fmt);
	snprintf(bare, sizeof(bare), "%s/bare.%s", dir, fmt);
	CHECK(write_image(url, fmt) == 0);
	/* The same image without a manifest: sniffed, read forward. */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", path, bare);
	CHECK(system(cmd) == 0);
	for (int indexed = 1; indexed >= 0; indexed--) {
		struct xfer_opts o;
		char u[700];
		snprintf(u, sizeof(u), "file://%s", indexed ? path : bare);
		struct rdr *r = open_reader(u, &o);
		CHECK(r != NULL);
		if (!r)
			continue;
		fprintf(stderr, "%s, %s\n", fmt, indexed ? "indexed" : "no manifest");
		test_sequential(r);
		test_positioning(r, indexed);
		rdr_free(r);
	}
}

/* A record whose trailing length word is wrong: every element before it
 * reads, then -EIO naming the position, and the error stays. */
static void test_damaged(const char *dir)
{
	char url[600], path[600];
	snprintf(path, sizeof(path), "%s/t.simh", dir);
	snprintf(url, sizeof(url), "file://%s/bad.simh", dir);
	FILE *f = fopen(path, "rb");
	static unsigned char img[1 << 21];
	size_t n = f ? fread(img, 1, sizeof(img), f) : 0;
	if (f)
		fclose(f);
	CHECK(n > 5200);
	/* Records: 8+100, 8+3+1, then the 5000-byte one: its trailer. */
	size_t trailer = 108 + 12 + 4 + 5000;
	img[trailer] ^= 0x55;
	char bpath[600];
	snprintf(bpath, sizeof(bpath), "%s/bad.simh", dir);
	f = fopen(bpath, "wb");
	CHECK(f && fwrite(img, 1, n, f) == n);
	if (f)
		fclose(f);
	struct xfer_opts o;
	struct rdr *r = open_reader(url, &o);
	CHECK(r != NULL);
	if (!r)
		return;
	expect_elem(r, 0);
	rdr_next(r);
	expect_elem(r, 1);
	rdr_next(r);
	struct rdr_elem el;
	CHECK(rdr_peek(r, &el) == -EIO);
	CHECK(strstr(rdr_error(r), "file 0, block 2") != NULL);
	CHECK(rdr_peek(r, &el) == -EIO);
	fprintf(stderr, "damaged: %s\n", rdr_error(r));
	rdr_free(r);
}

static int write_reel(const char *url, unsigned reel, const char *next,
		      const size_t *lens, size_t n)
{
	struct xfer_opts o;
	xfer_opts_init(&o);
	struct vol_config c = { .url = url, .xfer = &o,
				.format = tape_format_by_name("mtd"),
				.storeset_id = "set-r", .reel = reel,
				.next_url = next };
	char err[XFER_ERRLEN];
	struct vol *v = vol_open(&c, err, sizeof(err));
	if (!v)
		return -1;
	unsigned char rec[64] = { 0 };
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = lens[i] ? vol_record(v, rec, lens[i]) : vol_mark(v);
	if (!rc)
		rc = vol_finish(v);
	vol_free(v);
	return rc;
}

/* A storeset of two reels reads as one tape: the end-of-data marks of
 * reel 1 are dropped, the counts go on over the reel change, spacing
 * crosses it, rewind comes back to reel 1. */
static void test_storeset(const char *dir)
{
	char u1[600], u2[600];
	snprintf(u1, sizeof(u1), "file://%s/s1.mtd", dir);
	snprintf(u2, sizeof(u2), "file://%s/s2.mtd", dir);
	const size_t r1[] = { 10, 20, 0, 30 }, r2[] = { 40, 0 };
	CHECK(write_reel(u2, 2, NULL, r2, 2) == 0);
	CHECK(write_reel(u1, 1, u2, r1, 4) == 0);
	struct xfer_opts o;
	struct rdr *r = open_reader(u1, &o);
	CHECK(r != NULL);
	if (!r)
		return;
	/* kind (0 mark, else the record's length), reel, file, block. */
	const struct { size_t len; unsigned reel; uint64_t file; int64_t blk; } want[] = {
		{ 10, 1, 0, 0 }, { 20, 1, 0, 1 }, { 0, 1, 0, 2 },
		{ 30, 1, 1, 0 }, { 40, 2, 1, 1 }, { 0, 2, 1, 2 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct rdr_elem el;
		CHECK(rdr_peek(r, &el) == 0);
		CHECK(el.reel == want[i].reel);
		CHECK(want[i].len ? el.kind == RDR_RECORD && el.len == want[i].len
				  : el.kind == RDR_MARK);
		expect_pos(r, want[i].file, want[i].blk, (int64_t)i);
		rdr_next(r);
	}
	struct rdr_elem el;
	CHECK(rdr_peek(r, &el) == 0 && el.kind == RDR_EOD && rdr_last_reel(r));
	CHECK(rdr_rewind(r) == 0);
	CHECK(!rdr_last_reel(r));
	CHECK(rdr_space_files(r, 2) == 0);	/* over the reel change */
	CHECK(rdr_peek(r, &el) == 0 && el.kind == RDR_EOD && el.reel == 2);
	expect_pos(r, 2, 0, 6);
	CHECK(rdr_rewind(r) == 0);
	CHECK(rdr_seek(r, 4) == 0);
	CHECK(rdr_peek(r, &el) == 0 && el.kind == RDR_RECORD && el.len == 40);
	rdr_free(r);
}

int main(void)
{
	char dir[] = "/tmp/reelfs-test-reader-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	const char *fmts[] = { "mtd", "simh", "e11", "aws", "het" };
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		test_format(dir, fmts[i]);
	test_damaged(dir);
	test_storeset(dir);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	return failures ? 1 : 0;
}
