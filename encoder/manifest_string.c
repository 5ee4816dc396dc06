/*
 * manifest_string.c - JSON strings for the manifest reader: escapes
 * decoded (\u and surrogate pairs into UTF-8), and control characters
 * and, outside URLs, broken UTF-8 refused, since every value ends up in
 * C strings, messages and listings.
 *
 * It never writes past the caller's buffer nor reads past len.
 */
#include "manifest_int.h"

#include <errno.h>
#include <string.h>

int mp_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int read_u4(struct mparse *p, unsigned *out)
{
	unsigned v = 0;
	if (p->len - p->pos < 4)
		return mp_fail(p, "the text ends inside a \\u escape");
	for (int i = 0; i < 4; i++) {
		int h = mp_hexval(p->s[p->pos + i]);
		if (h < 0)
			return mp_fail(p, "a bad \\u escape");
		v = v << 4 | (unsigned)h;
	}
	p->pos += 4;
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Offset of the first control character in s[0..n): C0, DEL or C1, raw
 * or in UTF-8 (C2 80..C2 9F), or -1. With strict, also of the first byte
 * outside well-formed UTF-8; without (URLs, which may name a file in a
 * legacy encoding), a lone 0x80..0x9f still counts as a raw C1 control.
 * The rule matches ftp/safetext.c, which encoder/ does not link. */
static long ctl_at(const char *str, size_t n, bool strict)
{
	const unsigned char *s = (const unsigned char *)str;
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 :
			     c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		unsigned cp = len == 1 ? c : c & (0x7fu >> len);
		for (size_t k = 1; len && k < len; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				len = 0;
			else
				cp = cp << 6 | (s[i + k] & 0x3fu);
		}
		if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
			len = 0;
		if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
			len = 0;
		if (len == 0) {
			if (strict || (c >= 0x80 && c <= 0x9f))
				return (long)i;
			i++;
			continue;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return (long)i;
		i += len;
	}
	return -1;
}

/* A JSON string, its escapes decoded into out (at most cap-1 bytes plus
 * NUL); raw control bytes and \u0000 are always refused, since the values
 * end up in C strings. With out NULL nothing is kept (a skipped value's
 * string). With too_long, a string that does not fit sets it and stops
 * being kept, but is still read to its end and checked as JSON; without,
 * it is refused. *len: the bytes kept. */
static int decode_string(struct mparse *p, char *out, size_t cap, const char *field,
			 bool *too_long, size_t *len)
{
	size_t n = 0;

	if (mp_expect(p, '"'))
		return -EINVAL;
	for (;;) {
		char tmp[4];
		size_t tn;
		if (p->pos >= p->len)
			return mp_fail(p, "the text ends inside a string");
		unsigned char c = (unsigned char)p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
			return mp_fail(p, "a control character inside a string");
		if (c != '\\') {
			tmp[0] = (char)c;
			tn = 1;
		} else {
			if (p->pos >= p->len)
				return mp_fail(p, "the text ends inside an escape");
			char e = p->s[p->pos++];
			switch (e) {
			case '"': case '\\': case '/':
				tmp[0] = e; tn = 1; break;
			case 'b': tmp[0] = '\b'; tn = 1; break;
			case 'f': tmp[0] = '\f'; tn = 1; break;
			case 'n': tmp[0] = '\n'; tn = 1; break;
			case 'r': tmp[0] = '\r'; tn = 1; break;
			case 't': tmp[0] = '\t'; tn = 1; break;
			case 'u': {
				unsigned cp, lo;
				if (read_u4(p, &cp))
					return -EINVAL;
				if (cp == 0)
					return mp_fail(p, "\\u0000 inside a string");
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return mp_fail(p, "a lone low surrogate");
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
					    p->s[p->pos + 1] != 'u')
						return mp_fail(p, "a lone high surrogate");
					p->pos += 2;
					if (read_u4(p, &lo))
						return -EINVAL;
					if (lo < 0xdc00 || lo > 0xdfff)
						return mp_fail(p, "a bad surrogate pair");
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				tn = put_utf8(tmp, cp);
				break;
			}
			default:
				p->pos--;
				return mp_fail(p, "an unknown escape '\\%c'", e);
			}
		}
		if (!out || (too_long && *too_long))
			continue;
		if (n + tn >= cap) {
			if (!too_long)
				return mp_fail(p, "\"%s\" is longer than %zu bytes",
					       field, cap - 1);
			*too_long = true;
			continue;
		}
		memcpy(out + n, tmp, tn);
		n += tn;
	}
	if (out)
		out[n] = '\0';
	*len = n;
	return 0;
}

/* A JSON string into out (at most cap-1 bytes plus NUL). Names, ids and
 * versions are printed in messages and listings: a control character (C0,
 * DEL, C1; raw, in UTF-8 or as a \u escape) could move a terminal's cursor
 * or forge output, and none needs one, so every field refuses them, URLs
 * included; fields other than URLs (is_url) must be well-formed UTF-8 too. */
int mp_string(struct mparse *p, char *out, size_t cap, const char *field,
	      bool is_url)
{
	size_t n, start;

	mp_skip_ws(p);
	start = p->pos;
	if (decode_string(p, out, cap, field, NULL, &n))
		return -EINVAL;
	long bad = ctl_at(out, n, !is_url);
	if (bad >= 0) {
		p->pos = start;
		unsigned char b = (unsigned char)out[bad];
		bool ctl = b <= 0x9f || (b == 0xc2 && (unsigned char)out[bad + 1] <= 0x9f);
		if (!ctl)
			return mp_fail(p, "\"%s\" is not valid UTF-8 (byte 0x%02x at "
				    "offset %ld in the string)", field, b, bad);
		return mp_fail(p, "\"%s\" holds a control character (C0, DEL or C1: "
			    "byte 0x%02x at offset %ld in the string), which could "
			    "drive a terminal; a manifest never needs one", field, b,
			    bad);
	}
	return 0;
}

/* A field name into key (cap bytes). A name too long for key is no name
 * this reader knows (a newer writer's, say): key is then "", which
 * matches none, and the name is read to its end and skipped. Names are
 * checked as every other string, but only while they are kept. */
int mp_key(struct mparse *p, char *key, size_t cap)
{
	bool too_long = false;
	size_t n, start;

	mp_skip_ws(p);
	start = p->pos;
	if (decode_string(p, key, cap, "field name", &too_long, &n))
		return -EINVAL;
	if (too_long) {
		key[0] = '\0';
		return 0;
	}
	/* Read again as mp_string does: the same checks, the same sentence
	 * and offset as before unknown names were skipped. */
	p->pos = start;
	return mp_string(p, key, cap, "field name", false);
}

/* A string inside a value this reader skips: read to its end, checked as
 * JSON (escapes, no raw control byte, no \u0000), but never kept nor
 * shown, so it may be as long as the text. */
int mp_skip_string(struct mparse *p)
{
	size_t n;
	return decode_string(p, NULL, 0, "a skipped value", NULL, &n);
}
