/*
 * cmd_send_reel.c - the reels of `reel send`: opens each target as a
 * volume (fs/volume.h), changes to the next reel of a storeset when one
 * is full, corrects the last reel's manifest, and prints each reel's
 * summary.
 *
 * Storeset continuity: a reader (`reel cat`) joins reels by dropping the
 * two end-of-data marks that finish adds to each reel but the last. So a
 * reel must never end with a tape mark the user wrote: when the last thing
 * written to a full reel was such a mark, it is written again at the start
 * of the next reel, and the join keeps the file boundary.
 */
#include "cmd_send.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static void add_counts(struct tape_counts *t, const struct tape_counts *c)
{
	t->files += c->files;
	t->records += c->records;
	t->marks += c->marks;
	t->payload_bytes += c->payload_bytes;
	t->image_bytes += c->image_bytes;
	/* CRCs are per reel; the summary shows the single reel's, or each. */
	t->payload_crc = c->payload_crc;
	t->image_crc = c->image_crc;
}

void send_reel_summary(struct send *s, struct vol *v, const char *url)
{
	struct vol_status st;
	char *shown = reel_display(url);
	vol_get_status(v, &st);
	add_counts(&s->total, &st.counts);
	char where[96] = "";
	if (s->nurls > 1)
		snprintf(where, sizeof(where), " (reel %d of storeset %s)", s->reel + 1,
			 st.storeset_id);
	reel_note("%s%s: %s, %" PRIu64 " file%s, %" PRIu64 " records, %" PRIu64
		  " payload bytes, %" PRIu64 " image bytes, CRC32 payload %08" PRIx32
		  " image %08" PRIx32 ".", shown ? shown : url, where,
		  tape_format_name(s->format), st.counts.files,
		  st.counts.files == 1 ? "" : "s", st.counts.records,
		  st.counts.payload_bytes, st.counts.image_bytes,
		  st.counts.payload_crc, st.counts.image_crc);
	if (s->labelled)
		reel_note("labelled: volume %s, file%s %s%s (%u in all), block length "
			  "%" PRIu64 "%s.", s->reel_volid[0] ? s->reel_volid : s->volid,
			  s->lab.files > 1 ? "s from" : "",
			  s->lab_first, s->app.existed ? " appended" : "",
			  s->lab.files + s->lab.seq_base, s->block,
			  s->saveset ? ", a VMS BACKUP saveset" : "");
	if (reel_is_remote(url)) {
		char line[256];
		xfer_summary(&st.xfer, line, sizeof(line));
		reel_note("%s; %.2f s elapsed, %.2f s CPU%s.", line, st.xfer.elapsed,
			  st.xfer.cpu, st.xfer.verified ?
			  "; read back, CRC32 verified" : "");
	} else if (s->vms_file) {
		reel_note("wrote %" PRIu64 " bytes; %.2f s elapsed, %.2f s CPU.",
			  st.counts.image_bytes, st.xfer.elapsed, st.xfer.cpu);
	}
	free(shown);
}

int send_open_reel(struct send *s, int i)
{
	struct vol_config c = {
		.url = s->urls[i],
		.xfer = s->xo,
		.format = s->format,
		.enc = s->enc_opt,
		.capacity = s->capacity,
		.storeset_id = s->storeset[0] ? s->storeset : NULL,
		.reel = (unsigned)i + 1,
		.prev_url = i > 0 ? s->urls[i - 1] : NULL,
		.next_url = i + 1 < s->nurls ? s->urls[i + 1] : NULL,
	};
	char err[XFER_ERRLEN] = "";
	s->vol = vol_open(&c, err, sizeof(err));
	if (!s->vol) {
		reel_error("%s", err[0] ? err : "cannot open the target.");
		return -EIO;
	}
	s->reel = i;
	s->last_was_mark = false;
	s->reel_records = 0;
	if (!s->storeset[0]) {
		struct vol_status st;
		vol_get_status(s->vol, &st);
		snprintf(s->storeset, sizeof(s->storeset), "%s", st.storeset_id);
	}
	return 0;
}

/* The data ended on a reel that was given a next URL it never needed: its
 * manifest must not point at a reel that does not exist, or `reel cat`
 * would look for it. Rewrites the manifest with next = null. */
int send_fix_last_manifest(struct send *s)
{
	struct vol_status st;
	struct tape_manifest m;
	char err[XFER_ERRLEN] = "";

	vol_get_status(s->vol, &st);
	memset(&m, 0, sizeof(m));
	snprintf(m.format, sizeof(m.format), "%s", tape_format_name(s->format));
	m.counts = st.counts;
	m.start = st.start;
	m.end = st.end;
	snprintf(m.storeset, sizeof(m.storeset), "%s", st.storeset_id);
	m.reel = (unsigned)s->reel + 1;
	/* The same form the volume wrote (no password, bytes kept as they
	 * are), not reel_display's terminal-safe one. */
	m.prev_url = s->reel > 0 ? xfer_url_display(s->urls[s->reel - 1]) : NULL;
	snprintf(m.version, sizeof(m.version), "%s", REELFS_VERSION);
	vol_manifest_labels(s->vol, &m);
	char *json = tape_manifest_to_json(&m);
	free(m.labels);
	char *murl = reel_manifest_url(s->urls[s->reel]);
	int rc = -ENOMEM;
	if (json && murl)
		rc = xfer_put_small(murl, s->xo, json, strlen(json), err, sizeof(err));
	if (rc < 0)
		reel_error("the last reel is published, but its manifest could not "
			   "be corrected (it names an unused next reel): %s",
			   err[0] ? err : "out of memory");
	free(murl);
	free(json);
	free(m.prev_url);
	return rc;
}

int send_next_reel(struct send *s)
{
	if (s->reel + 1 >= s->nurls) {
		/* send_run()'s failure path then says the reel stays as .part. */
		reel_error("%s is full (--capacity %" PRIu64 " bytes) and no --next URL "
			   "is left, but the input has more data.", vol_url(s->vol),
			   s->capacity);
		vol_abort(s->vol);
		return -ENOSPC;
	}
	int rc = vol_finish(s->vol);
	if (rc < 0) {
		reel_error("%s", vol_error(s->vol));
		return rc;
	}
	send_reel_summary(s, s->vol, s->urls[s->reel]);
	bool mark = s->last_was_mark;
	vol_free(s->vol);
	s->vol = NULL;
	rc = send_open_reel(s, s->reel + 1);
	if (rc < 0)
		return rc;
	if (mark && (rc = vol_mark(s->vol)) < 0) {
		reel_error("%s", vol_error(s->vol));
		return rc;
	}
	return 0;
}
