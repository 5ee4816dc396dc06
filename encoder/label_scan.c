/*
 * label_scan.c - the streaming label recogniser: fed a tape's records and
 * marks in order, it builds the picture of a labelled volume (VOL1, and
 * per file section the fields of its HDR, EOF or EOV labels, the data
 * records counted, a VMS saveset recognised in the first block). Memory
 * is bounded by max_files; a tape of any length can go through it. It
 * never fails on odd input: the first irregularity is described
 * (tape_label_scan_problem) and the picture stops growing there.
 */
#include "labels.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum scan_state {
	SC_START,	/* nothing seen */
	SC_UNLABELLED,	/* the first record was not VOL1: nothing to do */
	SC_BETWEEN,	/* after VOL1 or a file's EOF group and its TM */
	SC_HEADERS,	/* inside HDR1.. up to its TM */
	SC_DATA,	/* a file's data records, up to its TM */
	SC_TRAILER,	/* EOF or EOV labels, up to its TM */
	SC_AFTER_EOV,	/* EOV group and TM seen: one more TM ends the reel */
	SC_END,		/* the volume's end (double TM) seen */
	SC_STOPPED,	/* a problem was noted */
};

struct scan_file {
	struct tape_label_file_info info;
	bool has_saveset;
	struct tape_saveset_info ss;
};

struct tape_label_scan {
	enum scan_state st;
	struct tape_label_vol vol;
	size_t max, count, cap;
	uint64_t total;		/* file sections whose headers were seen */
	struct scan_file *files;
	struct scan_file scratch;	/* the section being read when not kept */
	struct scan_file *cur;
	uint64_t records;	/* data records of cur */
	uint64_t element;	/* records and marks seen, for messages */
	uint64_t marks_seen, records_seen;
	unsigned trailer_labels;
	bool trailer_eov;
	char problem[240];
};

static void problem(struct tape_label_scan *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->problem[0])
		return;
	n = snprintf(s->problem, sizeof(s->problem), "element %llu of the tape: ",
		     (unsigned long long)s->element);
	va_start(ap, fmt);
	vsnprintf(s->problem + n, sizeof(s->problem) - (size_t)n, fmt, ap);
	va_end(ap);
	s->st = SC_STOPPED;
}

struct tape_label_scan *tape_label_scan_new(size_t max_files)
{
	struct tape_label_scan *s = calloc(1, sizeof(*s));

	if (s)
		s->max = max_files;
	return s;
}

/* A new section after HDR1: kept when there is room, else read into the
 * scratch entry and only counted. */
static void begin_section(struct tape_label_scan *s)
{
	s->cur = &s->scratch;
	if (s->count < s->max) {
		if (s->count == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 8;
			if (cap > s->max)
				cap = s->max;
			struct scan_file *f = realloc(s->files, cap * sizeof(*f));
			if (f) {
				s->files = f;
				s->cap = cap;
			}
		}
		if (s->count < s->cap)
			s->cur = &s->files[s->count++];
	}
	memset(s->cur, 0, sizeof(*s->cur));
	s->total++;
	s->records = 0;
}

static void on_header(struct tape_label_scan *s, enum tape_label_kind k,
		      const void *rec, size_t len)
{
	if (k == TAPE_LABEL_OTHER)		/* HDR5-9, UHLn: not ours */
		return;
	if (k < TAPE_LABEL_HDR2 || k > TAPE_LABEL_HDR4) {
		problem(s, "a record that is not a HDR label inside the header labels of \"%s\".",
			s->cur->info.name);
		return;
	}
	if (tape_label_parse_into(rec, len, &s->cur->info))
		problem(s, "a HDR%d label with a number field that is not digits.",
			(int)(k - TAPE_LABEL_HDR1) + 1);
}

