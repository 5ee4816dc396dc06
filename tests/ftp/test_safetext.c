/*
 * test_safetext.c - ftp/safetext.c, the one renderer of untrusted text:
 * every C0 byte, DEL and C1 (raw and in UTF-8) comes out escaped, invalid
 * UTF-8 as \xNN, valid printable UTF-8 unchanged; rendering twice changes
 * nothing; a small buffer ends at a whole escape; the hostile replies of
 * tests/lib/faultftpd.py leave no byte a terminal acts on.
 */
#include "safetext.h"

#include <stdio.h>
#include <string.h>

#include "../check.h"

static const char *render(const char *s, size_t n)
{
	static char buf[1024];
	safetext_render(buf, sizeof(buf), s, n);
	return buf;
}

/* No byte a terminal acts on, judged independently of safetext: no byte
 * below 0x20 or 0x7f, no C1 in UTF-8 (C2 80..9F), and every byte >= 0x80
 * inside a complete UTF-8 sequence (so no lone 0x9b). */
static int terminal_safe(const char *str)
{
	const unsigned char *p = (const unsigned char *)str;
	while (*p) {
		unsigned c = *p;
		int len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 :
			  (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (len == 0 || c < 0x20 || c == 0x7f)
			return 0;
		if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return 0;
		for (int k = 1; k < len; k++)
			if ((p[k] & 0xc0) != 0x80)
				return 0;
		p += len;
	}
	return 1;
}

static void check_controls(void)
{
	char in[2], want[16];

	/* Every C0 byte but NUL (a C string ends there), and DEL. */
	for (unsigned c = 1; c < 0x20; c++) {
		in[0] = (char)c;
		if (c == '\t')
			strcpy(want, "\\t");
		else if (c == '\n')
			strcpy(want, "\\n");
		else if (c == '\r')
			strcpy(want, "\\r");
		else
			snprintf(want, sizeof(want), "\\x%02x", c);
		CHECK(strcmp(render(in, 1), want) == 0);
		CHECK(safetext_find(in, 1) == 0);
	}
	CHECK(strcmp(render("\0", 1), "\\x00") == 0);
	CHECK(strcmp(render("\x7f", 1), "\\x7f") == 0);

	/* C1: every raw byte 0x80..0x9f, and every UTF-8 encoding C2 80..9F. */
	for (unsigned c = 0x80; c <= 0x9f; c++) {
		in[0] = (char)c;
		snprintf(want, sizeof(want), "\\x%02x", c);
		CHECK(strcmp(render(in, 1), want) == 0);
		char u[3] = { (char)0xc2, (char)c, 0 };
		snprintf(want, sizeof(want), "\\u%04x", c);
		CHECK(strcmp(render(u, 2), want) == 0);
		CHECK(safetext_find(u, 2) == 0);
	}
	/* Every other high byte alone is invalid UTF-8 as well. */
	for (unsigned c = 0xa0; c <= 0xff; c++) {
		in[0] = (char)c;
		snprintf(want, sizeof(want), "\\x%02x", c);
		CHECK(strcmp(render(in, 1), want) == 0);
	}
	/* Bidi overrides and line separators reorder what a terminal shows. */
	CHECK(strcmp(render("a\xe2\x80\xae" "b", 5), "a\\u202eb") == 0);
	CHECK(strcmp(render("\xe2\x80\xa8", 3), "\\u2028") == 0);
	CHECK(strcmp(render("\xe2\x81\xa6", 3), "\\u2066") == 0);
}

static void check_invalid_utf8(void)
{
	/* Overlong ESC (C0 9B would be an overlong CSI), lone lead bytes, a
	 * truncated sequence, surrogates, beyond U+10FFFF. */
	CHECK(strcmp(render("\xc0\x9b", 2), "\\xc0\\x9b") == 0);
	CHECK(strcmp(render("\xe0\x80\x9b", 3), "\\xe0\\x80\\x9b") == 0);
	CHECK(strcmp(render("\xc3", 1), "\\xc3") == 0);
	CHECK(strcmp(render("\xe6\x97", 2), "\\xe6\\x97") == 0);
	CHECK(strcmp(render("\xed\xa0\x80", 3), "\\xed\\xa0\\x80") == 0);
	CHECK(strcmp(render("\xf4\x90\x80\x80", 4), "\\xf4\\x90\\x80\\x80") == 0);
	CHECK(strcmp(render("\xf8\x88\x80\x80\x80", 5),
		     "\\xf8\\x88\\x80\\x80\\x80") == 0);
	/* A lead byte followed by C1 as UTF-8: each judged on its own. */
	CHECK(strcmp(render("\xc3\xc2\x9b", 3), "\\xc3\\u009b") == 0);
}

static void check_valid_kept(void)
{
	const char *ok[] = {
		"vol1.tap", "550 No such file or directory.",
		"caf\xc3\xa9", "\xc2\xa0nbsp \xc2\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
		"\xf0\x9f\x92\xbe floppy", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf",
		"back\\slash \\x1b stays", "~!@#$%^&*()_+{}|:\"<>?`-=[];',./",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK(strcmp(render(ok[i], strlen(ok[i])), ok[i]) == 0);
		CHECK(safetext_find(ok[i], strlen(ok[i])) == strlen(ok[i]));
	}
}

static void check_find_control(void)
{
	/* Controls in every form are found; legacy bytes >= 0xa0 are not. */
	CHECK(safetext_find_control("a\x1b", 2) == 1);
	CHECK(safetext_find_control("ab\x7f", 3) == 2);
	CHECK(safetext_find_control("a\xc2\x9b", 3) == 1);
	CHECK(safetext_find_control("caf\xe9\x9b", 5) == 4);
	CHECK(safetext_find_control("caf\xe9.mtd", 8) == 8);
	CHECK(safetext_find_control("caf\xc3\xa9 \xe2\x80\xae", 9) == 9);
	for (unsigned c = 0x80; c <= 0x9f; c++) {
		char b[2] = { (char)c, 0 };
		CHECK(safetext_find_control(b, 1) == 0);
	}
}

static void check_attacks(void)
{
	/* The replies tests/lib/faultftpd.py sends in hostile mode. */
	const char *attack = "550 \x1b]0;pwned\x07\x1b[2J\xc2\x9b" "2J\x9b" "31m done";
	char out[256], again[256];

	safetext(attack, out, sizeof(out));
	CHECK(strcmp(out, "550 \\x1b]0;pwned\\x07\\x1b[2J\\u009b2J\\x9b31m done") == 0);
	CHECK(terminal_safe(out));
	CHECK(!strchr(out, 0x1b) && !strchr(out, 0x07) && !strchr(out, (char)0x9b));
	/* Idempotent: the sinks render again what xerr already rendered. */
	safetext(out, again, sizeof(again));
	CHECK(strcmp(out, again) == 0);

	char buf[256];
	snprintf(buf, sizeof(buf), "x\x1b" "y\xc2\x9bz");
	CHECK(strcmp(safetext_inplace(buf, sizeof(buf)), "x\\x1by\\u009bz") == 0);
	/* In place in a buffer that cannot hold the whole rendering. */
	char small[8] = "ab\x1b\x1b\x1b";
	safetext_inplace(small, sizeof(small));
	CHECK(strcmp(small, "ab\\x1b") == 0);

	/* Truncation stops before an escape that does not fit, never in it,
	 * and never splits a UTF-8 character. */
	char t[6];
	safetext_render(t, sizeof(t), "ab\x1b", 3);
	CHECK(strcmp(t, "ab") == 0);
	safetext_render(t, sizeof(t), "abcd\xc3\xa9", 6);
	CHECK(strcmp(t, "abcd") == 0);
	CHECK(safetext_render(t, 0, "x", 1) == 0);
	CHECK(strcmp(safetext(NULL, t, sizeof(t)), "") == 0);

	/* Every pair of bytes: the output is always terminal-safe. */
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++) {
			char in[3] = { (char)a, (char)b, 'z' };
			char o[64];
			safetext_render(o, sizeof(o), in, 3);
			if (!terminal_safe(o)) {
				fprintf(stderr, "unsafe output for %02x %02x: %s\n", a, b, o);
				failures++;
			}
		}
}

int main(void)
{
	check_controls();
	check_invalid_utf8();
	check_valid_kept();
	check_find_control();
	check_attacks();
	if (!failures)
		printf("safetext: all checks passed\n");
	return failures ? 1 : 0;
}
