/*
 * drive_lbl.c - the labelled drive (--label=VOLID). It sits between the
 * drive's records and marks (drive.c) and the volume: the writer's records
 * become the data of ANSI labelled files that the label writer
 * (encoder/labels.h) frames with VOL1, HDR, EOF and EOV labels, all going
 * through vol_record/vol_mark like data, so capacity, upload and manifest
 * need nothing of their own.
 *
 * What the writer's calls mean on a labelled drive:
 *  - the first record after an open (or after the file before ended)
 *    starts a labelled file named by the open's path; its HDR2 block
 *    length is that record's length;
 *  - a tape mark (the writer's close, mt weof) ends the file in progress
 *    (TM, EOF labels, TM); a mark outside a file writes nothing;
 *  - a record that does not fit (room is always kept for the trailer
 *    labels) ends the reel: EOV labels inside a file. With --next the
 *    drive hands the continuation (struct tape_lbl_cont) to the next reel
 *    and goes on there; otherwise the writer gets ENOSPC, this reel takes
 *    no more records, and a --handover volume is told how to go on;
 *  - finishing (unmount, offline, rewind) writes the end of the volume.
 *
 * It must never write a data record outside a labelled file, nor let a
 * reel fill up so far that its end labels no longer fit. All drive-side
 * functions run with the drive's io lock held; the listing (lock) is read
 * by MOUNT/files without io.
 */
#include "drive_int.h"
#include "drive_lbl.h"
#include "chain.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"

/* Entries MOUNT/files lists (about 150 bytes each); later files are
 * written all the same, only not listed. */
#define LBL_LIST_MAX 4096

struct drv_lbl {
	/* Set at setup, read-only afterwards. */
	char volid[TAPE_LABEL_VOLID + 1];	/* own --label, "" when none */
	char set_id[TAPE_LABEL_VOLID + 1];	/* io: the file set's (first reel's) */
	char *handover;			/* --handover PATH, or NULL */
	struct tape_lbl_sink sink;

	/* io */
	struct tape_lbl *w;		/* this reel's labels; NULL unlabelled */
	bool ended;			/* this reel is ended: no more records */
	bool handed;			/* the --handover volume was told */
	bool pt_in_file;		/* spilled: a file is open on the next reel */
	uint32_t seq;			/* sequence number of the last file begun */
	struct tape_lbl_cont cont;	/* how the next reel goes on, once ended */

	pthread_mutex_t lock;		/* short; the fields below */
	bool labelled;			/* lock, changed with io held too */
	char vol_shown[TAPE_LABEL_VOLID + 1];	/* lock: the volid in use */
	char name[TAPE_LABEL_NAME_MAX + 1];	/* lock: the open's name, converted; "" generated */
	struct drv_lbl_entry *ents;	/* lock */
	size_t n, cap;
	long cur;			/* lock: the file being written, -1 */
};

/* ---- the label writer's sink: this reel's volume ---------------------- */

static int lbl_sink_record(void *ctx, const void *data, size_t len)
{
	struct drv *d = ctx;
	return vol_record(d->vol, data, len);
}

static int lbl_sink_mark(void *ctx)
{
	struct drv *d = ctx;
	return vol_mark(d->vol);
}

/* ---- the listing ---------------------------------------------------- */

/* A new file section on this reel; lock held. */
static void lbl_list_add(struct drv_lbl *L, const char *name, uint32_t section,
			 uint32_t sequence)
{
	L->cur = -1;
	if (L->n == L->cap) {
		size_t cap = L->cap ? L->cap * 2 : 16;
		if (cap > LBL_LIST_MAX)
			cap = LBL_LIST_MAX;
		if (L->n >= cap)
			return;
		struct drv_lbl_entry *e = realloc(L->ents, cap * sizeof(*e));
		if (!e)
			return;
		L->ents = e;
		L->cap = cap;
	}
	struct drv_lbl_entry *e = &L->ents[L->n];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->section = section;
	e->sequence = sequence;
	e->open = true;
	clock_gettime(CLOCK_REALTIME, &e->mtime);
	L->cur = (long)L->n++;
}

static void lbl_list_close(struct drv_lbl *L, bool continued)
{
	pthread_mutex_lock(&L->lock);
	if (L->cur >= 0) {
		L->ents[L->cur].open = false;
		L->ents[L->cur].continued = continued;
		clock_gettime(CLOCK_REALTIME, &L->ents[L->cur].mtime);
	}
	L->cur = -1;
	pthread_mutex_unlock(&L->lock);
}

