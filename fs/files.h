/*
 * files.h - MOUNT/files, the directory of a labelled drive (--label):
 * the labelled files written on this reel, and where opening or creating
 * NAME for writing writes the labelled file NAME. See files.c.
 */
#ifndef REELFS_FILES_H
#define REELFS_FILES_H

#include <stdbool.h>
#include <sys/stat.h>

#include "ops.h"

/* Inodes: ops.c has 1-7 (root, tape, status, changer, ...). */
enum {
	RFS_INO_FILES = 8,	/* the directory */
	RFS_INO_NEWFILE = 9,	/* a name just created, until it is listed */
	RFS_INO_FILE0 = 16,	/* listed file i is RFS_INO_FILE0 + i */
};

/* Whether ino is a file under MOUNT/files (opened, it is the tape). */
bool rfs_files_is_file(fuse_ino_t ino);
/* stat of the directory or one of its files; -ENOENT otherwise. */
int rfs_files_stat(struct rfs_ctx *c, fuse_ino_t ino, struct stat *st);
/* A name in MOUNT/files: the last file listed so; -ENOENT. */
int rfs_files_lookup(struct rfs_ctx *c, const char *name,
		     struct fuse_entry_param *e);
void rfs_files_readdir(fuse_req_t req, struct rfs_ctx *c, size_t size,
		       off_t off);
/* create(2) of name in parent: the entry to reply with; -ENOENT when the
 * drive is not labelled or parent is not MOUNT/files. */
int rfs_files_create_entry(struct rfs_ctx *c, fuse_ino_t parent,
			   const char *name, struct fuse_entry_param *e);
/* The name an open of ino writes (len >= TAPE_LABEL_NAME_MAX + 1). */
void rfs_files_name(struct rfs_ctx *c, fuse_ino_t ino, char *name, size_t len);

#endif
