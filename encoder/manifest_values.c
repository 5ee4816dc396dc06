/*
 * manifest_values.c - the manifest's typed values: CRC-32s as 8 hex
 * digits, UTC times exactly as the writer makes them, URLs, and the
 * integer arrays of the file index.
 *
 * Allocations are bounded: a URL by MANIFEST_MAX_URL, an array by
 * TAPE_MANIFEST_MAX_FILES entries.
 */
#include "manifest_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int mp_crc(struct mparse *p, uint32_t *out, const char *field)
{
	char hex[16];
	uint32_t v = 0;

	if (mp_string(p, hex, sizeof(hex), field, false))
		return -EINVAL;
	if (strlen(hex) != 8)
		return mp_fail(p, "\"%s\" must be 8 hex digits", field);
	for (int i = 0; i < 8; i++) {
		int h = mp_hexval(hex[i]);
		if (h < 0)
			return mp_fail(p, "\"%s\" must be 8 hex digits", field);
		v = v << 4 | (uint32_t)h;
	}
	*out = v;
	return 0;
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* "YYYY-MM-DDTHH:MM:SSZ", exactly as the writer makes it; null is 0. */
int mp_time(struct mparse *p, time_t *out, const char *field)
{
	char t[32];
	struct tm tm = { 0 };
	int y, mo, d, h, mi, s;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (mp_literal(p, "null")) {
		*out = 0;
		return 0;
	}
	if (mp_string(p, t, sizeof(t), field, false))
		return -EINVAL;
	if (strlen(t) != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' ||
	    t[13] != ':' || t[16] != ':' || t[19] != 'Z' ||
	    !digits(t, 4, &y) || !digits(t + 5, 2, &mo) || !digits(t + 8, 2, &d) ||
	    !digits(t + 11, 2, &h) || !digits(t + 14, 2, &mi) || !digits(t + 17, 2, &s) ||
	    mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
		return mp_fail(p, "\"%s\" must be a UTC time like 2026-01-31T23:59:59Z", field);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	*out = timegm(&tm);
	/* A leap second on 9999-12-31 is in the year 10000, which the writer
	 * cannot write back (found by tests/fuzz/fuzz_manifest.c). */
	if (tm.tm_year + 1900 > 9999)
		return mp_fail(p, "\"%s\" must be a UTC time like 2026-01-31T23:59:59Z", field);
	return 0;
}

int mp_url(struct mparse *p, char **out, const char *field)
{
	if (mp_literal(p, "null")) {
		*out = NULL;
		return 0;
	}
	char *buf = malloc(MANIFEST_MAX_URL + 1);
	if (!buf)
		return mp_fail(p, "out of memory");
	if (mp_string(p, buf, MANIFEST_MAX_URL + 1, field, true)) {
		free(buf);
		return -EINVAL;
	}
	if (!buf[0]) {
		free(buf);
		return mp_fail(p, "\"%s\" is empty (null means none)", field);
	}
	/* Keep only what the URL needs, not the parse buffer's worth. */
	*out = strdup(buf);
	free(buf);
	if (!*out)
		return mp_fail(p, "out of memory");
	return 0;
}

/* A JSON array of integers (the file index): at most
 * TAPE_MANIFEST_MAX_FILES of them, so the allocation is bounded. */
int mp_uint_array(struct mparse *p, uint64_t **out, size_t *count,
			   const char *field)
{
	size_t n = 0, cap = 0;
	uint64_t *v = NULL;

	if (mp_expect(p, '['))
		return -EINVAL;
	mp_skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		*out = NULL;
		*count = 0;
		return 0;
	}
	for (;;) {
		uint64_t x;
		if (mp_uint(p, UINT64_MAX, &x, field))
			goto bad;
		if (n == TAPE_MANIFEST_MAX_FILES) {
			mp_fail(p, "\"%s\" lists more than %u files", field,
			     TAPE_MANIFEST_MAX_FILES);
			goto bad;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			if (nc > TAPE_MANIFEST_MAX_FILES)
				nc = TAPE_MANIFEST_MAX_FILES;
			uint64_t *nv = realloc(v, nc * sizeof(*v));
			if (!nv) {
				mp_fail(p, "out of memory");
				goto bad;
			}
			v = nv;
			cap = nc;
		}
		v[n++] = x;
		mp_skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (mp_expect(p, ']'))
			goto bad;
		break;
	}
	*out = v;
	*count = n;
	return 0;
bad:
	free(v);
	return -EINVAL;
}
