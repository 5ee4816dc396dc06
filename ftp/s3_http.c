/*
 * s3_http.c - one signed S3 request over the backend's libcurl handle
 * (connections are reused between requests), the gateway's answers made
 * into sentences and errnos, and SHA-256 of request bodies.
 *
 * libcurl signs (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3"); it needs from us
 * x-amz-content-sha256 (RGW answers 403 to a request without it), a query
 * string with its parameters sorted and "%XX" upper case (it signs the
 * query exactly as written), and a Content-Length on uploads (chunked
 * gets 411). The secret key is given to libcurl only; the debug log masks
 * the Authorization header (it names the access key, never the secret).
 */
#include "s3_int.h"
#include "log.h"
#include "safetext.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char EMPTY_SHA[] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/* ---- SHA-256 (OpenSSL's: SHA-NI where the CPU has it) ------------------- */

static void hex32(const unsigned char *d, char out[65])
{
	static const char h[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = h[d[i] >> 4];
		out[2 * i + 1] = h[d[i] & 15];
	}
	out[64] = '\0';
}

void xs3_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char d[32];
	unsigned int dl = 32;

	EVP_Digest(p, n, d, &dl, EVP_sha256(), NULL);
	hex32(d, out);
}

/* [from, from+n) must be held in q and not be overwritten meanwhile (the
 * sender owns those bytes: they are at or after its position). */
void xs3_sha256_queue(struct xq *q, uint64_t from, uint64_t n, char out[65])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char d[32];
	unsigned int dl = 32;

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while (n) {
		uint64_t off = from % q->cap, k = n;
		if (k > q->cap - off)
			k = q->cap - off;
		EVP_DigestUpdate(c, q->buf + off, (size_t)k);
		from += k;
		n -= k;
	}
	EVP_DigestFinal_ex(c, d, &dl);
	EVP_MD_CTX_free(c);
	hex32(d, out);
}

char *xs3_encode(const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(3 * strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) ||
		    (keep_slash && *p == '/')) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

bool xs3_sleep(struct xq *q, double secs)
{
	double end = xnow() + secs;

	for (;;) {
		if (q) {
			pthread_mutex_lock(&q->mu);
			bool c = q->cancel;
			pthread_mutex_unlock(&q->mu);
			if (c)
				return false;
		}
		double left = end - xnow();
		if (left <= 0)
			return true;
		if (left > 0.05)
			left = 0.05;
		struct timespec ts = { 0, (long)(left * 1e9) };
		nanosleep(&ts, NULL);
	}
}

/* ---- callbacks ---------------------------------------------------------- */

struct call {
	struct xs3 *s;
	struct xs3_req *r;
	uint64_t q_left;	/* body bytes still to read from the queue */
	size_t mem_off;
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct call *c = ctx;
	struct xs3_req *r = c->r;
	size_t want = size * nitems;

	if (!r->q) {
		size_t left = r->body_len - c->mem_off;
		if (want > left)
			want = left;
		memcpy(buf, (const char *)r->body + c->mem_off, want);
		c->mem_off += want;
		return want;
	}
	if (want > c->q_left)
		want = (size_t)c->q_left;
	if (want == 0)
		return 0;
	const void *p;
	size_t n;
	if (xq_peek(r->q, &p, &n) || n == 0)
		return CURL_READFUNC_ABORT;	/* cancelled */
	if (n > want)
		n = want;
	memcpy(buf, p, n);
	xq_advance(r->q, n);
	c->q_left -= n;
	return n;
}

