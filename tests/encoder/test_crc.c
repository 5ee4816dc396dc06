/*
 * test_crc.c - the library's fast CRC-32 must equal zlib's crc32() for
 * every length and alignment, and the combine helper must equal a CRC of
 * the concatenation, whatever lengths come in turn. (White-box: uses the private format_ops.h.)
 */
#include "testutil.h"
#include "format_ops.h"

int main(void)
{
	size_t n = (1 << 20) + 77;
	uint8_t *buf = tu_xmalloc(n);

	fill_data(buf, n, 5, 0);
	for (size_t align = 0; align < 16; align++)
		for (size_t len = 0; len < 1200; len += (len < 300 ? 1 : 7)) {
			uint32_t want = (uint32_t)crc32(0x12345678u, buf + align, (uInt)len);
			uint32_t got = tape_crc32(0x12345678u, buf + align, len);
			CHECK(got == want, "len %zu align %zu: %08x vs %08x", len, align, got, want);
		}
	CHECK(tape_crc32(0, buf, n) == (uint32_t)crc32(0, buf, (uInt)n), "1 MiB");
	for (size_t cut = 0; cut < n; cut += 99991) {
		uint32_t a = tape_crc32(0, buf, cut), b = tape_crc32(0, buf + cut, n - cut);
		CHECK(tape_crc32_combine(a, b, n - cut) == (uint32_t)crc32(0, buf, (uInt)n),
		      "combine at %zu", cut);
		CHECK(tape_crc32_combine(a, b, n - cut) == (uint32_t)crc32(0, buf, (uInt)n),
		      "combine cached at %zu", cut);
	}
	/* Lengths in turns, as a record, its trailer and another length
	 * come: the cached operators must never answer for the wrong one. */
	const size_t lens[] = { 10240, 4, 10240, 4, 77, 10240, 77, 4, 5, 4, 10240 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t cut = 1000 + i, len = lens[i];
		uint32_t a = tape_crc32(0, buf, cut), b = tape_crc32(0, buf + cut, len);
		CHECK(tape_crc32_combine(a, b, len) == (uint32_t)crc32(0, buf, (uInt)(cut + len)),
		      "combine of %zu bytes, turn %zu", len, i);
	}
	free(buf);
	return tu_result("test_crc");
}
