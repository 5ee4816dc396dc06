/*
 * write_labelled.c - test helper: writes a labelled tape image with the
 * label layer (labels.h) into one of the container formats, so tests
 * written apart from the C code (test_label_layout.py, hetmap) can check
 * what reelfs puts on tape.
 *
 *   write_labelled FORMAT OUT VOLID CREATED OWNER NAME:BLOCKLEN:COUNT...
 *
 * CREATED is a time_t (0: now), OWNER may be "" (none). Each file gets
 * COUNT records of BLOCKLEN bytes: byte i of record r of file f is
 * (f * 31 + r * 7 + i) & 0xff. Exit 0, or 1 with a sentence on stderr.
 */
#include "labels.h"
#include "tape.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int out_sink(void *ctx, const struct tape_slice *v, int n)
{
	for (int i = 0; i < n; i++)
		if (v[i].len && fwrite(v[i].base, 1, v[i].len, ctx) != v[i].len)
			return -EIO;
	return 0;
}

static int rec(void *ctx, const void *d, size_t len)
{
	return tape_enc_record(ctx, d, len);
}

static int mark(void *ctx)
{
	return tape_enc_mark(ctx);
}

int main(int argc, char **argv)
{
	const struct tape_format *f;
	struct tape_enc *e;
	struct tape_lbl *l;
	char err[256];
	FILE *out;

	if (argc < 6) {
		fprintf(stderr, "usage: write_labelled FORMAT OUT VOLID CREATED OWNER "
			"NAME:BLOCKLEN:COUNT...\n");
		return 2;
	}
	f = tape_format_by_name(argv[1]);
	if (!f) {
		fprintf(stderr, "write_labelled: unknown format %s\n", argv[1]);
		return 1;
	}
	out = fopen(argv[2], "wb");
	if (!out) {
		perror(argv[2]);
		return 1;
	}
	e = tape_enc_new(f, NULL, out_sink, out);
	struct tape_lbl_sink sink = { rec, mark, e };
	l = tape_lbl_new(argv[3], argv[5][0] ? argv[5] : NULL, &sink, NULL, err, sizeof(err));
	if (!e || !l) {
		fprintf(stderr, "write_labelled: %s\n", l ? "out of memory" : err);
		return 1;
	}
	for (int a = 6; a < argc; a++) {
		char name[200];
		unsigned long blen, count;
		if (sscanf(argv[a], "%199[^:]:%lu:%lu", name, &blen, &count) != 3 || !blen) {
			fprintf(stderr, "write_labelled: %s is not NAME:BLOCKLEN:COUNT\n", argv[a]);
			return 1;
		}
		struct tape_lbl_file tf = { .name = name, .block_len = (uint32_t)blen,
					    .created = (time_t)strtoll(argv[4], NULL, 10) };
		unsigned char *buf = malloc(blen);
		if (!buf || tape_lbl_begin_file(l, &tf)) {
			fprintf(stderr, "write_labelled: %s\n", tape_lbl_error(l));
			return 1;
		}
		for (unsigned long r = 0; r < count; r++) {
			for (unsigned long i = 0; i < blen; i++)
				buf[i] = (unsigned char)((a - 6) * 31 + r * 7 + i);
			if (tape_lbl_record(l, buf, blen)) {
				fprintf(stderr, "write_labelled: %s\n", tape_lbl_error(l));
				return 1;
			}
		}
		free(buf);
		if (tape_lbl_end_file(l)) {
			fprintf(stderr, "write_labelled: %s\n", tape_lbl_error(l));
			return 1;
		}
	}
	if (tape_lbl_end_volume(l) || tape_enc_finish(e) || fclose(out)) {
		fprintf(stderr, "write_labelled: %s %s\n", tape_lbl_error(l), tape_enc_error(e));
		return 1;
	}
	tape_lbl_free(l);
	tape_enc_free(e);
	return 0;
}