static size_t on_write(char *p, size_t size, size_t n, void *ctx)
{
	struct call *c = ctx;
	struct xs3_req *r = c->r;
	size_t len = size * n;
	long st = 0;

	curl_easy_getinfo(c->s->h, CURLINFO_RESPONSE_CODE, &st);
	if (r->cb && st >= 200 && st < 300) {
		int rc = r->cb(r->cb_ctx, p, len);
		if (rc) {
			r->cb_rc = rc;
			return 0;	/* stops the transfer */
		}
		r->delivered += len;
		return len;
	}
	/* Kept for parsing: an error document, a listing. */
	size_t max = r->keep_max ? r->keep_max : 64 * 1024;
	if (r->resp_len + len > max)
		len = max > r->resp_len ? max - r->resp_len : 0;
	if (r->resp_len + len + 1 > r->resp_cap) {
		size_t nc = (r->resp_len + len + 1) * 2;
		if (nc > max + 1)
			nc = max + 1;
		char *nb = realloc(r->resp, nc);
		if (!nb)
			return 0;
		r->resp = nb;
		r->resp_cap = nc;
	}
	memcpy(r->resp + r->resp_len, p, len);
	r->resp_len += len;
	r->resp[r->resp_len] = '\0';
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct call *c = ctx;
	size_t len = size * n;

	if (len > 5 && !strncasecmp(p, "ETag:", 5)) {
		const char *v = p + 5;
		size_t l = len - 5;
		while (l && (*v == ' ' || *v == '\t')) {
			v++;
			l--;
		}
		while (l && (v[l - 1] == '\r' || v[l - 1] == '\n' || v[l - 1] == ' '))
			l--;
		if (l < sizeof(c->r->etag)) {
			memcpy(c->r->etag, v, l);
			c->r->etag[l] = '\0';
		}
	} else if (len > 5 && !strncmp(p, "HTTP/", 5)) {
		c->r->etag[0] = '\0';	/* a new response (after 100) */
	}
	return len;
}

static int on_debug(CURL *h, curl_infotype t, char *data, size_t n, void *ctx)
{
	struct call *c = ctx;
	const char *tag = t == CURLINFO_TEXT ? "*" : t == CURLINFO_HEADER_IN ? "<" :
			  t == CURLINFO_HEADER_OUT ? ">" : NULL;
	(void)h;

	if (!tag)
		return 0;
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t l = nl ? (size_t)(nl - data) : n, adv = nl ? l + 1 : l;
		char line[600];

		while (l && data[l - 1] == '\r')
			l--;
		if (l) {
			if (t == CURLINFO_HEADER_OUT && c->s->debug != XFER_DEBUG_SENSITIVE &&
			    l > 14 && !strncasecmp(data, "Authorization:", 14))
				rlog(RLOG_INFO, "s3 > Authorization: ****");
			else {
				safetext_render(line, sizeof(line), data, l);
				rlog(RLOG_INFO, "s3 %s %s", tag, line);
			}
		}
		data += adv;
		n -= adv;
	}
	return 0;
}

/* ---- one request -------------------------------------------------------- */

void xs3_req_free(struct xs3_req *r)
{
	free(r->resp);
	r->resp = NULL;
	r->resp_len = r->resp_cap = 0;
}

static int curl_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

int xs3_perform(struct xs3 *s, struct xs3_req *r, char *err, size_t errlen)
{
	CURL *h = s->h;
	struct call c = { s, r, r->q ? r->body_len : 0, 0 };
	struct curl_slist *hd = NULL;
	char hdr[128], url_sha[65], *path, *url;
	const char *sha = r->sha_hex;
	int rc;

	xs3_req_free(r);
	r->status = 0;
	r->etag[0] = r->errbuf[0] = '\0';
	r->has_length = false;
	r->mtime = 0;
	r->delivered = 0;
	r->cb_rc = 0;
	if (!sha) {
		if (r->body && r->body_len) {
			xs3_sha256_hex(r->body, r->body_len, url_sha);
			sha = url_sha;
		} else {
			sha = EMPTY_SHA;
		}
	}
	path = r->key ? xs3_encode(r->key, true) : strdup("");
	if (!path)
		return xerr(err, errlen, -ENOMEM, "out of memory");
	if (asprintf(&url, "%s/%s%s%s%s%s", s->endpoint, s->bucket, r->key ? "/" : "",
		     path, r->query ? "?" : "", r->query ? r->query : "") < 0) {
		free(path);
		return xerr(err, errlen, -ENOMEM, "out of memory");
	}
	free(path);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, s->connect_timeout);
	/* A stall: less than one byte a second for --stall-timeout. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, s->stall_timeout);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, s->id);
	curl_easy_setopt(h, CURLOPT_PASSWORD, s->secret);
	curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
	if (s->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, s->cacert);
	if (s->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &c);
	if (s->debug != XFER_DEBUG_NONE) {
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
		curl_easy_setopt(h, CURLOPT_DEBUGDATA, &c);
	}
	snprintf(hdr, sizeof(hdr), "x-amz-content-sha256: %s", sha);
	hd = curl_slist_append(hd, hdr);
	/* Never an empty header ("Expect:" to drop 100-continue): libcurl
	 * 7.88 signs it although it is not sent (SignatureDoesNotMatch).
	 * The gateway answers 100 at once. */
	if (r->range) {
		snprintf(hdr, sizeof(hdr), "Range: %s", r->range);
		hd = curl_slist_append(hd, hdr);
	}
	if (!strcmp(r->method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &c);
		curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
	} else if (!strcmp(r->method, "POST")) {
		hd = curl_slist_append(hd, "Content-Type: application/xml");
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "");
	} else if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	r->cc = curl_easy_perform(h);
	curl_slist_free_all(hd);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	{
		curl_off_t cl = -1, ft = -1;
		curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (cl >= 0) {
			r->length = (uint64_t)cl;
			r->has_length = true;
		}
		curl_easy_getinfo(h, CURLINFO_FILETIME_T, &ft);
		r->mtime = ft > 0 ? (time_t)ft : 0;
	}
	if (r->cb_rc)
		return r->cb_rc;
	if (r->cc != CURLE_OK) {
		rc = curl_errno(r->cc);
		const char *why = r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->cc);
		if (rc == -ECONNREFUSED)
			return xerr(err, errlen, rc, "cannot connect to the gateway %s "
				    "(%s)", s->endpoint, why);
		return xerr(err, errlen, rc, "the connection to the gateway %s "
			    "failed (%s)", s->endpoint, why);
	}
	return 0;
}

