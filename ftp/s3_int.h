/*
 * s3_int.h - what the S3 backend's files share (s3_creds.c, s3_http.c,
 * s3_xml.c, s3_backend.c, s3_send.c). The backend speaks path-style S3
 * (what Ceph RGW and MinIO want on premises) through libcurl, which signs
 * every request (CURLOPT_AWS_SIGV4); we only send x-amz-content-sha256.
 */
#ifndef REELFS_S3_INT_H
#define REELFS_S3_INT_H

#include "xfer_int.h"

#include <curl/curl.h>

#define XS3_MIN_PART (5ULL << 20)	/* S3's minimum for all but the last */
#define XS3_DEFAULT_PART (16ULL << 20)
#define XS3_MAX_PARTS 10000

/* ---- credentials and endpoint (s3_creds.c) ------------------------------ */

/* Called by xfer_secrets_init: takes AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY out of the environment (wiping their bytes). */
void xs3_take_env(void);
/* The key pair: the environment's (taken at start), else the profile
 * (--s3-profile, else AWS_PROFILE, else "default") of ~/.aws/credentials
 * (or AWS_SHARED_CREDENTIALS_FILE), which group and others must not be
 * able to read. Both borrowed, alive until exit. */
int xs3_credentials(const struct xfer_opts *o, const char **id,
		    const char **secret, char *err, size_t errlen);
/* --s3-endpoint, else REELFS_S3_ENDPOINT: "http[s]://host[:port]" without
 * a trailing slash, malloc'd. */
int xs3_endpoint(const struct xfer_opts *o, char **out, char *err, size_t errlen);
/* The part size for an upload and the replay window it needs (one part),
 * checked against --buffer (a part in flight plus a part being filled). */
int xs3_plan(const struct xfer_opts *o, uint64_t *part, uint64_t *replay,
	     char *err, size_t errlen);

/* ---- XML (s3_xml.c, expat) ---------------------------------------------- */

struct xs3_error {
	char code[64];
	char message[256];
};
/* <Error><Code>..</Code><Message>..</Message></Error>: 1 found, 0 not an
 * error document. */
int xs3_parse_error(const char *body, size_t len, struct xs3_error *e);
/* <InitiateMultipartUploadResult><UploadId>: malloc'd, or NULL. */
char *xs3_parse_upload_id(const char *body, size_t len);
/* ListObjectsV2: entries whose names have `prefix` removed (objects, and
 * common prefixes as directories), appended to *v; *next_token malloc'd
 * when the list is truncated. */
int xs3_parse_list(const char *body, size_t len, const char *prefix,
		   struct xfer_entry **v, size_t *n, size_t *cap,
		   char **next_token, char *err, size_t errlen);

/* ListMultipartUploads: the UploadId (malloc'd) of the first unfinished
 * upload of exactly `key`, or NULL; ListParts: the sum of the part sizes. */
char *xs3_parse_uploads(const char *body, size_t len, const char *key,
			time_t *initiated);
uint64_t xs3_parse_parts_size(const char *body, size_t len);

/* ---- HTTP requests (s3_http.c) ------------------------------------------ */

struct xs3 {
	CURL *h;
	char *endpoint;		/* "http://127.0.0.1:7480" */
	char *bucket;
	char *prefix;		/* decoded key prefix: "" or "dir/sub/" */
	char *name;		/* the URL's last component (decoded), or "" */
	char *display;		/* "s3://bucket/" for messages */
	char *sigv4;		/* "aws:amz:REGION:s3" */
	const char *id, *secret;	/* borrowed (s3_creds.c) */
	char *cacert;
	bool insecure;
	long connect_timeout, stall_timeout;
	int retries;
	enum xfer_debug debug;
	uint64_t part_size;

	/* The multipart upload in progress (s3_send.c). */
	char *upload_id;
	char *part_name;	/* "NAME.part": the name the upload code uses */
	char **etags;		/* one per part sent, index = number - 1 */
	uint64_t *part_len;
	unsigned nparts, etag_cap;
	uint64_t done_bytes;	/* bytes in parts the gateway acknowledged */
	bool completed;
	bool tried_complete;	/* a Complete was sent before */
	char *stale_id;		/* another unfinished upload of this key */
};

struct xs3_req {
	const char *method;	/* GET PUT POST HEAD DELETE */
	const char *key;	/* decoded object key; NULL: the bucket */
	const char *query;	/* encoded, sorted by name; NULL: none */
	const void *body;	/* a body in memory ... */
	size_t body_len;
	struct xq *q;		/* ... or body_len bytes from the queue */
	const char *sha_hex;	/* the body's SHA-256; NULL: computed */
	const char *range;	/* "bytes=A-B" */
	/* The response body: to cb (GET of data), else kept (at most
	 * keep_max bytes) in body_out. */
	int (*cb)(void *ctx, const void *p, size_t n);
	void *cb_ctx;
	size_t keep_max;
	/* Out. */
	long status;
	char *resp;
	size_t resp_len, resp_cap;
	char etag[160];
	uint64_t length;	/* Content-Length of the response */
	bool has_length;
	time_t mtime;
	uint64_t delivered;	/* bytes handed to cb */
	int cb_rc;
	CURLcode cc;
	char errbuf[CURL_ERROR_SIZE];
};

/* Performs one request: 0 when it reached the gateway and got a status
 * (any status: see req->status), -EAGAIN for a connection failure (with
 * a sentence), or cb's error. */
int xs3_perform(struct xs3 *s, struct xs3_req *r, char *err, size_t errlen);
void xs3_req_free(struct xs3_req *r);
/* A failed status into a sentence and an errno: -ENOENT (NoSuchKey, 404),
 * -ENOSPC (QuotaExceeded, EntityTooLarge), -EACCES (keys, clock, denied),
 * -EAGAIN (5xx, SlowDown: worth a retry), -EIO otherwise. */
int xs3_status_error(struct xs3 *s, struct xs3_req *r, const char *what,
		     char *err, size_t errlen);
/* Lower-case hex SHA-256 of a buffer, or of n bytes of q from `from`. */
void xs3_sha256_hex(const void *p, size_t n, char out[65]);
void xs3_sha256_queue(struct xq *q, uint64_t from, uint64_t n, char out[65]);
/* Percent-encodes as SigV4 wants: all but A-Z a-z 0-9 - . _ ~ (and '/'
 * when keep_slash), upper-case hex. Caller frees. */
char *xs3_encode(const char *s, bool keep_slash);
/* Sleeps secs unless q (may be NULL) is cancelled meanwhile: false then. */
bool xs3_sleep(struct xq *q, double secs);

/* ---- the multipart upload (s3_send.c) ----------------------------------- */

int xs3_send(void *st, const char *name, uint64_t offset, struct xq *q,
	     const struct xsend_hooks *h, char *err, size_t errlen);
/* CompleteMultipartUpload: the atomic publish. */
int xs3_complete(struct xs3 *s, char *err, size_t errlen);
/* AbortMultipartUpload of an upload not completed; quiet. */
void xs3_abort(struct xs3 *s);

#endif
