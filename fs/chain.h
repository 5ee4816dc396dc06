/*
 * chain.h - the hand-over between two reels of a --next chain. When a
 * reel is full and spills into its --next tape, its drive first tells the
 * next drive, through the same descriptor, which storeset it continues:
 * the id, the next reel's number and the URL of the reel before it. The
 * next drive records them in its manifest and answers with its own URL,
 * which the full reel's manifest names as next. So a chain mounted with
 * nothing but --next carries one storeset and consecutive reel numbers.
 */
#ifndef REELFS_CHAIN_H
#define REELFS_CHAIN_H

#include <stdint.h>
#include <sys/ioctl.h>

#include "labels.h"

#define RFS_CHAIN_MAGIC 0x52454c31u	/* "REL1" */
#define RFS_CHAIN_URL 4096		/* a manifest URL's limit */

struct rfs_chain_hello {
	uint32_t magic;			/* in: RFS_CHAIN_MAGIC */
	uint32_t reel;			/* in: the next reel's number */
	char storeset[40];		/* in: the storeset id */
	char prev[RFS_CHAIN_URL];	/* in: the full reel's URL (no password) */
	char url[RFS_CHAIN_URL];	/* out: the next reel's URL (no password) */
	/* in: a labelled reel (--label) ended with EOV labels (or between
	 * files): how the next reel goes on (drive_lbl.c). magic 0 when the
	 * full reel is not labelled. */
	struct tape_lbl_cont lbl;
};

/* A restricted ioctl: FUSE passes the struct both ways by its size. */
#define RFS_IOC_CHAIN _IOWR('r', 0x81, struct rfs_chain_hello)

/* A labelled reel that spilled into the next one starts a new labelled
 * file there: the name the writer opened (MOUNT/files/NAME), "" for a
 * generated one (MOUNT/tape). Sent before the file's first record. */
#define RFS_LABEL_MAGIC 0x4c424e31u	/* "LBN1" */
struct rfs_chain_file {
	uint32_t magic;			/* RFS_LABEL_MAGIC */
	char name[TAPE_LABEL_NAME_MAX + 1];
};
#define RFS_IOC_LABEL _IOW('r', 0x82, struct rfs_chain_file)

struct drv;
/* The next reel's side (ops.c): takes the storeset facts before its first
 * record. 0, or -EBUSY when it has records or marks already, -EINVAL for
 * a malformed hello. */
int drv_chain_accept(struct drv *d, struct rfs_chain_hello *h);

#endif
