/*
 * cmd_send_record.c - where `reel send`'s records and tape marks go: the
 * stdout encoder, or the open reel's volume. A full reel of an unlabelled
 * storeset hands the record that did not fit whole to the next reel.
 *
 * A record is either written whole or refused with a sentence; a
 * labelled storeset's reel always keeps room for the labels that end it.
 */
#include "cmd_send.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int send_stdout_sink(void *ctx, const struct tape_slice *v, int n)
{
	struct iovec iov[16];
	(void)ctx;
	while (n > 0) {
		int k = n < 16 ? n : 16;
		for (int i = 0; i < k; i++) {
			iov[i].iov_base = (void *)v[i].base;
			iov[i].iov_len = v[i].len;
		}
		int first = 0;
		while (first < k) {
			ssize_t w = writev(1, iov + first, k - first);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			while (first < k && (size_t)w >= iov[first].iov_len) {
				w -= (ssize_t)iov[first].iov_len;
				first++;
			}
			if (first < k) {
				iov[first].iov_base = (char *)iov[first].iov_base + w;
				iov[first].iov_len -= (size_t)w;
			}
		}
		v += k;
		n -= k;
	}
	return 0;
}

/* One sentence for a failed stdout image: the cause in words (a reader
 * that went away is EPIPE), then the encoder's account of where. */
void send_stdout_failed(struct send *s, int rc)
{
	reel_error("writing the image to stdout failed (%s): %s; the image is "
		   "incomplete.", strerror(-rc), tape_enc_error(s->enc));
}

int send_put_record(void *ctx, const void *rec, size_t len)
{
	struct send *s = ctx;
	int rc;

	if (s->enc) {
		rc = tape_enc_record(s->enc, rec, len);
		if (rc < 0) {
			send_stdout_failed(s, rc);
			return rc;
		}
		return 0;
	}
	/* A labelled storeset: refuse (quietly, nothing written) a record
	 * that would leave too little room to end the reel with its labels;
	 * the label writer stays usable and send_emit_record changes reels. */
	if (s->labelled && s->capacity && !s->switching &&
	    vol_check_room(s->vol, len + reel_lab_reserve_bytes(&s->lab)) == -ENOSPC)
		return -ENOSPC;
	for (;;) {
		rc = vol_record(s->vol, rec, len);
		if (rc == 0) {
			s->last_was_mark = false;
			s->reel_records++;
			return 0;
		}
		struct vol_status st;
		vol_get_status(s->vol, &st);
		if (rc != -ENOSPC || st.last_error[0]) {
			reel_error("%s", st.last_error[0] ? st.last_error : strerror(-rc));
			return rc;
		}
		if (s->reel_records == 0) {
			reel_error("a record of %zu bytes does not fit on an empty reel of "
				   "%" PRIu64 " bytes (--capacity).", len, s->capacity);
			return -ENOSPC;
		}
		if (s->labelled) {
			reel_error("%s has no room left for the labels that end it.",
				   vol_url(s->vol));
			return -ENOSPC;
		}
		if ((rc = send_next_reel(s)) < 0)
			return rc;
	}
}

int send_put_mark(struct send *s)
{
	if (s->enc) {
		int rc = tape_enc_mark(s->enc);
		if (rc < 0)
			send_stdout_failed(s, rc);
		return rc;
	}
	int rc = vol_mark(s->vol);
	if (rc < 0) {
		reel_error("%s", vol_error(s->vol));
		return rc;
	}
	s->last_was_mark = true;
	return 0;
}
