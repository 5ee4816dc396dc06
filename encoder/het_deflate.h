/*
 * het_deflate.h - compresses one HET block into a zlib stream (RFC 1950),
 * the form Hercules' hetlib inflates with uncompress(). Two engines behind
 * one interface: libdeflate where the build found it (about three times
 * zlib's speed at level 1 on this kind of machine, whole-buffer only, which
 * is exactly how HET compresses), zlib otherwise.
 */
#ifndef REELFS_HET_DEFLATE_H
#define REELFS_HET_DEFLATE_H

#include <stddef.h>

struct het_deflate;

/* level 1..9; NULL when out of memory. */
struct het_deflate *het_deflate_new(int level);
/* The compressed size, or 0 when the stream does not fit in cap bytes
 * (then the block is not worth compressing). */
size_t het_deflate_block(struct het_deflate *d, const void *src, size_t len,
			 void *dst, size_t cap);
const char *het_deflate_engine(void);	/* "libdeflate" or "zlib" */
void het_deflate_free(struct het_deflate *d);

#endif