size_t drv_lbl_count(struct drv *d)
{
	struct drv_lbl *L = d ? d->lbl : NULL;	/* NULL: --read */
	if (!L)
		return 0;
	pthread_mutex_lock(&L->lock);
	size_t n = L->labelled ? L->n : 0;
	pthread_mutex_unlock(&L->lock);
	return n;
}

bool drv_lbl_entry(struct drv *d, size_t i, struct drv_lbl_entry *out)
{
	struct drv_lbl *L = d ? d->lbl : NULL;	/* NULL: --read */
	if (!L)
		return false;
	pthread_mutex_lock(&L->lock);
	bool ok = i < L->n;
	if (ok)
		*out = L->ents[i];
	pthread_mutex_unlock(&L->lock);
	return ok;
}

long drv_lbl_find(struct drv *d, const char *name)
{
	struct drv_lbl *L = d ? d->lbl : NULL;
	long found = -1;
	if (!L)
		return -1;
	pthread_mutex_lock(&L->lock);
	for (size_t i = L->n; i-- > 0;)
		if (strcmp(L->ents[i].name, name) == 0) {
			found = (long)i;
			break;
		}
	pthread_mutex_unlock(&L->lock);
	return found;
}

long drv_lbl_current(struct drv *d)
{
	struct drv_lbl *L = d ? d->lbl : NULL;	/* NULL: --read */
	if (!L)
		return -1;
	pthread_mutex_lock(&L->lock);
	long cur = L->cur;
	pthread_mutex_unlock(&L->lock);
	return cur;
}

/* ---- setup and naming ------------------------------------------------ */

static struct tape_lbl *lbl_writer(struct drv *d, const char *volid,
				   const struct tape_lbl_cont *cont,
				   char *err, size_t errlen)
{
	return tape_lbl_new(volid, NULL, &d->lbl->sink, cont, err, errlen);
}

int drv_lbl_setup(struct drv *d, const char *volid, const char *handover,
		  char *err, size_t errlen)
{
	struct drv_lbl *L = calloc(1, sizeof(*L));
	if (!L) {
		snprintf(err, errlen, "out of memory setting up the labels");
		return -ENOMEM;
	}
	pthread_mutex_init(&L->lock, NULL);
	L->cur = -1;
	L->sink.record = lbl_sink_record;
	L->sink.mark = lbl_sink_mark;
	L->sink.ctx = d;
	d->lbl = L;
	if (handover && !(L->handover = strdup(handover))) {
		snprintf(err, errlen, "out of memory setting up the labels");
		return -ENOMEM;
	}
	if (!volid)
		return 0;
	char conv[TAPE_LABEL_NAME_MAX + 1];
	size_t n = tape_label_name_convert(volid, conv);
	if (n == 0 || n > TAPE_LABEL_VOLID) {
		snprintf(err, errlen, "--label=%s is not a volume id: give 1 to %d "
			 "characters (letters, digits and the ANSI 'a' set)",
			 volid, TAPE_LABEL_VOLID);
		return -EINVAL;
	}
	memcpy(L->volid, conv, n + 1);
	memcpy(L->set_id, conv, n + 1);
	L->w = lbl_writer(d, L->volid, NULL, err, errlen);
	if (!L->w)
		return -EINVAL;
	memcpy(L->vol_shown, L->volid, n + 1);
	L->labelled = true;
	return 0;
}

void drv_lbl_free(struct drv *d)
{
	struct drv_lbl *L = d->lbl;
	if (!L)
		return;
	tape_lbl_free(L->w);
	free(L->handover);
	free(L->ents);
	pthread_mutex_destroy(&L->lock);
	free(L);
	d->lbl = NULL;
}

bool drv_labelled(struct drv *d)
{
	struct drv_lbl *L = d ? d->lbl : NULL;	/* NULL: --read */
	if (!L)
		return false;
	pthread_mutex_lock(&L->lock);
	bool on = L->labelled;
	pthread_mutex_unlock(&L->lock);
	return on;
}

void drv_lbl_volid(struct drv *d, char *out, size_t len)
{
	struct drv_lbl *L = d ? d->lbl : NULL;	/* NULL: --read */
	if (!L) {
		snprintf(out, len, "%s", "");
		return;
	}
	pthread_mutex_lock(&L->lock);
	snprintf(out, len, "%s", L->labelled ? L->vol_shown : "");
	pthread_mutex_unlock(&L->lock);
}

static void lbl_set_name(struct drv_lbl *L, const char *name)
{
	char conv[TAPE_LABEL_NAME_MAX + 1] = "";
	if (name && *name)
		tape_label_name_convert(name, conv);
	pthread_mutex_lock(&L->lock);
	memcpy(L->name, conv, sizeof(conv));
	pthread_mutex_unlock(&L->lock);
}

