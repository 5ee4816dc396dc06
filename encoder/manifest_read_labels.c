/*
 * manifest_read_labels.c - reads the optional "labels" field (issue 10):
 * the volume, and one object per labelled file section with its
 * saveset, into a tape_manifest.
 *
 * At most TAPE_MANIFEST_MAX_LABEL_FILES files are kept, so the
 * allocation stays bounded whatever the text claims. A field it does not
 * know, at any level, is skipped (manifest_skip.c), as at the top.
 */
#include "manifest_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int saveset_key(struct mparse *p, const char *key, void *ctx)
{
	struct tape_saveset_info *ss = ctx;
	if (!strcmp(key, "name"))
		return mp_string(p, ss->name, sizeof(ss->name), "saveset name", false);
	if (!strcmp(key, "block_size"))
		return mp_u32(p, UINT32_MAX, &ss->block_size, "block_size");
	return mp_skip_value(p);	/* a newer writer's field */
}

static int label_file_key(struct mparse *p, const char *key, void *ctx)
{
	struct tape_manifest_label *l = ctx;
	struct tape_label_file_info *x = &l->info;
	uint32_t v;
	if (!strcmp(key, "name"))
		return mp_string(p, x->name, sizeof(x->name), "name", false);
	if (!strcmp(key, "file_set"))
		return mp_string(p, x->set_id, sizeof(x->set_id), "file_set", false);
	if (!strcmp(key, "section"))
		return mp_u32(p, 9999, &x->section, key);
	if (!strcmp(key, "sequence"))
		return mp_u32(p, 9999, &x->sequence, key);
	if (!strcmp(key, "record_format")) {
		char rf[2] = "";
		if (mp_literal(p, "null"))
			x->record_format = 0;
		else if (mp_string(p, rf, sizeof(rf), key, false))
			return -EINVAL;
		else
			x->record_format = rf[0];
		return 0;
	}
	if (!strcmp(key, "block_length"))
		return mp_u32(p, 99999, &x->block_len, key);
	if (!strcmp(key, "record_length"))
		return mp_u32(p, 99999, &x->record_len, key);
	if (!strcmp(key, "block_count"))
		return mp_uint(p, UINT64_MAX, &x->block_count, key);
	if (!strcmp(key, "created_year")) {
		if (mp_u32(p, 9999, &v, key))
			return -EINVAL;
		x->created_year = (int)v;
		return 0;
	}
	if (!strcmp(key, "created_day")) {
		if (mp_u32(p, 366, &v, key))
			return -EINVAL;
		x->created_yday = (int)v;
		return 0;
	}
	if (!strcmp(key, "continued"))
		return mp_bool(p, &x->continued, key);
	if (!strcmp(key, "saveset")) {
		if (mp_literal(p, "null"))
			return 0;
		l->has_saveset = true;
		return mp_object(p, saveset_key, &l->ss);
	}
	return mp_skip_value(p);	/* a newer writer's field */
}

static int read_label_files(struct mparse *p, struct tape_manifest *m)
{
	size_t cap = 0;
	if (mp_expect(p, '['))
		return -EINVAL;
	mp_skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (m->nlabels == TAPE_MANIFEST_MAX_LABEL_FILES)
			return mp_fail(p, "\"labels\" lists more than %u files",
				    TAPE_MANIFEST_MAX_LABEL_FILES);
		if (m->nlabels == cap) {
			size_t nc = cap ? cap * 2 : 8;
			if (nc > TAPE_MANIFEST_MAX_LABEL_FILES)
				nc = TAPE_MANIFEST_MAX_LABEL_FILES;
			struct tape_manifest_label *nl = realloc(m->labels, nc * sizeof(*nl));
			if (!nl)
				return mp_fail(p, "out of memory");
			m->labels = nl;
			cap = nc;
		}
		struct tape_manifest_label *l = &m->labels[m->nlabels++];
		memset(l, 0, sizeof(*l));
		if (mp_object(p, label_file_key, l))
			return -EINVAL;
		mp_skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		return mp_expect(p, ']');
	}
}

static int labels_key(struct mparse *p, const char *key, void *ctx)
{
	struct tape_manifest *m = ctx;
	if (!strcmp(key, "volume"))
		return mp_string(p, m->label_volume, sizeof(m->label_volume), key, false);
	if (!strcmp(key, "owner"))
		return mp_string(p, m->label_owner, sizeof(m->label_owner), key, false);
	if (!strcmp(key, "file_sections"))
		return mp_uint(p, UINT64_MAX, &m->label_total, key);
	if (!strcmp(key, "problem")) {
		if (mp_literal(p, "null"))
			return 0;
		return mp_string(p, m->label_problem, sizeof(m->label_problem), key, false);
	}
	if (!strcmp(key, "files"))
		return read_label_files(p, m);
	return mp_skip_value(p);	/* a newer writer's field */
}

int mp_labels(struct mparse *p, struct tape_manifest *m)
{
	m->labels_recorded = true;
	if (mp_literal(p, "null"))
		return 0;
	if (mp_object(p, labels_key, m))
		return -EINVAL;
	if (!m->label_volume[0])
		return mp_fail(p, "\"labels\" has no \"volume\" (null means unlabelled)");
	if (m->nlabels > m->label_total)
		return mp_fail(p, "\"labels\" lists more files than \"file_sections\"");
	return 0;
}
