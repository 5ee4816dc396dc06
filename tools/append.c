/*
 * append.c - `reel send --append`: the tape already at the target is
 * streamed through the decoder into the new upload of the same name, less
 * its end of data, so the new file can follow it; the new image then
 * replaces the old one atomically (NAME.part renamed over NAME), and until
 * it does the old image stays whole. Memory is the decoder's one record
 * and the two bounded transfer queues; nothing is spooled to disk.
 *
 * It also reads what the tape is: labelled (its VOL1's volume id, the
 * last file sequence number in a HDR1) or not, so the caller can refuse
 * to mix labelled and unlabelled files and number the new file.
 */
#include "reel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int on_record(void *ctx, const void *data, size_t len, uint64_t off)
{
	struct reel_append *a = ctx;
	int rc;
	(void)off;

	if (a->records == 0 && a->marks == 0 &&
	    tape_label_kind(data, len) == TAPE_LABEL_VOL1) {
		struct tape_label_vol v;
		if (tape_label_parse_vol1(data, len, &v) == 0) {
			a->labelled = true;
			snprintf(a->volid, sizeof(a->volid), "%s", v.volid);
		}
	}
	if (a->labelled && tape_label_kind(data, len) == TAPE_LABEL_HDR1) {
		struct tape_label_file_info fi;
		memset(&fi, 0, sizeof(fi));
		if (tape_label_parse_into(data, len, &fi) == 0 && fi.sequence > a->files)
			a->files = fi.sequence;
	}
	if (a->probe) {
		a->records++;
		return -ECANCELED;	/* the first record says enough */
	}
	/* Marks wait until a record shows they were not the end of data. */
	for (; a->pending; a->pending--)
		if ((rc = a->mark(a->ctx)) < 0)
			return rc;
	a->records++;
	return a->record(a->ctx, data, len);
}

static int on_mark(void *ctx, uint64_t off)
{
	struct reel_append *a = ctx;
	(void)off;
	a->marks++;
	a->pending++;
	return 0;
}

int reel_append_copy(struct reel_append *a, bool probe)
{
	char err[XFER_ERRLEN] = "";
	int rc = reel_exists(a->url, a->xo, err, sizeof(err));

	a->existed = false;
	a->probe = probe;
	a->labelled = false;
	a->volid[0] = '\0';
	a->files = 0;
	a->records = a->marks = 0;
	a->pending = 0;
	if (rc == -ENOENT)
		return 0;	/* a new tape: nothing to copy */
	if (rc < 0) {
		reel_error("--append: %s", err[0] ? err : strerror(-rc));
		return rc;
	}
	struct reel_src *src = reel_src_open(a->url, a->xo, err, sizeof(err));
	if (!src) {
		reel_error("--append: %s", err[0] ? err : "cannot read the tape.");
		return -EIO;
	}
	a->existed = true;
	struct reel_copy_in in = {
		.name = a->url, .record = on_record, .mark = on_mark, .ctx = a,
	};
	rc = reel_copy_read(&in, src);
	reel_src_close(src);
	if (probe && rc == -ECANCELED)
		return 0;
	if (rc < 0 || probe)
		return rc;
	/* The last file's own mark; the marks after it were end of data. */
	a->pending = 0;
	if (a->records && (rc = a->mark(a->ctx)) < 0)
		return rc;
	return 0;
}
