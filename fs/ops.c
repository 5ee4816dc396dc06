/*
 * ops.c - turns FUSE low-level requests into drive calls: lookup, getattr,
 * readdir for a fixed tree of three inodes; open/write/flush/release/
 * ioctl on `tape`; a snapshot read of `status`. The errno a backup tool
 * sees is decided here (the drive already returns tool-level errnos).
 *
 * It must never block a request on anything but the drive, and never
 * reply twice. All state lives in struct rfs_ctx and the drive, which
 * does its own locking; this file keeps none.
 */
#include "ops.h"
#include "landing.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mtio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "access.h"
#include "append.h"
#include "chain.h"
#include "drive_lbl.h"
#include "files.h"
#include "fuseio.h"
#include "log.h"
#include "magazine.h"
#include "readmode.h"
#include "status.h"

enum { INO_ROOT = FUSE_ROOT_ID, INO_TAPE, INO_STATUS, INO_CHANGER };
/* files.h numbers MOUNT/files from 8 on: keep these below 8. */

/* The drive is its owner's: only the mount owner (and root) may write to
 * it or read it; anyone who may see the mount reads `status`. The kernel
 * checks these modes at open (default_permissions, always on: main.c);
 * rfs_may() checks them again here, and for ioctl, which the kernel does
 * not check. */
enum { TAPE_MODE = 0600, STATUS_MODE = 0444 };

static int may(fuse_req_t req, mode_t mode, int want, const char *what)
{
	struct rfs_ctx *c = fuse_req_userdata(req);
	return rfs_may(req, c->uid, c->gid, mode, want, what);
}

/* fi->fh for tape: a number unique to the open (the drive ties a
 * rewind to it), times 4, plus whether it is the writer. */
enum { FH_READER = 1, FH_WRITER = 2, FH_KIND = 3 };
static _Atomic uint64_t rfs_next_open = 1;

static bool fh_writer(const struct fuse_file_info *fi)
{
	return (fi->fh & FH_KIND) == FH_WRITER;
}

static uint64_t fh_id(const struct fuse_file_info *fi)
{
	return fi->fh >> 2;
}

/* The tape, or a file under MOUNT/files (the tape, naming the file). */
static bool is_tape(fuse_ino_t ino)
{
	return ino == INO_TAPE || rfs_files_is_file(ino);
}

/* The snapshots of open `status` files. A release the daemon never got
 * to (a signal stops the workers while it is queued) would leak one, so
 * the rest are freed at destroy. */
struct rfs_snap {
	struct rfs_snap *prev, *next;
	char *text;
};
static pthread_mutex_t rfs_snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rfs_snap rfs_snaps = { &rfs_snaps, &rfs_snaps, NULL };

static struct rfs_snap *snap_add(char *text)
{
	struct rfs_snap *n = malloc(sizeof(*n));
	if (!n)
		return NULL;
	n->text = text;
	pthread_mutex_lock(&rfs_snap_lock);
	n->next = rfs_snaps.next;
	n->prev = &rfs_snaps;
	n->next->prev = n;
	rfs_snaps.next = n;
	pthread_mutex_unlock(&rfs_snap_lock);
	return n;
}

static void snap_free(struct rfs_snap *n)
{
	pthread_mutex_lock(&rfs_snap_lock);
	n->prev->next = n->next;
	n->next->prev = n->prev;
	pthread_mutex_unlock(&rfs_snap_lock);
	free(n->text);
	free(n);
}

static struct rfs_ctx *ctx_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

void rfs_stat_base(const struct rfs_ctx *c, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = c->uid;
	st->st_gid = c->gid;
	st->st_mtime = st->st_ctime = st->st_atime = c->mtime;
	st->st_blksize = (blksize_t)c->max_write;
}