/* ---- the gateway's answers ---------------------------------------------- */

int xs3_status_error(struct xs3 *s, struct xs3_req *r, const char *what,
		     char *err, size_t errlen)
{
	struct xs3_error e;
	char msg[300] = "", code[80] = "";
	long st = r->status;
	bool have = xs3_parse_error(r->resp, r->resp_len, &e);

	if (have) {
		safetext(e.code, code, sizeof(code));
		if (e.message[0]) {
			char m[280];
			snprintf(msg, sizeof(msg), ": %s", safetext(e.message, m, sizeof(m)));
		}
	}
	if (!strcmp(code, "InvalidAccessKeyId"))
		return xerr(err, errlen, -EACCES, "%s: the gateway does not know the "
			    "access key %s (InvalidAccessKeyId); check "
			    "AWS_ACCESS_KEY_ID or the profile's aws_access_key_id",
			    what, s->id);
	if (!strcmp(code, "SignatureDoesNotMatch"))
		return xerr(err, errlen, -EACCES, "%s: the gateway refused the "
			    "signature (SignatureDoesNotMatch): the secret key for "
			    "%s is wrong; check AWS_SECRET_ACCESS_KEY or the "
			    "profile's aws_secret_access_key", what, s->id);
	if (!strcmp(code, "RequestTimeTooSkewed"))
		return xerr(err, errlen, -EACCES, "%s: this machine's clock and the "
			    "gateway's differ by more than 15 minutes "
			    "(RequestTimeTooSkewed), so it refuses every signed "
			    "request; set the clock (NTP)", what);
	if (!strcmp(code, "NoSuchBucket"))
		return xerr(err, errlen, -ENOENT, "%s: the bucket %s does not exist "
			    "on %s (NoSuchBucket); create it first", what, s->bucket,
			    s->endpoint);
	if (!strcmp(code, "QuotaExceeded") || !strcmp(code, "EntityTooLarge"))
		return xerr(err, errlen, -ENOSPC, "%s: the gateway refused more data "
			    "(%s%s)", what, code, msg);
	if (!strcmp(code, "NoSuchKey") || !strcmp(code, "NoSuchUpload") ||
	    (st == 404 && !have))
		return xerr(err, errlen, -ENOENT, "%s: no such object (%s)", what,
			    have ? code : "HTTP 404");
	if (!strcmp(code, "AccessDenied") || (st == 403 && !have))
		return xerr(err, errlen, -EACCES, "%s: access denied (%s%s): the key "
			    "%s may not do this, or (without a reason given) the "
			    "secret key is wrong or the clock is off", what,
			    have ? code : "HTTP 403", msg, s->id);
	if (st >= 500 || !strcmp(code, "SlowDown") || !strcmp(code, "RequestTimeout"))
		return xerr(err, errlen, -EAGAIN, "%s: the gateway failed (HTTP %ld%s%s%s)",
			    what, st, have ? " " : "", code, msg);
	return xerr(err, errlen, -EIO, "%s: the gateway answered HTTP %ld%s%s%s",
		    what, st, have ? " " : "", code, msg);
}
