/*
 * bench_encoder.c - on-demand benchmark of the tape encoder and decoder (not
 * a test: nothing here pass/fails a build).
 *
 * Encodes SIZE bytes (default 4 GiB) of 32 KiB records from memory into a
 * sink that only counts, once per format (HET at zlib level 1), then decodes
 * an in-memory image of each format pushed in 1 MiB pieces (as a reader of
 * a socket or file would) until SIZE payload bytes went through. Prints GB/s
 * and whether the targets of issue 2 are met:
 *   framing mtd/simh/e11/aws >= 10 GB/s, het level 1 >= 150 MB/s,
 *   decoding mtd >= 2 GB/s.
 * Usage: bench_encoder [SIZE_MIB]
 */
#include "tape.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "het_deflate.h"

#define REC (32u * 1024)
#define SRC_BYTES (64u * 1024 * 1024)	/* records are taken from here, in turn */
#define IMG_PAYLOAD (256u * 1024 * 1024)	/* payload per decode image */

static uint64_t counted;

static int count_sink(void *ctx, const struct tape_slice *v, int n)
{
	(void)ctx;
	for (int i = 0; i < n; i++)
		counted += v[i].len;
	return 0;
}

struct grow {
	uint8_t *p;
	size_t len, cap;
};

static int grow_sink(void *ctx, const struct tape_slice *v, int n)
{
	struct grow *g = ctx;
	for (int i = 0; i < n; i++) {
		if (g->len + v[i].len > g->cap) {
			g->cap = (g->len + v[i].len) * 2;
			g->p = realloc(g->p, g->cap);
			if (!g->p)
				return -12;
		}
		memcpy(g->p + g->len, v[i].base, v[i].len);
		g->len += v[i].len;
	}
	return 0;
}

static uint64_t decoded;

static int count_ev(void *ctx, const struct tape_event *e)
{
	(void)ctx;
	if (e->kind == TAPE_EV_RECORD)
		decoded += e->len;
	if (e->kind == TAPE_EV_ERROR) {
		fprintf(stderr, "bench: decode error: %s\n", e->msg);
		exit(1);
	}
	return 0;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Source data: text-like (compressible about 2:1 by zlib level 1, as tar
 * archives of source trees are), so HET has real work to do. */
static void fill(uint8_t *p, size_t n)
{
	static const char *const words[] = {
		"static ", "int ", "return ", "tape ", "record ", "block ", "\n\t", "if (",
		") {\n", "0x", "void ", "struct ", "uint8_t ", "; ", "mark", "file",
	};
	uint32_t x = 2463534242u;
	size_t i = 0;
	while (i < n) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		const char *w = (x & 0x300) ? words[x & 15] : NULL;
		if (w) {
			for (; *w && i < n; w++)
				p[i++] = (uint8_t)*w;
		} else {
			p[i++] = (uint8_t)(x >> 24);
		}
	}
}

static double encode_t(const char *fmt, int level, int threads, const uint8_t *src,
		       uint64_t total)
{
	struct tape_enc_options o = { .het_level = level, .threads = threads };
	struct tape_enc *e = tape_enc_new(tape_format_by_name(fmt), &o, count_sink, NULL);
	uint64_t nrec = total / REC;
	size_t ring = SRC_BYTES / REC;

	counted = 0;
	double t0 = now();
	for (uint64_t i = 0; i < nrec; i++) {
		if (tape_enc_record(e, src + (i % ring) * REC, REC) < 0) {
			fprintf(stderr, "bench: %s\n", tape_enc_error(e));
			exit(1);
		}
		if (i % 1000 == 999)
			tape_enc_mark(e);
	}
	tape_enc_finish(e);
	double dt = now() - t0;
	struct tape_counts c;
	tape_enc_counts(e, &c);
	tape_enc_free(e);
	if (c.image_bytes != counted) {
		fprintf(stderr, "bench: counts disagree\n");
		exit(1);
	}
	return (double)(nrec * REC) / dt / 1e9;
}

static double encode(const char *fmt, int level, const uint8_t *src, uint64_t total)
{
	return encode_t(fmt, level, 1, src, total);
}

/* zlib level 1 alone on the same records: the ceiling HET can reach. */
static double zlib_alone(const uint8_t *src, uint64_t total, double *ratio)
{
	z_stream z;
	static uint8_t out[REC + 1024];
	uint64_t nrec = total / REC, outb = 0;

	memset(&z, 0, sizeof(z));
	deflateInit(&z, 1);
	double t0 = now();
	for (uint64_t i = 0; i < nrec; i++) {
		deflateReset(&z);
		z.next_in = (Bytef *)(uintptr_t)(src + (i % (SRC_BYTES / REC)) * REC);
		z.avail_in = REC;
		z.next_out = out;
		z.avail_out = sizeof(out);
		deflate(&z, Z_FINISH);
		outb += z.total_out;
	}
	double dt = now() - t0;
	deflateEnd(&z);
	*ratio = (double)outb / (double)(nrec * REC);
	return (double)(nrec * REC) / dt / 1e9;
}

