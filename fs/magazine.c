/*
 * magazine.c - the slots of a magazine (--magazine): the URL template and
 * its slot URLs, what the server holds in the slots (listed at mount),
 * the state of the reels this mount loaded, opening the volume of a slot
 * as the next reel of the storeset, and MOUNT/changer.
 *
 * It must never accept a template that could name two slots alike or a
 * file outside the template's directory (exactly one %d conversion, in
 * the file name), never write over reels found in the magazine unless
 * told to (--append goes after them, --overwrite=always over them), and
 * never hold more than one slot's volume itself: the drive owns the
 * loaded one. Locking: lock guards the slot table and the counters; it is
 * never held across a transfer.
 */
#include "magazine.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manifest.h"
#include "safetext.h"

enum mag_state {
	SLOT_FOUND,	/* an image was in the slot before this mount */
	SLOT_PARTIAL,	/* only NAME.part was there */
	SLOT_LOADED,	/* in the drive now */
	SLOT_PUBLISHED,	/* this mount published it */
	SLOT_FAILED,	/* this mount could not publish it: stays NAME.part */
};

struct mag_slot {
	unsigned n;
	enum mag_state state;
	uint64_t bytes;		/* image bytes (the listing's size for found) */
	uint64_t files;
};

struct mag {
	/* The template, split at its conversion; set at open. */
	char *pre;		/* URL text before %d, %% made % */
	char *post;		/* after it (no %, no /) */
	char *fpre;		/* the file-name part of pre */
	char *dir;		/* the directory, for the listing */
	char *shown;		/* the template as given, for MOUNT/changer */
	int width;		/* %0Nd: N; %d: 0 */
	enum mag_mode mode;
	bool read;		/* --read: slots are read, never written */
	struct vol_config vc;	/* url, storeset, reel, prev set per slot */
	unsigned first;		/* the slot loaded at mount */
	char storeset[40];	/* given, or the appended set's; "" made up */
	char *prev_url;		/* --append: the last reel found */
	bool link_first;	/* its manifest must name the first slot */

	pthread_mutex_t lock;
	struct mag_slot *slots;	/* lock: sorted by n */
	size_t nslots, cap;	/* lock */
	unsigned loaded;	/* lock: the slot in the drive, 0 before */
	unsigned written;	/* lock: reels this mount loaded */
	unsigned failed;	/* lock: ... and could not publish */
};

/* ---- the template ----------------------------------------------------- */

static int mag_tpl_error(char *err, size_t errlen, const char *url,
			 const char *why)
{
	char shown[600];
	safetext(url, shown, sizeof(shown));
	snprintf(err, errlen, "--magazine: the URL %s %s; a magazine URL holds "
		 "exactly one %%d (or %%0Nd, N from 1 to 10) in its file name "
		 "for the slot number, like ftp://nas/b/set-%%03d.mtd, and a "
		 "literal %% in the directory is written %%%%", shown, why);
	return -EINVAL;
}

/* Splits url at its one conversion. With t NULL it only checks. */
static int mag_tpl_parse(const char *url, struct mag *t, char *err,
			 size_t errlen)
{
	const char *conv = NULL, *end = NULL;
	int width = 0;
	const char *slash = strrchr(url, '/');
	const char *file = slash ? slash + 1 : url;
	char why[160];
	for (const char *p = url; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%' && p < file) {
			p++;
			continue;
		}
		const char *q = p + 1;
		bool zero = *q == '0';
		if (zero)
			q++;
		const char *w0 = q;
		while (isdigit((unsigned char)*q) && q - w0 < 3)
			q++;
		int w = q > w0 ? atoi(w0) : 0;
		if (*q != 'd') {
			snprintf(why, sizeof(why), "holds \"%.*s\" at byte %zu, "
				 "which is not a %%d conversion",
				 (int)(q - p + (*q != '\0')), p, (size_t)(p - url) + 1);
			return mag_tpl_error(err, errlen, url, why);
		}
		if (q > w0 && !zero)
			return mag_tpl_error(err, errlen, url, "pads the slot "
					     "number with spaces (%Nd); use %0Nd");
		if (w > 10)
			return mag_tpl_error(err, errlen, url, "asks for a width "
					     "over 10 digits");
		if (conv)
			return mag_tpl_error(err, errlen, url, "holds more than "
					     "one conversion");
		if (p < file)
			return mag_tpl_error(err, errlen, url, "has its %d in the "
					     "directory, not in the file name");
		conv = p;
		end = q + 1;
		width = w;
		p = q;
	}
	if (!conv)
		return mag_tpl_error(err, errlen, url, "has no %d for the slot "
				     "number");
	if (!*file || (conv == file && !*end))
		return mag_tpl_error(err, errlen, url, "has a file name that is "
				     "nothing but the slot number");
	if (!t)
		return 0;
	/* pre: %% becomes % (only before the file name, checked above). */
	size_t n = (size_t)(conv - url);
	t->pre = malloc(n + 1);
	t->post = strdup(end);
	t->shown = strdup(url);
	if (!t->pre || !t->post || !t->shown) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	size_t o = 0, fo = 0;
	for (size_t i = 0; i < n; i++) {
		if (url + i == file)
			fo = o;
		t->pre[o++] = url[i];
		if (url[i] == '%' && url[i + 1] == '%')
			i++;
	}
	if (url + n == file)
		fo = o;
	t->pre[o] = '\0';
	t->fpre = strdup(t->pre + fo);
	t->dir = fo ? strndup(t->pre, fo) : strdup("./");
	if (!t->fpre || !t->dir) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->width = width;
	return 0;
}

