/*
 * s3_backend.c - the backend table for s3://BUCKET/KEY targets: open
 * (keys, the gateway, and a signed probe of the bucket, so a wrong key, a
 * wrong secret, a skewed clock or a missing bucket is one sentence before
 * any data), HEAD for stat, ranged GETs for fetch, ListObjectsV2 for list.
 * The upload itself is in s3_send.c.
 */
#include "s3_int.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void s3_close(void *st)
{
	struct xs3 *s = st;

	if (!s)
		return;
	xs3_abort(s);	/* an upload that was never completed */
	free(s->stale_id);
	if (s->h)
		curl_easy_cleanup(s->h);
	for (unsigned i = 0; i < s->etag_cap; i++)
		free(s->etags[i]);
	free(s->etags);
	free(s->part_len);
	free(s->endpoint);
	free(s->bucket);
	free(s->prefix);
	free(s->name);
	free(s->display);
	free(s->sigv4);
	free(s->cacert);
	free(s->part_name);
	free(s);
}

static char *key_for(struct xs3 *s, const char *name)
{
	char *k;

	return asprintf(&k, "%s%s", s->prefix, name) < 0 ? NULL : k;
}

/* A signed ListObjectsV2 of at most one key: proves the keys, the clock
 * and the bucket before anything else happens. */
static int probe(struct xs3 *s, char *err, size_t errlen)
{
	char *key = key_for(s, s->name), *enc = key ? xs3_encode(key, false) : NULL;
	char *query = NULL;
	int rc;

	if (!enc || asprintf(&query, "list-type=2&max-keys=1&prefix=%s", enc) < 0) {
		free(key);
		free(enc);
		return xerr(err, errlen, -ENOMEM, "out of memory");
	}
	struct xs3_req r = { .method = "GET", .query = query };
	rc = xs3_perform(s, &r, err, errlen);
	if (!rc && r.status != 200)
		rc = xs3_status_error(s, &r, "checking the bucket", err, errlen);
	xs3_req_free(&r);
	free(query);
	free(key);
	free(enc);
	return rc;
}

static int s3_open(void **st, const struct xurl *u, const struct xfer_opts *o,
		   bool for_write, char *err, size_t errlen)
{
	struct xs3 *s;
	uint64_t replay;
	int rc;

	*st = NULL;
	if (u->user)
		return xerr(err, errlen, -EINVAL, "an s3:// URL names no user: the "
			    "keys come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
			    "or ~/.aws/credentials (--s3-profile)");
	if (strcmp(u->host, u->hostport) || strlen(u->host) < 3 ||
	    strlen(u->host) > 63 || strchr(u->host, '%'))
		return xerr(err, errlen, -EINVAL, "s3://%s/: give the bucket name "
			    "(3 to 63 characters) after s3://; the gateway's address "
			    "goes in --s3-endpoint", u->hostport);
	pthread_once(&global_once, global_init);
	s = calloc(1, sizeof(*s));
	if (!s)
		return xerr(err, errlen, -ENOMEM, "out of memory");
	s->bucket = strdup(u->host);
	s->name = strdup(u->name);
	/* dir_display is the decoded directory: "/" or "/a/b". */
	s->prefix = strlen(u->dir_display) > 1 ? NULL : strdup("");
	if (!s->prefix && asprintf(&s->prefix, "%s/", u->dir_display + 1) < 0)
		s->prefix = NULL;
	if (asprintf(&s->display, "s3://%s/", u->host) < 0)
		s->display = NULL;
	if (asprintf(&s->sigv4, "aws:amz:%s:s3", o->s3_region ? o->s3_region :
		     "us-east-1") < 0)
		s->sigv4 = NULL;
	if (o->cacert)
		s->cacert = strdup(o->cacert);
	s->h = curl_easy_init();
	if (!s->bucket || !s->name || !s->prefix || !s->display || !s->sigv4 ||
	    !s->h || (o->cacert && !s->cacert)) {
		s3_close(s);
		return xerr(err, errlen, -ENOMEM, "out of memory");
	}
	if (asprintf(&s->part_name, "%s.part", s->name) < 0) {
		s->part_name = NULL;
		s3_close(s);
		return xerr(err, errlen, -ENOMEM, "out of memory");
	}
	s->insecure = o->insecure;
	s->connect_timeout = o->connect_timeout;
	s->stall_timeout = o->stall_timeout;
	s->retries = o->retries;
	s->debug = o->debug;
	if ((rc = xs3_endpoint(o, &s->endpoint, err, errlen)) ||
	    (rc = xs3_credentials(o, &s->id, &s->secret, err, errlen)) ||
	    (for_write && (rc = xs3_plan(o, &s->part_size, &replay, err, errlen))) ||
	    (rc = probe(s, err, errlen))) {
		s3_close(s);
		return rc;
	}
	*st = s;
	return 0;
}

