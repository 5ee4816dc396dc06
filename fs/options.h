/*
 * options.h - reelfs's command line: `reelfs [options] URL MOUNTPOINT`, and
 * the same options as `-o key=value` (so mount -t fuse.reelfs and
 * /etc/fstab work). Parsing only; nothing is opened here.
 */
#ifndef REELFS_OPTIONS_H
#define REELFS_OPTIONS_H

#include <fuse_opt.h>
#include <stdint.h>

#include "tape.h"
#include "xfer.h"

struct rfs_opts {
	/* Filled by fuse_opt_parse through offsetof (strings malloc'd). */
	char *url;
	char *format_name;
	char *block_size_str;
	char *capacity_str;
	char *next;
	char *storeset;
	char *prev;
	char *next_url;
	char *reel_str;
	int magazine;		/* --magazine: url is a template (magazine.h) */
	int append;		/* --append: after the magazine's last reel */
	char *changer;		/* --changer=auto|manual */
	char *label;		/* --label=VOLID: labelled tape files */
	char *handover;		/* --handover=PATH: the next volume's tape */
	int help;
	int version;
	int read;		/* --read: load URL for reading (rdrive.h) */

	/* Derived by rfs_opts_parse. */
	unsigned reel;		/* 0 when not given */
	int changer_manual;	/* --changer=manual */
	int replay_given;	/* --replay was given (not the default) */
	const struct tape_format *format;
	size_t block_size;
	uint64_t capacity;
	struct xfer_opts xfer;
	int errors;		/* bad options seen (each logged) */
};

/* Parses argv into o; args keeps what FUSE must see (mountpoint, -f, -d,
 * kernel -o options). Returns 0, or -EINVAL after logging one sentence.
 * Options that disagree are refused here, before anything is mounted: a
 * record size over the largest record (reclimit.h), a storeset id the
 * manifest would cut or that holds control characters, --replay not
 * smaller than --buffer, a --next that is not a mounted reelfs tape, a
 * number out of range. */
int rfs_opts_parse(struct rfs_opts *o, struct fuse_args *args);
void rfs_opts_free(struct rfs_opts *o);
void rfs_opts_help(const char *prog);

#endif
