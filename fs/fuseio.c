/*
 * fuseio.c - reads and writes /dev/fuse for libfuse, adding one thing:
 * FOPEN_STREAM on the tape's open reply.
 *
 * Why: a write() larger than the kernel's limit reaches the daemon as
 * several requests, and with an ordinary file position they look exactly
 * like several write() calls - one record would silently become two. On a
 * stream file the kernel has no position: every write() starts at offset
 * 0, so a request with a non-zero offset is the continuation of a split
 * write, and the drive joins it onto the piece before (drive.c). It also
 * makes lseek fail with ESPIPE, as on a tape. libfuse 3.14's fuse_file_info has no bit for FOPEN_STREAM, so
 * the flag is set here on its way to the kernel.
 *
 * It also notes, per thread, which read request the thread is serving
 * (its caller's pid, offset and size): the tape's read needs the caller
 * of a split read() to learn that read()'s size (caller.c). The pool
 * (loop.c) serves each request in the thread that read it.
 *
 * It must never change any other reply, and never copy request data.
 */
#include "fuseio.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/fuse.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* Set only around fuse_reply_open (1) or fuse_reply_create (2, the
 * open_out follows the entry_out) in the replying thread. */
static _Thread_local int rfs_patch_open;

static ssize_t rfs_io_writev(int fd, struct iovec *iov, int count, void *ud)
{
	(void)ud;
	if (rfs_patch_open == 1 && count == 2 &&
	    iov[1].iov_len == sizeof(struct fuse_open_out)) {
		struct fuse_open_out out;
		memcpy(&out, iov[1].iov_base, sizeof(out));
		out.open_flags |= FOPEN_STREAM;
		struct iovec v[2] = { iov[0], { &out, sizeof(out) } };
		return writev(fd, v, 2);
	}
	if (rfs_patch_open == 2 && count == 2 &&
	    iov[1].iov_len == sizeof(struct fuse_entry_out) +
			      sizeof(struct fuse_open_out)) {
		unsigned char out[sizeof(struct fuse_entry_out) +
				  sizeof(struct fuse_open_out)];
		struct fuse_open_out oo;
		memcpy(out, iov[1].iov_base, sizeof(out));
		memcpy(&oo, out + sizeof(struct fuse_entry_out), sizeof(oo));
		oo.open_flags |= FOPEN_STREAM;
		memcpy(out + sizeof(struct fuse_entry_out), &oo, sizeof(oo));
		struct iovec v[2] = { iov[0], { out, sizeof(out) } };
		return writev(fd, v, 2);
	}
	return writev(fd, iov, count);
}

/* The request this thread read last, when it is a FUSE_READ. */
static _Thread_local struct {
	bool valid;
	pid_t pid;
	uint64_t offset;
	uint32_t size;
} rfs_cur_read;

void rfs_fuseio_note(const void *buf, ssize_t n)
{
	struct fuse_in_header h;
	struct fuse_read_in in;
	rfs_cur_read.valid = false;
	if (n >= (ssize_t)(sizeof(h) + sizeof(in))) {
		memcpy(&h, buf, sizeof(h));
		if (h.opcode == FUSE_READ) {
			memcpy(&in, (const char *)buf + sizeof(h), sizeof(in));
			rfs_cur_read.valid = true;
			rfs_cur_read.pid = (pid_t)h.pid;
			rfs_cur_read.offset = in.offset;
			rfs_cur_read.size = in.size;
		}
	}
}

static ssize_t rfs_io_read(int fd, void *buf, size_t len, void *ud)
{
	(void)ud;
	ssize_t n = read(fd, buf, len);
	rfs_fuseio_note(buf, n);
	return n;
}

pid_t rfs_fuseio_read_caller(uint64_t off, size_t size)
{
	if (!rfs_cur_read.valid || rfs_cur_read.offset != off ||
	    rfs_cur_read.size != size)
		return 0;
	return rfs_cur_read.pid;
}

int rfs_fuseio_install(struct fuse_session *se)
{
	static const struct fuse_custom_io io = {
		.writev = rfs_io_writev,
		.read = rfs_io_read,
	};
	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}

int rfs_reply_open_stream(fuse_req_t req, const struct fuse_file_info *fi)
{
	rfs_patch_open = 1;
	int rc = fuse_reply_open(req, fi);
	rfs_patch_open = 0;
	return rc;
}

int rfs_reply_create_stream(fuse_req_t req, const struct fuse_entry_param *e,
			    const struct fuse_file_info *fi)
{
	rfs_patch_open = 2;
	int rc = fuse_reply_create(req, e, fi);
	rfs_patch_open = 0;
	return rc;
}