static int s3_reconnect(void *st, char *err, size_t errlen)
{
	(void)st;
	(void)err;
	(void)errlen;
	return 0;	/* every request finds or makes its connection */
}

/*
 * Before this upload starts, "NAME.part" is another unfinished multipart
 * upload of the same key: a writer running now (two mounts of one URL),
 * or one killed outright. Its size is the sum of its parts, so the upload
 * code's check (upload.c, check_partial) refuses it under
 * --overwrite=never and, under always/ask, tells a live one (it grows)
 * from a leftover, which this upload then aborts before it starts.
 */
static int other_upload(struct xs3 *s, uint64_t *size, time_t *mtime,
			char *err, size_t errlen)
{
	char *key = key_for(s, s->name), *enc = key ? xs3_encode(key, false) : NULL;
	char *query = NULL, *id = NULL;
	time_t when = 0;
	int rc;

	if (!enc || asprintf(&query, "prefix=%s&uploads=", enc) < 0) {
		free(key);
		free(enc);
		return xerr(err, errlen, -ENOMEM, "out of memory");
	}
	struct xs3_req r = { .method = "GET", .query = query, .keep_max = 4u << 20 };
	rc = xs3_perform(s, &r, err, errlen);
	if (!rc && r.status == 200)
		id = xs3_parse_uploads(r.resp, r.resp_len, key, &when);
	else if (!rc)
		rc = xs3_status_error(s, &r, "listing unfinished uploads", err, errlen);
	xs3_req_free(&r);
	free(query);
	if (!rc && !id)
		rc = xerr(err, errlen, -ENOENT, "no upload in progress");
	if (!rc) {
		char *eid = xs3_encode(id, false);
		if (!eid || asprintf(&query, "uploadId=%s", eid) < 0)
			query = NULL;
		free(eid);
		struct xs3_req pr = { .method = "GET", .key = key, .query = query,
				      .keep_max = 8u << 20 };
		rc = query ? xs3_perform(s, &pr, err, errlen) : -ENOMEM;
		if (!rc && pr.status == 200)
			*size = xs3_parse_parts_size(pr.resp, pr.resp_len);
		else if (!rc)
			rc = xs3_status_error(s, &pr, "listing its parts", err, errlen);
		xs3_req_free(&pr);
		free(query);
		if (mtime)
			*mtime = when;
		free(s->stale_id);
		s->stale_id = rc ? NULL : id;
		if (rc)
			free(id);
	}
	free(key);
	free(enc);
	return rc;
}

static int s3_stat(void *st, const char *name, uint64_t *size, time_t *mtime,
		   char *err, size_t errlen)
{
	struct xs3 *s = st;
	char *key;
	int rc;

	if (!strcmp(name, s->part_name)) {
		/* The upload in progress: what the gateway acknowledged. */
		if (!s->upload_id)
			return other_upload(s, size, mtime, err, errlen);
		*size = s->done_bytes;
		if (mtime)
			*mtime = 0;
		return 0;
	}
	if (!(key = key_for(s, name)))
		return xerr(err, errlen, -ENOMEM, "out of memory");
	struct xs3_req r = { .method = "HEAD", .key = key };
	rc = xs3_perform(s, &r, err, errlen);
	if (!rc && r.status == 200) {
		*size = r.has_length ? r.length : XFER_SIZE_UNKNOWN;
		if (mtime)
			*mtime = r.mtime;
	} else if (!rc) {
		rc = xs3_status_error(s, &r, name, err, errlen);
		if (rc == -ENOENT)
			xerr(err, errlen, -ENOENT, "no such object");
	}
	xs3_req_free(&r);
	free(key);
	return rc;
}

static int s3_rename(void *st, const char *from, const char *to, bool replace,
		     char *err, size_t errlen)
{
	struct xs3 *s = st;

	if (strcmp(from, s->part_name) || strcmp(to, s->name))
		return xerr(err, errlen, -ENOTSUP, "S3 objects are not renamed");
	if (!replace) {
		uint64_t size;
		char e[XFER_ERRLEN];
		int rc = s3_stat(s, to, &size, NULL, e, sizeof(e));
		if (rc == 0)
			return xerr(err, errlen, -EEXIST, "%s exists", to);
		if (rc != -ENOENT)
			return xerr(err, errlen, rc, "%s", e);
	}
	return xs3_complete(s, err, errlen);
}

