/*
 * crc.c - zlib-compatible CRC-32 fast enough for the framing path.
 *
 * zlib's table-driven crc32() reaches about 3 GB/s on this machine, while a
 * framer must pass 10 GB/s, and both a payload and an image CRC are kept. On
 * x86-64 CPUs with PCLMULQDQ the bulk of a buffer is folded 64 bytes at a
 * time with carry-less multiplies (the method of Intel's white paper "Fast
 * CRC Computation for Generic Polynomials Using PCLMULQDQ"); the head and the
 * tail go through zlib; CPUs with VPCLMULQDQ fold two lanes per
 * instruction, which is what keeps framing above 10 GB/s here. The result is always bit-identical to zlib's crc32()
 * (the unit tests compare the two on many lengths and alignments).
 * This file must never allocate or keep state other than a per-thread cache.
 */
#include "format_ops.h"

#include <stdlib.h>
#include <zlib.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TAPE_HAVE_CLMUL 1

/* Folding constants for the reflected polynomial 0xEDB88320: x^n mod P for
 * the fold distances used below (512+32, 512-32, 128+32, 128-32, 64), then
 * P itself and the Barrett constant floor(x^64 / P). */
#define K1 0x0154442bd4ULL
#define K2 0x01c6e41596ULL
#define K3 0x01751997d0ULL
#define K4 0x00ccaa009eULL
#define K5 0x0163cd6124ULL
#define KP 0x01db710641ULL
#define KMU 0x01f7011641ULL

__attribute__((target("pclmul,sse4.1")))
static __m128i fold16(__m128i x, __m128i k, __m128i next)
{
	__m128i lo = _mm_clmulepi64_si128(x, k, 0x00);
	__m128i hi = _mm_clmulepi64_si128(x, k, 0x11);
	return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

/* c is zlib's internal (inverted) register; len >= 64 and a multiple of 16. */
__attribute__((target("pclmul,sse4.1")))
static uint32_t clmul_fold(uint32_t c, const uint8_t *p, size_t len)
{
	__m128i x0 = _mm_loadu_si128((const __m128i *)p);
	__m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
	__m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
	__m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
	__m128i k = _mm_set_epi64x((long long)K2, (long long)K1);

	x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)c));
	p += 64;
	len -= 64;
	while (len >= 64) {
		x0 = fold16(x0, k, _mm_loadu_si128((const __m128i *)p));
		x1 = fold16(x1, k, _mm_loadu_si128((const __m128i *)(p + 16)));
		x2 = fold16(x2, k, _mm_loadu_si128((const __m128i *)(p + 32)));
		x3 = fold16(x3, k, _mm_loadu_si128((const __m128i *)(p + 48)));
		p += 64;
		len -= 64;
	}
	/* Four lanes into one, then the remaining 16-byte blocks. */
	k = _mm_set_epi64x((long long)K4, (long long)K3);
	x0 = fold16(x0, k, x1);
	x0 = fold16(x0, k, x2);
	x0 = fold16(x0, k, x3);
	while (len >= 16) {
		x0 = fold16(x0, k, _mm_loadu_si128((const __m128i *)p));
		p += 16;
		len -= 16;
	}
	/* 128 bits to 64, then 64 to 32 by Barrett reduction. */
	const __m128i mask = _mm_setr_epi32(-1, 0, -1, 0);
	__m128i t = _mm_clmulepi64_si128(x0, k, 0x10);
	x0 = _mm_xor_si128(_mm_srli_si128(x0, 8), t);
	t = _mm_srli_si128(x0, 4);
	x0 = _mm_and_si128(x0, mask);
	x0 = _mm_clmulepi64_si128(x0, _mm_set_epi64x(0, (long long)K5), 0x00);
	x0 = _mm_xor_si128(x0, t);
	const __m128i poly = _mm_set_epi64x((long long)KMU, (long long)KP);
	t = _mm_and_si128(x0, mask);
	t = _mm_clmulepi64_si128(t, poly, 0x10);
	t = _mm_and_si128(t, mask);
	t = _mm_clmulepi64_si128(t, poly, 0x00);
	x0 = _mm_xor_si128(x0, t);
	return (uint32_t)_mm_extract_epi32(x0, 1);
}

/* Same folding, two 128-bit lanes per 256-bit register (VPCLMULQDQ):
 * 128 bytes per step, twice the multiplies per instruction. Fold distances
 * 1024 bits (main loop) and 256 bits (joining registers); constants are
 * x^(d+32) and x^(d-32) mod P, bit-reflected, like K1..K4. Needs len >= 256
 * and a multiple of 16. */
#define K1_1024 0x01e88ef372ULL
#define K2_1024 0x014a7fe880ULL
#define K1_256 0x00f1da05aaULL
#define K2_256 0x015a546366ULL

__attribute__((target("pclmul,sse4.1,avx2,vpclmulqdq")))
static __m256i fold32(__m256i x, __m256i k, __m256i next)
{
	__m256i lo = _mm256_clmulepi64_epi128(x, k, 0x00);
	__m256i hi = _mm256_clmulepi64_epi128(x, k, 0x11);
	return _mm256_xor_si256(_mm256_xor_si256(lo, hi), next);
}

