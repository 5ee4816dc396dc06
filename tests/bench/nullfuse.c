/*
 * nullfuse.c - the FUSE null sink for bench_reelfs.sh (not a test): a
 * mount holding one file, `sink`, opened with direct_io like reelfs's
 * tape, whose writes are counted and discarded. The rate a writer reaches
 * into it at a given record size is the ceiling any FUSE drive can reach
 * here (issue 12 point 5): reelfs's rate is read against it.
 *
 * Usage: nullfuse MOUNTPOINT   (foreground; unmount with fusermount3 -u)
 * It serves with one thread reading /dev/fuse, as reelfs's writer path is
 * one request at a time.
 */
#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SINK_INO 2

static void fill_attr(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0600;
		st->st_nlink = 1;
	}
}

static void nf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	if (parent != FUSE_ROOT_ID || strcmp(name, "sink") != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = SINK_INO;
	e.attr_timeout = e.entry_timeout = 60;
	fill_attr(SINK_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void nf_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID && ino != SINK_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(ino, &st);
	fuse_reply_attr(req, &st, 60);
}

static void nf_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	(void)attr; (void)to_set;
	nf_getattr(req, ino, fi);	/* O_TRUNC and the like: nothing to do */
}

static void nf_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != SINK_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	fi->direct_io = 1;	/* as reelfs: one write() is one request */
	fuse_reply_open(req, fi);
}

static void nf_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino; (void)buf; (void)off; (void)fi;
	fuse_reply_write(req, size);
}

static void nf_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino; (void)fi;
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = nf_lookup,
	.getattr = nf_getattr,
	.setattr = nf_setattr,
	.open = nf_open,
	.write = nf_write,
	.flush = nf_flush,
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: nullfuse MOUNTPOINT\n");
		return 2;
	}
	char *fargv[] = { argv[0], NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, fargv);
	struct fuse_session *se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se)
		return 1;
	if (fuse_set_signal_handlers(se) || fuse_session_mount(se, argv[1])) {
		fuse_session_destroy(se);
		return 1;
	}
	int rc = fuse_session_loop(se);
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	return rc ? 1 : 0;
}
