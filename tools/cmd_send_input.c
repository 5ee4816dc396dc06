/*
 * cmd_send_input.c - the input of `reel send`: the --vms-saveset file,
 * and the probe of the first bytes that recognises a VMS BACKUP saveset
 * (its block size becomes the record size, its name the default label).
 *
 * The probed bytes are kept in s->head and sent first: nothing read here
 * is ever lost or read twice.
 */
#include "cmd_send.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --vms-saveset FILE: the input is FILE. -1 to go on, or an exit status. */
int send_open_saveset(struct send *s)
{
	struct stat st;
	s->in_name = s->vms_file;
	s->in_fd = open(s->vms_file, O_RDONLY | O_CLOEXEC);
	if (s->in_fd < 0) {
		reel_error("%s: %s.", s->vms_file, errno == ENOENT ? "no such file" :
			   strerror(errno));
		return REEL_EXIT_FAIL;
	}
	if (fstat(s->in_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		reel_error("%s is not a regular file.", s->vms_file);
		return REEL_EXIT_FAIL;
	}
	s->in_size = (uint64_t)st.st_size;
	return -1;
}

/* The first bytes of the input, to recognise a saveset: what a VMS
 * BACKUP saveset names (block size, name) becomes the record size and
 * the default label, and a --block-size that disagrees is refused. */
int send_probe_input(struct send *s)
{
	while (s->head_len < sizeof(s->head)) {
		ssize_t n = read(s->in_fd, s->head + s->head_len,
				 sizeof(s->head) - s->head_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			reel_error("reading %s failed: %s.", s->in_name, strerror(errno));
			return REEL_EXIT_FAIL;
		}
		if (n == 0) {
			s->head_eof = true;
			break;
		}
		s->head_len += (size_t)n;
	}
	s->saveset = tape_saveset_probe(s->head, s->head_len, &s->ss) == 0;
	if (!s->saveset) {
		if (s->vms_file) {
			reel_error("%s is not a VMS BACKUP saveset: its first block "
				   "does not begin with BACKUP's block header (256 at "
				   "offset 0, a block size of 2048 to 65535 at offset "
				   "40). Send other data with --label.", s->in_name);
			return REEL_EXIT_FAIL;
		}
		return 0;
	}
	if (s->block_given && s->block != s->ss.block_size) {
		return reel_usage_error(s->cli, "%s is a VMS BACKUP saveset \"%s\" "
					"written with /BLOCK_SIZE=%" PRIu32 "; --block-size "
					"%" PRIu64 " would cut its blocks apart: leave "
					"--block-size out", s->in_name, s->ss.name,
					s->ss.block_size, s->block);
	}
	s->block = s->ss.block_size;
	if (s->vms_file && s->in_size % s->block)
		reel_note("%s is %" PRIu64 " bytes, not a whole number of %" PRIu64
			  "-byte blocks: its last record is short (was it copied "
			  "in binary?).", s->in_name, s->in_size, s->block);
	if (!s->labelled)
		reel_note("%s is a VMS BACKUP saveset \"%s\" (block size %" PRIu32
			  "); without --label or --volume the tape is unlabelled, "
			  "and VMS BACKUP restores only from a labelled one.",
			  s->in_name, s->ss.name, s->ss.block_size);
	return 0;
}