static int rfs_stat(struct rfs_ctx *c, fuse_ino_t ino, struct stat *st)
{
	rfs_stat_base(c, ino, st);
	switch (ino) {
	case INO_ROOT:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	case INO_TAPE: {
		if (!c->drv) {	/* a read mount: the loaded image's size */
			st->st_mode = S_IFREG | TAPE_MODE;
			st->st_nlink = 1;
			st->st_size = (off_t)rdrive_image_bytes(c->rd);
			st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
			return 0;
		}
		/* The image bytes written so far, and the time of the last
		 * write or mark: `ls -l` and `watch` show progress. */
		struct vol_status vs;
		struct drv_state ds;
		vol_get_status(drv_vol_hold(c->drv), &vs);
		drv_vol_unhold(c->drv);
		drv_get_state(c->drv, &ds);
		st->st_mode = S_IFREG | TAPE_MODE;
		st->st_nlink = 1;
		st->st_size = (off_t)vs.counts.image_bytes;
		st->st_blocks = (blkcnt_t)((vs.counts.image_bytes + 511) / 512);
		st->st_mtim = ds.mtime;
		st->st_ctim = ds.mtime;
		return 0;
	}
	case INO_CHANGER:	/* --magazine's slots */
		if (!c->mag)
			return -ENOENT;
		/* fall through */
	case INO_STATUS:
		st->st_mode = S_IFREG | STATUS_MODE;
		st->st_nlink = 1;
		return 0;
	}
	return rfs_files_stat(c, ino, st);	/* MOUNT/files (--label) */
}

static void rfs_init(void *ud, struct fuse_conn_info *conn)
{
	struct rfs_ctx *c = ud;
	/* libfuse 3.14 caps max_write at its buffer (256 pages, 1 MiB) before
	 * init; ask for all of it. The kernel caps it again at
	 * /proc/sys/fs/fuse/max_pages_limit pages. */
	size_t want = 1u << 20;
	FILE *f = fopen("/proc/sys/fs/fuse/max_pages_limit", "r");
	unsigned long pages;
	if (f) {
		if (fscanf(f, "%lu", &pages) == 1 && pages && pages * 4096 < want)
			want = pages * 4096;
		fclose(f);
	}
	if (conn->max_write > want)
		conn->max_write = (unsigned)want;
	c->max_write = conn->max_write;
	if (c->drv)
		drv_set_max_request(c->drv, c->max_write);
	if (c->rd)
		rdrive_set_max_request(c->rd, c->max_write);
	/* Records must arrive in order and whole: no splice, no async DIO. */
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_MOVE |
			FUSE_CAP_ASYNC_DIO | FUSE_CAP_WRITEBACK_CACHE);
	conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	rlog_debug("max_write is %u bytes.", conn->max_write);
}

static void rfs_destroy(void *ud)
{
	struct rfs_ctx *c = ud;
	if (c->drv)
		drv_finish(c->drv, "unmount");
	while (rfs_snaps.next != &rfs_snaps)
		snap_free(rfs_snaps.next);
}

static void rfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	memset(&e, 0, sizeof(e));
	if (parent == RFS_INO_FILES) {
		int rc = rfs_files_lookup(ctx_of(req), name, &e);
		if (rc)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_entry(req, &e);
		return;
	}
	if (parent != INO_ROOT) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (strcmp(name, "tape") == 0)
		e.ino = INO_TAPE;
	else if (strcmp(name, "status") == 0)
		e.ino = INO_STATUS;
	else if (strcmp(name, "changer") == 0 &&
		 ctx_of(req)->mag)
		e.ino = INO_CHANGER;
	else if (strcmp(name, "files") == 0 && drv_labelled(ctx_of(req)->drv))
		e.ino = RFS_INO_FILES;
	else {
		fuse_reply_err(req, ENOENT);
		return;
	}
	rfs_stat(ctx_of(req), e.ino, &e.attr);
	/* tape's size and mtime move with every write: never cached. */
	e.attr_timeout = e.ino == INO_TAPE ? 0.0 : 1.0;
	e.entry_timeout = 1.0;
	fuse_reply_entry(req, &e);
}

static void rfs_getattr(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	int rc = rfs_stat(ctx_of(req), ino, &st);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, is_tape(ino) ? 0.0 : 1.0);
}

/* Truncation (O_TRUNC, ftruncate) is accepted and changes nothing, as on
 * a drive; other attribute changes are refused. */
static void rfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			int to_set, struct fuse_file_info *fi)
{
	(void)attr;
	(void)fi;
	if (!is_tape(ino) ||
	    (to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME |
			FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
			FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME))) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (may(req, TAPE_MODE, RFS_MAY_WRITE, "truncate or touch the tape")) {
		fuse_reply_err(req, EACCES);
		return;
	}
	rfs_getattr(req, ino, NULL);
}

