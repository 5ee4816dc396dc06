/*
 * file_index.c - the marks of an image being written, turned into the
 * manifest's file index. Tape file k+1 begins right after the k-th tape
 * mark (counts.c: the first `files` marks are the ones that end files,
 * the marks after them are the end of data), so the offsets after the
 * first files-1 marks and the records before them are all it needs.
 * Memory: two arrays of at most TAPE_MANIFEST_MAX_FILES entries.
 */
#include "file_index.h"

#include <stdlib.h>

void tape_findex_mark(struct tape_file_index *x, uint64_t offset_after,
		      uint64_t records)
{
	if (x->oom || x->n >= TAPE_MANIFEST_MAX_FILES)
		return;
	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 256;
		if (nc > TAPE_MANIFEST_MAX_FILES)
			nc = TAPE_MANIFEST_MAX_FILES;
		uint64_t *a = realloc(x->after, nc * sizeof(*a));
		if (a)
			x->after = a;
		uint64_t *r = a ? realloc(x->recs, nc * sizeof(*r)) : NULL;
		if (r)
			x->recs = r;
		if (!a || !r) {
			x->oom = true;
			return;
		}
		x->cap = nc;
	}
	x->after[x->n] = offset_after;
	x->recs[x->n] = records;
	x->n++;
}

void tape_findex_fill(const struct tape_file_index *x, const struct tape_counts *c,
		      struct tape_manifest *m)
{
	m->nindex = 0;
	m->file_offsets = NULL;
	m->file_records = NULL;
	uint64_t files = c->files;
	if (x->oom || files == 0)
		return;
	size_t n = files > TAPE_MANIFEST_MAX_FILES ? TAPE_MANIFEST_MAX_FILES
						   : (size_t)files;
	/* Files 2..n begin after marks 1..n-1: those must all be here. */
	if (n - 1 > x->n)
		return;
	uint64_t *off = malloc(n * sizeof(*off));
	uint64_t *rec = malloc(n * sizeof(*rec));
	if (!off || !rec) {
		free(off);
		free(rec);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		off[i] = i ? x->after[i - 1] : 0;
		uint64_t before = i ? x->recs[i - 1] : 0;
		/* The last file listed ends at mark i+1: known when kept,
		 * else (the last file of the tape) at the total. */
		uint64_t upto = i < x->n && (i + 1 < files) ? x->recs[i]
							    : c->records;
		rec[i] = upto >= before ? upto - before : 0;
	}
	m->file_offsets = off;
	m->file_records = rec;
	m->nindex = n;
}

void tape_findex_free(struct tape_file_index *x)
{
	free(x->after);
	free(x->recs);
	x->after = x->recs = NULL;
	x->n = x->cap = 0;
}
