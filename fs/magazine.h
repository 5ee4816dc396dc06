/*
 * magazine.h - one mount, a magazine of reels (--magazine): the URL is a
 * template with one %d conversion (slots numbered from 1), reel N lives
 * in slot N. The magazine knows the slots: which exist on the server
 * (listed at mount), which this mount loaded, published or failed. It
 * opens the volume of a slot (with the storeset id, its reel number and
 * the reel before it as prev) and links the manifest of the reel before
 * it when that one was published without knowing its next. The drive
 * (drive_mag.c) decides when to change reels; no FUSE here.
 */
#ifndef REELFS_MAGAZINE_H
#define REELFS_MAGAZINE_H

#include <stdbool.h>
#include <stddef.h>

#include "volume.h"

/* Slot numbers run from 1 to this. */
#define MAG_MAX_SLOT 999999999u

enum mag_mode {
	MAG_AUTO,	/* a full reel loads the next one by itself */
	MAG_MANUAL,	/* a full reel is end of tape (ENOSPC); mt offline changes */
};

struct mag_config {
	const char *template;		/* the URL with its %d */
	const struct vol_config *vol;	/* format, capacity, transfer options */
	enum mag_mode mode;
	bool append;			/* --append: after the last reel found */
	const char *storeset;		/* --storeset, or NULL */
	bool read;			/* --read: reels are read, from the first */
};

struct mag;

/* 0 when url is a valid template: exactly one conversion %d, %0Nd (N 1
 * to 10) in its file name, and any other % written %% (only in the
 * directory part). Else -EINVAL with a sentence in err. */
int mag_template_check(const char *url, char *err, size_t errlen);

/* Checks the template, lists the slots on the server, and picks the
 * first slot to load (1, or after the last reel found with append; then
 * the set's id and the last reel come from its manifest). Refuses (NULL,
 * err filled) a magazine that already holds reels when neither append
 * nor overwrite=always is given. */
struct mag *mag_open(const struct mag_config *c, char *err, size_t errlen);
void mag_free(struct mag *m);

/* The volume of the first slot (at mount). NULL with err filled. */
struct vol *mag_open_first(struct mag *m, char *err, size_t errlen);
/* The volume of the slot after the loaded one, continuing the storeset
 * of prev (the loaded volume). NULL with err filled. */
struct vol *mag_open_next(struct mag *m, struct vol *prev, char *err,
			  size_t errlen);
/* The URL (without password) of the slot after the loaded one. */
char *mag_next_url(struct mag *m);
/* The loaded volume is taken out (finished or failed): the slot table
 * keeps its state. */
void mag_unloaded(struct mag *m, struct vol *v);
/* The next slot's volume (from mag_open_next) was finished without being
 * loaded: carrying over into it failed. */
void mag_dropped(struct mag *m, struct vol *v);
/* v, opened by mag_open_next, is loaded now. link: the reel before it was
 * published without naming it as next; its manifest is rewritten. */
void mag_loaded(struct mag *m, struct vol *v, bool link);
/* The loaded slot (0 before the first). */
unsigned mag_slot(struct mag *m);
bool mag_auto(const struct mag *m);
/* Whether every reel this mount unloaded was published. */
bool mag_all_published(struct mag *m);

/* ---- read mode (--read --magazine) ---- */
/* The URL of the first slot found (slot 1 when none), now loaded. */
char *mag_read_first(struct mag *m);
/* For rdrive's changer: the URL of the slot after the loaded one
 * (malloc'd), and the note that it is loaded now. ctx is the mag. */
char *mag_read_next_url(void *ctx, char *err, size_t errlen);
void mag_read_loaded(void *ctx, const char *url);

/* MOUNT/changer: the slots, with loaded (the volume in the drive, NULL
 * when it is unloaded) showing its live state. malloc'd. */
char *mag_render(struct mag *m, struct vol *loaded, bool unloaded,
		 size_t *len);
/* One line for MOUNT/status ("slot 2 of 3 ..."), into buf. */
void mag_status_line(struct mag *m, bool unloaded, char *buf, size_t len);
/* The reels this mount wrote, for the foreground summary. */
void mag_summary(struct mag *m, char *buf, size_t len);

#endif