int mag_template_check(const char *url, char *err, size_t errlen)
{
	return mag_tpl_parse(url, NULL, err, errlen);
}

/* The URL of slot n (malloc'd). */
static char *mag_slot_url(const struct mag *m, unsigned n)
{
	char *out;
	if (asprintf(&out, "%s%0*u%s", m->pre, m->width, n, m->post) < 0)
		return NULL;
	return out;
}

/* The slot a listed file name stands for, 0 when none: fpre, digits
 * exactly as the template prints that number, post. */
static unsigned mag_match(const struct mag *m, const char *name, size_t len)
{
	size_t a = strlen(m->fpre), b = strlen(m->post);
	if (len <= a + b || strncmp(name, m->fpre, a) != 0 ||
	    strncmp(name + len - b, m->post, b) != 0)
		return 0;
	size_t nd = len - a - b;
	if (nd > 10)
		return 0;
	char digits[11];
	memcpy(digits, name + a, nd);
	digits[nd] = '\0';
	if (strspn(digits, "0123456789") != nd)
		return 0;
	unsigned long long v = strtoull(digits, NULL, 10);
	if (v == 0 || v > MAG_MAX_SLOT)
		return 0;
	char again[24];
	snprintf(again, sizeof(again), "%0*u", m->width, (unsigned)v);
	return strcmp(again, digits) == 0 ? (unsigned)v : 0;
}

/* ---- the slot table (lock held) --------------------------------------- */

static struct mag_slot *mag_slot_get(struct mag *m, unsigned n, bool add)
{
	size_t i = 0;
	while (i < m->nslots && m->slots[i].n < n)
		i++;
	if (i < m->nslots && m->slots[i].n == n)
		return &m->slots[i];
	if (!add)
		return NULL;
	if (m->nslots == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct mag_slot *s = realloc(m->slots, cap * sizeof(*s));
		if (!s)
			return NULL;
		m->slots = s;
		m->cap = cap;
	}
	memmove(&m->slots[i + 1], &m->slots[i],
		(m->nslots - i) * sizeof(*m->slots));
	m->nslots++;
	memset(&m->slots[i], 0, sizeof(m->slots[i]));
	m->slots[i].n = n;
	return &m->slots[i];
}

/* ---- what the server holds -------------------------------------------- */

struct mag_buf {
	char *p;
	size_t n, cap;
};