static void on_trailer(struct tape_label_scan *s, enum tape_label_kind k,
		       const void *rec, size_t len)
{
	struct tape_label_file_info t = s->cur->info;
	bool eov = k >= TAPE_LABEL_EOV1 && k <= TAPE_LABEL_EOV4;
	bool eof = k >= TAPE_LABEL_EOF1 && k <= TAPE_LABEL_EOF4;

	if (k == TAPE_LABEL_OTHER)		/* EOF5-9, UTLn */
		return;
	if (!eov && !eof) {
		problem(s, "a record that is not an EOF or EOV label after the data of \"%s\".",
			s->cur->info.name);
		return;
	}
	if (s->trailer_labels++ && eov != s->trailer_eov) {
		problem(s, "EOF and EOV labels mixed after \"%s\".", s->cur->info.name);
		return;
	}
	s->trailer_eov = eov;
	if (tape_label_parse_into(rec, len, &t)) {
		problem(s, "an %s label with a number field that is not digits.",
			eov ? "EOV" : "EOF");
		return;
	}
	if (k == TAPE_LABEL_EOF1 || k == TAPE_LABEL_EOV1) {
		if (strcmp(t.name, s->cur->info.name) != 0 ||
		    t.section != s->cur->info.section || t.sequence != s->cur->info.sequence)
			problem(s, "the %s1 label names \"%s\" section %u sequence %u, its HDR1 "
				"\"%s\" section %u sequence %u.", eov ? "EOV" : "EOF", t.name,
				t.section, t.sequence, s->cur->info.name, s->cur->info.section,
				s->cur->info.sequence);
		/* The field holds 6 digits: the count modulo 1000000. */
		if (t.block_count == s->records % 1000000)
			s->cur->info.block_count = s->records;
		else {
			s->cur->info.block_count = t.block_count;
			problem(s, "the %s1 label of \"%s\" counts %llu blocks; %llu are on the tape.",
				eov ? "EOV" : "EOF", s->cur->info.name,
				(unsigned long long)t.block_count, (unsigned long long)s->records);
		}
	}
	if (eov)
		s->cur->info.continued = true;
}

int tape_label_scan_record(struct tape_label_scan *s, const void *rec, size_t len)
{
	enum tape_label_kind k = tape_label_kind(rec, len);

	s->element++;
	s->records_seen++;
	switch (s->st) {
	case SC_START:
		if (k == TAPE_LABEL_VOL1 && tape_label_parse_vol1(rec, len, &s->vol) == 0)
			s->st = SC_BETWEEN;
		else
			s->st = SC_UNLABELLED;
		break;
	case SC_BETWEEN:
		if (k == TAPE_LABEL_HDR1) {
			begin_section(s);
			s->st = SC_HEADERS;
			if (tape_label_parse_into(rec, len, &s->cur->info))
				problem(s, "a HDR1 label with a number field that is not digits.");
		} else if (k != TAPE_LABEL_OTHER) {	/* VOL2-9, UVLn pass */
			problem(s, "a HDR1 label was expected%s.",
				k == TAPE_LABEL_NONE ? ", and a data record came" : "");
		}
		break;
	case SC_HEADERS:
		on_header(s, k, rec, len);
		break;
	case SC_DATA:
		if (++s->records == 1) {
			struct scan_file *f = s->cur;
			f->has_saveset = tape_saveset_probe(rec, len, &f->ss) == 0;
		}
		break;
	case SC_TRAILER:
		on_trailer(s, k, rec, len);
		break;
	case SC_AFTER_EOV:
		problem(s, "a record after the EOV labels, where the reel should end.");
		break;
	default:
		break;
	}
	return 0;
}

int tape_label_scan_mark(struct tape_label_scan *s)
{
	s->element++;
	s->marks_seen++;
	switch (s->st) {
	case SC_START:
		s->st = SC_UNLABELLED;
		break;
	case SC_BETWEEN:
		s->st = SC_END;
		break;
	case SC_HEADERS:
		s->st = SC_DATA;
		s->cur->info.data_file = s->marks_seen;
		s->cur->info.data_record = s->records_seen;
		break;
	case SC_DATA:
		s->st = SC_TRAILER;
		s->trailer_labels = 0;
		s->trailer_eov = false;
		break;
	case SC_TRAILER:
		if (s->trailer_labels == 0) {
			problem(s, "no EOF or EOV labels after the data of \"%s\".",
				s->cur->info.name);
			break;
		}
		s->st = s->trailer_eov ? SC_AFTER_EOV : SC_BETWEEN;
		break;
	case SC_AFTER_EOV:
		s->st = SC_END;
		break;
	default:
		break;
	}
	return 0;
}

bool tape_label_scan_labelled(const struct tape_label_scan *s)
{
	return s->st != SC_START && s->st != SC_UNLABELLED;
}

const struct tape_label_vol *tape_label_scan_volume(const struct tape_label_scan *s)
{
	return tape_label_scan_labelled(s) ? &s->vol : NULL;
}

size_t tape_label_scan_count(const struct tape_label_scan *s)
{
	return s->count;
}

uint64_t tape_label_scan_total(const struct tape_label_scan *s)
{
	return s->total;
}

const struct tape_label_file_info *tape_label_scan_file(const struct tape_label_scan *s,
							 size_t i)
{
	return i < s->count ? &s->files[i].info : NULL;
}

const struct tape_saveset_info *tape_label_scan_saveset(const struct tape_label_scan *s,
							 size_t i)
{
	return i < s->count && s->files[i].has_saveset ? &s->files[i].ss : NULL;
}

const char *tape_label_scan_problem(const struct tape_label_scan *s)
{
	return s->problem[0] ? s->problem : NULL;
}

void tape_label_scan_free(struct tape_label_scan *s)
{
	if (s) {
		free(s->files);
		free(s);
	}
}
