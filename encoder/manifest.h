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
};

/* malloc'd JSON text, ending in a newline; NULL when out of memory. */
char *tape_manifest_to_json(const struct tape_manifest *m);
/* 0, or -EINVAL with err filled when the text is not a reelfs manifest. */
int tape_manifest_parse(const char *json, size_t len, struct tape_manifest *m,
			char *err, size_t errlen);
void tape_manifest_clear(struct tape_manifest *m);	/* frees the URLs */

#endif
