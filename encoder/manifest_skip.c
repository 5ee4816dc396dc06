/*
 * manifest_skip.c - skips the value of a field the reader does not know,
 * so a manifest written by a newer reelfs, which may add fields, still
 * reads: any JSON value (string, number, literal, array, object, nested),
 * checked to be well-formed JSON, then forgotten.
 *
 * It must never recurse, allocate, keep or show what it skips: the
 * nesting is a bit stack of MANIFEST_MAX_DEPTH levels, deeper is refused,
 * and the work is linear in the text, which MANIFEST_MAX_TEXT bounds.
 */
#include "manifest_int.h"

#include <errno.h>

_Static_assert(MANIFEST_MAX_DEPTH <= 64, "the nesting stack is one uint64_t");

static bool at(struct mparse *p, char c)
{
	return p->pos < p->len && p->s[p->pos] == c;
}

static bool digit_at(struct mparse *p)
{
	return p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
}

static void skip_digits(struct mparse *p)
{
	while (digit_at(p))
		p->pos++;
}

/* A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int skip_number(struct mparse *p)
{
	if (at(p, '-'))
		p->pos++;
	if (at(p, '0'))
		p->pos++;
	else if (digit_at(p))
		skip_digits(p);
	else
		return mp_fail(p, "a number expected");
	if (at(p, '.')) {
		p->pos++;
		if (!digit_at(p))
			return mp_fail(p, "a digit expected after '.'");
		skip_digits(p);
	}
	if (at(p, 'e') || at(p, 'E')) {
		p->pos++;
		if (at(p, '+') || at(p, '-'))
			p->pos++;
		if (!digit_at(p))
			return mp_fail(p, "a digit expected in an exponent");
		skip_digits(p);
	}
	return 0;
}

/* "name": inside a skipped object. */
static int skip_member_name(struct mparse *p)
{
	mp_skip_ws(p);
	if (!at(p, '"'))
		return mp_fail(p, "'\"' expected");
	if (mp_skip_string(p))
		return -EINVAL;
	return mp_expect(p, ':');
}

int mp_skip_value(struct mparse *p)
{
	uint64_t arrays = 0;	/* bit d: level d+1 is an array, else an object */
	unsigned depth = 0;

	for (;;) {
		/* One value: a scalar, or the opening of a container. */
		mp_skip_ws(p);
		if (p->pos >= p->len)
			return mp_fail(p, "the text ends where a value was expected");
		char c = p->s[p->pos];
		if (c == '[' || c == '{') {
			if (depth == MANIFEST_MAX_DEPTH)
				return mp_fail(p, "an unknown field's value is nested "
					       "more than %d deep", MANIFEST_MAX_DEPTH);
			p->pos++;
			if (c == '[')
				arrays |= (uint64_t)1 << depth;
			else
				arrays &= ~((uint64_t)1 << depth);
			depth++;
			mp_skip_ws(p);
			if (at(p, c == '[' ? ']' : '}')) {
				p->pos++;
				depth--;
			} else {
				if (c == '{' && skip_member_name(p))
					return -EINVAL;
				continue;	/* its first element */
			}
		} else if (c == '"') {
			if (mp_skip_string(p))
				return -EINVAL;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			if (skip_number(p))
				return -EINVAL;
		} else if (!mp_literal(p, "true") && !mp_literal(p, "false") &&
			   !mp_literal(p, "null")) {
			return mp_fail(p, "a JSON value expected");
		}
		/* After a value: the next element, or the close of as many
		 * containers as end here. */
		for (;;) {
			if (depth == 0)
				return 0;
			bool array = arrays >> (depth - 1) & 1;
			mp_skip_ws(p);
			if (at(p, ',')) {
				p->pos++;
				if (!array && skip_member_name(p))
					return -EINVAL;
				break;
			}
			if (mp_expect(p, array ? ']' : '}'))
				return -EINVAL;
			depth--;
		}
	}
}
