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

#include "tape.h"

#define TAPE_MANIFEST_SUFFIX ".manifest.json"

/* The file index (file_offsets, file_records) lists at most this many
 * tape files: the first ones. A reader reaches a later file by reading
 * forward from the last listed one. */
#define TAPE_MANIFEST_MAX_FILES 100000u
/* Largest manifest text: the fixed fields and two URLs fit in 64 KiB;
 * the index adds at most 2 x 22 bytes per listed file. */
#define TAPE_MANIFEST_MAX_TEXT (64u * 1024 + 44u * TAPE_MANIFEST_MAX_FILES)

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
};

/* malloc'd JSON text, ending in a newline; NULL when out of memory. */
char *tape_manifest_to_json(const struct tape_manifest *m);
/* 0, or -EINVAL with err filled when the text is not a reelfs manifest. */
int tape_manifest_parse(const char *json, size_t len, struct tape_manifest *m,
			char *err, size_t errlen);
void tape_manifest_clear(struct tape_manifest *m);	/* frees URLs, index */

#endif
