/*
 * file_index.h - collects where each tape file begins while an image is
 * written, for the manifest's file index (file_offsets, file_records;
 * docs/manifest.md). Pure bookkeeping: no I/O, bounded at
 * TAPE_MANIFEST_MAX_FILES entries.
 */
#ifndef REELFS_FILE_INDEX_H
#define REELFS_FILE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

struct tape_file_index {
	uint64_t *after;	/* image offset right after mark i+1 */
	uint64_t *recs;		/* records written before mark i+1 */
	size_t n, cap;
	bool oom;		/* an entry was lost: no index is written */
};

/* After a tape mark was accepted: the image offset just after it and the
 * records so far. Past TAPE_MANIFEST_MAX_FILES marks nothing is kept. */
void tape_findex_mark(struct tape_file_index *x, uint64_t offset_after,
		      uint64_t records);
/* Sets m->nindex, m->file_offsets and m->file_records (malloc'd: the
 * caller frees them, or calls tape_manifest_clear) for the c->files files
 * counted in c (the first c->files marks end them). Leaves no index
 * (nindex 0) when out of memory or when marks were lost. */
void tape_findex_fill(const struct tape_file_index *x, const struct tape_counts *c,
		      struct tape_manifest *m);
void tape_findex_free(struct tape_file_index *x);

#endif