static void rfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	if (ino == RFS_INO_FILES) {
		rfs_files_readdir(req, ctx_of(req), size, off);
		return;
	}
	if (ino != INO_ROOT) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	static const struct { const char *name; fuse_ino_t ino; mode_t mode; } ents[] = {
		{ ".", INO_ROOT, S_IFDIR }, { "..", INO_ROOT, S_IFDIR },
		{ "tape", INO_TAPE, S_IFREG }, { "status", INO_STATUS, S_IFREG },
		{ "changer", INO_CHANGER, S_IFREG },
		{ "files", RFS_INO_FILES, S_IFDIR },	/* labelled only */
	};
	/* changer with a magazine, files when labelled; the offset of an
	 * entry is its place in ents, whichever are shown. */
	const bool shown[] = { true, true, true, true,
			       ctx_of(req)->mag != NULL,
			       drv_labelled(ctx_of(req)->drv) };
	char buf[512];
	size_t used = 0;
	if (size > sizeof(buf))
		size = sizeof(buf);
	for (off_t i = off; i < (off_t)(sizeof(ents) / sizeof(ents[0])); i++) {
		if (!shown[i])
			continue;
		struct stat st = { .st_ino = ents[i].ino, .st_mode = ents[i].mode };
		size_t n = fuse_add_direntry(req, buf + used, size - used,
					     ents[i].name, &st, i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
}

/* Opens the tape (MOUNT/tape, or MOUNT/files/name on a labelled drive):
 * the caller's permission, the one writer, a stream without position. */
static int tape_open(fuse_req_t req, struct fuse_file_info *fi,
		     const char *name)
{
	struct rfs_ctx *c = ctx_of(req);
	bool writing = (fi->flags & O_ACCMODE) != O_RDONLY;
	int acc = (fi->flags & O_ACCMODE) == O_RDONLY ? RFS_MAY_READ :
		  (fi->flags & O_ACCMODE) == O_WRONLY ? RFS_MAY_WRITE :
		  RFS_MAY_READ | RFS_MAY_WRITE;
	if (may(req, TAPE_MODE, acc, writing ? "open the tape for writing" :
		"open the tape"))
		return -EACCES;
	if (writing && rfs_reading(c) && drv_labelled(c->drv)) {
		/* A new file amid the labels would break their sequence
		 * (fs/README.md, Labelled tapes). */
		drv_refuse(c->drv, "writing after reading is not supported on a "
			   "labelled tape (--label); write every file before the "
			   "rewind, or mount a new reel. Nothing was written.");
		return -EPERM;
	}
	if (writing && rfs_reading(c)) {
		/* A loaded tape: a new tape file where it stands. */
		int rc = rfs_append_open(c);
		if (rc)
			return rc;
	}
	if (writing) {
		int rc = drv_open_named(c->drv, name);
		if (rc)
			return rc;
	}
	fi->fh = (rfs_next_open++ << 2) | (writing ? FH_WRITER : FH_READER);
	fi->direct_io = 1;	/* one write() = one request, unsplit */
	fi->nonseekable = 1;
	return 0;
}

static void rfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs_ctx *c = ctx_of(req);
	bool writing = (fi->flags & O_ACCMODE) != O_RDONLY;
	if (ino == INO_STATUS || ino == INO_CHANGER) {
		if (writing || may(req, STATUS_MODE, RFS_MAY_READ, "read status")) {
			fuse_reply_err(req, EACCES);
			return;
		}
		size_t len = 0;
		char *text;
		if (ino == INO_CHANGER) {
			text = c->drv ? drv_changer_render(c->drv, &len) :
			       mag_render(c->mag, NULL, false, &len);
		} else if (c->rd && rfs_reading(c)) {
			text = rdrive_status(c->rd, &len);
		} else {
			text = rfs_status_render(drv_vol_hold(c->drv), c->drv,
						 &len);
			drv_vol_unhold(c->drv);
		}
		if (!text) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		/* A snapshot per open; direct_io because its size changes. */
		struct rfs_snap *snap = snap_add(text);
		if (!snap) {
			free(text);
			fuse_reply_err(req, ENOMEM);
			return;
		}
		fi->fh = (uint64_t)(uintptr_t)snap;
		fi->direct_io = 1;
		if (fuse_reply_open(req, fi) == -ENOENT)
			snap_free(snap);
		return;
	}
	if (!is_tape(ino)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	char name[TAPE_LABEL_NAME_MAX + 1];
	if (ino != INO_TAPE)
		rfs_files_name(c, ino, name, sizeof(name));
	int rc = tape_open(req, fi, ino == INO_TAPE ? NULL : name);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (rfs_reply_open_stream(req, fi) == -ENOENT && fh_writer(fi))
		drv_close_writer(c->drv);	/* the opener was interrupted */
}

/* create(2) in MOUNT/files of a labelled drive: opens the tape to write
 * the labelled file name. */
static void rfs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		       mode_t mode, struct fuse_file_info *fi)
{
	(void)mode;
	struct rfs_ctx *c = ctx_of(req);
	struct fuse_entry_param e;
	int rc = rfs_files_create_entry(c, parent, name, &e);
	if (!rc && (fi->flags & O_ACCMODE) == O_RDONLY)
		rc = -EACCES;	/* a name on tape is made by writing it */
	if (!rc)
		rc = tape_open(req, fi, name);
	if (rc) {
		fuse_reply_err(req, rc == -ENOENT && parent == INO_ROOT ?
			       EACCES : -rc);
		return;
	}
	if (rfs_reply_create_stream(req, &e, fi) == -ENOENT)
		drv_close_writer(c->drv);	/* the opener was interrupted */
}

