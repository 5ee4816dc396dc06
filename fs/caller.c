/*
 * caller.c - the size of the read() behind a tape read request
 * (caller.h): the calling thread sleeps in read(2) until the request is
 * answered, so /proc/TID/syscall shows its system call number and
 * arguments, the third being the count. Read only for the first piece of
 * a record larger than the request (rare: records above 1 MiB), never on
 * the common path.
 *
 * It must never trust anything but read(2) itself with a count at least
 * the request's size; anything else is "not known" and the caller falls
 * back to guessing from the request's size (rsplit.c).
 */
#include "caller.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fuseio.h"
#include "log.h"

long long rfs_caller_read_count(uint64_t off, size_t size)
{
	pid_t pid = rfs_fuseio_read_caller(off, size);
	if (pid <= 0)
		return -1;
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	long nr;
	unsigned long long fdarg, buf, count;
	if (sscanf(line, "%ld 0x%llx 0x%llx 0x%llx", &nr, &fdarg, &buf, &count) != 4 ||
	    nr != SYS_read || count < size) {
		rlog_debug("the read() behind a tape read request of %zu bytes "
			   "is not known (task %d: %.60s).", size, (int)pid, line);
		return -1;
	}
	return count > (unsigned long long)LLONG_MAX ? LLONG_MAX : (long long)count;
}
