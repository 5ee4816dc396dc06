/*
 * lblview.c - the ANSI label picture of one tape as the listings show it
 * (`reel ls -l`, `reel ls --deep`, `reel map`): the volume id, and per
 * labelled file its name, section, sequence, record format, block length,
 * block count, creation date and whether a VMS BACKUP saveset is inside,
 * as text lines and as one JSON object.
 *
 * The labels themselves are read by encoder/labels.c (tape_label_scan,
 * tape_label_parse_*); this file only keeps what they found, bounded to
 * REEL_LABEL_FILES_MAX file sections per tape, and prints it. Everything
 * printed from a label goes through safetext or reel_json_str: labels are
 * bytes from outside.
 */
#include "reel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void reel_labels_free(struct reel_labels *l)
{
	free(l->f);
	memset(l, 0, sizeof(*l));
}

struct reel_lbl_file *reel_labels_add(struct reel_labels *l)
{
	l->total++;
	if (l->n >= REEL_LABEL_FILES_MAX)
		return NULL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		if (cap > REEL_LABEL_FILES_MAX)
			cap = REEL_LABEL_FILES_MAX;
		struct reel_lbl_file *nf = realloc(l->f, cap * sizeof(*nf));
		if (!nf)
			return NULL;
		l->f = nf;
		l->cap = cap;
	}
	struct reel_lbl_file *f = &l->f[l->n++];
	memset(f, 0, sizeof(*f));
	return f;
}

void reel_labels_problem(struct reel_labels *l, const char *fmt, ...)
{
	va_list ap;
	if (l->problem[0])
		return;		/* the first problem is the one to fix */
	va_start(ap, fmt);
	vsnprintf(l->problem, sizeof(l->problem), fmt, ap);
	va_end(ap);
}

int reel_labels_from_scan(struct reel_labels *l, const struct tape_label_scan *s)
{
	const struct tape_label_vol *v = tape_label_scan_volume(s);
	const char *p = tape_label_scan_problem(s);

	reel_labels_free(l);
	l->from = "image";
	l->labelled = tape_label_scan_labelled(s) && v;
	if (p)
		snprintf(l->problem, sizeof(l->problem), "%s", p);
	if (!l->labelled)
		return 0;
	l->vol = *v;
	size_t n = tape_label_scan_count(s);
	for (size_t i = 0; i < n; i++) {
		struct reel_lbl_file *f = reel_labels_add(l);
		if (!f)
			break;
		f->info = *tape_label_scan_file(s, i);
		f->counted = true;
		const struct tape_saveset_info *ss = tape_label_scan_saveset(s, i);
		if (ss) {
			f->saveset = true;
			f->ss = *ss;
		}
	}
	uint64_t total = tape_label_scan_total(s);
	if (total > l->total)
		l->total = total;
	return 0;
}

int reel_labels_from_manifest(struct reel_labels *l, const struct tape_manifest *m)
{
	reel_labels_free(l);
	l->from = "manifest";
	l->labelled = m->labels_recorded && m->label_volume[0];
	if (!l->labelled)
		return 0;
	snprintf(l->vol.volid, sizeof(l->vol.volid), "%s", m->label_volume);
	snprintf(l->vol.owner, sizeof(l->vol.owner), "%s", m->label_owner);
	l->vol.access = ' ';
	snprintf(l->problem, sizeof(l->problem), "%s", m->label_problem);
	for (size_t i = 0; i < m->nlabels && m->labels; i++) {
		struct reel_lbl_file *f = reel_labels_add(l);
		if (!f)
			break;
		f->info = m->labels[i].info;
		f->counted = true;
		f->saveset = m->labels[i].has_saveset;
		f->ss = m->labels[i].ss;
	}
	if (m->label_total > l->total)
		l->total = m->label_total;
	return 0;
}

