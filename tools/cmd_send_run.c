/*
 * cmd_send_run.c - the transfer loop of `reel send`: opens the target,
 * reads the input in whole blocks, cuts tape files (--tapemark-every),
 * feeds the reblocker and finishes stdout or the last reel.
 *
 * It must never leave a truncated image under the final name: any failure
 * aborts the volume, which leaves NAME.part, and says so.
 */
#include "cmd_send.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Feeds the input to the reblocker, ending a tape file after each
 * mark_every bytes, so file boundaries fall exactly there. */
static int feed(struct send *s, struct tape_reblock *rb, const char *p, size_t n,
		uint64_t *in_file)
{
	while (n) {
		size_t take = n;
		if (s->mark_every && s->mark_every - *in_file < take)
			take = (size_t)(s->mark_every - *in_file);
		int rc = tape_reblock_write(rb, p, take);
		if (rc < 0)
			return rc;
		p += take;
		n -= take;
		*in_file += take;
		if (s->mark_every && *in_file == s->mark_every) {
			if ((rc = tape_reblock_flush(rb)) < 0 || (rc = send_file_mark(s)) < 0)
				return rc;
			*in_file = 0;
		}
	}
	return 0;
}

/* The copying loop: the input read in whole blocks into a buffer and cut
 * into records by the reblocker (every labelled, stdout or --append
 * send, and REELFS_LANDING=0; cmd_send_inplace.c for the rest). */
static int run_copying(struct send *s)
{
	int rc = -ENOMEM;
	uint64_t in_file = 0;
	struct tape_reblock *rb = NULL;
	char *buf = NULL;
	rb = tape_reblock_new((size_t)s->block, s->pad_last, send_emit_record, s);
	/* A whole number of blocks, filled before it is fed: then every full
	 * block leaves the reblocker straight from this buffer, uncopied,
	 * however the pipe happens to cut the stream. */
	size_t bufsize = (size_t)s->block * (REEL_CHUNK / s->block ? REEL_CHUNK / s->block : 1);
	buf = malloc(bufsize);
	if (!rb || !buf)
		goto out;
	(void)fcntl(s->in_fd, F_SETPIPE_SZ, (int)REEL_CHUNK);	/* fewer wake-ups; a hint */
	memcpy(buf, s->head, s->head_len);	/* bufsize >= 256 or the head is all */
	for (bool eof = s->head_eof; !eof || s->head_len;) {
		size_t have = s->head_len;
		s->head_len = 0;
		while (!eof && have < bufsize) {
			ssize_t n = read(s->in_fd, buf + have, bufsize - have);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = -errno;
				reel_error("reading %s failed: %s.", s->in_name, strerror(errno));
				goto out;
			}
			if (n == 0) {
				eof = true;
				break;
			}
			have += (size_t)n;
		}
		if (have && (rc = feed(s, rb, buf, have, &in_file)) < 0)
			goto out;
	}
	rc = tape_reblock_flush(rb);
out:
	if (rc == -ENOMEM && (!rb || !buf))
		reel_error("out of memory.");
	tape_reblock_free(rb);
	free(buf);
	return rc;
}

int send_run(struct send *s, const char *target)
{
	int rc = -ENOMEM;

	if (!strcmp(target, "-")) {
		s->enc = tape_enc_new(s->format, &s->enc_opt, send_stdout_sink, NULL);
		if (!s->enc)
			goto oom;
	} else {
		if (s->append) {
			/* What is there decides what may follow, before
			 * anything is uploaded. */
			s->app.url = target;
			s->app.xo = s->xo;
			s->app.record = send_put_record;
			s->app.mark = send_lab_mark;
			s->app.ctx = s;
			if ((rc = reel_append_copy(&s->app, true)) < 0 ||
			    (rc = send_check_append(s)) < 0)
				return rc;
		}
		if ((rc = send_open_reel(s, 0)) < 0)
			return rc;
		if (s->probe_late && (s->probe_exit = send_probe_input(s)) != 0) {
			rc = -EINVAL;
			goto fail;
		}
	}
	if (s->append && s->app.existed &&
	    (rc = reel_append_copy(&s->app, false)) < 0)
		goto fail;
	if (s->labelled && (rc = send_open_labels(s)) < 0)
		goto fail;
	if (send_in_place_ok(s))
		rc = send_run_in_place(s);
	else
		rc = run_copying(s);
	if (rc < 0)
		goto fail;
	if (s->labelled && (rc = reel_lab_finish(&s->lab)) < 0) {
		send_lab_failed(s);
		goto fail;
	}
	if (s->enc) {
		if ((rc = tape_enc_finish(s->enc)) < 0) {
			send_stdout_failed(s, rc);
			goto fail;
		}
		tape_enc_counts(s->enc, &s->total);
		reel_note("-: %s, %" PRIu64 " file%s, %" PRIu64 " records, %" PRIu64
			  " payload bytes, %" PRIu64 " image bytes, CRC32 payload %08"
			  PRIx32 " image %08" PRIx32 ".", tape_format_name(s->format),
			  s->total.files, s->total.files == 1 ? "" : "s",
			  s->total.records, s->total.payload_bytes,
			  s->total.image_bytes, s->total.payload_crc,
			  s->total.image_crc);
	} else {
		if ((rc = vol_finish(s->vol)) < 0) {
			reel_error("%s", vol_error(s->vol));
			goto fail;
		}
		/* The image is published whatever happens to the correction;
		 * a failed one is still a failure (cat would look for the
		 * unused reel), but no reason to call the image incomplete. */
		int fixed = 0;
		if (s->reel + 1 < s->nurls)
			fixed = send_fix_last_manifest(s);
		send_reel_summary(s, s->vol, s->urls[s->reel]);
		if (s->reel + 1 < s->nurls)
			reel_note("the data fit on %d reel%s; %d --next URL%s not used.",
				  s->reel + 1, s->reel ? "s" : "",
				  s->nurls - s->reel - 1,
				  s->nurls - s->reel - 1 == 1 ? " was" : "s were");
		if (fixed < 0) {
			rc = fixed;
			goto out;
		}
	}
	rc = 0;
	goto out;
oom:
	reel_error("out of memory.");
fail:
	if (s->vol) {
		vol_abort(s->vol);
		reel_error("nothing more was written; %s stays incomplete as %s.part.",
			   vol_url(s->vol), vol_url(s->vol));
	}
out:
	return rc;
}
