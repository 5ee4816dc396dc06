/*
 * manifest.h - the small JSON file published beside each tape image,
 * named NAME.manifest.json (see docs/manifest.md). Formatting and parsing
 * only; no I/O.
 */
#ifndef REELFS_MANIFEST_H
#define REELFS_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "labels.h"
#include "tape.h"

#define TAPE_MANIFEST_SUFFIX ".manifest.json"

/* The file index (file_offsets, file_records) lists at most this many
 * tape files: the first ones. A reader reaches a later file by reading
 * forward from the last listed one. */
#define TAPE_MANIFEST_MAX_FILES 100000u
/* Largest manifest text: the fixed fields and two URLs fit in 64 KiB;
 * the index adds at most 2 x 22 bytes per listed file. */
/* The labels (labels_recorded) list at most this many labelled file
 * sections, each in at most TAPE_MANIFEST_LABEL_TEXT bytes of text. */
#define TAPE_MANIFEST_MAX_LABEL_FILES 1000u
#define TAPE_MANIFEST_LABEL_TEXT 512u
#define TAPE_MANIFEST_MAX_TEXT (64u * 1024 + 44u * TAPE_MANIFEST_MAX_FILES + \
				TAPE_MANIFEST_LABEL_TEXT * TAPE_MANIFEST_MAX_LABEL_FILES)

/* One labelled file section as a manifest records it. */
struct tape_manifest_label {
	struct tape_label_file_info info;	/* name, set id, section, sequence,
						 * record format, block length,
						 * block count, creation date,
						 * continued; the rest is 0 */
	bool has_saveset;
	struct tape_saveset_info ss;		/* name and block size */
};

struct tape_manifest {
	char format[16];
	struct tape_counts counts;	/* files, records, marks, payload, image, CRCs */
	time_t start, end;
	char storeset[40];
	unsigned reel;			/* 1-based */
	char *prev_url;			/* NULL when none; no password ever */
	char *next_url;
	char version[32];		/* reelfs version that wrote it */
	/* Optional: the server ran out of space under this reel of a
	 * storeset, so the image is valid only up to truncated_at (whole
	 * records and marks, no end of data); the rest of the file is a cut
	 * element, and the data goes on on the next reel. The counts cover
	 * the valid part, image_bytes and image_crc32 the whole file. */
	bool truncated;
	uint64_t truncated_at;
	/* Optional: the file index. file_offsets[i] is the image offset
	 * where tape file i+1 begins (its first record, or the mark that
	 * ends it when it is empty); file_records[i] its records. nindex
	 * entries (0: no index), at most files and TAPE_MANIFEST_MAX_FILES;
	 * fewer than files means the list was capped. Owned (malloc'd) by a
	 * parsed manifest; the writer only reads them. */
	size_t nindex;
	uint64_t *file_offsets;
	uint64_t *file_records;
	size_t nrecords_listed;		/* parser's own: file_records' length */
	/* Optional: the ANSI labels the writer saw (encoder/labels.h), so a
	 * listing names a labelled tape's files without reading the image.
	 * labels_recorded false: not known (an older writer, a reel cut by a
	 * full server). True with label_volume[0] == 0: an unlabelled tape.
	 * Else the volume id and the first nlabels of label_total file
	 * sections (at most TAPE_MANIFEST_MAX_LABEL_FILES), and the first
	 * label problem the reader found ("" when none). labels is owned
	 * (malloc'd) by a parsed manifest; the writer only reads it. */
	bool labels_recorded;
	char label_volume[TAPE_LABEL_VOLID + 1];
	char label_owner[15];		/* VOL1's owner, "" when blank */
	uint64_t label_total;
	size_t nlabels;
	struct tape_manifest_label *labels;
	char label_problem[240];
};

/* Fills m's labels from a finished label scan (a writer's); the array is
 * malloc'd: free it with tape_manifest_clear or free(m->labels). 0, or
 * -ENOMEM (then nothing is recorded). */
int tape_manifest_set_labels(struct tape_manifest *m,
			     const struct tape_label_scan *s);

/* malloc'd JSON text, ending in a newline; NULL when out of memory. */
char *tape_manifest_to_json(const struct tape_manifest *m);
/* 0, or -EINVAL with err filled when the text is not a reelfs manifest. */
int tape_manifest_parse(const char *json, size_t len, struct tape_manifest *m,
			char *err, size_t errlen);
void tape_manifest_clear(struct tape_manifest *m);	/* frees URLs, index */

#endif
