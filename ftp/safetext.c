/*
 * safetext.c - renders untrusted text safe for a terminal, a log or a
 * status file (see safetext.h). It must never let through a byte a
 * terminal acts on: C0, DEL, C1 as a raw byte or as UTF-8, or a stray
 * 0x80-0xff that a terminal in a legacy mode would read as C1. It neither
 * allocates nor locks, so the log function can call it from any thread.
 */
#include "safetext.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Decodes the well-formed UTF-8 sequence at p (at most n bytes): its length
 * 1..4 and code point, or 0 when p[0] does not start one. */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned c = p[0];
	size_t len;
	uint32_t min, v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800, v = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000, v = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3fu);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* Code points a terminal acts on or that rearrange what it shows. */
static bool unsafe_cp(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	       cp == 0x200e || cp == 0x200f || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The unit at p: its length in the input, and in esc the escape to write
 * instead (esc[0] == '\0': copy the input bytes). */
static size_t unit(const unsigned char *p, size_t n, char esc[8])
{
	uint32_t cp;
	size_t len = utf8_decode(p, n, &cp);

	esc[0] = '\0';
	if (len == 0) {
		snprintf(esc, 8, "\\x%02x", p[0]);
		return 1;
	}
	if (!unsafe_cp(cp))
		return len;
	if (cp == '\t' || cp == '\n' || cp == '\r')
		snprintf(esc, 8, "\\%c", cp == '\t' ? 't' : cp == '\n' ? 'n' : 'r');
	else if (len == 1)
		snprintf(esc, 8, "\\x%02x", (unsigned)cp);
	else
		snprintf(esc, 8, "\\u%04x", (unsigned)cp);
	return len;
}

size_t safetext_render(char *out, size_t cap, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (!cap)
		return 0;
	while (n) {
		char esc[8];
		size_t len = unit(p, n, esc);
		const char *src = esc[0] ? esc : (const char *)p;
		size_t w = esc[0] ? strlen(esc) : len;
		if (o + w >= cap)
			break;
		memcpy(out + o, src, w);
		o += w;
		p += len;
		n -= len;
	}
	out[o] = '\0';
	return o;
}

const char *safetext(const char *s, char *buf, size_t cap)
{
	safetext_render(buf, cap, s ? s : "", s ? strlen(s) : 0);
	return cap ? buf : "";
}

char *safetext_inplace(char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	size_t bad = safetext_find(s, n);
	char tmp[4096];

	if (bad == n)
		return s;
	/* The clean head stays where it is; only the rest is re-rendered. */
	if (cap - bad > sizeof(tmp))
		cap = bad + sizeof(tmp);
	safetext_render(tmp, cap - bad, s + bad, n - bad);
	memcpy(s + bad, tmp, strlen(tmp) + 1);
	return s;
}

size_t safetext_find_control(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t at = 0;

	while (at < n) {
		uint32_t cp;
		size_t len = utf8_decode(p + at, n - at, &cp);
		if (len == 0) {
			if (p[at] >= 0x80 && p[at] <= 0x9f)
				return at;
			at++;
			continue;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return at;
		at += len;
	}
	return n;
}

size_t safetext_find(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t at = 0;

	while (at < n) {
		char esc[8];
		size_t len = unit(p + at, n - at, esc);
		if (esc[0])
			return at;
		at += len;
	}
	return n;
}