__attribute__((target("pclmul,sse4.1,avx2,vpclmulqdq")))
static uint32_t vclmul_fold(uint32_t c, const uint8_t *p, size_t len)
{
	__m256i y0 = _mm256_loadu_si256((const __m256i *)p);
	__m256i y1 = _mm256_loadu_si256((const __m256i *)(p + 32));
	__m256i y2 = _mm256_loadu_si256((const __m256i *)(p + 64));
	__m256i y3 = _mm256_loadu_si256((const __m256i *)(p + 96));
	__m256i k = _mm256_set_epi64x((long long)K2_1024, (long long)K1_1024,
				      (long long)K2_1024, (long long)K1_1024);

	y0 = _mm256_xor_si256(y0, _mm256_zextsi128_si256(_mm_cvtsi32_si128((int)c)));
	p += 128;
	len -= 128;
	while (len >= 128) {
		y0 = fold32(y0, k, _mm256_loadu_si256((const __m256i *)p));
		y1 = fold32(y1, k, _mm256_loadu_si256((const __m256i *)(p + 32)));
		y2 = fold32(y2, k, _mm256_loadu_si256((const __m256i *)(p + 64)));
		y3 = fold32(y3, k, _mm256_loadu_si256((const __m256i *)(p + 96)));
		p += 128;
		len -= 128;
	}
	k = _mm256_set_epi64x((long long)K2_256, (long long)K1_256,
			      (long long)K2_256, (long long)K1_256);
	y1 = fold32(y0, k, y1);
	y2 = fold32(y1, k, y2);
	y3 = fold32(y2, k, y3);
	/* The register's two lanes into one, then as in clmul_fold(). */
	__m128i k34 = _mm_set_epi64x((long long)K4, (long long)K3);
	__m128i x0 = fold16(_mm256_castsi256_si128(y3), k34, _mm256_extracti128_si256(y3, 1));
	while (len >= 16) {
		x0 = fold16(x0, k34, _mm_loadu_si128((const __m128i *)p));
		p += 16;
		len -= 16;
	}
	const __m128i mask = _mm_setr_epi32(-1, 0, -1, 0);
	__m128i t = _mm_clmulepi64_si128(x0, k34, 0x10);
	x0 = _mm_xor_si128(_mm_srli_si128(x0, 8), t);
	t = _mm_srli_si128(x0, 4);
	x0 = _mm_and_si128(x0, mask);
	x0 = _mm_clmulepi64_si128(x0, _mm_set_epi64x(0, (long long)K5), 0x00);
	x0 = _mm_xor_si128(x0, t);
	const __m128i poly = _mm_set_epi64x((long long)KMU, (long long)KP);
	t = _mm_and_si128(x0, mask);
	t = _mm_clmulepi64_si128(t, poly, 0x10);
	t = _mm_and_si128(t, mask);
	t = _mm_clmulepi64_si128(t, poly, 0x00);
	x0 = _mm_xor_si128(x0, t);
	return (uint32_t)_mm_extract_epi32(x0, 1);
}

/* 0: zlib only, 1: PCLMULQDQ, 2: VPCLMULQDQ on 256-bit registers.
 * REELFS_CRC_LEVEL (0..2) caps it, so tests can cover every path. */
static int clmul_level(void)
{
	static int level = -1;	/* benign race: every thread computes the same */

	if (level < 0) {
		int l = 0;
		__builtin_cpu_init();
		if (__builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) {
			l = 1;
			if (__builtin_cpu_supports("avx2") &&
			    __builtin_cpu_supports("vpclmulqdq"))
				l = 2;
		}
		const char *cap = getenv("REELFS_CRC_LEVEL");
		if (cap && *cap >= '0' && *cap < '0' + l)
			l = *cap - '0';
		level = l;
	}
	return level;
}
#endif

uint32_t tape_crc32(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

#ifdef TAPE_HAVE_CLMUL
	int level = len >= 256 ? clmul_level() : 0;
	if (level > 0) {
		size_t n = len & ~(size_t)15;

		crc = level == 2 ? ~vclmul_fold(~crc, p, n) : ~clmul_fold(~crc, p, n);
		p += n;
		len -= n;
	}
#endif
	/* zlib takes a uInt length; feed it in pieces that fit. */
	while (len > 0) {
		uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;

		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

uint32_t tape_crc32_combine(uint32_t crc1, uint32_t crc2, uint64_t len2)
{
	/* Record lengths repeat, so cached operators save the O(log n)
	 * generation nearly every time. Two: a record whose CRC came after
	 * its reply (enc.c) combines its payload's length and its trailer's
	 * in turn. Per thread: encoders run in several. */
	static _Thread_local uint64_t cached_len[2] = { UINT64_MAX, UINT64_MAX };
	static _Thread_local uLong cached_op[2];
	static _Thread_local unsigned older;

	int k = len2 == cached_len[0] ? 0 : len2 == cached_len[1] ? 1 : -1;
	if (k < 0) {
		k = (int)older;
		cached_op[k] = crc32_combine_gen64((z_off64_t)len2);
		cached_len[k] = len2;
	}
	older = (unsigned)!k;
	return (uint32_t)crc32_combine_op(crc1, crc2, cached_op[k]);
}