static int rfs_reply_read(void *ctx, const void *p, size_t n);

static void rfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	if (ino != INO_STATUS && ino != INO_CHANGER) {
		struct rfs_ctx *c = ctx_of(req);
		struct rdrive *rd = rfs_reader(c);
		if (!rd) {
			drv_refuse(c->drv, "reading the tape is not supported "
				   "while it is being written: `mt rewind` (or "
				   "offline) publishes the reel and loads it for "
				   "reading; or read the image back with `reel cat "
				   "%s`.", vol_url(drv_vol_hold(c->drv)));
			drv_vol_unhold(c->drv);
			fuse_reply_err(req, EOPNOTSUPP);
			return;
		}
		int rc = rdrive_read(rd, fh_id(fi), size, off, rfs_reply_read, req);
		if (rc)
			fuse_reply_err(req, -rc);
		return;
	}
	const char *text = ((struct rfs_snap *)(uintptr_t)fi->fh)->text;
	size_t len = strlen(text);
	if (off < 0 || (size_t)off >= len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	/* Reply from a private copy: the kernel completes the reader's read()
	 * inside our writev to /dev/fuse, so the reader may close and another
	 * worker run release (freeing the snapshot) before fuse_reply_buf has
	 * returned here. The snapshot is a few hundred bytes. */
	size_t n = len - (size_t)off < size ? len - (size_t)off : size;
	char *copy = malloc(n);
	if (!copy) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(copy, text + off, n);
	fuse_reply_buf(req, copy, n);
	free(copy);
}

static int rfs_errno(int rc);

/* The only reply to a tape read (rdrive_read calls it once). */
static int rfs_reply_read(void *ctx, const void *p, size_t n)
{
	fuse_reply_buf(ctx, p, n);
	return 0;
}

static int rfs_errno(int rc)
{
	switch (rc) {
	case -ENOSPC: case -EINVAL: case -EBUSY: case -ENOMEM:
		return -rc;
	default:
		return EIO;
	}
}

static void rfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		      size_t size, off_t off, struct fuse_file_info *fi)
{
	if (!is_tape(ino) || !fh_writer(fi)) {
		fuse_reply_err(req, EBADF);
		return;
	}
	int rc = drv_write(ctx_of(req)->drv, buf, size, off, fi->lock_owner);
	if (rc)
		fuse_reply_err(req, rfs_errno(rc));
	else
		fuse_reply_write(req, size);
}

/* Frame in place (loop.c, landing.c, drive_land.c): the drive's landing
 * is offered while there is a writing drive; only a write to the tape
 * from its writer's descriptor is taken, anything else goes the usual
 * way (rfs_write answers it). */
static int rfs_land_arm(void *ctx, void **p, size_t *n)
{
	struct rfs_ctx *c = ctx;
	struct drv *d = c->drv;
	return d && c->max_write ? drv_land_arm(d, p, n) : -EAGAIN;
}

