/*
 * manifest_read.c - reads NAME.manifest.json (fields documented in
 * docs/manifest.md) into a tape_manifest, and frees what it allocated.
 *
 * The reader is strict and bounded on purpose: it accepts exactly one
 * object holding the fields the writer emits, each once and each of its
 * type, and rejects everything else with a sentence naming the first
 * problem and its byte offset. The one leniency is forward compatibility:
 * a field it does not know (a newer writer's) is skipped whatever its
 * value, within the same bounds (manifest_skip.c). It must never read past len, never recurse, never
 * allocate more than the input's size, and never crash on hostile input.
 * No I/O here, and no JSON library: the format is ours and tiny.
 */
#include "manifest_int.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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

static int read_field(struct mparse *p, enum mfield f, struct tape_manifest *m)
{
	const char *name = field_names[f];
	struct tape_counts *c = &m->counts;
	uint64_t v;

	switch (f) {
	case F_TAG:
		if (mp_uint(p, UINT64_MAX, &v, name))
			return -EINVAL;
		if (v != 1)
			return mp_fail(p, "manifest version %" PRIu64 " is not supported (only 1)", v);
		return 0;
	case F_FORMAT:
		return mp_string(p, m->format, sizeof(m->format), name, false);
	case F_FILES: return mp_uint(p, UINT64_MAX, &c->files, name);
	case F_RECORDS: return mp_uint(p, UINT64_MAX, &c->records, name);
	case F_MARKS: return mp_uint(p, UINT64_MAX, &c->marks, name);
	case F_PAYLOAD: return mp_uint(p, UINT64_MAX, &c->payload_bytes, name);
	case F_IMAGE: return mp_uint(p, UINT64_MAX, &c->image_bytes, name);
	case F_PCRC: return mp_crc(p, &c->payload_crc, name);
	case F_ICRC: return mp_crc(p, &c->image_crc, name);
	case F_START: return mp_time(p, &m->start, name);
	case F_END: return mp_time(p, &m->end, name);
	case F_STORESET:
		return mp_string(p, m->storeset, sizeof(m->storeset), name, false);
	case F_REEL:
		if (mp_uint(p, UINT_MAX, &v, name))
			return -EINVAL;
		if (v == 0)
			return mp_fail(p, "\"reel\" must be 1 or more");
		m->reel = (unsigned)v;
		return 0;
	case F_PREV: return mp_url(p, &m->prev_url, name);
	case F_NEXT: return mp_url(p, &m->next_url, name);
	case F_VERSION:
		return mp_string(p, m->version, sizeof(m->version), name, false);
	case F_TRUNC:
		m->truncated = true;
		return mp_uint(p, UINT64_MAX, &m->truncated_at, name);
	case F_OFFSETS: {
		size_t n;
		if (mp_uint_array(p, &m->file_offsets, &n, name))
			return -EINVAL;
		m->nindex = n;	/* checked against file_records at the end */
		return 0;
	}
	case F_FRECORDS: {
		size_t n;
		if (mp_uint_array(p, &m->file_records, &n, name))
			return -EINVAL;
		m->nrecords_listed = n;
		return 0;
	}
	case F_LABELS:
		return mp_labels(p, m);
	case F_COUNT:
		break;
	}
	return mp_fail(p, "internal error");
}

/* The file index agrees with itself and with the counts: both arrays or
 * neither, the same length, no more entries than files, offsets strictly
 * increasing inside the image's valid part, records summing to at most
 * the records. */
static int check_index(struct mparse *p, struct tape_manifest *m, bool offs,
		       bool recs)
{
	if (offs != recs)
		return mp_fail(p, "\"%s\" is given without \"%s\"",
			    offs ? "file_offsets" : "file_records",
			    offs ? "file_records" : "file_offsets");
	if (!offs)
		return 0;
	if (m->nindex != m->nrecords_listed)
		return mp_fail(p, "\"file_offsets\" and \"file_records\" differ in length");
	if (m->nindex > m->counts.files)
		return mp_fail(p, "the file index lists more files than \"files\"");
	uint64_t end = m->truncated ? m->truncated_at : m->counts.image_bytes;
	uint64_t sum = 0;
	for (size_t i = 0; i < m->nindex; i++) {
		if (m->file_offsets[i] >= end ||
		    (i && m->file_offsets[i] <= m->file_offsets[i - 1]))
			return mp_fail(p, "\"file_offsets\" entry %zu is out of order "
				    "or beyond the image", i);
		if (m->file_records[i] > m->counts.records - sum)
			return mp_fail(p, "\"file_records\" adds up to more than "
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
		return mp_fail(&p, "no text");
	if (len > MANIFEST_MAX_TEXT)
		return mp_fail(&p, "%zu bytes is more than a manifest can hold (%d)",
			    len, MANIFEST_MAX_TEXT);
	/* A UTF-8 byte-order mark is tolerated; editors add one. */
	if (len >= 3 && memcmp(json, "\xef\xbb\xbf", 3) == 0)
		p.pos = 3;
	if (mp_expect(&p, '{'))
		goto bad;
	mp_skip_ws(&p);
	if (p.pos < p.len && p.s[p.pos] == '}')
		p.pos++;
	else
		for (;;) {
			size_t keypos;
			int f;

			mp_skip_ws(&p);
			keypos = p.pos;
			if (mp_key(&p, key, sizeof(key)))
				goto bad;
			for (f = 0; f < F_COUNT; f++)
				if (strcmp(key, field_names[f]) == 0)
					break;
			if (f < F_COUNT && seen[f]) {
				p.pos = keypos;
				mp_fail(&p, "field \"%s\" appears twice", key);
				goto bad;
			}
			if (mp_expect(&p, ':'))
				goto bad;
			if (f == F_COUNT) {
				/* A newer writer's field: its value is
				 * skipped, so the tape still reads. */
				if (mp_skip_value(&p))
					goto bad;
			} else {
				seen[f] = true;
				if (read_field(&p, (enum mfield)f, m))
					goto bad;
			}
			mp_skip_ws(&p);
			if (p.pos < p.len && p.s[p.pos] == ',') {
				p.pos++;
				continue;
			}
			if (mp_expect(&p, '}'))
				goto bad;
			break;
		}
	mp_skip_ws(&p);
	if (p.pos != p.len) {
		mp_fail(&p, "text follows the closing '}'");
		goto bad;
	}
	for (int f = 0; f < F_COUNT; f++)
		if (!seen[f] && f != F_TRUNC && f != F_OFFSETS && f != F_FRECORDS &&
		    f != F_LABELS) {
			mp_fail(&p, "field \"%s\" is missing", field_names[f]);
			goto bad;
		}
	if (!m->format[0]) {
		mp_fail(&p, "\"format\" is empty");
		goto bad;
	}
	if (m->truncated && m->truncated_at > m->counts.image_bytes) {
		mp_fail(&p, "\"truncated_at\" is beyond \"image_bytes\"");
		goto bad;
	}
	if (check_index(&p, m, seen[F_OFFSETS], seen[F_FRECORDS]))
		goto bad;
	return 0;
bad:
	tape_manifest_clear(m);
	return -EINVAL;
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
