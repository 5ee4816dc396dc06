/*
 * fuzz_safetext.c - libFuzzer target for the renderer of untrusted text
 * (ftp/safetext.c), which stands between every byte a server, a listing or
 * a manifest sends and a terminal, a log or the status file.
 *
 * Input: byte 0 picks the output size (a tiny one cuts the text short),
 * the rest is the text, NUL bytes included. Checks, with an own UTF-8
 * decoder rather than the renderer's:
 *  - the output is NUL-terminated within its buffer, as long as returned;
 *  - it holds only well-formed UTF-8 with no C0, DEL or C1 code point, no
 *    bidi or line/paragraph separator, and safetext_find finds nothing;
 *  - rendering it again changes nothing; clean input comes out unchanged;
 *  - a cut output is a prefix of the whole one;
 *  - safetext() and safetext_inplace() agree with safetext_render().
 */
#include "safetext.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_fail(const char *what, const char *out)
{
	fprintf(stderr, "fuzz_safetext: %s: \"%s\"\n", what, out);
	abort();
}

/* Whether s[0..n) is well-formed UTF-8 free of what a terminal acts on. */
static bool clean(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
			     (c & 0xf8) == 0xf0 ? 4 : 0;
		uint32_t cp = len == 1 ? c : c & (0xffu >> (len + 1));
		static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };

		if (!len || i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3fu);
		}
		if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
		    cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return false;
		i += len;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t n = size - 1, big = 6 * n + 1;
	size_t small = (size_t)data[0] % 24 + 1;
	char *s = malloc(n ? n : 1);	/* exactly n bytes, no NUL */
	char *full = malloc(big), *cut = malloc(small), *again = malloc(big);
	char *str = malloc(n + 1), *strout = malloc(big), *inpl = malloc(big);

	if (!s || !full || !cut || !again || !str || !strout || !inpl)
		goto out;
	memcpy(s, data + 1, n);

	size_t len = safetext_render(full, big, s, n);
	if (!memchr(full, '\0', big) || strlen(full) != len || len >= big)
		fz_fail("output not terminated or of another length", full);
	if (!clean((const unsigned char *)full, len) || safetext_find(full, len) != len)
		fz_fail("output holds what a terminal acts on", full);
	if (safetext_find(s, n) == n && (len != n || memcmp(full, s, n) != 0))
		fz_fail("clean input was changed", full);
	if (safetext_render(again, big, full, len) != len || strcmp(again, full) != 0)
		fz_fail("rendering twice changes the text", again);

	size_t cl = safetext_render(cut, small, s, n);
	if (cl >= small || strlen(cut) != cl || strncmp(cut, full, cl) != 0)
		fz_fail("a cut output is not a prefix of the whole", cut);

	/* The string forms stop at the first NUL of the input. */
	memcpy(str, s, n);
	str[n] = '\0';
	size_t sl = safetext_render(strout, big, str, strlen(str));
	if (strcmp(safetext(str, again, big), strout) != 0)
		fz_fail("safetext() differs from safetext_render()", again);
	memcpy(inpl, str, strlen(str) + 1);
	safetext_inplace(inpl, big);
	if (strcmp(inpl, strout) != 0 && sl < 4096)
		fz_fail("safetext_inplace() differs from safetext_render()", inpl);
	if (!clean((const unsigned char *)inpl, strlen(inpl)))
		fz_fail("safetext_inplace() left what a terminal acts on", inpl);
out:
	free(s);
	free(full);
	free(cut);
	free(again);
	free(str);
	free(strout);
	free(inpl);
	return 0;
}