static bool rfs_land_write(void *ctx, uint64_t nodeid,
			   const struct fuse_write_in *wi, void *p, int *res)
{
	struct rfs_ctx *c = ctx;
	struct fuse_file_info fi = { .fh = wi->fh, .lock_owner = wi->lock_owner };
	if (!is_tape(nodeid) || !fh_writer(&fi))
		return false;
	int rc = drv_land_write(c->drv, p, wi->size, (off_t)wi->offset,
				fi.lock_owner);
	*res = rc ? -rfs_errno(rc) : (int)wi->size;
	return true;
}

static void rfs_land_after(void *ctx)
{
	struct rfs_ctx *c = ctx;
	drv_land_after(c->drv);
}

static void rfs_land_disarm(void *ctx)
{
	struct rfs_ctx *c = ctx;
	drv_land_disarm(c->drv);
}

void rfs_landing_init(struct rfs_landing *l, struct rfs_ctx *c)
{
	*l = (struct rfs_landing){
		.ctx = c, .arm = rfs_land_arm, .write = rfs_land_write,
		.after = rfs_land_after, .disarm = rfs_land_disarm,
	};
}

/* Every close() of every descriptor: the writer's waits until its data
 * went out and returns the transfer's error (close() waits for this);
 * the tape mark comes at release. */
static void rfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int rc = 0;
	struct rdrive *rd = ctx_of(req)->rd;
	if (is_tape(ino) && rd && !fh_writer(fi))
		rdrive_flush(rd, fh_id(fi));
	if (is_tape(ino) && ctx_of(req)->drv)
		rc = drv_flush(ctx_of(req)->drv, fi->lock_owner, fh_id(fi),
			       fh_writer(fi));
	fuse_reply_err(req, rc ? rfs_errno(rc) : 0);
}

static void rfs_release(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	if (ino == INO_STATUS || ino == INO_CHANGER)
		snap_free((struct rfs_snap *)(uintptr_t)fi->fh);
	else if (is_tape(ino) && ctx_of(req)->drv)
		drv_release(ctx_of(req)->drv, fh_id(fi), fh_writer(fi));
	fuse_reply_err(req, 0);
}

static void rfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		      struct fuse_file_info *fi)
{
	(void)datasync;
	(void)fi;
	int rc = is_tape(ino) && ctx_of(req)->drv ? drv_sync(ctx_of(req)->drv) : 0;
	fuse_reply_err(req, rc ? rfs_errno(rc) : 0);
}

/* mtio on a loaded tape (the read drive): positioning, status. */
static void rfs_read_ioctl(fuse_req_t req, struct rfs_ctx *c, unsigned int cmd,
			   const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	struct rdrive *rd = rfs_reader(c);
	if (!rd) {
		fuse_reply_err(req, EIO);
		return;
	}
	switch (cmd) {
	case MTIOCTOP: {
		struct mtop op;
		if (in_bufsz < sizeof(op)) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		memcpy(&op, in_buf, sizeof(op));
		int rc = rdrive_mtop(rd, &op);
		if (rc)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_ioctl(req, 0, NULL, 0);
		return;
	}
	case MTIOCGET: {
		struct mtget g;
		if (out_bufsz < sizeof(g)) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		rdrive_mtget(rd, &g);
		fuse_reply_ioctl(req, 0, &g, sizeof(g));
		return;
	}
	case MTIOCPOS: {
		struct mtpos p;
		if (out_bufsz < sizeof(p)) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		rdrive_mtpos(rd, &p);
		fuse_reply_ioctl(req, 0, &p, sizeof(p));
		return;
	}
	}
	if (cmd != TCGETS)
		rdrive_refuse(rd, "ioctl 0x%x on the tape is not supported; "
			      "nothing was done.", cmd);
	fuse_reply_err(req, ENOTTY);
}

/* mtio on the tape file: the kernel passes the argument by the size
 * encoded in the command number (restricted ioctl). The kernel checks no
 * permission for an ioctl, and a descriptor can reach another user (an
 * inherited or passed one), so the caller is checked here: an operation
 * (MTIOCTOP) or a chain hand-over changes the drive and needs write
 * permission, as writing does; MTIOCGET and MTIOCPOS only tell where the
 * drive is and need read permission, as opening it does. */