static int s3_fetch(void *st, const char *name, uint64_t offset, uint64_t length,
		    int (*cb)(void *ctx, const void *p, size_t n), void *ctx,
		    char *err, size_t errlen)
{
	struct xs3 *s = st;
	char *key, range[80];
	uint64_t got = 0;
	int rc, attempt = 0;

	if (!strcmp(name, s->part_name))
		return xerr(err, errlen, -ENOTSUP, "an S3 multipart upload cannot "
			    "be read before it is completed");
	if (!(key = key_for(s, name)))
		return xerr(err, errlen, -ENOMEM, "out of memory");
	for (;;) {
		uint64_t at = offset + got;
		struct xs3_req r = { .method = "GET", .key = key, .cb = cb,
				     .cb_ctx = ctx };
		if (length)
			snprintf(range, sizeof(range), "bytes=%llu-%llu",
				 (unsigned long long)at,
				 (unsigned long long)(offset + length - 1));
		else
			snprintf(range, sizeof(range), "bytes=%llu-",
				 (unsigned long long)at);
		if (at > 0 || length)
			r.range = range;
		rc = xs3_perform(s, &r, err, errlen);
		got += r.delivered;
		if (!rc && (r.status == 200 || r.status == 206)) {
			if (r.status == 200 && at > 0)
				rc = xerr(err, errlen, -EIO, "the gateway ignored the "
					  "range %s and sent the whole object", range);
		} else if (!rc && r.status == 416) {
			rc = 0;		/* at or past the end: nothing to read */
		} else if (!rc) {
			rc = xs3_status_error(s, &r, "reading", err, errlen);
			if (rc == -ENOENT)
				xerr(err, errlen, -ENOENT, "no such object");
		}
		xs3_req_free(&r);
		if (rc != -EAGAIN && rc != -ETIMEDOUT)
			break;
		if (attempt >= s->retries || (length && got >= length))
			break;
		/* A cut connection: go on from the first byte not delivered. */
		rlog(RLOG_WARN, "%s%s%s: %s; reading on from byte %llu (attempt %d "
		     "of %d)", s->display, s->prefix, name, err,
		     (unsigned long long)(offset + got), attempt + 1, s->retries);
		xs3_sleep(NULL, 0.25 * (double)(1u << (attempt < 5 ? attempt : 5)));
		attempt++;
	}
	free(key);
	return rc;
}

static int s3_list(void *st, struct xfer_entry **v, size_t *n,
		   char *err, size_t errlen)
{
	struct xs3 *s = st;
	char *token = NULL, *pfx = xs3_encode(s->prefix, false);
	size_t cap = 0;
	int rc = 0;

	*v = NULL;
	*n = 0;
	if (!pfx)
		return xerr(err, errlen, -ENOMEM, "out of memory");
	do {
		char *query = NULL, *tok = token ? xs3_encode(token, false) : NULL;
		/* Parameters sorted by name: libcurl signs them as written. */
		if (asprintf(&query, "%s%s%sdelimiter=%%2F&list-type=2&prefix=%s",
			     tok ? "continuation-token=" : "", tok ? tok : "",
			     tok ? "&" : "", pfx) < 0)
			query = NULL;
		free(tok);
		free(token);
		token = NULL;
		if (!query) {
			rc = xerr(err, errlen, -ENOMEM, "out of memory");
			break;
		}
		struct xs3_req r = { .method = "GET", .query = query,
				     .keep_max = 16u << 20 };
		rc = xs3_perform(s, &r, err, errlen);
		if (!rc && r.status == 200)
			rc = xs3_parse_list(r.resp, r.resp_len, s->prefix, v, n, &cap,
					    &token, err, errlen);
		else if (!rc)
			rc = xs3_status_error(s, &r, "listing", err, errlen);
		xs3_req_free(&r);
		free(query);
	} while (!rc && token);
	free(token);
	free(pfx);
	if (rc) {
		xfer_entries_free(*v, *n);
		*v = NULL;
		*n = 0;
		return rc;
	}
	if (*n > 1)
		qsort(*v, *n, sizeof(**v), xlist_sort_cmp);
	return 0;
}

const struct xb_ops xb_s3_ops = {
	.name = "s3",
	.open = s3_open,
	.reconnect = s3_reconnect,
	.stat = s3_stat,
	.send = xs3_send,
	.rename = s3_rename,
	.fetch = s3_fetch,
	.list = s3_list,
	.close = s3_close,
};
