/*
 * het_deflate.c - the two deflate engines behind het_deflate.h. Both make a
 * complete zlib stream per block; neither may write past cap bytes.
 */
#include "het_deflate.h"

#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#if HAVE_LIBDEFLATE
#include <libdeflate.h>

struct het_deflate {
	struct libdeflate_compressor *c;
};

struct het_deflate *het_deflate_new(int level)
{
	struct het_deflate *d = malloc(sizeof(*d));

	if (d && !(d->c = libdeflate_alloc_compressor(level))) {
		free(d);
		d = NULL;
	}
	return d;
}

size_t het_deflate_block(struct het_deflate *d, const void *src, size_t len,
			 void *dst, size_t cap)
{
	return libdeflate_zlib_compress(d->c, src, len, dst, cap);
}

const char *het_deflate_engine(void) { return "libdeflate"; }

void het_deflate_free(struct het_deflate *d)
{
	if (d) {
		libdeflate_free_compressor(d->c);
		free(d);
	}
}

#else
#include <zlib.h>

/* The deflate state lives as long as the encoder and is reset per block:
 * setting it up afresh for every record costs more than compressing a
 * small one. */
struct het_deflate {
	z_stream z;
};

struct het_deflate *het_deflate_new(int level)
{
	struct het_deflate *d = calloc(1, sizeof(*d));

	if (d && deflateInit(&d->z, level) != Z_OK) {
		free(d);
		d = NULL;
	}
	return d;
}

size_t het_deflate_block(struct het_deflate *d, const void *src, size_t len,
			 void *dst, size_t cap)
{
	if (deflateReset(&d->z) != Z_OK)
		return 0;
	d->z.next_in = (Bytef *)(uintptr_t)src;
	d->z.avail_in = (uInt)len;
	d->z.next_out = dst;
	d->z.avail_out = (uInt)cap;
	return deflate(&d->z, Z_FINISH) == Z_STREAM_END ? d->z.total_out : 0;
}

const char *het_deflate_engine(void) { return "zlib"; }

void het_deflate_free(struct het_deflate *d)
{
	if (d) {
		deflateEnd(&d->z);
		free(d);
	}
}
#endif
