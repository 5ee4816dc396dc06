/*
 * verify_labels.h - `reel verify` on a labelled tape: the ANSI labels the
 * image holds (read by the decoding scan) against those its manifest
 * recorded (docs/manifest.md, "labels").
 */
#ifndef REEL_VERIFY_LABELS_H
#define REEL_VERIFY_LABELS_H

#include "reel.h"

/* Calls say(ctx, sentence) for each difference between got (the image's
 * labels) and the manifest's labels (m->labels_recorded must be true);
 * returns how many. At most a few sentences: the first section that
 * differs stops the comparison. */
int reel_verify_labels(const struct reel_labels *got, const struct tape_manifest *m,
		       void (*say)(void *ctx, const char *msg), void *ctx);
/* "labels: volume VOL001, 3 labelled file sections" (and the first label
 * problem) into buf, for verify's report; "" for an unlabelled tape. */
void reel_verify_labels_line(const struct reel_labels *got, char *buf, size_t len);

#endif
