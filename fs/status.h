/*
 * status.h - the text of MOUNT/status: one "key: value" line each for
 * url, format, state, files, records, bytes, image_bytes, sent, confirmed,
 * rate, capacity, remaining, reconnects, last_error.
 */
#ifndef REELFS_STATUS_H
#define REELFS_STATUS_H

#include <stddef.h>

#include "drive.h"
#include "volume.h"

/* malloc'd text and its length in *len; NULL when out of memory. */
char *rfs_status_render(struct vol *v, struct drv *d, size_t *len);

#endif
