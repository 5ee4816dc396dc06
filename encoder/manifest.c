/*
 * manifest.c - writes and reads NAME.manifest.json, the small JSON file
 * published beside a tape image (fields documented in docs/manifest.md).
 *
 * The reader is strict and bounded on purpose: it accepts exactly one flat
 * object holding exactly the fields the writer emits, each once, and
 * rejects everything else with a sentence naming the first problem and
 * its byte offset. It must never read past len, never recurse, never
 * allocate more than the input's size, and never crash on hostile input.
 * No I/O here, and no JSON library: the format is ours and tiny.
 */
#include "manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A manifest is a few hundred bytes plus two URLs; anything bigger is not
 * ours. Bounding the input bounds every allocation the parser makes. */
#define MANIFEST_MAX_TEXT TAPE_MANIFEST_MAX_TEXT
#define MANIFEST_MAX_URL 4096

/* ---- writer ------------------------------------------------------------ */

struct mbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void mb_put(struct mbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

#define mb_lit(b, s) mb_put((b), (s), strlen(s))

static void mb_printf(struct mbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void mb_printf(struct mbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->oom = true;	/* only short numeric fields go through here */
		return;
	}
	mb_put(b, tmp, (size_t)n);
}

/* A JSON string: quotes, backslashes and control bytes escaped; other
 * bytes (UTF-8 included) pass through unchanged. */
static void mb_string(struct mbuf *b, const char *s)
{
	mb_put(b, "\"", 1);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			mb_put(b, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			mb_printf(b, "\\u%04x", c);
		} else {
			mb_put(b, (const char *)&c, 1);
		}
	}
	mb_put(b, "\"", 1);
}

static void mb_time(struct mbuf *b, time_t t)
{
	struct tm tm;
	char tmp[40];
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		mb_lit(b, "null");
		return;
	}
	snprintf(tmp, sizeof(tmp), "\"%04d-%02d-%02dT%02d:%02d:%02dZ\"",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	mb_put(b, tmp, strlen(tmp));
}

static void mb_url(struct mbuf *b, const char *url)
{
	if (url)
		mb_string(b, url);
	else
		mb_lit(b, "null");
}

/* Label text as a manifest keeps it: printable ASCII, anything else '?'
 * (labels are ASCII; a foreign tape's odd bytes must not make the
 * manifest unreadable, as a reader refuses controls and broken UTF-8). */