static double decode(const char *fmt, const uint8_t *src, uint64_t total)
{
	struct grow g = { 0 };
	struct tape_enc_options o = { .het_level = 1 };
	struct tape_enc *e = tape_enc_new(tape_format_by_name(fmt), &o, grow_sink, &g);
	uint64_t img_payload = total < IMG_PAYLOAD ? total : IMG_PAYLOAD;
	for (uint64_t i = 0; i < img_payload / REC; i++)
		tape_enc_record(e, src + (i % (SRC_BYTES / REC)) * REC, REC);
	tape_enc_finish(e);
	tape_enc_free(e);

	decoded = 0;
	double t0 = now();
	while (decoded < total) {
		struct tape_dec *d = tape_dec_new(tape_format_by_name(fmt), count_ev, NULL);
		for (size_t off = 0; off < g.len; off += 1u << 20) {
			size_t n = g.len - off < (1u << 20) ? g.len - off : (1u << 20);
			if (tape_dec_push(d, g.p + off, n) < 0)
				exit(1);
		}
		tape_dec_end(d);
		tape_dec_free(d);
	}
	double dt = now() - t0;
	free(g.p);
	return (double)decoded / dt / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t total = (argc > 1 ? strtoull(argv[1], NULL, 10) : 4096) << 20;
	static const char *const fmts[] = { "mtd", "simh", "e11", "aws", "het" };
	uint8_t *src = malloc(SRC_BYTES);
	int all_met = 1;

	if (!src || total < REC) {
		fprintf(stderr, "usage: bench_encoder [SIZE_MIB]\n");
		return 2;
	}
	fill(src, SRC_BYTES);
	printf("bench_encoder: %.2f GiB of %u-byte records per format, from a %u MiB buffer\n",
	       (double)total / (1u << 30), REC, SRC_BYTES >> 20);
	printf("%-6s %-7s %10s %12s  %s\n", "format", "op", "GB/s", "target", "met");
	for (int i = 0; i < 5; i++) {
		int het = i == 4;
		double gbs = encode(fmts[i], 1, src, total);
		double target = het ? 0.150 : 10.0;
		int met = gbs >= target;
		all_met &= met;
		printf("%-6s %-7s %10.3f %10.3f    %s%s\n", fmts[i], "encode", gbs, target,
		       met ? "yes" : "NO", het ? " (level 1)" : "");
		if (het)
			printf("%-6s %-7s   deflate engine: %s\n", "het", "", het_deflate_engine());
		fflush(stdout);
	}
	/* HET on a pool of worker threads (issue 12 point 4: >= 1.7x one
	 * thread on 2 cores), at level 1 and Hercules' default 4. */
	int cores = tape_enc_default_threads();
	for (int level = 1; level <= 4; level += 3) {
		double one = encode_t("het", level, 1, src, total);
		double pool = encode_t("het", level, cores, src, total);
		double x = pool / one;
		int met = cores < 2 || x >= 1.7;
		all_met &= met;
		printf("%-6s %-7s %10.3f %10s    -   (level %d, 1 thread)\n", "het", "encode",
		       one, "-", level);
		printf("%-6s %-7s %10.3f %9.2fx    %s  (level %d, pool of %d: %.2fx)\n", "het",
		       "encode", pool, 1.7, met ? "yes" : "NO", level, cores, x);
		fflush(stdout);
	}
	double ratio, zgbs = zlib_alone(src, total, &ratio);
	printf("%-6s %-7s %10.3f %10s    -   (zlib level 1 alone, no framing; ratio %.2f)\n",
	       "zlib", "deflate", zgbs, "-", ratio);
	for (int i = 0; i < 5; i++) {
		double gbs = decode(fmts[i], src, total);
		int has_target = i == 0;
		if (has_target)
			all_met &= gbs >= 2.0;
		printf("%-6s %-7s %10.3f %10s    %s\n", fmts[i], "decode", gbs,
		       has_target ? "2.000" : "-",
		       has_target ? (gbs >= 2.0 ? "yes" : "NO") : "-");
		fflush(stdout);
	}
	printf("bench_encoder: targets %s\n", all_met ? "all met" : "NOT all met");
	free(src);
	return 0;
}
