/*
 * s3_send.c - a streamed upload to S3 as one multipart upload. Parts are
 * cut from the upload queue: the sender waits until a whole part (or the
 * end of the stream) is queued, hashes it in place (its SHA-256 goes in
 * x-amz-content-sha256, which the gateway checks), and PUTs it with its
 * Content-Length. A part that fails is sent again from the queue: the
 * queue's replay window is one part (xs3_plan), so the bytes are still
 * there, and a part is idempotent, so a dropped connection costs one part.
 * CompleteMultipartUpload is the atomic publish (no NAME.part object);
 * an upload that is given up, abandoned or not completed is aborted.
 *
 * To the generic upload code (upload.c, up_send.c, up_publish.c,
 * up_salvage.c) the upload in progress is "NAME.part": its size is the
 * bytes of the parts the gateway acknowledged, and renaming it to NAME
 * completes the upload.
 */
#include "s3_int.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool transient(int rc)
{
	return rc == -EAGAIN || rc == -ECONNREFUSED || rc == -ETIMEDOUT;
}

static double delay(int attempt)
{
	double d = 0.25 * (double)(1u << (attempt < 6 ? attempt : 6));

	return d > 8 ? 8 : d;
}

/*
 * Waits until a whole part is queued after `start` (*avail = part) or the
 * stream ended (*avail = what is left, maybe 0). A sync (xfer_upload_sync:
 * a tape's close or fsync) is answered at once: a part cannot be sent
 * before it is full (S3 wants 5 MiB), so "left the process" means here
 * that every byte queued is held for its part and every full part before
 * it was acknowledged by the gateway.
 */
static int wait_part(struct xq *q, uint64_t start, uint64_t part,
		     uint64_t *avail, bool *last)
{
	int rc = 0;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		if (q->cancel) {
			rc = -ECANCELED;
			break;
		}
		uint64_t have = q->head - start;
		if (have >= part) {
			*avail = part;
			*last = q->closed && have == part;
			break;
		}
		if (q->closed) {
			*avail = have;
			*last = true;
			break;
		}
		if (q->flush_to > q->wire) {
			q->wire = q->head;
			q->flush_to = 0;
			pthread_cond_broadcast(&q->flushed);
		}
		q->want = part;
		pthread_cond_wait(&q->data, &q->mu);
		q->want = 0;
	}
	q->want = 0;
	pthread_mutex_unlock(&q->mu);
	return rc;
}

/* Everything queued has reached the gateway in acknowledged parts. */
static void all_sent(struct xq *q)
{
	pthread_mutex_lock(&q->mu);
	q->wire = q->head;
	q->flush_to = 0;
	pthread_cond_broadcast(&q->flushed);
	pthread_mutex_unlock(&q->mu);
}

static bool cancelled(struct xq *q)
{
	pthread_mutex_lock(&q->mu);
	bool c = q->cancel;
	pthread_mutex_unlock(&q->mu);
	return c;
}

static char *key_of(struct xs3 *s)
{
	char *k;

	return asprintf(&k, "%s%s", s->prefix, s->name) < 0 ? NULL : k;
}

static int initiate(struct xs3 *s, char *err, size_t errlen)
{
	struct xs3_req r = { .method = "POST", .query = "uploads=" };
	char *key = key_of(s);
	int rc, attempt = 0;

	if (!key)
		return xerr(err, errlen, -ENOMEM, "out of memory");
	r.key = key;
	for (;;) {
		rc = xs3_perform(s, &r, err, errlen);
		if (!rc && r.status == 200) {
			s->upload_id = xs3_parse_upload_id(r.resp, r.resp_len);
			if (!s->upload_id)
				rc = xerr(err, errlen, -EIO, "starting the multipart "
					  "upload: the gateway's answer has no UploadId");
			break;
		}
		if (!rc)
			rc = xs3_status_error(s, &r, "starting the multipart upload",
					      err, errlen);
		if (!transient(rc) || rc == -ECONNREFUSED || attempt >= s->retries)
			break;
		xs3_sleep(NULL, delay(attempt++));
	}
	xs3_req_free(&r);
	free(key);
	return rc;
}

