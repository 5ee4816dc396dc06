/*
 * test_locate.c - reel_crc_flips: for random texts and every kind of
 * single-bit flip, the CRC difference alone gives back the flipped byte
 * and bit; two flipped bits are never mistaken for the pair's positions.
 * Checked against zlib's crc32, which the encoder uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "reel.h"

int main(void)
{
	int failures = 0;
	srand(4711);
	for (int t = 0; t < 300; t++) {
		size_t len = 1 + (size_t)rand() % 20000;
		unsigned char *a = malloc(len);
		for (size_t i = 0; i < len; i++)
			a[i] = (unsigned char)rand();
		uint32_t want = (uint32_t)crc32(0, a, (uInt)len);
		size_t k = (size_t)rand() % len;
		unsigned bit = (unsigned)rand() % 8;
		a[k] ^= (unsigned char)(1u << bit);
		uint32_t got = (uint32_t)crc32(0, a, (uInt)len);
		struct reel_flip f[8];
		size_t n = reel_crc_flips(got, want, len, f, 8);
		int hit = 0;
		for (size_t i = 0; i < n && i < 8; i++)
			hit |= f[i].offset == k && f[i].bit == bit;
		if (!hit) {
			fprintf(stderr, "len %zu: flip at %zu bit %u not found (%zu candidates)\n",
				len, k, bit, n);
			failures++;
		}
		/* A second flip elsewhere: the first position alone must no
		 * longer explain the difference. */
		size_t k2 = (k + 1 + (size_t)rand() % len) % len;
		if (k2 != k) {
			a[k2] ^= 0x01;
			got = (uint32_t)crc32(0, a, (uInt)len);
			n = reel_crc_flips(got, want, len, f, 8);
			for (size_t i = 0; i < n && i < 8; i++)
				if (f[i].offset == k && f[i].bit == bit) {
					fprintf(stderr, "two flips taken for one at %zu\n", k);
					failures++;
				}
		}
		free(a);
	}
	/* Equal CRCs: nothing to find. */
	if (reel_crc_flips(0x12345678, 0x12345678, 100, NULL, 0) != 0)
		failures++;
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("locate: all checks passed\n");
	return 0;
}