/* "2026-11-30" from a label's year and day of the year; "-" when blank. */
static const char *date_text(int year, int yday, char *buf, size_t len)
{
	char iso[16];
	if (tape_label_date_iso(year, yday, iso) < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s", iso);
	return buf;
}

/* What the CONTENT column says: the saveset, and the reel ends. */
static const char *content_text(const struct reel_lbl_file *f, char *buf, size_t len)
{
	char name[160];
	size_t used = 0;
	buf[0] = '\0';
	if (f->saveset)
		used += (size_t)snprintf(buf + used, len - used,
					 "VMS BACKUP saveset %s, block size %" PRIu32,
					 safetext(f->ss.name, name, sizeof(name)),
					 f->ss.block_size);
	if (f->info.section > 1 && used < len)
		used += (size_t)snprintf(buf + used, len - used, "%scontinued from "
					 "the previous reel", used ? "; " : "");
	if (f->info.continued && used < len)
		snprintf(buf + used, len - used, "%scontinues on the next reel (EOV)",
			 used ? "; " : "");
	return buf;
}

void reel_labels_text(const struct reel_labels *l, const char *in)
{
	char vol[64], owner[64], name[320], when[16], rf[4], bl[16], bc[24], what[400];

	printf("%svolume %s (ANSI labels", in, safetext(l->vol.volid, vol, sizeof(vol)));
	if (l->vol.owner[0])
		printf(", owner %s", safetext(l->vol.owner, owner, sizeof(owner)));
	printf("), %" PRIu64 " labelled file section%s%s%s\n", l->total,
	       l->total == 1 ? "" : "s", l->first_only ? " known" : "",
	       l->n ? ":" : ".");
	if (!l->n) {
		if (l->problem[0])
			printf("%snote: %s\n", in, safetext(l->problem, what, sizeof(what)));
		return;
	}
	printf("%s  %4s %4s  %-32s %-3s %7s %9s  %-10s  %s\n", in, "SEQ", "SECT",
	       "NAME", "FMT", "BLKLEN", "BLOCKS", "CREATED", "CONTENT");
	for (size_t i = 0; i < l->n; i++) {
		const struct reel_lbl_file *f = &l->f[i];
		const struct tape_label_file_info *x = &f->info;
		snprintf(rf, sizeof(rf), "%c", x->record_format ? x->record_format : '-');
		if (x->record_format)
			snprintf(bl, sizeof(bl), "%" PRIu32, x->block_len);
		else
			snprintf(bl, sizeof(bl), "-");
		if (f->counted)
			snprintf(bc, sizeof(bc), "%" PRIu64, x->block_count);
		else
			snprintf(bc, sizeof(bc), "?");
		char line[1200];
		int k = snprintf(line, sizeof(line), "%s  %4" PRIu32 " %4" PRIu32
				 "  %-32s %-3s %7s %9s  %-10s  %s", in, x->sequence,
				 x->section, safetext(x->name, name, sizeof(name)),
				 safetext(rf, vol, sizeof(vol)), bl, bc,
				 date_text(x->created_year, x->created_yday, when,
					   sizeof(when)),
				 content_text(f, what, sizeof(what)));
		size_t end = k < 0 ? 0 : (size_t)k < sizeof(line) ? (size_t)k
								   : sizeof(line) - 1;
		while (end && line[end - 1] == ' ')
			end--;		/* no CONTENT: no trailing blanks */
		printf("%.*s\n", (int)end, line);
	}
	if (l->total > l->n)
		printf("%s  ... and %" PRIu64 " more labelled file sections, not kept "
		       "(at most %d per tape)\n", in, l->total - l->n, REEL_LABEL_FILES_MAX);
	if (l->first_only)
		printf("%snote: only the head of the image was read: the files after "
		       "the first are not known (no manifest records the tape's "
		       "labels); --deep reads the whole tape.\n", in);
	if (l->problem[0])
		printf("%snote: %s\n", in, safetext(l->problem, what, sizeof(what)));
}

static void json_date(int year, int yday)
{
	char buf[16];
	if (date_text(year, yday, buf, sizeof(buf))[0] == '-')
		printf("null");
	else
		printf("\"%s\"", buf);
}

static void json_char(char c)
{
	char s[2] = { c, 0 };
	if (c)
		reel_json_str(s);
	else
		printf("null");
}

void reel_labels_json(const struct reel_labels *l)
{
	if (!l->labelled && !l->problem[0]) {
		printf("null");
		return;
	}
	/* Unlabelled with a problem: a tape that looks labelled but is not
	 * (no VOL1 first); volume null, the problem says why. */
	printf("{\"volume\": ");
	if (l->labelled)
		reel_json_str(l->vol.volid);
	else
		printf("null");
	printf(", \"owner\": ");
	if (l->labelled)
		reel_json_str(l->vol.owner);
	else
		printf("null");
	printf(", \"accessibility\": ");
	json_char(l->vol.access == ' ' ? 0 : l->vol.access);
	printf(", \"label_standard\": ");
	json_char(l->vol.standard == ' ' ? 0 : l->vol.standard);
	printf(", \"read_from\": ");
	reel_json_str(l->from ? l->from : "image");
	printf(", \"complete\": %s, \"file_sections\": %" PRIu64 ", \"files\": [",
	       l->first_only || l->total > l->n ? "false" : "true", l->total);
	for (size_t i = 0; i < l->n; i++) {
		const struct reel_lbl_file *f = &l->f[i];
		const struct tape_label_file_info *x = &f->info;
		printf("%s{\"name\": ", i ? ", " : "");
		reel_json_str(x->name);
		printf(", \"file_set\": ");
		reel_json_str(x->set_id);
		printf(", \"section\": %" PRIu32 ", \"sequence\": %" PRIu32
		       ", \"generation\": %" PRIu32 ", \"generation_version\": %" PRIu32
		       ", \"created\": ", x->section, x->sequence, x->generation,
		       x->generation_version);
		json_date(x->created_year, x->created_yday);
		printf(", \"expires\": ");
		json_date(x->expires_year, x->expires_yday);
		printf(", \"system\": ");
		reel_json_str(x->system);
		printf(", \"record_format\": ");
		json_char(x->record_format);
		printf(", \"block_length\": ");
		if (x->record_format)
			printf("%" PRIu32 ", \"record_length\": %" PRIu32, x->block_len,
			       x->record_len);
		else
			printf("null, \"record_length\": null");
		printf(", \"block_count\": ");
		if (f->counted)
			printf("%" PRIu64, x->block_count);
		else
			printf("null");
		printf(", \"continued\": %s, \"saveset\": ", x->continued ? "true" : "false");
		if (f->saveset) {
			printf("{\"name\": ");
			reel_json_str(f->ss.name);
			printf(", \"block_size\": %" PRIu32 "}", f->ss.block_size);
		} else {
			printf("null");
		}
		printf("}");
	}
	printf("], \"problem\": ");
	if (l->problem[0])
		reel_json_str(l->problem);
	else
		printf("null");
	printf("}");
}