static void mb_label_text(struct mbuf *b, const char *s, size_t max)
{
	char tmp[TAPE_LABEL_NAME_MAX + 1];
	size_t n = 0;
	for (; s && s[n] && n < max && n < sizeof(tmp) - 1; n++) {
		unsigned char c = (unsigned char)s[n];
		tmp[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	tmp[n] = '\0';
	mb_string(b, tmp);
}

/* The "labels" field (issue 10): null for an unlabelled tape, else the
 * volume and one line per labelled file section. */
static void mb_labels(struct mbuf *b, const struct tape_manifest *m)
{
	mb_lit(b, ",\n  \"labels\": ");
	if (!m->label_volume[0]) {
		mb_lit(b, "null");
		return;
	}
	mb_lit(b, "{\"volume\": ");
	mb_label_text(b, m->label_volume, TAPE_LABEL_VOLID);
	mb_lit(b, ", \"owner\": ");
	mb_label_text(b, m->label_owner, sizeof(m->label_owner) - 1);
	mb_printf(b, ", \"file_sections\": %" PRIu64 ", \"problem\": ", m->label_total);
	if (m->label_problem[0])
		mb_label_text(b, m->label_problem, TAPE_LABEL_NAME_MAX);
	else
		mb_lit(b, "null");
	mb_lit(b, ", \"files\": [");
	size_t n = m->nlabels < TAPE_MANIFEST_MAX_LABEL_FILES ? m->nlabels
							     : TAPE_MANIFEST_MAX_LABEL_FILES;
	for (size_t i = 0; i < n && m->labels; i++) {
		const struct tape_manifest_label *l = &m->labels[i];
		const struct tape_label_file_info *x = &l->info;
		char rf[2] = { x->record_format, 0 };
		mb_lit(b, i ? ",\n    {\"name\": " : "\n    {\"name\": ");
		mb_label_text(b, x->name, TAPE_LABEL_NAME_MAX);
		mb_lit(b, ", \"file_set\": ");
		mb_label_text(b, x->set_id, TAPE_LABEL_VOLID);
		mb_printf(b, ", \"section\": %" PRIu32 ", \"sequence\": %" PRIu32,
			  x->section, x->sequence);
		mb_lit(b, ", \"record_format\": ");
		if (rf[0])
			mb_label_text(b, rf, 1);
		else
			mb_lit(b, "null");
		mb_printf(b, ", \"block_length\": %" PRIu32 ", \"record_length\": %" PRIu32,
			  x->block_len, x->record_len);
		mb_printf(b, ", \"block_count\": %" PRIu64, x->block_count);
		mb_printf(b, ", \"created_year\": %d, \"created_day\": %d",
			  x->created_year >= 0 && x->created_year <= 9999 ? x->created_year : 0,
			  x->created_yday >= 0 && x->created_yday <= 366 ? x->created_yday : 0);
		mb_printf(b, ", \"continued\": %s, \"saveset\": ",
			  x->continued ? "true" : "false");
		if (l->has_saveset) {
			mb_lit(b, "{\"name\": ");
			mb_label_text(b, l->ss.name, sizeof(l->ss.name) - 1);
			mb_printf(b, ", \"block_size\": %" PRIu32 "}", l->ss.block_size);
		} else {
			mb_lit(b, "null");
		}
		mb_lit(b, "}");
	}
	mb_lit(b, n ? "\n  ]}" : "]}");
}

int tape_manifest_set_labels(struct tape_manifest *m, const struct tape_label_scan *s)
{
	m->labels_recorded = true;
	m->label_volume[0] = '\0';
	m->label_owner[0] = '\0';
	m->label_total = 0;
	m->nlabels = 0;
	m->labels = NULL;
	m->label_problem[0] = '\0';
	const struct tape_label_vol *v = tape_label_scan_volume(s);
	if (!v)
		return 0;
	snprintf(m->label_volume, sizeof(m->label_volume), "%s", v->volid[0] ? v->volid : "?");
	snprintf(m->label_owner, sizeof(m->label_owner), "%s", v->owner);
	const char *problem = tape_label_scan_problem(s);
	if (problem)
		snprintf(m->label_problem, sizeof(m->label_problem), "%s", problem);
	m->label_total = tape_label_scan_total(s);
	size_t n = tape_label_scan_count(s);
	if (n > TAPE_MANIFEST_MAX_LABEL_FILES)
		n = TAPE_MANIFEST_MAX_LABEL_FILES;
	if (!n)
		return 0;
	m->labels = calloc(n, sizeof(*m->labels));
	if (!m->labels) {
		m->labels_recorded = false;
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct tape_label_file_info *fi = tape_label_scan_file(s, i);
		const struct tape_saveset_info *ss = tape_label_scan_saveset(s, i);
		struct tape_manifest_label *l = &m->labels[i];
		if (fi) {
			/* Only what the manifest records; the rest stays 0. */
			memcpy(l->info.name, fi->name, sizeof(l->info.name));
			memcpy(l->info.set_id, fi->set_id, sizeof(l->info.set_id));
			l->info.section = fi->section;
			l->info.sequence = fi->sequence;
			l->info.record_format = fi->record_format;
			l->info.block_len = fi->block_len;
			l->info.record_len = fi->record_len;
			l->info.block_count = fi->block_count;
			l->info.created_year = fi->created_year;
			l->info.created_yday = fi->created_yday;
			l->info.continued = fi->continued;
		}
		if (ss) {
			l->has_saveset = true;
			l->ss = *ss;
		}
	}
	m->nlabels = n;
	return 0;
}

char *tape_manifest_to_json(const struct tape_manifest *m)
{
	struct mbuf b = { 0 };
	const struct tape_counts *c = &m->counts;

	mb_lit(&b, "{\n  \"reelfs_manifest\": 1,\n  \"format\": ");
	mb_string(&b, m->format);
	mb_printf(&b, ",\n  \"files\": %" PRIu64, c->files);
	mb_printf(&b, ",\n  \"records\": %" PRIu64, c->records);
	mb_printf(&b, ",\n  \"marks\": %" PRIu64, c->marks);
	mb_printf(&b, ",\n  \"payload_bytes\": %" PRIu64, c->payload_bytes);
	mb_printf(&b, ",\n  \"image_bytes\": %" PRIu64, c->image_bytes);
	mb_printf(&b, ",\n  \"payload_crc32\": \"%08" PRIx32 "\"", c->payload_crc);
	mb_printf(&b, ",\n  \"image_crc32\": \"%08" PRIx32 "\"", c->image_crc);
	mb_lit(&b, ",\n  \"start\": ");
	mb_time(&b, m->start);
	mb_lit(&b, ",\n  \"end\": ");
	mb_time(&b, m->end);
	mb_lit(&b, ",\n  \"storeset\": ");
	mb_string(&b, m->storeset);
	mb_printf(&b, ",\n  \"reel\": %u", m->reel);
	mb_lit(&b, ",\n  \"prev\": ");
	mb_url(&b, m->prev_url);
	mb_lit(&b, ",\n  \"next\": ");
	mb_url(&b, m->next_url);
	if (m->truncated)
		mb_printf(&b, ",\n  \"truncated_at\": %" PRIu64, m->truncated_at);
	if (m->nindex && m->file_offsets && m->file_records) {
		size_t n = m->nindex;
		if (n > TAPE_MANIFEST_MAX_FILES)
			n = TAPE_MANIFEST_MAX_FILES;
		mb_lit(&b, ",\n  \"file_offsets\": [");
		for (size_t i = 0; i < n; i++)
			mb_printf(&b, "%s%" PRIu64, i ? ", " : "", m->file_offsets[i]);
		mb_lit(&b, "],\n  \"file_records\": [");
		for (size_t i = 0; i < n; i++)
			mb_printf(&b, "%s%" PRIu64, i ? ", " : "", m->file_records[i]);
		mb_lit(&b, "]");
	}
	if (m->labels_recorded)
		mb_labels(&b, m);
	mb_lit(&b, ",\n  \"version\": ");
	mb_string(&b, m->version);
	mb_lit(&b, "\n}\n");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

void tape_manifest_clear(struct tape_manifest *m)
{
	free(m->prev_url);
	free(m->next_url);
	m->prev_url = NULL;
	m->next_url = NULL;
	free(m->file_offsets);
	free(m->file_records);
	m->file_offsets = NULL;
	m->file_records = NULL;
	m->nindex = 0;
	free(m->labels);
	m->labels = NULL;
	m->nlabels = 0;
}

/* ---- reader ------------------------------------------------------------ */

struct mparse {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
	bool failed;
};

static int fail(struct mparse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct mparse *p, const char *fmt, ...)
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

static void skip_ws(struct mparse *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int expect(struct mparse *p, char c)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, "the text ends where '%c' was expected", c);
	if (p->s[p->pos] != c)
		return fail(p, "'%c' expected", c);
	p->pos++;
	return 0;
}

static bool peek_literal(struct mparse *p, const char *lit)
{
	size_t n = strlen(lit);
	skip_ws(p);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n) != 0)
		return false;
	p->pos += n;
	return true;
}

