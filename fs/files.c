/*
 * files.c - MOUNT/files of a labelled drive (--label): a directory that
 * lists the labelled file sections written on this reel (the name as the
 * labels hold it, the size of its data on this reel, the time of its last
 * record), where creating or opening NAME for writing opens the tape to
 * write the labelled file NAME. Only the FUSE side: the drive names and
 * lists the files (drive_lbl.c). Without --label the directory does not
 * exist (unless a hand-over made the reel labelled).
 *
 * It keeps no state but the last name created (for an open of that
 * not-yet-listed name), and never blocks on the drive's io lock.
 */
#include "files.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive_lbl.h"

enum { FILE_MODE = 0600, DIR_MODE = 0755 };

static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static char files_created[TAPE_LABEL_NAME_MAX + 1];	/* files_lock */

bool rfs_files_is_file(fuse_ino_t ino)
{
	return ino == RFS_INO_NEWFILE || ino >= RFS_INO_FILE0;
}

static void files_entry_stat(struct stat *st, const struct drv_lbl_entry *e)
{
	st->st_mode = S_IFREG | FILE_MODE;
	st->st_nlink = 1;
	st->st_size = (off_t)e->bytes;
	st->st_blocks = (blkcnt_t)((e->bytes + 511) / 512);
	st->st_mtim = st->st_ctim = e->mtime;
}

int rfs_files_stat(struct rfs_ctx *c, fuse_ino_t ino, struct stat *st)
{
	if (!drv_labelled(c->drv))
		return -ENOENT;
	rfs_stat_base(c, ino, st);
	struct drv_lbl_entry e;
	if (ino == RFS_INO_FILES) {
		st->st_mode = S_IFDIR | DIR_MODE;
		st->st_nlink = 2;
		return 0;
	}
	if (ino == RFS_INO_NEWFILE) {
		/* The file being written, once it has started. */
		long cur = drv_lbl_current(c->drv);
		st->st_mode = S_IFREG | FILE_MODE;
		st->st_nlink = 1;
		if (cur >= 0 && drv_lbl_entry(c->drv, (size_t)cur, &e))
			files_entry_stat(st, &e);
		return 0;
	}
	if (ino >= RFS_INO_FILE0 &&
	    drv_lbl_entry(c->drv, (size_t)(ino - RFS_INO_FILE0), &e)) {
		files_entry_stat(st, &e);
		return 0;
	}
	return -ENOENT;
}

int rfs_files_lookup(struct rfs_ctx *c, const char *name,
		     struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	long i = drv_labelled(c->drv) ? drv_lbl_find(c->drv, name) : -1;
	if (i < 0)
		return -ENOENT;
	e->ino = RFS_INO_FILE0 + (fuse_ino_t)i;
	int rc = rfs_files_stat(c, e->ino, &e->attr);
	/* Sizes move with every record, and a name written again becomes
	 * another entry: never cached. */
	e->attr_timeout = 0.0;
	e->entry_timeout = 0.0;
	return rc;
}

int rfs_files_create_entry(struct rfs_ctx *c, fuse_ino_t parent,
			   const char *name, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	if (parent != RFS_INO_FILES || !drv_labelled(c->drv))
		return -ENOENT;
	pthread_mutex_lock(&files_lock);
	snprintf(files_created, sizeof(files_created), "%s", name);
	pthread_mutex_unlock(&files_lock);
	e->ino = RFS_INO_NEWFILE;
	rfs_stat_base(c, e->ino, &e->attr);
	e->attr.st_mode = S_IFREG | FILE_MODE;
	e->attr.st_nlink = 1;
	e->attr_timeout = 0.0;
	e->entry_timeout = 0.0;
	return 0;
}

void rfs_files_name(struct rfs_ctx *c, fuse_ino_t ino, char *name, size_t len)
{
	struct drv_lbl_entry e;
	if (ino >= RFS_INO_FILE0 &&
	    drv_lbl_entry(c->drv, (size_t)(ino - RFS_INO_FILE0), &e)) {
		snprintf(name, len, "%s", e.name);
		return;
	}
	pthread_mutex_lock(&files_lock);
	snprintf(name, len, "%s", files_created);
	pthread_mutex_unlock(&files_lock);
}

void rfs_files_readdir(fuse_req_t req, struct rfs_ctx *c, size_t size,
		       off_t off)
{
	if (size > 65536)
		size = 65536;
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0, n = drv_lbl_count(c->drv);
	/* Offsets: 0 ".", 1 "..", 2 + i file i. */
	for (off_t o = off < 0 ? 0 : off; (size_t)o < n + 2; o++) {
		struct stat st = { .st_mode = S_IFDIR };
		const char *nm;
		struct drv_lbl_entry e;
		if (o == 0) {
			nm = ".";
			st.st_ino = RFS_INO_FILES;
		} else if (o == 1) {
			nm = "..";
			st.st_ino = FUSE_ROOT_ID;
		} else if (drv_lbl_entry(c->drv, (size_t)(o - 2), &e)) {
			nm = e.name;
			st.st_ino = RFS_INO_FILE0 + (fuse_ino_t)(o - 2);
			st.st_mode = S_IFREG;
		} else {
			break;
		}
		size_t k = fuse_add_direntry(req, buf + used, size - used, nm,
					     &st, o + 1);
		if (k > size - used)
			break;
		used += k;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}
