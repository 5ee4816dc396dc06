/*
 * drive_lbl.h - the labelled drive (reelfs --label=VOLID): every tape file
 * written through the mount becomes an ANSI labelled file (encoder/labels.h)
 * on the same volume as the data, named by the path the writer opened
 * (MOUNT/files/NAME) or FILEnnnn (MOUNT/tape); a full reel ends with EOV
 * labels and tells the next one (a --next chain, or the --handover volume
 * that tar -M switches to itself) how to go on. Also the hand-over of an
 * unlabelled reel to a --handover volume. No FUSE types here.
 */
#ifndef REELFS_DRIVE_LBL_H
#define REELFS_DRIVE_LBL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "labels.h"

struct drv;

/* Before serving (main.c): volid NULL for an unlabelled reel (it still
 * becomes labelled when the reel before it in a storeset hands over a
 * labelled file); handover NULL or the tape of the volume a tool such as
 * tar -M goes on to once this reel is full. 0, or -EINVAL/-ENOMEM with
 * err filled. */
int drv_lbl_setup(struct drv *d, const char *volid, const char *handover,
		  char *err, size_t errlen);
/* Whether the tape files are labelled (now; a reel can become labelled
 * by a hand-over). */
bool drv_labelled(struct drv *d);
/* The volume id this reel's VOL1 carries ("" unlabelled). */
void drv_lbl_volid(struct drv *d, char *out, size_t len);

/* Opens the drive for writing (drv_open_writer); the files the writer
 * writes are called name (converted as VMS does), or FILEnnnn when name
 * is NULL (MOUNT/tape). */
int drv_open_named(struct drv *d, const char *name);
/* The reel before this one in a chain starts a new file here: its name
 * ("" generated). 0, or -ENOTTY when this reel is not labelled. */
int drv_lbl_take_name(struct drv *d, const char *name);

/* The labelled file sections written on this reel, for MOUNT/files. */
struct drv_lbl_entry {
	char name[TAPE_LABEL_NAME_MAX + 1];	/* as the labels hold it */
	uint64_t bytes, blocks;		/* data on this reel */
	uint32_t section, sequence;
	struct timespec mtime;
	bool open;		/* its end labels are not written yet */
	bool continued;		/* ended by EOV: goes on on the next reel */
};
size_t drv_lbl_count(struct drv *d);
/* A copy of entry i; false past the end. */
bool drv_lbl_entry(struct drv *d, size_t i, struct drv_lbl_entry *out);
/* The index of the last entry listed as name; -1 when none. */
long drv_lbl_find(struct drv *d, const char *name);
/* The index of the file being written on this reel; -1 when none. */
long drv_lbl_current(struct drv *d);

/* ---- the drive's side (drive.c, chain.c), io held ---------------------- */
bool drv_lbl_on(struct drv *d);
/* 0 when a record of len bytes fits (leaving room to end the reel), as
 * vol_check_room for an unlabelled reel. */
int drv_room(struct drv *d, size_t len);
/* One data record of the writer's: to this reel's labelled file, or once
 * this reel ended and spilled, on to the next reel. */
int drv_lbl_put(struct drv *d, const void *rec, size_t len);
/* A tape mark of the writer's (close, mt weof): ends the labelled file in
 * progress; any other mark is taken and writes nothing (the labels own
 * the tape marks). *ended: a file was ended. */
int drv_lbl_mark(struct drv *d, bool *ended);
/* A record was refused with ENOSPC: the reel ends (EOV labels inside a
 * file) and the --handover volume is told. */
void drv_lbl_full(struct drv *d);
/* Before vol_finish: the end-of-volume labels. */
int drv_lbl_finish(struct drv *d);
/* The hand-over: what this reel tells the next one (magic 0 unlabelled). */
void drv_lbl_fill_cont(struct drv *d, struct tape_lbl_cont *out);
/* The receiving reel, once it joined the storeset: takes cont (a no-op
 * when its magic is not TAPE_LBL_CONT_MAGIC) as reel number reel. */
int drv_lbl_accept(struct drv *d, const struct tape_lbl_cont *cont,
		   unsigned reel, char *err, size_t errlen);
/* A magazine loaded the next slot (drv_mag_swap): labels go on there. */
void drv_lbl_loaded(struct drv *d);
void drv_lbl_free(struct drv *d);

#endif