int drv_open_named(struct drv *d, const char *name)
{
	int rc = drv_open_writer(d);
	if (rc == 0 && d->lbl)
		lbl_set_name(d->lbl, name);
	return rc;
}

int drv_lbl_take_name(struct drv *d, const char *name)
{
	if (!drv_labelled(d))
		return -ENOTTY;
	lbl_set_name(d->lbl, name);
	return 0;
}

/* ---- the drive's side (io held) -------------------------------------- */

bool drv_lbl_on(struct drv *d)
{
	return d->lbl && d->lbl->w;
}

int drv_room(struct drv *d, size_t len)
{
	struct drv_lbl *L = d->lbl;
	if (!L || !L->w || d->chain_fd >= 0)
		return vol_check_room(d->vol, len);
	if (L->ended)
		return -ENOSPC;
	/* Room to end the reel after this record: inside a file what the
	 * writer says it may still need; before one, the file's header labels
	 * (VOL1 first) and its EOV end: TM EOV1-4 TM TM. */
	unsigned labels, marks;
	if (tape_lbl_in_file(L->w) && tape_lbl_blocks(L->w) > 0) {
		tape_lbl_reserve(L->w, &labels, &marks);
	} else {
		/* A file to begin, or one continued from the reel before
		 * whose header labels come with its first record here. */
		labels = 1 + 4 + 4;
		marks = 1 + 3;
	}
	return vol_check_room_labels(d->vol, len, labels, marks);
}

/* A failure of the label writer on this reel. */
static int lbl_failed(struct drv *d, int rc, const char *what)
{
	if (rc == -ENOSPC || rc == -EINVAL)
		return rc;	/* server full (the caller says so); refused */
	if (!drv_sticky(d))
		drv_fail(d, -EIO, "%s: %s failed (%s); the tape is incomplete.",
			 vol_url(d->vol), what, tape_lbl_error(d->lbl->w));
	return -EIO;
}

/* Starts the next labelled file, named by the writer's open. */
static int lbl_begin(struct drv *d)
{
	struct drv_lbl *L = d->lbl;
	char name[TAPE_LABEL_NAME_MAX + 1];
	pthread_mutex_lock(&L->lock);
	memcpy(name, L->name, sizeof(name));
	pthread_mutex_unlock(&L->lock);
	if (!name[0])
		snprintf(name, sizeof(name), "FILE%04" PRIu32, L->seq + 1);
	struct tape_lbl_file f = { .name = name };
	int rc = tape_lbl_begin_file(L->w, &f);
	if (rc < 0)
		return lbl_failed(d, rc, "starting a labelled file");
	L->seq++;
	pthread_mutex_lock(&L->lock);
	lbl_list_add(L, name, 1, L->seq);
	pthread_mutex_unlock(&L->lock);
	return 0;
}

/* Ends this reel's labels: EOV inside a file (the continuation goes to
 * L->cont for the next reel), the end of the volume between files. */
static int lbl_end_reel(struct drv *d)
{
	struct drv_lbl *L = d->lbl;
	bool in_file = tape_lbl_in_file(L->w);
	memset(&L->cont, 0, sizeof(L->cont));
	L->ended = true;
	int rc = tape_lbl_end_reel(L->w, &L->cont);
	lbl_list_close(L, in_file);
	if (rc < 0) {
		memset(&L->cont, 0, sizeof(L->cont));
		if (!drv_sticky(d))
			drv_fail(d, -EIO, "%s is full, and ending its labels "
				 "failed (%s); the tape is incomplete.",
				 vol_url(d->vol), tape_lbl_error(L->w));
		return -EIO;
	}
	L->pt_in_file = L->cont.in_file;
	if (in_file)
		rlog(RLOG_INFO, "%s is full: the labelled file %s ends here with "
		     "EOV labels (section %" PRIu32 " follows on the next reel).",
		     vol_url(d->vol), L->cont.name, L->cont.section);
	return 0;
}

/* Spilled into the next reel: a record goes there; a new file is first
 * named to it. */
static int lbl_pass_record(struct drv *d, const void *rec, size_t len)
{
	struct drv_lbl *L = d->lbl;
	if (!L->pt_in_file) {
		struct rfs_chain_file f;
		memset(&f, 0, sizeof(f));
		f.magic = RFS_LABEL_MAGIC;
		pthread_mutex_lock(&L->lock);
		memcpy(f.name, L->name, sizeof(f.name));
		pthread_mutex_unlock(&L->lock);
		if (ioctl(d->chain_fd, RFS_IOC_LABEL, &f) < 0) {
			int e = errno;
			drv_fail(d, -EIO, "the next reel %s did not take the name of "
				 "a new labelled file (%s; is it a reelfs drive?); "
				 "the record was not written.", d->next_path,
				 strerror(e));
			return -EIO;
		}
		L->pt_in_file = true;
	}
	return drv_chain_record(d, rec, len);
}

