/*
 * append.h - writing after reading (append.c): an open for writing on a
 * loaded tape starts a new tape file at its position, in a new upload
 * that keeps the old image's bytes before it.
 */
#ifndef REELFS_APPEND_H
#define REELFS_APPEND_H

#include "ops.h"

/* Makes c->drv a writing drive whose volume holds the old image up to
 * the loaded tape's position. 0, or -EPERM (not a place to write: inside
 * a file, a storeset that goes on), -EIO (unloaded, the copy failed),
 * -ENOMEM; the sentence is logged and shown as last_error. */
int rfs_append_open(struct rfs_ctx *c);
/* At unmount: finishes (publishes) every volume made here; 1 when one
 * was not published. */
int rfs_append_finish(struct rfs_ctx *c);
void rfs_append_free(void);

#endif
