/*
 * manifest_json.c - the JSON reading steps of the manifest reader: the
 * error sentence, blanks, punctuation, literals, integers, booleans and
 * objects whose keys a caller interprets.
 *
 * Each step reads only s[pos..len) and never recurses. Strings are in
 * manifest_string.c; what the fields mean is in manifest_read.c.
 */
#include "manifest_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mp_fail(struct mparse *p, const char *fmt, ...)
{
	if (!p->failed && p->err && p->errlen) {
		char what[256];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		snprintf(p->err, p->errlen, "not a reelfs manifest: %s at byte %zu",
			 what, p->pos);
	}
	p->failed = true;
	return -EINVAL;
}

void mp_skip_ws(struct mparse *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

int mp_expect(struct mparse *p, char c)
{
	mp_skip_ws(p);
	if (p->pos >= p->len)
		return mp_fail(p, "the text ends where '%c' was expected", c);
	if (p->s[p->pos] != c)
		return mp_fail(p, "'%c' expected", c);
	p->pos++;
	return 0;
}

bool mp_literal(struct mparse *p, const char *lit)
{
	size_t n = strlen(lit);
	mp_skip_ws(p);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n) != 0)
		return false;
	p->pos += n;
	return true;
}

/* A non-negative integer without sign, fraction, exponent or leading
 * zeros, that fits in max. */
int mp_uint(struct mparse *p, uint64_t max, uint64_t *out, const char *field)
{
	uint64_t v = 0;
	size_t start;

	mp_skip_ws(p);
	start = p->pos;
	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
		unsigned d = (unsigned)(p->s[p->pos] - '0');
		if (v > (max - d) / 10)
			return mp_fail(p, "\"%s\" is too large", field);
		v = v * 10 + d;
		p->pos++;
	}
	if (p->pos == start)
		return mp_fail(p, "\"%s\" must be a non-negative integer", field);
	if (p->pos - start > 1 && p->s[start] == '0')
		return mp_fail(p, "\"%s\" has a leading zero", field);
	if (p->pos < p->len && (p->s[p->pos] == '.' || p->s[p->pos] == 'e' ||
				p->s[p->pos] == 'E'))
		return mp_fail(p, "\"%s\" must be an integer", field);
	*out = v;
	return 0;
}

int mp_bool(struct mparse *p, bool *out, const char *field)
{
	if (mp_literal(p, "true"))
		*out = true;
	else if (mp_literal(p, "false"))
		*out = false;
	else
		return mp_fail(p, "\"%s\" must be true or false", field);
	return 0;
}

int mp_u32(struct mparse *p, uint32_t max, uint32_t *out, const char *field)
{
	uint64_t v;
	if (mp_uint(p, max, &v, field))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* {"key": value, ...} with each key handed to fn; fn skips the value of
 * a key it does not know (mp_skip_value), and a key too long for any
 * known name reaches it as "". */
int mp_object(struct mparse *p, int (*fn)(struct mparse *p, const char *key,
					  void *ctx), void *ctx)
{
	char key[32];
	if (mp_expect(p, '{'))
		return -EINVAL;
	mp_skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (mp_key(p, key, sizeof(key)) ||
		    mp_expect(p, ':') || fn(p, key, ctx))
			return -EINVAL;
		mp_skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		return mp_expect(p, '}');
	}
}
