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

/* Which of names key is (its index), or -1 for a key this reader does not
 * know. A known key given twice in one object is refused, as at the top
 * level: a second "files" would otherwise append past the array the first
 * one sized. seen: the object's bits, one per name. */
static int known_key(struct mparse *p, const char *key, const char *const *names,
		     int n, unsigned *seen, const char *where)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(key, names[i]) != 0)
			continue;
		if (*seen & 1u << i)
			return mp_fail(p, "field \"%s\" appears twice in %s", key, where);
		*seen |= 1u << i;
		return i;
	}
	return -1;
}

struct saveset_obj {
	struct tape_saveset_info *ss;
	unsigned seen;
};

static int saveset_key(struct mparse *p, const char *key, void *ctx)
{
	static const char *const names[] = { "name", "block_size" };
	struct saveset_obj *o = ctx;
	struct tape_saveset_info *ss = o->ss;
	switch (known_key(p, key, names, 2, &o->seen, "a saveset of \"labels\"")) {
	case -EINVAL:
		return -EINVAL;
	case 0:
		return mp_string(p, ss->name, sizeof(ss->name), "saveset name", false);
	case 1:
		return mp_u32(p, UINT32_MAX, &ss->block_size, "block_size");
	}
	return mp_skip_value(p);	/* a newer writer's field */
}

struct label_file_obj {
	struct tape_manifest_label *l;
	unsigned seen;
};

static int label_file_key(struct mparse *p, const char *key, void *ctx)
{
	static const char *const names[] = {
		"name", "file_set", "section", "sequence", "record_format",
		"block_length", "record_length", "block_count", "created_year",
		"created_day", "continued", "saveset",
	};
	struct label_file_obj *o = ctx;
	struct tape_manifest_label *l = o->l;
	struct tape_label_file_info *x = &l->info;
	uint32_t v;
	switch (known_key(p, key, names, (int)(sizeof(names) / sizeof(names[0])),
			  &o->seen, "a file of \"labels\"")) {
	case -EINVAL:
		return -EINVAL;
	case 0:
		return mp_string(p, x->name, sizeof(x->name), "name", false);
	case 1:
		return mp_string(p, x->set_id, sizeof(x->set_id), "file_set", false);
	case 2:
		return mp_u32(p, 9999, &x->section, key);
	case 3:
		return mp_u32(p, 9999, &x->sequence, key);
	case 4: {
		char rf[2] = "";
		if (mp_literal(p, "null"))
			x->record_format = 0;
		else if (mp_string(p, rf, sizeof(rf), key, false))
			return -EINVAL;
		else
			x->record_format = rf[0];
		return 0;
	}
	case 5:
		return mp_u32(p, 99999, &x->block_len, key);
	case 6:
		return mp_u32(p, 99999, &x->record_len, key);
	case 7:
		return mp_uint(p, UINT64_MAX, &x->block_count, key);
	case 8:
		if (mp_u32(p, 9999, &v, key))
			return -EINVAL;
		x->created_year = (int)v;
		return 0;
	case 9:
		if (mp_u32(p, 366, &v, key))
			return -EINVAL;
		x->created_yday = (int)v;
		return 0;
	case 10:
		return mp_bool(p, &x->continued, key);
	case 11: {
		struct saveset_obj so = { &l->ss, 0 };
		if (mp_literal(p, "null"))
			return 0;
		l->has_saveset = true;
		return mp_object(p, saveset_key, &so);
	}
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
		struct label_file_obj o = { &m->labels[m->nlabels++], 0 };
		memset(o.l, 0, sizeof(*o.l));
		if (mp_object(p, label_file_key, &o))
			return -EINVAL;
		mp_skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		return mp_expect(p, ']');
	}
}

struct labels_obj {
	struct tape_manifest *m;
	unsigned seen;
};

static int labels_key(struct mparse *p, const char *key, void *ctx)
{
	static const char *const names[] = {
		"volume", "owner", "file_sections", "problem", "files",
	};
	struct labels_obj *o = ctx;
	struct tape_manifest *m = o->m;
	switch (known_key(p, key, names, (int)(sizeof(names) / sizeof(names[0])),
			  &o->seen, "\"labels\"")) {
	case -EINVAL:
		return -EINVAL;
	case 0:
		return mp_string(p, m->label_volume, sizeof(m->label_volume), key, false);
	case 1:
		return mp_string(p, m->label_owner, sizeof(m->label_owner), key, false);
	case 2:
		return mp_uint(p, UINT64_MAX, &m->label_total, key);
	case 3:
		if (mp_literal(p, "null"))
			return 0;
		return mp_string(p, m->label_problem, sizeof(m->label_problem), key, false);
	case 4:
		return read_label_files(p, m);
	}
	return mp_skip_value(p);	/* a newer writer's field */
}

int mp_labels(struct mparse *p, struct tape_manifest *m)
{
	m->labels_recorded = true;
	if (mp_literal(p, "null"))
		return 0;
	struct labels_obj o = { m, 0 };
	if (mp_object(p, labels_key, &o))
		return -EINVAL;
	if (!m->label_volume[0])
		return mp_fail(p, "\"labels\" has no \"volume\" (null means unlabelled)");
	if (m->nlabels > m->label_total)
		return mp_fail(p, "\"labels\" lists more files than \"file_sections\"");
	return 0;
}
