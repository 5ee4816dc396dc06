/*
 * status.c - renders MOUNT/status from a snapshot of the volume and the
 * drive. It only reads snapshots (short locks), so it must never block
 * behind a writer waiting on the upload.
 */
#include "status.h"
#include "drive_lbl.h"
#include "safetext.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *rfs_status_render(struct vol *v, struct drv *d, size_t *len)
{
	struct vol_status vs;
	struct drv_state ds;
	char derr[512];
	vol_get_status(v, &vs);
	drv_get_state(d, &ds);
	bool sticky = drv_last_error(d, derr, sizeof(derr));

	char cap[32], rem[32];
	if (vs.capacity) {
		snprintf(cap, sizeof(cap), "%" PRIu64, vs.capacity);
		snprintf(rem, sizeof(rem), "%" PRIu64, vs.remaining);
	} else {
		snprintf(cap, sizeof(cap), "unlimited");
		snprintf(rem, sizeof(rem), "unlimited");
	}
	const char *state = vol_state_name(vs.state);
	if (ds.chained && !ds.finished)
		state = "chained";
	/* A drive failure first; then the volume's own when it is full or
	 * failed; then the last operation the drive refused. */
	const char *err = vs.last_error;
	bool vol_says = vs.last_error[0] &&
			(vs.state == VOL_FULL || vs.state == VOL_FAILED);
	if (sticky || (derr[0] && !vol_says))
		err = derr;
	/* last_error quotes servers and names; the URL may hold any byte a
	 * file name can: both are rendered safe (`cat status` in a terminal). */
	char err_safe[4096], url_safe[8192];
	safetext(err, err_safe, sizeof(err_safe));
	safetext(vol_url(v), url_safe, sizeof(url_safe));
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	if (!f)
		return NULL;
	fprintf(f, "url: %s\nformat: %s\nstate: %s\nfiles: %" PRIu64
		"\nrecords: %" PRIu64 "\nbytes: %" PRIu64 "\nimage_bytes: %"
		PRIu64 "\nsent: %" PRIu64 "\nconfirmed: %" PRIu64
		"\nrate: %.0f\ncapacity: %s\nremaining: %s\nreconnects: %u\n"
		"last_error: %s\nin_place: %" PRIu64 "\n",
		url_safe, tape_format_name(vol_format(v)), state,
		vs.counts.files, vs.counts.records, vs.counts.payload_bytes,
		vs.counts.image_bytes, vs.xfer.sent, vs.xfer.confirmed,
		vs.xfer.rate_now, cap, rem, vs.xfer.reconnects, err_safe,
		ds.in_place);
	char changer[256];
	if (drv_changer_line(d, changer, sizeof(changer)))
		fprintf(f, "changer: %s\n", changer);	/* --magazine */
	/* A labelled drive (--label, or made one by a hand-over). */
	char volid[8];
	drv_lbl_volid(d, volid, sizeof(volid));
	if (volid[0])
		fprintf(f, "label: %s\nlabelled_files: %zu\n", volid,
			drv_lbl_count(d));
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	*len = n;
	return out;
}