int drv_lbl_put(struct drv *d, const void *rec, size_t len)
{
	struct drv_lbl *L = d->lbl;
	if (d->chain_fd >= 0)
		return lbl_pass_record(d, rec, len);
	if (L->ended)
		return -ENOSPC;
	int rc = drv_room(d, len);
	if (rc == -ENOSPC && drv_has_next(d) && !drv_server_full(d, false)) {
		/* Full: EOV here, then on along the chain (chain.c hands the
		 * continuation over with the storeset), or into the next slot
		 * a magazine loaded (drv_lbl_loaded made its labels). */
		if ((rc = lbl_end_reel(d)) < 0 || (rc = drv_chain_spill(d)) < 0)
			return rc;
		if (d->chain_fd >= 0)
			return lbl_pass_record(d, rec, len);
		rc = drv_room(d, len);
	}
	if (rc < 0)
		return rc;
	if (!tape_lbl_in_file(L->w) && (rc = lbl_begin(d)) < 0)
		return rc;
	rc = tape_lbl_record(L->w, rec, len);
	if (rc == 0) {
		pthread_mutex_lock(&L->lock);
		if (L->cur >= 0) {
			L->ents[L->cur].bytes += len;
			L->ents[L->cur].blocks++;
		}
		pthread_mutex_unlock(&L->lock);
	} else if (rc == -ENOSPC) {
		/* Room was checked: the server ran out of space. */
		drv_server_full(d, true);
	} else if (rc == -EINVAL) {
		drv_refuse(d, "a %zu-byte record was refused by the labels of "
			   "%s (%s).", len, vol_url(d->vol), tape_lbl_error(L->w));
	} else {
		rc = lbl_failed(d, rc, "writing a labelled record");
	}
	return rc;
}

int drv_lbl_mark(struct drv *d, bool *ended)
{
	struct drv_lbl *L = d->lbl;
	*ended = false;
	if (d->chain_fd >= 0) {
		if (!L->pt_in_file)
			return 0;
		int rc = drv_chain_mark(d);
		if (rc == 0) {
			L->pt_in_file = false;
			*ended = true;
		}
		return rc;
	}
	if (!L->w || L->ended || !tape_lbl_in_file(L->w))
		return 0;
	int rc = tape_lbl_end_file(L->w);
	if (rc < 0)
		return lbl_failed(d, rc, "ending a labelled file");
	lbl_list_close(L, false);
	*ended = true;
	return 0;
}

/* The next volume (--handover) learns which storeset, reel and labelled
 * file it continues; the tool switches to it by itself. */
static void lbl_handover(struct drv *d)
{
	struct drv_lbl *L = d->lbl;
	L->handed = true;
	int fd = open(L->handover, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		rlog(RLOG_WARN, "%s is full, but the next volume %s cannot be "
		     "opened (%s): it will not know that it continues storeset "
		     "%s%s; mount it before this reel fills.", vol_url(d->vol),
		     L->handover, strerror(e), vol_storeset(d->vol),
		     L->cont.in_file ? " and a labelled file" : "");
		return;
	}
	if (drv_chain_tell(d, fd, L->handover, false) == 0)
		rlog(RLOG_INFO, "%s is full; %s was told that it continues the "
		     "storeset%s.", vol_url(d->vol), L->handover,
		     L->cont.in_file ? " and the labelled file" : "");
	close(fd);
}

void drv_lbl_full(struct drv *d)
{
	struct drv_lbl *L = d->lbl;
	if (!L || d->chain_fd >= 0 || drv_server_full(d, false))
		return;
	if (L->w && !L->ended && lbl_end_reel(d) < 0)
		return;
	if (L->handover && !L->handed)
		lbl_handover(d);
}

int drv_lbl_finish(struct drv *d)
{
	struct drv_lbl *L = d->lbl;
	if (!L || !L->w || L->ended || d->chain_fd >= 0)
		return 0;
	L->ended = true;
	bool in_file = tape_lbl_in_file(L->w);
	int rc = tape_lbl_end_volume(L->w);
	if (in_file)
		lbl_list_close(L, false);
	return rc < 0 ? lbl_failed(d, rc, "ending the labelled volume") : 0;
}

