/*
 * fuseio.h - the /dev/fuse I/O reelfs installs under libfuse so that the
 * tape is opened as a stream (FOPEN_STREAM), which libfuse 3.14 cannot ask
 * for. See fuseio.c.
 */
#ifndef REELFS_FUSEIO_H
#define REELFS_FUSEIO_H

#include <fuse_lowlevel.h>
#include <stdint.h>
#include <sys/types.h>

/* After fuse_session_mount: routes the session's reads and writes through
 * fuseio. Returns 0 or a negative errno. */
int rfs_fuseio_install(struct fuse_session *se);
/* Replies to an open with FOPEN_STREAM added to fi's flags. */
int rfs_reply_open_stream(fuse_req_t req, const struct fuse_file_info *fi);
/* The same for the open a create makes (MOUNT/files/NAME). */
int rfs_reply_create_stream(fuse_req_t req, const struct fuse_entry_param *e,
			    const struct fuse_file_info *fi);

/* The pid (thread id) of the process whose read() this thread's FUSE
 * read request of size bytes at off serves; 0 when it is not known. */
pid_t rfs_fuseio_read_caller(uint64_t off, size_t size);
/* Notes the request of n bytes at buf as this thread's (the loop's own
 * reads, landing.c, which bypass libfuse's). */
void rfs_fuseio_note(const void *buf, ssize_t n);

#endif
