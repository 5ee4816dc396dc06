/*
 * lblscan.c - test helper: decodes a tape image with reelfs's decoder and
 * feeds it to the label scanner (encoder/labels.h), printing what it
 * recognised as one JSON object. The drive's label tests compare this
 * with their own ECMA-13 reading of the same image.
 *
 *   lblscan FORMAT|auto IMAGE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "tape.h"

static int on_event(void *ctx, const struct tape_event *ev)
{
	struct tape_label_scan *s = ctx;
	if (ev->kind == TAPE_EV_RECORD)
		return tape_label_scan_record(s, ev->data, ev->len);
	if (ev->kind == TAPE_EV_MARK)
		return tape_label_scan_mark(s);
	return 0;
}

/* Label text is 'a' characters, but print it safely anyway. */
static void jstr(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: lblscan FORMAT|auto IMAGE\n");
		return 2;
	}
	const struct tape_format *f = strcmp(argv[1], "auto") == 0 ? NULL :
				      tape_format_by_name(argv[1]);
	FILE *in = fopen(argv[2], "rb");
	struct tape_label_scan *s = tape_label_scan_new(10000);
	struct tape_dec *d = s ? tape_dec_new(f, on_event, s) : NULL;
	if (!in || !d) {
		fprintf(stderr, "lblscan: cannot read %s\n", argv[2]);
		return 1;
	}
	static char buf[1 << 16];
	size_t n;
	int rc = 0;
	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		rc = tape_dec_push(d, buf, n);
	if (rc == 0)
		rc = tape_dec_end(d);
	if (rc) {
		fprintf(stderr, "lblscan: %s\n", tape_dec_error(d));
		return 1;
	}
	const struct tape_label_vol *v = tape_label_scan_volume(s);
	const char *problem = tape_label_scan_problem(s);
	printf("{\"labelled\": %s, \"volid\": ",
	       tape_label_scan_labelled(s) ? "true" : "false");
	jstr(v ? v->volid : "");
	printf(", \"standard\": \"%c\", \"problem\": ", v && v->standard ? v->standard : ' ');
	if (problem)
		jstr(problem);
	else
		printf("null");
	printf(", \"files\": [");
	for (size_t i = 0; i < tape_label_scan_count(s); i++) {
		const struct tape_label_file_info *fi = tape_label_scan_file(s, i);
		printf("%s{\"name\": ", i ? ", " : "");
		jstr(fi->name);
		printf(", \"set_id\": ");
		jstr(fi->set_id);
		printf(", \"section\": %u, \"sequence\": %u, \"block_count\": %llu, "
		       "\"record_format\": \"%c\", \"block_len\": %u, "
		       "\"record_len\": %u, \"created_year\": %d, "
		       "\"created_yday\": %d, \"continued\": %s, \"system\": ",
		       fi->section, fi->sequence,
		       (unsigned long long)fi->block_count,
		       fi->record_format ? fi->record_format : ' ',
		       fi->block_len, fi->record_len, fi->created_year,
		       fi->created_yday, fi->continued ? "true" : "false");
		jstr(fi->system);
		printf("}");
	}
	printf("]}\n");
	tape_dec_free(d);
	tape_label_scan_free(s);
	fclose(in);
	return 0;
}