static int hexval(char c)
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
		return fail(p, "the text ends inside a \\u escape");
	for (int i = 0; i < 4; i++) {
		int h = hexval(p->s[p->pos + i]);
		if (h < 0)
			return fail(p, "a bad \\u escape");
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

/* A JSON string into out (at most cap-1 bytes plus NUL). Escapes are
 * decoded; raw control bytes and \u0000 are always refused, since the
 * values end up in C strings and in messages. Names, ids and versions are
 * printed in messages and listings: a control character (C0, DEL, C1; raw,
 * in UTF-8 or as a \u escape) could move a terminal's cursor or forge
 * output, and none needs one, so every field refuses them, URLs included;
 * fields other than URLs (is_url) must be well-formed UTF-8 too. */
static int read_string(struct mparse *p, char *out, size_t cap, const char *field,
		       bool is_url)
{
	size_t n = 0;

	if (expect(p, '"'))
		return -EINVAL;
	size_t start = p->pos - 1;
	for (;;) {
		char tmp[4];
		size_t tn;
		if (p->pos >= p->len)
			return fail(p, "the text ends inside a string");
		unsigned char c = (unsigned char)p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(p, "a control character inside a string");
		if (c != '\\') {
			tmp[0] = (char)c;
			tn = 1;
		} else {
			if (p->pos >= p->len)
				return fail(p, "the text ends inside an escape");
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
					return fail(p, "\\u0000 inside a string");
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return fail(p, "a lone low surrogate");
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
					    p->s[p->pos + 1] != 'u')
						return fail(p, "a lone high surrogate");
					p->pos += 2;
					if (read_u4(p, &lo))
						return -EINVAL;
					if (lo < 0xdc00 || lo > 0xdfff)
						return fail(p, "a bad surrogate pair");
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				tn = put_utf8(tmp, cp);
				break;
			}
			default:
				p->pos--;
				return fail(p, "an unknown escape '\\%c'", e);
			}
		}
		if (n + tn >= cap)
			return fail(p, "\"%s\" is longer than %zu bytes", field, cap - 1);
		memcpy(out + n, tmp, tn);
		n += tn;
	}
	out[n] = '\0';
	long bad = ctl_at(out, n, !is_url);
	if (bad >= 0) {
		p->pos = start;
		unsigned char b = (unsigned char)out[bad];
		bool ctl = b <= 0x9f || (b == 0xc2 && (unsigned char)out[bad + 1] <= 0x9f);
		if (!ctl)
			return fail(p, "\"%s\" is not valid UTF-8 (byte 0x%02x at "
				    "offset %ld in the string)", field, b, bad);
		return fail(p, "\"%s\" holds a control character (C0, DEL or C1: "
			    "byte 0x%02x at offset %ld in the string), which could "
			    "drive a terminal; a manifest never needs one", field, b,
			    bad);
	}
	return 0;
}

