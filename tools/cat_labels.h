/*
 * cat_labels.h - `reel cat` on an ANSI labelled tape (docs/labels.md):
 * of the records and marks of a storeset's reels, in order, it writes the
 * data records of one labelled file only (labels dropped), joining the
 * sections of a file continued over reels (EOV) after checking that they
 * follow: same name, file set id and sequence, section number one higher.
 *
 * It keeps a few fixed-size fields per reel, whatever the size of the tape:
 * nothing is buffered beyond the record being handed on.
 */
#ifndef REEL_CAT_LABELS_H
#define REEL_CAT_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "labels.h"

#define CAT_LBL_NAMES 4		/* file names kept for a "not found" message */

struct cat_lbl {
	/* in */
	uint64_t want_seq;	/* --file N: the file of sequence number N; 0: the first */
	char want_name[TAPE_LABEL_NAME_MAX + 1];	/* --name (converted), or "" */
	bool records;		/* --records: a 4-byte length before each record */
	bool one_reel;		/* only one reel is read (--single, stdin): a
				 * section continued from an earlier reel, or
				 * onto a later one, is given as it is */
	/* out */
	bool done;		/* the file was written whole (its EOF labels read) */
	bool partial;		/* one_reel: the file's sections on this reel only */
	uint64_t out_bytes;
	int out_err;		/* -EPIPE or a write error of stdout */
	char err[512];		/* why a call returned -EPROTO */
	/* private */
	const char *shown;	/* the reel being read */
	unsigned reel;		/* reels begun, from 1 */
	int st;
	bool sel;		/* the section being read is the file wanted */
	bool found;		/* a section of it was seen */
	bool first_section;	/* no section seen on this reel yet */
	uint64_t recs;		/* data records of the current section */
	struct tape_label_file_info hdr, trl;
	bool trl_seen;		/* EOF1 or EOV1 read after the data */
	bool cont;		/* the last reel ended with EOV: what follows */
	struct tape_label_file_info was;	/* ...continues this section */
	uint64_t files;		/* labelled files seen (sections numbered 1,
				 * or the first section of a single reel) */
	char names[CAT_LBL_NAMES][TAPE_LABEL_NAME_MAX + 1];
};

/* A new reel of the set begins (shown: its name for messages). */
void cat_lbl_reel(struct cat_lbl *l, const char *shown);
/* One record / one tape mark of the reel. 0 to go on; -ECANCELED once
 * the file is complete (stop reading); l->out_err when stdout failed;
 * -EPROTO with l->err when the labels do not fit. */
int cat_lbl_record(struct cat_lbl *l, const void *data, size_t len);
int cat_lbl_mark(struct cat_lbl *l);
/* The reel ended (its whole image was read); last: no reel follows.
 * 0, -ECANCELED (done), or -EPROTO with l->err. */
int cat_lbl_reel_end(struct cat_lbl *l, bool last);
/* After the last reel: 0 when the file was written (whole, or as much of
 * it as one reel holds with one_reel), else -ENOENT with l->err saying
 * which files the tape holds. */
int cat_lbl_finish(struct cat_lbl *l);

#endif