static int keep_etag(struct xs3 *s, unsigned number, const char *etag,
		     uint64_t len)
{
	if (number > s->etag_cap) {
		unsigned nc = s->etag_cap ? 2 * s->etag_cap : 64;
		while (nc < number)
			nc *= 2;
		char **ne = realloc(s->etags, nc * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		s->etags = ne;
		uint64_t *nl = realloc(s->part_len, nc * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		s->part_len = nl;
		for (unsigned i = s->etag_cap; i < nc; i++)
			s->etags[i] = NULL;
		s->etag_cap = nc;
	}
	free(s->etags[number - 1]);
	s->etags[number - 1] = strdup(etag);
	s->part_len[number - 1] = len;
	return s->etags[number - 1] ? 0 : -ENOMEM;
}

/* PUTs [start, start+len) of q (or nothing, q NULL) as part `number`,
 * sending it again from memory after a failure, within --retries. */
static int put_part(struct xs3 *s, struct xq *q, unsigned number,
		    uint64_t start, uint64_t len, char *err, size_t errlen)
{
	char sha[65], *id = xs3_encode(s->upload_id, false), *key = key_of(s);
	char query[512], what[96];
	int rc = 0, attempt = 0;

	if (!id || !key) {
		free(id);
		free(key);
		return xerr(err, errlen, -ENOMEM, "out of memory");
	}
	snprintf(query, sizeof(query), "partNumber=%u&uploadId=%s", number, id);
	snprintf(what, sizeof(what), "part %u (bytes %llu to %llu)", number,
		 (unsigned long long)start, (unsigned long long)(start + len));
	if (q && len)
		xs3_sha256_queue(q, start, len, sha);
	else
		xs3_sha256_hex("", 0, sha);
	for (;;) {
		struct xs3_req r = { .method = "PUT", .key = key, .query = query,
				     .q = len ? q : NULL, .body = "", .body_len = len,
				     .sha_hex = sha };
		if (q && len && xq_rewind(q, start)) {
			rc = xerr(err, errlen, -EIO, "%s: its bytes are no longer "
				  "in memory, so it cannot be sent again", what);
			break;
		}
		rc = xs3_perform(s, &r, err, errlen);
		if (q && cancelled(q))
			rc = -ECANCELED;
		else if (!rc && r.status == 200 && r.etag[0])
			rc = keep_etag(s, number, r.etag, len);
		else if (!rc && r.status == 200)
			rc = xerr(err, errlen, -EIO, "%s: the gateway's answer has no "
				  "ETag", what);
		else if (!rc)
			rc = xs3_status_error(s, &r, what, err, errlen);
		else if (rc != -ECANCELED) {
			char e2[XFER_ERRLEN];
			snprintf(e2, sizeof(e2), "%s", err);
			xerr(err, errlen, rc, "%s: %s", what, e2);
		}
		xs3_req_free(&r);
		if (!transient(rc))
			break;
		if (attempt >= s->retries) {
			char e2[XFER_ERRLEN];
			snprintf(e2, sizeof(e2), "%s", err);
			rc = xerr(err, errlen, -EIO, "%s; gave up after %d attempt%s "
				  "(--retries)", e2, attempt + 1, attempt ? "s" : "");
			break;
		}
		double d = delay(attempt++);
		rlog(RLOG_WARN, "%s%s%s: %s; sending the part again from memory in "
		     "%.2g s (attempt %d of %d)", s->display, s->prefix, s->name,
		     err, d, attempt, s->retries);
		if (!xs3_sleep(q, d)) {
			rc = -ECANCELED;
			break;
		}
	}
	free(id);
	free(key);
	return rc;
}

int xs3_send(void *st, const char *name, uint64_t offset, struct xq *q,
	     const struct xsend_hooks *h, char *err, size_t errlen)
{
	struct xs3 *s = st;
	int rc;

	if (!s->part_name || strcmp(name, s->part_name) || offset != s->done_bytes)
		return xerr(err, errlen, -EIO, "the S3 backend was asked to resume "
			    "%s at byte %llu, which it does not do", name,
			    (unsigned long long)offset);
	if (s->stale_id && !s->upload_id) {
		/* A leftover the overwrite policy let this upload replace. */
		s->upload_id = s->stale_id;
		s->stale_id = NULL;
		xs3_abort(s);
	}
	if (!s->upload_id && (rc = initiate(s, err, errlen)))
		return rc;
	if (h && h->ready)
		h->ready(h->ctx);
	for (;;) {
		uint64_t start = s->done_bytes, avail = 0;
		bool last = false;
		if ((rc = wait_part(q, start, s->part_size, &avail, &last)))
			return rc;
		if (avail == 0 && last && s->nparts > 0)
			break;
		if (s->nparts + 1 == XS3_MAX_PARTS && !last)
			return xerr(err, errlen, -ENOSPC, "%u parts of %llu bytes are "
				    "the most one S3 object holds (EntityTooLarge); "
				    "give a larger --s3-part-size or --capacity",
				    XS3_MAX_PARTS, (unsigned long long)s->part_size);
		if ((rc = put_part(s, q, s->nparts + 1, start, avail, err, errlen)))
			return rc;
		s->nparts++;
		s->done_bytes += avail;
		if (h && h->tick)
			h->tick(h->ctx);
		if (last)
			break;
	}
	all_sent(q);
	return 0;
}

int xs3_complete(struct xs3 *s, char *err, size_t errlen)
{
	char *id, *key, query[512], *xml;
	size_t cap, len = 0;
	int rc;

	if (s->completed)
		return 0;
	if (!s->upload_id)
		return xerr(err, errlen, -ENOENT, "no multipart upload is in progress");
	/* Zero parts is not an upload S3 completes: one empty part makes an
	 * empty object (the writer wrote nothing, or the quota refused the
	 * first part). */
	if (s->nparts == 0) {
		if ((rc = put_part(s, NULL, 1, 0, 0, err, errlen)))
			return rc;
		s->nparts = 1;
	}
	cap = 64 + (size_t)s->nparts * 224;
	xml = malloc(cap);
	id = xs3_encode(s->upload_id, false);
	key = key_of(s);
	if (!xml || !id || !key) {
		free(xml);
		free(id);
		free(key);
		return xerr(err, errlen, -ENOMEM, "out of memory");
	}
	len += (size_t)snprintf(xml + len, cap - len, "<CompleteMultipartUpload>");
	for (unsigned i = 0; i < s->nparts; i++)
		len += (size_t)snprintf(xml + len, cap - len, "<Part><PartNumber>%u"
					"</PartNumber><ETag>%.150s</ETag></Part>", i + 1,
					s->etags[i]);
	len += (size_t)snprintf(xml + len, cap - len, "</CompleteMultipartUpload>");
	snprintf(query, sizeof(query), "uploadId=%s", id);
	struct xs3_req r = { .method = "POST", .key = key, .query = query,
			     .body = xml, .body_len = len };
	rc = xs3_perform(s, &r, err, errlen);
	if (!rc) {
		struct xs3_error e;
		/* A 200 may still carry an <Error> (S3 sends the status
		 * before the work is done). */
		if (r.status == 200 && !xs3_parse_error(r.resp, r.resp_len, &e))
			rc = 0;
		else
			rc = xs3_status_error(s, &r, "completing the multipart upload",
					      err, errlen);
	}
	if (rc == -ENOENT && s->tried_complete) {
		/* An earlier Complete went through but its answer was lost:
		 * the object is there with every byte, or it is not. */
		struct xs3_req hr = { .method = "HEAD", .key = key };
		if (xs3_perform(s, &hr, err, errlen) == 0 && hr.status == 200 &&
		    hr.has_length && hr.length == s->done_bytes)
			rc = 0;
		xs3_req_free(&hr);
	}
	s->tried_complete = true;
	xs3_req_free(&r);
	free(xml);
	free(id);
	free(key);
	if (!rc) {
		s->completed = true;
		free(s->upload_id);
		s->upload_id = NULL;
	}
	return rc;
}

void xs3_abort(struct xs3 *s)
{
	char *id, *key, query[512], e[XFER_ERRLEN];

	if (!s->upload_id || s->completed)
		return;
	id = xs3_encode(s->upload_id, false);
	key = key_of(s);
	if (id && key) {
		snprintf(query, sizeof(query), "uploadId=%s", id);
		struct xs3_req r = { .method = "DELETE", .key = key, .query = query };
		int rc = xs3_perform(s, &r, e, sizeof(e));
		if (!rc && r.status != 204 && r.status != 200 && r.status != 404)
			rc = xs3_status_error(s, &r, "aborting the multipart upload",
					      e, sizeof(e));
		if (rc)
			rlog(RLOG_WARN, "%s%s%s: the unfinished multipart upload %s "
			     "could not be aborted (%s); it stays listed on the "
			     "gateway", s->display, s->prefix, s->name, s->upload_id, e);
		else
			rlog_debug("%s%s%s: multipart upload aborted", s->display,
				   s->prefix, s->name);
		xs3_req_free(&r);
	}
	free(id);
	free(key);
	free(s->upload_id);
	s->upload_id = NULL;
}