/* A non-negative integer without sign, fraction, exponent or leading
 * zeros, that fits in max. */
static int read_uint(struct mparse *p, uint64_t max, uint64_t *out, const char *field)
{
	uint64_t v = 0;
	size_t start;

	skip_ws(p);
	start = p->pos;
	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
		unsigned d = (unsigned)(p->s[p->pos] - '0');
		if (v > (max - d) / 10)
			return fail(p, "\"%s\" is too large", field);
		v = v * 10 + d;
		p->pos++;
	}
	if (p->pos == start)
		return fail(p, "\"%s\" must be a non-negative integer", field);
	if (p->pos - start > 1 && p->s[start] == '0')
		return fail(p, "\"%s\" has a leading zero", field);
	if (p->pos < p->len && (p->s[p->pos] == '.' || p->s[p->pos] == 'e' ||
				p->s[p->pos] == 'E'))
		return fail(p, "\"%s\" must be an integer", field);
	*out = v;
	return 0;
}

static int read_crc(struct mparse *p, uint32_t *out, const char *field)
{
	char hex[16];
	uint32_t v = 0;

	if (read_string(p, hex, sizeof(hex), field, false))
		return -EINVAL;
	if (strlen(hex) != 8)
		return fail(p, "\"%s\" must be 8 hex digits", field);
	for (int i = 0; i < 8; i++) {
		int h = hexval(hex[i]);
		if (h < 0)
			return fail(p, "\"%s\" must be 8 hex digits", field);
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
static int read_time(struct mparse *p, time_t *out, const char *field)
{
	char t[32];
	struct tm tm = { 0 };
	int y, mo, d, h, mi, s;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (peek_literal(p, "null")) {
		*out = 0;
		return 0;
	}
	if (read_string(p, t, sizeof(t), field, false))
		return -EINVAL;
	if (strlen(t) != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' ||
	    t[13] != ':' || t[16] != ':' || t[19] != 'Z' ||
	    !digits(t, 4, &y) || !digits(t + 5, 2, &mo) || !digits(t + 8, 2, &d) ||
	    !digits(t + 11, 2, &h) || !digits(t + 14, 2, &mi) || !digits(t + 17, 2, &s) ||
	    mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
		return fail(p, "\"%s\" must be a UTC time like 2026-01-31T23:59:59Z", field);
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
		return fail(p, "\"%s\" must be a UTC time like 2026-01-31T23:59:59Z", field);
	return 0;
}

static int read_url(struct mparse *p, char **out, const char *field)
{
	if (peek_literal(p, "null")) {
		*out = NULL;
		return 0;
	}
	char *buf = malloc(MANIFEST_MAX_URL + 1);
	if (!buf)
		return fail(p, "out of memory");
	if (read_string(p, buf, MANIFEST_MAX_URL + 1, field, true)) {
		free(buf);
		return -EINVAL;
	}
	if (!buf[0]) {
		free(buf);
		return fail(p, "\"%s\" is empty (null means none)", field);
	}
	/* Keep only what the URL needs, not the parse buffer's worth. */
	*out = strdup(buf);
	free(buf);
	if (!*out)
		return fail(p, "out of memory");
	return 0;
}

enum mfield {
	F_TAG, F_FORMAT, F_FILES, F_RECORDS, F_MARKS, F_PAYLOAD, F_IMAGE,
	F_PCRC, F_ICRC, F_START, F_END, F_STORESET, F_REEL, F_PREV, F_NEXT,
	F_VERSION, F_TRUNC, F_OFFSETS, F_FRECORDS, F_LABELS, F_COUNT
};

static const char *const field_names[F_COUNT] = {
	"reelfs_manifest", "format", "files", "records", "marks",
	"payload_bytes", "image_bytes", "payload_crc32", "image_crc32",
	"start", "end", "storeset", "reel", "prev", "next", "version",
	"truncated_at", "file_offsets", "file_records", "labels",
};

/* A JSON array of integers (the file index): at most
 * TAPE_MANIFEST_MAX_FILES of them, so the allocation is bounded. */
static int read_uint_array(struct mparse *p, uint64_t **out, size_t *count,
			   const char *field)
{
	size_t n = 0, cap = 0;
	uint64_t *v = NULL;

	if (expect(p, '['))
		return -EINVAL;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		*out = NULL;
		*count = 0;
		return 0;
	}
	for (;;) {
		uint64_t x;
		if (read_uint(p, UINT64_MAX, &x, field))
			goto bad;
		if (n == TAPE_MANIFEST_MAX_FILES) {
			fail(p, "\"%s\" lists more than %u files", field,
			     TAPE_MANIFEST_MAX_FILES);
			goto bad;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			if (nc > TAPE_MANIFEST_MAX_FILES)
				nc = TAPE_MANIFEST_MAX_FILES;
			uint64_t *nv = realloc(v, nc * sizeof(*v));
			if (!nv) {
				fail(p, "out of memory");
				goto bad;
			}
			v = nv;
			cap = nc;
		}
		v[n++] = x;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (expect(p, ']'))
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

/* ---- the "labels" field ------------------------------------------------ */

static int read_bool(struct mparse *p, bool *out, const char *field)
{
	if (peek_literal(p, "true"))
		*out = true;
	else if (peek_literal(p, "false"))
		*out = false;
	else
		return fail(p, "\"%s\" must be true or false", field);
	return 0;
}

static int read_u32(struct mparse *p, uint32_t max, uint32_t *out, const char *field)
{
	uint64_t v;
	if (read_uint(p, max, &v, field))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* {"key": value, ...} with each key handed to fn; unknown keys fail. */
static int read_object(struct mparse *p, int (*fn)(struct mparse *p, const char *key,
						   void *ctx), void *ctx)
{
	char key[32];
	if (expect(p, '{'))
		return -EINVAL;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (read_string(p, key, sizeof(key), "field name", false) ||
		    expect(p, ':') || fn(p, key, ctx))
			return -EINVAL;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		return expect(p, '}');
	}
}

static int saveset_key(struct mparse *p, const char *key, void *ctx)
{
	struct tape_saveset_info *ss = ctx;
	if (!strcmp(key, "name"))
		return read_string(p, ss->name, sizeof(ss->name), "saveset name", false);
	if (!strcmp(key, "block_size"))
		return read_u32(p, UINT32_MAX, &ss->block_size, "block_size");
	return fail(p, "unknown field \"%s\" in a saveset of \"labels\"", key);
}

static int label_file_key(struct mparse *p, const char *key, void *ctx)
{
	struct tape_manifest_label *l = ctx;
	struct tape_label_file_info *x = &l->info;
	uint32_t v;
	if (!strcmp(key, "name"))
		return read_string(p, x->name, sizeof(x->name), "name", false);
	if (!strcmp(key, "file_set"))
		return read_string(p, x->set_id, sizeof(x->set_id), "file_set", false);
	if (!strcmp(key, "section"))
		return read_u32(p, 9999, &x->section, key);
	if (!strcmp(key, "sequence"))
		return read_u32(p, 9999, &x->sequence, key);
	if (!strcmp(key, "record_format")) {
		char rf[2] = "";
		if (peek_literal(p, "null"))
			x->record_format = 0;
		else if (read_string(p, rf, sizeof(rf), key, false))
			return -EINVAL;
		else
			x->record_format = rf[0];
		return 0;
	}
	if (!strcmp(key, "block_length"))
		return read_u32(p, 99999, &x->block_len, key);
	if (!strcmp(key, "record_length"))
		return read_u32(p, 99999, &x->record_len, key);
	if (!strcmp(key, "block_count"))
		return read_uint(p, UINT64_MAX, &x->block_count, key);
	if (!strcmp(key, "created_year")) {
		if (read_u32(p, 9999, &v, key))
			return -EINVAL;
		x->created_year = (int)v;
		return 0;
	}
	if (!strcmp(key, "created_day")) {
		if (read_u32(p, 366, &v, key))
			return -EINVAL;
		x->created_yday = (int)v;
		return 0;
	}
	if (!strcmp(key, "continued"))
		return read_bool(p, &x->continued, key);
	if (!strcmp(key, "saveset")) {
		if (peek_literal(p, "null"))
			return 0;
		l->has_saveset = true;
		return read_object(p, saveset_key, &l->ss);
	}
	return fail(p, "unknown field \"%s\" in a file of \"labels\"", key);
}

static int read_label_files(struct mparse *p, struct tape_manifest *m)
{
	size_t cap = 0;
	if (expect(p, '['))
		return -EINVAL;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (m->nlabels == TAPE_MANIFEST_MAX_LABEL_FILES)
			return fail(p, "\"labels\" lists more than %u files",
				    TAPE_MANIFEST_MAX_LABEL_FILES);
		if (m->nlabels == cap) {
			size_t nc = cap ? cap * 2 : 8;
			if (nc > TAPE_MANIFEST_MAX_LABEL_FILES)
				nc = TAPE_MANIFEST_MAX_LABEL_FILES;
			struct tape_manifest_label *nl = realloc(m->labels, nc * sizeof(*nl));
			if (!nl)
				return fail(p, "out of memory");
			m->labels = nl;
			cap = nc;
		}
		struct tape_manifest_label *l = &m->labels[m->nlabels++];
		memset(l, 0, sizeof(*l));
		if (read_object(p, label_file_key, l))
			return -EINVAL;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		return expect(p, ']');
	}
}

static int labels_key(struct mparse *p, const char *key, void *ctx)
{
	struct tape_manifest *m = ctx;
	if (!strcmp(key, "volume"))
		return read_string(p, m->label_volume, sizeof(m->label_volume), key, false);
	if (!strcmp(key, "owner"))
		return read_string(p, m->label_owner, sizeof(m->label_owner), key, false);
	if (!strcmp(key, "file_sections"))
		return read_uint(p, UINT64_MAX, &m->label_total, key);
	if (!strcmp(key, "problem")) {
		if (peek_literal(p, "null"))
			return 0;
		return read_string(p, m->label_problem, sizeof(m->label_problem), key, false);
	}
	if (!strcmp(key, "files"))
		return read_label_files(p, m);
	return fail(p, "unknown field \"%s\" in \"labels\"", key);
}

static int read_labels(struct mparse *p, struct tape_manifest *m)
{
	m->labels_recorded = true;
	if (peek_literal(p, "null"))
		return 0;
	if (read_object(p, labels_key, m))
		return -EINVAL;
	if (!m->label_volume[0])
		return fail(p, "\"labels\" has no \"volume\" (null means unlabelled)");
	if (m->nlabels > m->label_total)
		return fail(p, "\"labels\" lists more files than \"file_sections\"");
	return 0;
}

static int read_field(struct mparse *p, enum mfield f, struct tape_manifest *m)
{
	const char *name = field_names[f];
	struct tape_counts *c = &m->counts;
	uint64_t v;

	switch (f) {
	case F_TAG:
		if (read_uint(p, UINT64_MAX, &v, name))
			return -EINVAL;
		if (v != 1)
			return fail(p, "manifest version %" PRIu64 " is not supported (only 1)", v);
		return 0;
	case F_FORMAT:
		return read_string(p, m->format, sizeof(m->format), name, false);
	case F_FILES: return read_uint(p, UINT64_MAX, &c->files, name);
	case F_RECORDS: return read_uint(p, UINT64_MAX, &c->records, name);
	case F_MARKS: return read_uint(p, UINT64_MAX, &c->marks, name);
	case F_PAYLOAD: return read_uint(p, UINT64_MAX, &c->payload_bytes, name);
	case F_IMAGE: return read_uint(p, UINT64_MAX, &c->image_bytes, name);
	case F_PCRC: return read_crc(p, &c->payload_crc, name);
	case F_ICRC: return read_crc(p, &c->image_crc, name);
	case F_START: return read_time(p, &m->start, name);
	case F_END: return read_time(p, &m->end, name);
	case F_STORESET:
		return read_string(p, m->storeset, sizeof(m->storeset), name, false);
	case F_REEL:
		if (read_uint(p, UINT_MAX, &v, name))
			return -EINVAL;
		if (v == 0)
			return fail(p, "\"reel\" must be 1 or more");
		m->reel = (unsigned)v;
		return 0;
	case F_PREV: return read_url(p, &m->prev_url, name);
	case F_NEXT: return read_url(p, &m->next_url, name);
	case F_VERSION:
		return read_string(p, m->version, sizeof(m->version), name, false);
	case F_TRUNC:
		m->truncated = true;
		return read_uint(p, UINT64_MAX, &m->truncated_at, name);
	case F_OFFSETS: {
		size_t n;
		if (read_uint_array(p, &m->file_offsets, &n, name))
			return -EINVAL;
		m->nindex = n;	/* checked against file_records at the end */
		return 0;
	}
	case F_FRECORDS: {
		size_t n;
		if (read_uint_array(p, &m->file_records, &n, name))
			return -EINVAL;
		m->nrecords_listed = n;
		return 0;
	}
	case F_LABELS:
		return read_labels(p, m);
	case F_COUNT:
		break;
	}
	return fail(p, "internal error");
}

/* The file index agrees with itself and with the counts: both arrays or
 * neither, the same length, no more entries than files, offsets strictly
 * increasing inside the image's valid part, records summing to at most
 * the records. */
static int check_index(struct mparse *p, struct tape_manifest *m, bool offs,
		       bool recs)
{
	if (offs != recs)
		return fail(p, "\"%s\" is given without \"%s\"",
			    offs ? "file_offsets" : "file_records",
			    offs ? "file_records" : "file_offsets");
	if (!offs)
		return 0;
	if (m->nindex != m->nrecords_listed)
		return fail(p, "\"file_offsets\" and \"file_records\" differ in length");
	if (m->nindex > m->counts.files)
		return fail(p, "the file index lists more files than \"files\"");
	uint64_t end = m->truncated ? m->truncated_at : m->counts.image_bytes;
	uint64_t sum = 0;
	for (size_t i = 0; i < m->nindex; i++) {
		if (m->file_offsets[i] >= end ||
		    (i && m->file_offsets[i] <= m->file_offsets[i - 1]))
			return fail(p, "\"file_offsets\" entry %zu is out of order "
				    "or beyond the image", i);
		if (m->file_records[i] > m->counts.records - sum)
			return fail(p, "\"file_records\" adds up to more than "
				    "\"records\"");
		sum += m->file_records[i];
	}
	return 0;
}

int tape_manifest_parse(const char *json, size_t len, struct tape_manifest *m,
			char *err, size_t errlen)
{
	struct mparse p = { .s = json, .len = len, .err = err, .errlen = errlen };
	bool seen[F_COUNT] = { false };
	char key[32];

	memset(m, 0, sizeof(*m));
	if (err && errlen)
		err[0] = '\0';
	if (!json)
		return fail(&p, "no text");
	if (len > MANIFEST_MAX_TEXT)
		return fail(&p, "%zu bytes is more than a manifest can hold (%d)",
			    len, MANIFEST_MAX_TEXT);
	/* A UTF-8 byte-order mark is tolerated; editors add one. */
	if (len >= 3 && memcmp(json, "\xef\xbb\xbf", 3) == 0)
		p.pos = 3;
	if (expect(&p, '{'))
		goto bad;
	skip_ws(&p);
	if (p.pos < p.len && p.s[p.pos] == '}')
		p.pos++;
	else
		for (;;) {
			size_t keypos;
			int f;

			skip_ws(&p);
			keypos = p.pos;
			if (read_string(&p, key, sizeof(key), "field name", false))
				goto bad;
			for (f = 0; f < F_COUNT; f++)
				if (strcmp(key, field_names[f]) == 0)
					break;
			if (f == F_COUNT) {
				p.pos = keypos;
				fail(&p, "unknown field \"%s\"", key);
				goto bad;
			}
			if (seen[f]) {
				p.pos = keypos;
				fail(&p, "field \"%s\" appears twice", key);
				goto bad;
			}
			seen[f] = true;
			if (expect(&p, ':') || read_field(&p, (enum mfield)f, m))
				goto bad;
			skip_ws(&p);
			if (p.pos < p.len && p.s[p.pos] == ',') {
				p.pos++;
				continue;
			}
			if (expect(&p, '}'))
				goto bad;
			break;
		}
	skip_ws(&p);
	if (p.pos != p.len) {
		fail(&p, "text follows the closing '}'");
		goto bad;
	}
	for (int f = 0; f < F_COUNT; f++)
		if (!seen[f] && f != F_TRUNC && f != F_OFFSETS && f != F_FRECORDS &&
		    f != F_LABELS) {
			fail(&p, "field \"%s\" is missing", field_names[f]);
			goto bad;
		}
	if (!m->format[0]) {
		fail(&p, "\"format\" is empty");
		goto bad;
	}
	if (m->truncated && m->truncated_at > m->counts.image_bytes) {
		fail(&p, "\"truncated_at\" is beyond \"image_bytes\"");
		goto bad;
	}
	if (check_index(&p, m, seen[F_OFFSETS], seen[F_FRECORDS]))
		goto bad;
	return 0;
bad:
	tape_manifest_clear(m);
	return -EINVAL;
}
