/*
 * verify_labels.c - compares the labels of an image with the manifest's
 * record of them (verify_labels.h): labelled or not, the volume id, how
 * many file sections, and each kept section's name, file set id, section
 * and sequence numbers, block count and whether it goes on (EOV). A
 * manifest keeps at most TAPE_MANIFEST_MAX_LABEL_FILES sections; only
 * those are compared one by one.
 */
#include "verify_labels.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void sayf(void (*say)(void *, const char *), void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sayf(void (*say)(void *, const char *), void *ctx, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(ctx, msg);
}

static const char *sect(const struct tape_label_file_info *f, char *buf, size_t len)
{
	char n[TAPE_LABEL_NAME_MAX * 4 + 1], s[TAPE_LABEL_VOLID * 4 + 1];
	snprintf(buf, len, "%s (file %" PRIu32 ", section %" PRIu32 " of file set %s, "
		 "%" PRIu64 " blocks%s)", safetext(f->name, n, sizeof(n)), f->sequence,
		 f->section, safetext(f->set_id, s, sizeof(s)), f->block_count,
		 f->continued ? ", EOV" : "");
	return buf;
}

int reel_verify_labels(const struct reel_labels *got, const struct tape_manifest *m,
		       void (*say)(void *ctx, const char *msg), void *ctx)
{
	bool want = m->label_volume[0] != '\0';
	char a[256], b[256], v1[32], v2[32];

	if (got->labelled != want) {
		sayf(say, ctx, "labels differ: the image %s, the manifest says it %s.",
		     got->labelled ? "starts with a VOL1 label" : "has no VOL1 label",
		     want ? "is labelled" : "is not labelled");
		return 1;
	}
	if (!want)
		return 0;
	if (strcmp(got->vol.volid, m->label_volume)) {
		sayf(say, ctx, "labels differ: the image's VOL1 names volume %s, the "
		     "manifest says %s.", safetext(got->vol.volid, v1, sizeof(v1)),
		     safetext(m->label_volume, v2, sizeof(v2)));
		return 1;
	}
	if (got->total != m->label_total) {
		sayf(say, ctx, "labels differ: the image holds %" PRIu64 " labelled file "
		     "sections, the manifest says %" PRIu64 ".", got->total, m->label_total);
		return 1;
	}
	for (size_t i = 0; i < got->n && i < m->nlabels && m->labels; i++) {
		const struct tape_label_file_info *g = &got->f[i].info, *w = &m->labels[i].info;
		if (strcmp(g->name, w->name) || strcmp(g->set_id, w->set_id) ||
		    g->section != w->section || g->sequence != w->sequence ||
		    g->block_count != w->block_count || g->continued != w->continued) {
			sayf(say, ctx, "labels differ: labelled file section %zu is %s in "
			     "the image, %s in the manifest.", i + 1,
			     sect(g, a, sizeof(a)), sect(w, b, sizeof(b)));
			return 1;
		}
	}
	if (!got->problem[0] != !m->label_problem[0]) {
		sayf(say, ctx, "labels differ: %s%s.", got->problem[0] ?
		     "the image's label sequence is broken, the manifest recorded it "
		     "sound: " : "the image's label sequence is sound, the manifest "
		     "recorded a problem: ", got->problem[0] ? got->problem : m->label_problem);
		return 1;
	}
	return 0;
}

void reel_verify_labels_line(const struct reel_labels *got, char *buf, size_t len)
{
	char v[32];
	buf[0] = '\0';
	if (!got->labelled)
		return;
	snprintf(buf, len, "ANSI labels: volume %s, %" PRIu64 " labelled file "
		 "section%s%s%s", safetext(got->vol.volid, v, sizeof(v)), got->total,
		 got->total == 1 ? "" : "s", got->problem[0] ? "; " : "",
		 got->problem);
}
