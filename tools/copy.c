/*
 * copy.c - reads a tape image from a source (path, '-', file://, a server)
 * through the streaming decoder and hands each record and tape mark, in
 * order, to the caller: what `reel cp` and `reel send --append` copy from.
 *
 * It holds one read buffer (REEL_CHUNK) and the decoder's one record,
 * whatever the size of the tape, and it never spools anything to disk.
 * Every failure is told once, as a sentence naming the source.
 */
#include "reel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int on_event(void *ctx, const struct tape_event *ev)
{
	struct reel_copy_in *c = ctx;
	switch (ev->kind) {
	case TAPE_EV_RECORD:
		return c->record(c->ctx, ev->data, ev->len, ev->offset);
	case TAPE_EV_MARK:
		return c->mark(c->ctx, ev->offset);
	case TAPE_EV_EOM:
		/* Nothing after an end-of-medium marker is tape. */
		c->eom = true;
		return 0;
	case TAPE_EV_ERROR:
		return 0;	/* the push returns -EILSEQ; told below */
	}
	return 0;
}

int reel_copy_read(struct reel_copy_in *c, struct reel_src *src)
{
	char *shown = reel_display(c->name);
	char *buf = malloc(REEL_CHUNK);
	struct tape_dec *d = NULL;
	ssize_t n = 0;
	size_t have = 0;
	int rc = -ENOMEM;

	c->eom = false;
	c->used = NULL;
	if (!buf || !shown) {
		reel_error("out of memory.");
		goto out;
	}
	/* A fair first sample for sniffing the format. */
	n = reel_src_fill(src, buf, REEL_SNIFF_BYTES);
	if (n < 0)
		goto io_error;
	have = (size_t)n;
	c->used = c->format ? c->format : reel_pick_format(c->name, buf, have);
	if (!c->used) {
		reel_error("%s is not a tape image: its first bytes match none of the "
			   "formats %s (name one with --from-format if it is).",
			   shown, tape_format_names());
		rc = -EINVAL;
		goto out;
	}
	d = tape_dec_new(c->used, on_event, c);
	if (!d) {
		reel_error("out of memory.");
		goto out;
	}
	n = (ssize_t)have;
	while (n > 0 && !c->eom) {
		rc = tape_dec_push(d, buf, (size_t)n);
		if (rc == -EILSEQ) {
			reel_error("%s is damaged: %s", shown, tape_dec_error(d));
			goto out;
		}
		if (rc < 0)
			goto out;	/* the callback said why */
		n = reel_src_read(src, buf, REEL_CHUNK);
		if (n < 0)
			goto io_error;
	}
	if (!c->eom && tape_dec_end(d) < 0) {
		reel_error("%s is damaged: %s", shown, tape_dec_error(d));
		rc = -EILSEQ;
		goto out;
	}
	tape_dec_counts(d, &c->counts);
	rc = 0;
	goto out;
io_error:
	reel_error("%s", reel_src_error(src));
	rc = (int)n;
out:
	tape_dec_free(d);
	free(buf);
	free(shown);
	return rc;
}
