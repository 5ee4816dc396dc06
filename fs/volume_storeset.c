/*
 * volume_storeset.c - the storeset facts of a reel (storeset id, reel
 * number, the reels before and after it), from the options or from the
 * neighbours in a --next chain.
 *
 * It never overrides a fact given as an option (it logs the
 * disagreement), and never changes the next reel once a manifest named it.
 */
#include "volume_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

const char *vol_storeset(const struct vol *v)
{
	return v->storeset;
}

/* One storeset fact from the reel before: a given option is kept, and a
 * disagreement is logged. Returns whether the value was taken. */
static bool vol_take(bool fixed, bool differs, const char *url,
		     const char *what)
{
	if (fixed && differs)
		rlog(RLOG_WARN, "%s: the reel before it in the chain gives %s, "
		     "but the one given to this reel is kept; `reel cat` will "
		     "not follow the chain across it.", url, what);
	return !fixed;
}

int vol_join_storeset(struct vol *v, const char *id, unsigned reel,
		      const char *prev_url, char *err, size_t errlen)
{
	char *prev = prev_url && *prev_url ? xfer_url_display(prev_url) : NULL;
	if (prev_url && *prev_url && !prev) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_lock(&v->io_lock);
	pthread_mutex_lock(&v->lock);
	int rc = 0;
	const char *url = xfer_upload_url(v->up);
	if (v->finished || v->counts.records || v->counts.marks) {
		snprintf(err, errlen, "%s has been written to already (%" PRIu64
			 " records, %" PRIu64 " marks), so it cannot continue "
			 "the storeset of the reel before it", url,
			 v->counts.records, v->counts.marks);
		rc = -EBUSY;
	} else {
		if (id && *id && vol_take(v->storeset_fixed,
					   strcmp(id, v->storeset) != 0, url,
					   "another storeset id"))
			snprintf(v->storeset, sizeof(v->storeset), "%s", id);
		if (reel && vol_take(v->reel_fixed, reel != v->reel, url,
				     "another reel number"))
			v->reel = reel;
		if (prev && vol_take(v->prev_fixed, !v->prev_url ||
				     strcmp(prev, v->prev_url) != 0, url,
				     "another previous reel")) {
			free(v->prev_url);
			v->prev_url = prev;
			prev = NULL;
		}
	}
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_unlock(&v->io_lock);
	free(prev);
	return rc;
}

int vol_set_next_url(struct vol *v, const char *next_url)
{
	char *next = xfer_url_display(next_url);
	if (!next)
		return -ENOMEM;
	pthread_mutex_lock(&v->io_lock);
	pthread_mutex_lock(&v->lock);
	/* Until the manifest is written, also after a finish: one that met
	 * a full server hands over first and publishes in vol_salvage. */
	bool late = v->manifest_out;
	bool take = !late &&
		    vol_take(v->next_fixed, !v->next_url ||
			     strcmp(next, v->next_url) != 0,
			     xfer_upload_url(v->up), "another next reel");
	if (take) {
		free(v->next_url);
		v->next_url = next;
		next = NULL;
	}
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_unlock(&v->io_lock);
	if (late)
		rlog(RLOG_WARN, "%s: its manifest was written already, so it "
		     "does not name its next reel %s; `reel cat` will not follow "
		     "the chain across it.", vol_url(v), next);
	free(next);
	return 0;
}

unsigned vol_reel(struct vol *v)
{
	pthread_mutex_lock(&v->lock);
	unsigned r = v->reel;
	pthread_mutex_unlock(&v->lock);
	return r;
}

void vol_get_storeset(struct vol *v, char *id, size_t len)
{
	pthread_mutex_lock(&v->lock);
	snprintf(id, len, "%s", v->storeset);
	pthread_mutex_unlock(&v->lock);
}
