/*
 * volume_manifest.c - assembling the manifest of a published reel (counts,
 * storeset facts, file index, labels) and writing it beside the image.
 *
 * It never touches the image itself; the manifest is written only once
 * the image is published (by vol_finish or vol_salvage).
 */
#include "volume_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

/* The labels for m, from what was accepted; not for a reel the server
 * cut (its labels would describe bytes it does not hold), nor after a
 * write after read (the old image's bytes were copied, not scanned): a
 * listing then reads the image's own labels. */
static void vol_manifest_labels_locked(struct vol *v, struct tape_manifest *m)
{
	m->labels_recorded = false;
	m->labels = NULL;
	m->nlabels = 0;
	if (v->lscan && !v->truncated && (!v->has_base || v->base_scanned))
		(void)tape_manifest_set_labels(m, v->lscan);
}

void vol_manifest_labels(struct vol *v, struct tape_manifest *m)
{
	pthread_mutex_lock(&v->io_lock);
	vol_manifest_labels_locked(v, m);
	pthread_mutex_unlock(&v->io_lock);
}

/* The manifest beside the published image: NAME.manifest.json, written
 * whole through NAME.manifest.json.part and a rename. io_lock held. */
int vol_publish_manifest(struct vol *v, char *err, size_t errlen)
{
	struct tape_manifest m;
	memset(&m, 0, sizeof(m));
	snprintf(m.format, sizeof(m.format), "%s", tape_format_name(v->format));
	tape_enc_counts(v->enc, &m.counts);
	vol_add_base(v, &m.counts);
	if (v->truncated) {
		m.counts = v->trunc_counts;
		m.truncated = true;
		m.truncated_at = v->truncated_at;
	}
	pthread_mutex_lock(&v->lock);
	m.start = v->start;
	m.end = v->end;
	snprintf(m.storeset, sizeof(m.storeset), "%s", v->storeset);
	m.reel = v->reel;
	/* Borrowed, never freed through m: they change only before the
	 * first record (prev) or before a manifest is formatted (next, from
	 * here on final), under io_lock like this. */
	m.prev_url = v->prev_url;
	m.next_url = v->next_url;
	v->manifest_out = true;
	pthread_mutex_unlock(&v->lock);
	snprintf(m.version, sizeof(m.version), "%s", REELFS_VERSION);
	tape_findex_fill(&v->findex, &m.counts, &m);
	vol_manifest_labels_locked(v, &m);

	char *json = tape_manifest_to_json(&m);
	free(m.file_offsets);
	free(m.file_records);
	free(m.labels);
	if (!json) {
		snprintf(err, errlen, "out of memory formatting the manifest");
		return -ENOMEM;
	}
	char *name = xfer_url_basename(v->url);
	char *murl = NULL;
	if (name) {
		size_t n = strlen(name) + sizeof(TAPE_MANIFEST_SUFFIX);
		char *mname = malloc(n);
		if (mname) {
			snprintf(mname, n, "%s%s", name, TAPE_MANIFEST_SUFFIX);
			murl = xfer_url_sibling(v->url, mname);
			free(mname);
		}
	}
	int rc;
	if (!murl) {
		snprintf(err, errlen, "out of memory naming the manifest");
		rc = -ENOMEM;
	} else {
		char e[XFER_ERRLEN - 100] = "";
		/* The image is safe already; a transient refusal (vsftpd
		 * answers "500 OOPS" when a session process fails under load)
		 * must not cost its manifest. Replacing it is idempotent. */
		for (int i = 0; i < 3; i++) {
			if (i)
				usleep(200000u * (unsigned)i);
			/* Through the image's own session when it can
			 * (same server and directory): no second login. */
			rc = xfer_put_small_after(i ? NULL : v->up, murl, v->xo, json,
						  strlen(json), e, sizeof(e));
			if (rc == 0)
				break;
			rlog(RLOG_INFO, "writing the manifest failed (%s)%s", e,
			     i < 2 ? "; trying again." : ".");
		}
		if (rc < 0)
			snprintf(err, errlen, "the image is published, but its "
				 "manifest could not be written: %s", e);
	}
	free(murl);
	free(name);
	free(json);
	return rc;
}