void drv_lbl_fill_cont(struct drv *d, struct tape_lbl_cont *out)
{
	struct drv_lbl *L = d->lbl;
	memset(out, 0, sizeof(*out));
	if (L && L->ended && L->cont.magic == TAPE_LBL_CONT_MAGIC)
		*out = L->cont;
}

/* A continuation volume's id when it has no --label of its own, as VMS
 * BACKUP labels the volumes after the first: the first four characters
 * of the first reel's volume id and the reel number in two digits. */
static void lbl_derive_volid(const char *set_id, unsigned reel, char *out)
{
	size_t n = strnlen(set_id, 4);
	snprintf(out, TAPE_LABEL_VOLID + 1, "%.*s%02u", (int)n, set_id,
		 reel % 100);
}

int drv_lbl_accept(struct drv *d, const struct tape_lbl_cont *cont,
		   unsigned reel, char *err, size_t errlen)
{
	struct drv_lbl *L = d->lbl;
	if (cont->magic != TAPE_LBL_CONT_MAGIC)
		return 0;
	if (!L) {
		snprintf(err, errlen, "%s cannot continue a labelled file (no "
			 "label state)", vol_url(d->vol));
		return -EIO;
	}
	struct tape_lbl_cont c = *cont;
	c.set_id[sizeof(c.set_id) - 1] = '\0';
	c.name[sizeof(c.name) - 1] = '\0';
	char volid[TAPE_LABEL_VOLID + 1];
	if (L->volid[0])
		memcpy(volid, L->volid, sizeof(volid));
	else
		lbl_derive_volid(c.set_id, reel, volid);
	struct tape_lbl *w = lbl_writer(d, volid, &c, err, errlen);
	if (!w)
		return -EIO;	/* not EINVAL: that says "no reelfs drive" */
	tape_lbl_free(L->w);
	L->w = w;
	L->ended = false;
	L->seq = c.sequence;
	snprintf(L->set_id, sizeof(L->set_id), "%s", c.set_id);
	pthread_mutex_lock(&L->lock);
	L->labelled = true;
	memcpy(L->vol_shown, volid, sizeof(volid));
	if (c.in_file)
		lbl_list_add(L, c.name, c.section, c.sequence);
	pthread_mutex_unlock(&L->lock);
	if (c.in_file)
		rlog(RLOG_INFO, "%s (volume %s) continues the labelled file %s of "
		     "file set %s as section %" PRIu32 ".", vol_url(d->vol), volid,
		     c.name, c.set_id, c.section);
	else
		rlog(RLOG_INFO, "%s (volume %s) continues file set %s.",
		     vol_url(d->vol), volid, c.set_id);
	return 0;
}

/* A magazine loaded the next slot into this drive (drive_mag.c): its
 * labels go on from the reel taken out, a continued file first (EOV
 * there), or the file set's next file (that reel was ended between
 * files, or finished by mt offline). The volume id is made from the file
 * set's as for a continuation volume without --label. io held. */
void drv_lbl_loaded(struct drv *d)
{
	struct drv_lbl *L = d->lbl;
	if (!L || !L->w)
		return;
	struct tape_lbl_cont c;
	if (L->ended && L->cont.magic == TAPE_LBL_CONT_MAGIC) {
		c = L->cont;
	} else {
		memset(&c, 0, sizeof(c));
		c.magic = TAPE_LBL_CONT_MAGIC;
		snprintf(c.set_id, sizeof(c.set_id), "%s", L->set_id);
		c.sequence = L->seq;
	}
	char volid[TAPE_LABEL_VOLID + 1], err[256] = "";
	lbl_derive_volid(c.set_id, vol_reel(d->vol), volid);
	struct tape_lbl *w = lbl_writer(d, volid, &c, err, sizeof(err));
	if (!w) {
		drv_fail(d, -EIO, "%s: the labels cannot go on on this reel (%s); "
			 "writing fails.", vol_url(d->vol), err);
		return;
	}
	tape_lbl_free(L->w);
	L->w = w;
	L->ended = false;
	L->pt_in_file = false;
	memset(&L->cont, 0, sizeof(L->cont));
	pthread_mutex_lock(&L->lock);
	L->n = 0;	/* MOUNT/files lists the loaded reel */
	L->cur = -1;
	memcpy(L->vol_shown, volid, sizeof(volid));
	if (c.in_file)
		lbl_list_add(L, c.name, c.section, c.sequence);
	pthread_mutex_unlock(&L->lock);
	if (c.in_file)
		rlog(RLOG_INFO, "%s (volume %s) continues the labelled file %s as "
		     "section %" PRIu32 ".", vol_url(d->vol), volid, c.name,
		     c.section);
}