static int mag_buf_add(void *ctx, const void *p, size_t n)
{
	struct mag_buf *b = ctx;
	if (b->n + n + 1 > TAPE_MANIFEST_MAX_TEXT)
		return -EFBIG;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *q = realloc(b->p, cap);
		if (!q)
			return -ENOMEM;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

/* The manifest of slot n, parsed. 0, or a negative errno with err. */
static int mag_read_manifest(struct mag *m, unsigned n, char **murl_out,
			     struct tape_manifest *man, char *err, size_t errlen)
{
	char *url = mag_slot_url(m, n);
	char *base = url ? xfer_url_basename(url) : NULL;
	char *mname = NULL, *murl = NULL;
	if (base && asprintf(&mname, "%s%s", base, TAPE_MANIFEST_SUFFIX) < 0)
		mname = NULL;
	if (mname)
		murl = xfer_url_sibling(url, mname);
	free(url);
	free(base);
	free(mname);
	if (!murl) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct mag_buf b = { 0 };
	int rc = xfer_fetch(murl, m->vc.xfer, 0, 0, mag_buf_add, &b, err, errlen);
	if (rc == -EFBIG)
		snprintf(err, errlen, "its manifest is larger than a manifest can be");
	if (rc == 0)
		rc = tape_manifest_parse(b.p ? b.p : "", b.n, man, err, errlen);
	free(b.p);
	if (rc == 0 && murl_out)
		*murl_out = murl;
	else
		free(murl);
	return rc;
}

/* The reel in slot n was published without naming its next reel (it was
 * unloaded by mt offline, or found by --append): its manifest now names
 * next_url, so `reel cat` follows the set across. A failure costs only
 * that link, and says so. */
static void mag_link(struct mag *m, unsigned n, const char *next_url)
{
	struct tape_manifest man;
	memset(&man, 0, sizeof(man));
	char err[XFER_ERRLEN] = "", *murl = NULL;
	int rc = mag_read_manifest(m, n, &murl, &man, err, sizeof(err));
	if (rc == 0 && (!man.next_url || strcmp(man.next_url, next_url) != 0)) {
		char *next = strdup(next_url);
		char *json = NULL;
		if (next) {
			free(man.next_url);
			man.next_url = next;
			json = tape_manifest_to_json(&man);
		}
		if (!json) {
			snprintf(err, sizeof(err), "out of memory");
			rc = -ENOMEM;
		} else {
			rc = xfer_put_small(murl, m->vc.xfer, json, strlen(json),
					    err, sizeof(err));
		}
		free(json);
		if (rc == 0)
			rlog(RLOG_INFO, "the manifest of slot %u names %s as its "
			     "next reel.", n, next_url);
	}
	if (rc < 0) {
		safetext_inplace(err, sizeof(err));
		rlog(RLOG_WARN, "the manifest of the reel in slot %u could not be "
		     "made to name its next reel %s (%s); `reel cat` will not "
		     "follow the storeset from slot %u to slot %u.", n, next_url,
		     err, n, n + 1);
	}
	tape_manifest_clear(&man);
	free(murl);
}

/* Lists the template's directory: the slots holding NAME or NAME.part. */
static int mag_scan(struct mag *m, char *err, size_t errlen)
{
	struct xfer_entry *e = NULL;
	size_t n = 0;
	int rc = xfer_list(m->dir, m->vc.xfer, &e, &n, err, errlen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (e[i].is_dir)
			continue;
		size_t len = strlen(e[i].name);
		bool part = len > 5 && strcmp(e[i].name + len - 5, ".part") == 0;
		unsigned s = mag_match(m, e[i].name, part ? len - 5 : len);
		if (!s)
			continue;
		struct mag_slot *sl = mag_slot_get(m, s, false);
		if (sl) {
			if (!part) {	/* NAME beside an old NAME.part */
				sl->state = SLOT_FOUND;
				sl->bytes = e[i].size == XFER_SIZE_UNKNOWN ? 0 :
					    e[i].size;
			}
			continue;
		}
		if (!(sl = mag_slot_get(m, s, true))) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			break;
		}
		sl->state = part ? SLOT_PARTIAL : SLOT_FOUND;
		sl->bytes = e[i].size == XFER_SIZE_UNKNOWN ? 0 : e[i].size;
	}
	xfer_entries_free(e, n);
	return rc;
}

/* --append: the set goes on after the last slot found, as its next reel
 * (the storeset id and the link come from that reel's manifest). */
