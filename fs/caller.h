/*
 * caller.h - the size of the read() a tape read request serves, learnt
 * from the caller while it waits in the kernel (caller.c). The kernel
 * splits a read() larger than one FUSE request and does not say how
 * large it was; st's semantics (a buffer smaller than the record is
 * ENOMEM, nothing read) need it for records above one request.
 */
#ifndef REELFS_CALLER_H
#define REELFS_CALLER_H

#include <stddef.h>
#include <stdint.h>

/* The count of the read(2) whose FUSE read request of size bytes at off
 * this thread serves, or -1 when it cannot be known (another system
 * call such as readv or io_uring, no right to look at the caller). */
long long rfs_caller_read_count(uint64_t off, size_t size);

#endif