static void rfs_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
		      void *arg, struct fuse_file_info *fi, unsigned flags,
		      const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	(void)arg;
	(void)fi;
	struct drv *d = ctx_of(req)->drv;
	if (!is_tape(ino) || (flags & FUSE_IOCTL_COMPAT)) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	int acc = cmd == MTIOCGET || cmd == MTIOCPOS ? RFS_MAY_READ :
		  cmd == MTIOCTOP || cmd == RFS_IOC_CHAIN ||
		  cmd == RFS_IOC_LABEL ? RFS_MAY_WRITE : 0;
	if (acc && may(req, TAPE_MODE, acc, acc == RFS_MAY_READ ?
		       "ask the tape's position" : "operate the tape (mt)")) {
		fuse_reply_err(req, EACCES);
		return;
	}
	struct rfs_ctx *c = ctx_of(req);
	if (!c->drv || (!fh_writer(fi) && rfs_reading(c))) {
		rfs_read_ioctl(req, c, cmd, in_buf, in_bufsz, out_bufsz);
		return;
	}
	switch (cmd) {
	case MTIOCTOP: {
		struct mtop op;
		if (in_bufsz < sizeof(op)) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		memcpy(&op, in_buf, sizeof(op));
		int rc = drv_mtop(d, &op, fh_id(fi), fh_writer(fi));
		/* offline ejects the written reel (a magazine loads the next):
		 * it is not read back; a rewind keeps it in the drive. */
		if (!rc && (op.mt_op == MTOFFL || op.mt_op == MTUNLOAD))
			c->unloaded = !drv_has_magazine(d);
		else if (!rc && op.mt_op == MTREW)
			c->unloaded = false;
		if (rc)
			fuse_reply_err(req, rfs_errno(rc));
		else
			fuse_reply_ioctl(req, 0, NULL, 0);
		return;
	}
	case MTIOCGET: {
		struct mtget g;
		if (out_bufsz < sizeof(g)) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		drv_mtget(d, &g);
		fuse_reply_ioctl(req, 0, &g, sizeof(g));
		return;
	}
	case RFS_IOC_CHAIN: {
		/* The reel before this one in a --next chain (chain.h). */
		struct rfs_chain_hello h;
		if (in_bufsz < sizeof(h) || out_bufsz < sizeof(h)) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		memcpy(&h, in_buf, sizeof(h));
		int rc = drv_chain_accept(d, &h);
		if (rc)
			fuse_reply_err(req, rfs_errno(rc));
		else
			fuse_reply_ioctl(req, 0, &h, sizeof(h));
		return;
	}
	case RFS_IOC_LABEL: {
		/* The reel before names a new labelled file (chain.h). */
		struct rfs_chain_file f;
		if (in_bufsz < sizeof(f)) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		memcpy(&f, in_buf, sizeof(f));
		f.name[sizeof(f.name) - 1] = '\0';
		int rc = f.magic == RFS_LABEL_MAGIC ?
			 drv_lbl_take_name(d, f.name) : -EINVAL;
		if (rc)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_ioctl(req, 0, NULL, 0);
		return;
	}
	case MTIOCPOS: {
		struct mtpos p;
		if (out_bufsz < sizeof(p)) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		drv_mtpos(d, &p);
		fuse_reply_ioctl(req, 0, &p, sizeof(p));
		return;
	}
	}
	/* isatty() asks with TCGETS: ENOTTY is its answer, not a refusal. */
	if (cmd != TCGETS)
		drv_refuse(d, "ioctl 0x%x on the tape is not supported; "
			   "nothing was done.", cmd);
	fuse_reply_err(req, ENOTTY);
}

const struct fuse_lowlevel_ops rfs_ops = {
	.init = rfs_init,
	.destroy = rfs_destroy,
	.lookup = rfs_lookup,
	.getattr = rfs_getattr,
	.setattr = rfs_setattr,
	.readdir = rfs_readdir,
	.open = rfs_open,
	.create = rfs_create,
	.read = rfs_read,
	.write = rfs_write,
	.flush = rfs_flush,
	.release = rfs_release,
	.fsync = rfs_fsync,
	.ioctl = rfs_ioctl,
};