static int mag_find_append(struct mag *m, char *err, size_t errlen)
{
	if (!m->nslots) {
		rlog(RLOG_INFO, "--append: the magazine holds no reels yet; "
		     "starting at slot 1.");
		m->first = 1;
		return 0;
	}
	unsigned last = m->slots[m->nslots - 1].n;
	if (last >= MAG_MAX_SLOT) {
		snprintf(err, errlen, "--append: the magazine's last slot %u is "
			 "taken; there is no slot after it", last);
		return -ENOSPC;
	}
	m->first = last + 1;
	struct tape_manifest man;
	memset(&man, 0, sizeof(man));
	char e[XFER_ERRLEN] = "";
	int rc = m->slots[m->nslots - 1].state == SLOT_FOUND ?
		 mag_read_manifest(m, last, NULL, &man, e, sizeof(e)) : -ENOENT;
	if (rc == -ENOENT && !e[0])
		snprintf(e, sizeof(e), "it holds only NAME.part, an incomplete "
			 "reel");
	if (rc < 0) {
		safetext_inplace(e, sizeof(e));
		rlog(RLOG_WARN, "--append: the reel in slot %u has no readable "
		     "manifest (%s); slot %u starts a new storeset, not linked "
		     "to it.", last, e, m->first);
		tape_manifest_clear(&man);
		return 0;
	}
	if (m->storeset[0] && strcmp(m->storeset, man.storeset) != 0) {
		char a[120], b[120];
		snprintf(err, errlen, "--append: the reel in slot %u belongs to "
			 "storeset %s, not to the --storeset=%s given; give no "
			 "--storeset to continue it", last,
			 safetext(man.storeset, a, sizeof(a)),
			 safetext(m->storeset, b, sizeof(b)));
		tape_manifest_clear(&man);
		return -EINVAL;
	}
	snprintf(m->storeset, sizeof(m->storeset), "%s", man.storeset);
	tape_manifest_clear(&man);
	char *url = mag_slot_url(m, last);
	m->prev_url = url ? xfer_url_display(url) : NULL;
	free(url);
	if (!m->prev_url) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->link_first = true;
	rlog(RLOG_INFO, "--append: the magazine holds reels up to slot %u; "
	     "storeset %s goes on in slot %u.", last, m->storeset, m->first);
	return 0;
}

/* Without --append, reels found in the magazine are not written over
 * unless --overwrite=always says so. */
static int mag_check_taken(struct mag *m, char *err, size_t errlen)
{
	if (!m->nslots || m->vc.xfer->overwrite == XFER_OVERWRITE_ALWAYS)
		return 0;
	char *url = mag_slot_url(m, m->slots[0].n);
	char *shown = url ? xfer_url_display(url) : NULL;
	char safe[600];
	snprintf(err, errlen, "--magazine: %s already holds a reel (%u slots "
		 "of the magazine are taken, up to slot %u); give --append to "
		 "continue the set after them, or --overwrite=always to write "
		 "over them", safetext(shown ? shown : "the first slot", safe,
				       sizeof(safe)), (unsigned)m->nslots,
		 m->slots[m->nslots - 1].n);
	free(url);
	free(shown);
	return -EEXIST;
}

struct mag *mag_open(const struct mag_config *c, char *err, size_t errlen)
{
	struct mag *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->mode = c->mode;
	m->read = c->read;
	m->vc = *c->vol;
	m->first = 1;
	if (c->storeset)
		snprintf(m->storeset, sizeof(m->storeset), "%s", c->storeset);
	if (mag_tpl_parse(c->template, m, err, errlen) < 0)
		goto fail;
	char e[XFER_ERRLEN] = "";
	if (mag_scan(m, e, sizeof(e)) < 0) {
		if (c->append) {
			snprintf(err, errlen, "--append: the magazine's directory "
				 "cannot be listed, so its reels cannot be found: "
				 "%s", e);
			goto fail;
		}
		rlog(RLOG_WARN, "the magazine's directory cannot be listed (%s); "
		     "MOUNT/changer shows only the reels this mount loads.", e);
	}
	if (c->read) {
		/* Reading starts at the first reel there is. */
		m->first = m->nslots ? m->slots[0].n : 1;
		return m;
	}
	if (c->append ? mag_find_append(m, err, errlen) < 0 :
	    mag_check_taken(m, err, errlen) < 0)
		goto fail;
	return m;
fail:
	mag_free(m);
	return NULL;
}

