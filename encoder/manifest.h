/*
 * manifest.h - the small JSON file published beside each tape image,
 * named NAME.manifest.json (see docs/manifest.md). Formatting and parsing
 * only; no I/O.
 */
#ifndef REELFS_MANIFEST_H
#define REELFS_MANIFEST_H

#include <stddef.h>
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
};

/* malloc'd JSON text, ending in a newline; NULL when out of memory. */
char *tape_manifest_to_json(const struct tape_manifest *m);
/* 0, or -EINVAL with err filled when the text is not a reelfs manifest. */
int tape_manifest_parse(const char *json, size_t len, struct tape_manifest *m,
			char *err, size_t errlen);
void tape_manifest_clear(struct tape_manifest *m);	/* frees the URLs */

#endif
