/*
 * manifest_write.c - writes NAME.manifest.json, the small JSON file
 * published beside a tape image (fields documented in docs/manifest.md),
 * and fills a manifest's labels from a writer's label scan.
 *
 * The text it writes must always read back through tape_manifest_parse
 * to the same manifest: label text is cut to printable ASCII and every
 * string is escaped. No I/O here, and no JSON library.
 */
#include "manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