void mag_free(struct mag *m)
{
	if (!m)
		return;
	free(m->pre);
	free(m->post);
	free(m->fpre);
	free(m->dir);
	free(m->shown);
	free(m->prev_url);
	free(m->slots);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* ---- loading slots ---------------------------------------------------- */

/* Opens the volume of slot n: storeset id (NULL: made up), prev. The
 * upload thread it starts must not take the daemon's signals. */
static struct vol *mag_open_slot(struct mag *m, unsigned n, const char *id,
				 const char *prev, char *err, size_t errlen)
{
	if (n == 0 || n > MAG_MAX_SLOT) {
		snprintf(err, errlen, "the magazine has no slot after %u", n - 1);
		return NULL;
	}
	char *url = mag_slot_url(m, n);
	if (!url) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	struct vol_config vc = m->vc;
	vc.url = url;
	vc.storeset_id = id && *id ? id : NULL;
	vc.reel = n;
	vc.prev_url = prev;
	vc.next_url = NULL;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	struct vol *v = vol_open(&vc, err, errlen);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(url);
	return v;
}

struct vol *mag_open_first(struct mag *m, char *err, size_t errlen)
{
	struct vol *v = mag_open_slot(m, m->first, m->storeset, m->prev_url,
				      err, errlen);
	if (v) {
		pthread_mutex_lock(&m->lock);
		m->loaded = m->first - 1;
		pthread_mutex_unlock(&m->lock);
		mag_loaded(m, v, m->link_first);
	}
	return v;
}

struct vol *mag_open_next(struct mag *m, struct vol *prev, char *err,
			  size_t errlen)
{
	char id[40];
	vol_get_storeset(prev, id, sizeof(id));
	return mag_open_slot(m, mag_slot(m) + 1, id, vol_url(prev), err, errlen);
}

char *mag_next_url(struct mag *m)
{
	char *url = mag_slot_url(m, mag_slot(m) + 1);
	char *shown = url ? xfer_url_display(url) : NULL;
	free(url);
	return shown;
}

/* The final state of the reel in slot n. */
static void mag_record(struct mag *m, unsigned n, struct vol *v)
{
	struct vol_status vs;
	vol_get_status(v, &vs);
	pthread_mutex_lock(&m->lock);
	struct mag_slot *s = mag_slot_get(m, n, true);
	bool ok = vs.state == VOL_PUBLISHED;
	if (s) {
		s->state = ok ? SLOT_PUBLISHED : SLOT_FAILED;
		/* What the server holds: a reel cut by a full server holds
		 * less than was accepted (its manifest's truncated_at). */
		s->bytes = vs.xfer.confirmed;
		s->files = vs.counts.files;
	}
	if (!ok)
		m->failed++;
	pthread_mutex_unlock(&m->lock);
}

void mag_unloaded(struct mag *m, struct vol *v)
{
	mag_record(m, mag_slot(m), v);
}

void mag_dropped(struct mag *m, struct vol *v)
{
	pthread_mutex_lock(&m->lock);
	m->written++;
	pthread_mutex_unlock(&m->lock);
	mag_record(m, mag_slot(m) + 1, v);
}

void mag_loaded(struct mag *m, struct vol *v, bool link)
{
	pthread_mutex_lock(&m->lock);
	m->loaded++;
	m->written++;
	unsigned n = m->loaded;
	struct mag_slot *s = mag_slot_get(m, n, true);
	if (s) {
		s->state = SLOT_LOADED;
		s->bytes = 0;
		s->files = 0;
	}
	pthread_mutex_unlock(&m->lock);
	rlog(RLOG_INFO, "slot %u loaded: %s, reel %u.", n, vol_url(v), vol_reel(v));
	if (link && n > 1)
		mag_link(m, n - 1, vol_url(v));
}

unsigned mag_slot(struct mag *m)
{
	pthread_mutex_lock(&m->lock);
	unsigned n = m->loaded;
	pthread_mutex_unlock(&m->lock);
	return n;
}

bool mag_auto(const struct mag *m)
{
	return m->mode == MAG_AUTO;
}

bool mag_all_published(struct mag *m)
{
	pthread_mutex_lock(&m->lock);
	bool ok = m->failed == 0;
	pthread_mutex_unlock(&m->lock);
	return ok;
}

/* ---- read mode ------------------------------------------------------- */

char *mag_read_first(struct mag *m)
{
	pthread_mutex_lock(&m->lock);
	m->loaded = m->first;
	m->written = 1;
	pthread_mutex_unlock(&m->lock);
	return mag_slot_url(m, m->first);
}

char *mag_read_next_url(void *ctx, char *err, size_t errlen)
{
	struct mag *m = ctx;
	unsigned n = mag_slot(m) + 1;
	if (n > MAG_MAX_SLOT) {
		snprintf(err, errlen, "the magazine has no slot after %u", n - 1);
		return NULL;
	}
	char *url = mag_slot_url(m, n);
	if (!url)
		snprintf(err, errlen, "out of memory");
	return url;
}

void mag_read_loaded(void *ctx, const char *url)
{
	struct mag *m = ctx;
	pthread_mutex_lock(&m->lock);
	m->loaded++;
	m->written++;
	unsigned n = m->loaded;
	pthread_mutex_unlock(&m->lock);
	rlog(RLOG_INFO, "slot %u loaded for reading: %s.", n, url);
}

/* ---- MOUNT/changer and status ----------------------------------------- */

static const char *mag_state_name(enum mag_state s)
{
	switch (s) {
	case SLOT_FOUND: return "found";
	case SLOT_PARTIAL: return "partial";
	case SLOT_LOADED: return "loaded";
	case SLOT_PUBLISHED: return "published";
	case SLOT_FAILED: return "failed";
	}
	return "unknown";
}

static void mag_put_name(FILE *f, const struct mag *m, unsigned n, bool part)
{
	char *url = mag_slot_url(m, n);
	char *base = url ? xfer_url_basename(url) : NULL;
	char safe[600];
	fprintf(f, " %s%s", safetext(base ? base : "?", safe, sizeof(safe)),
		part ? ".part" : "");
	free(base);
	free(url);
}

char *mag_render(struct mag *m, struct vol *loaded, bool unloaded,
		 size_t *len)
{
	char *out = NULL, safe[1200], id[40] = "";
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	if (!f)
		return NULL;
	struct vol_status vs;
	memset(&vs, 0, sizeof(vs));
	if (loaded) {
		vol_get_status(loaded, &vs);
		vol_get_storeset(loaded, id, sizeof(id));
	}
	pthread_mutex_lock(&m->lock);
	fprintf(f, "template: %s\nmode: %s%s\nstoreset: %s\n",
		safetext(m->shown, safe, sizeof(safe)),
		m->mode == MAG_AUTO ? "auto" : "manual", m->read ? " read" : "",
		safetext(id, safe + 600, 600));
	if (unloaded || !m->loaded)
		fprintf(f, "loaded: none\n");
	else
		fprintf(f, "loaded: %u\n", m->loaded);
	fprintf(f, "next: %u\n", m->loaded ? m->loaded + 1 : m->first);
	bool next_listed = m->read;	/* reading: no slot to fill */
	unsigned next = m->loaded ? m->loaded + 1 : m->first;
	for (size_t i = 0; i <= m->nslots; i++) {
		const struct mag_slot *s = i < m->nslots ? &m->slots[i] : NULL;
		if (!next_listed && (!s || s->n > next)) {
			/* The slot the next load takes, still empty. */
			fprintf(f, "slot %u: empty", next);
			mag_put_name(f, m, next, false);
			fputc('\n', f);
			next_listed = true;
		}
		if (!s)
			break;
		if (s->n == next)
			next_listed = true;
		if (s->state == SLOT_LOADED) {
			const char *st = vol_state_name(vs.state);
			fprintf(f, "slot %u: %s%s", s->n, unloaded ? "" : "loaded ", st);
			mag_put_name(f, m, s->n, false);
			fprintf(f, " %" PRIu64 " bytes %" PRIu64 " files\n",
				vs.counts.image_bytes, vs.counts.files);
			continue;
		}
		fprintf(f, "slot %u: %s%s", s->n, m->read && s->n == m->loaded ?
			"loaded " : "", mag_state_name(s->state));
		mag_put_name(f, m, s->n, s->state == SLOT_PARTIAL ||
			     s->state == SLOT_FAILED);
		if (s->state == SLOT_PUBLISHED || s->state == SLOT_FAILED)
			fprintf(f, " %" PRIu64 " bytes %" PRIu64 " files\n",
				s->bytes, s->files);
		else
			fprintf(f, " %" PRIu64 " bytes\n", s->bytes);
	}
	pthread_mutex_unlock(&m->lock);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	*len = n;
	return out;
}

void mag_status_line(struct mag *m, bool unloaded, char *buf, size_t len)
{
	pthread_mutex_lock(&m->lock);
	if (unloaded || !m->loaded)
		snprintf(buf, len, "none loaded, slot %u next; %u reels loaded "
			 "by this mount, %u failed", m->loaded + 1, m->written,
			 m->failed);
	else
		snprintf(buf, len, "slot %u loaded; %u reels loaded by this "
			 "mount, %u failed", m->loaded, m->written, m->failed);
	pthread_mutex_unlock(&m->lock);
}

void mag_summary(struct mag *m, char *buf, size_t len)
{
	pthread_mutex_lock(&m->lock);
	snprintf(buf, len, "the magazine %s: %u reel%s written (slots %u to "
		 "%u), %u not published", m->shown, m->written,
		 m->written == 1 ? "" : "s", m->first,
		 m->written ? m->first + m->written - 1 : m->first, m->failed);
	pthread_mutex_unlock(&m->lock);
}
