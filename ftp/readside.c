/*
 * readside.c - the read side for the tools and the drive's read mode:
 * stat (SIZE+MDTM), listings, a fetch in the caller's thread, and a
 * streamed download through the bounded queue on a thread of its own.
 * Memory stays bounded by the queue, whatever the file's size.
 */
#include "xfer_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Opens a backend for reading url; the caller closes it. */
static int open_read(const char *url, const struct xfer_opts *o, struct xurl *u,
		     const struct xb_ops **ops, void **b, char *disp, size_t dlen,
		     char *err, size_t errlen)
{
	char e[XFER_ERRLEN];
	char *d = xfer_url_display(url ? url : "");
	int rc;

	snprintf(disp, dlen, "%s", d ? d : "");
	free(d);
	rc = xurl_parse(url, u, e, sizeof(e));
	if (rc)
		return xerr(err, errlen, rc, "%s: %s", disp, e);
	*ops = xb_for(u);
	rc = (*ops)->open(b, u, o, false, e, sizeof(e));
	if (rc == -ENOENT) {
		/* A read never creates a directory: the upload's hint about
		 * --mkdir would not be true here. */
		char *hint = strstr(e, "; --mkdir creates it");
		if (hint)
			*hint = '\0';
	}
	if (rc) {
		xurl_free(u);
		return xerr(err, errlen, rc, "%s: %s", disp, e);
	}
	return 0;
}

int xfer_stat(const char *url, const struct xfer_opts *o, uint64_t *size,
	      time_t *mtime, char *err, size_t errlen)
{
	struct xurl u;
	const struct xb_ops *ops;
	void *b;
	char disp[1024], e[XFER_ERRLEN];
	int rc = open_read(url, o, &u, &ops, &b, disp, sizeof(disp), err, errlen);

	if (rc)
		return rc;
	if (!*u.name)
		rc = xerr(err, errlen, -EISDIR, "%s: names a directory", disp);
	else if ((rc = ops->stat(b, u.name, size, mtime, e, sizeof(e))))
		xerr(err, errlen, rc, "%s: %s", disp, e);
	ops->close(b);
	xurl_free(&u);
	return rc;
}

/* ---- a session on one directory ---------------------------------------- */

struct xfer_session {
	struct xurl u;
	const struct xb_ops *ops;
	void *b;
	char disp[1024];
};

int xfer_session_open(const char *dir_url, const struct xfer_opts *o,
		      struct xfer_session **out, char *err, size_t errlen)
{
	struct xfer_session *s = calloc(1, sizeof(*s));
	char *withslash = NULL;
	int rc;

	*out = NULL;
	if (!s)
		return xerr(err, errlen, -ENOMEM, "out of memory");
	/* "ftp://h/dir" and "ftp://h/dir/" both mean the directory. */
	if (dir_url && *dir_url && dir_url[strlen(dir_url) - 1] != '/') {
		withslash = malloc(strlen(dir_url) + 2);
		if (!withslash) {
			free(s);
			return xerr(err, errlen, -ENOMEM, "out of memory");
		}
		sprintf(withslash, "%s/", dir_url);
		dir_url = withslash;
	}
	rc = open_read(dir_url, o, &s->u, &s->ops, &s->b, s->disp, sizeof(s->disp),
		       err, errlen);
	free(withslash);
	if (rc) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int xfer_session_list(struct xfer_session *s, struct xfer_entry **out,
		      size_t *count, char *err, size_t errlen)
{
	char e[XFER_ERRLEN] = "";
	int rc;

	*out = NULL;
	*count = 0;
	rc = s->ops->list(s->b, out, count, e, sizeof(e));
	if (rc)
		xerr(err, errlen, rc, "%s: %s", s->disp, e[0] ? e : "listing failed");
	return rc;
}

int xfer_session_stat(struct xfer_session *s, const char *name,
		      uint64_t *size, time_t *mtime, char *err, size_t errlen)
{
	char e[XFER_ERRLEN] = "";
	int rc = s->ops->stat(s->b, name, size, mtime, e, sizeof(e));

	if (rc)
		xerr(err, errlen, rc, "%s%s: %s", s->disp, name, e);
	return rc;
}

int xfer_session_fetch(struct xfer_session *s, const char *name,
		       uint64_t offset, uint64_t length,
		       int (*cb)(void *ctx, const void *p, size_t n), void *ctx,
		       char *err, size_t errlen)
{
	char e[XFER_ERRLEN] = "";
	int rc = s->ops->fetch(s->b, name, offset, length, cb, ctx, e, sizeof(e));

	if (rc && e[0])
		xerr(err, errlen, rc, "%s%s: %s", s->disp, name, e);
	else if (rc)
		xerr(err, errlen, rc, "%s%s: stopped by the reader", s->disp, name);
	return rc;
}

void xfer_session_close(struct xfer_session *s)
{
	if (!s)
		return;
	s->ops->close(s->b);
	xurl_free(&s->u);
	free(s);
}

int xfer_list(const char *dir_url, const struct xfer_opts *o,
	      struct xfer_entry **out, size_t *count, char *err, size_t errlen)
{
	struct xfer_session *s;
	int rc;

	*out = NULL;
	*count = 0;
	rc = xfer_session_open(dir_url, o, &s, err, errlen);
	if (rc)
		return rc;
	rc = xfer_session_list(s, out, count, err, errlen);
	xfer_session_close(s);
	return rc;
}

int xfer_fetch(const char *url, const struct xfer_opts *o, uint64_t offset,
	       uint64_t length, int (*cb)(void *ctx, const void *p, size_t n),
	       void *ctx, char *err, size_t errlen)
{
	struct xurl u;
	const struct xb_ops *ops;
	void *b;
	char disp[1024], e[XFER_ERRLEN] = "";
	int rc = open_read(url, o, &u, &ops, &b, disp, sizeof(disp), err, errlen);

	if (rc)
		return rc;
	rc = ops->fetch(b, u.name, offset, length, cb, ctx, e, sizeof(e));
	if (rc && e[0])
		xerr(err, errlen, rc, "%s: %s", disp, e);
	else if (rc)
		xerr(err, errlen, rc, "%s: stopped by the reader", disp);
	ops->close(b);
	xurl_free(&u);
	return rc;
}

/* ---- streamed download -------------------------------------------------- */

struct xfer_download {
	struct xq q;
	struct xurl u;
	const struct xb_ops *ops;
	void *b;
	uint64_t offset, length;
	uint64_t bound;		/* bytes the server declared from offset on,
				 * or UINT64_MAX when it did not say */
	uint64_t got;
	pthread_t thread;
	int rc;			/* set by the thread before it closes q */
	char err[XFER_ERRLEN];
	char disp[1024];
};

static int to_queue(void *ctx, const void *p, size_t n)
{
	struct xfer_download *d = ctx;

	/* Bounded by the size the server declared, whether or not the
	 * backend could see it: a server that streams forever is stopped. */
	if (n > d->bound - d->got)
		return -EOVERFLOW;
	d->got += n;
	return xq_put(&d->q, p, n);
}

static void *receiver(void *arg)
{
	struct xfer_download *d = arg;
	char e[XFER_ERRLEN] = "";
	int rc = d->ops->fetch(d->b, d->u.name, d->offset, d->length, to_queue, d,
			       e, sizeof(e));

	if (rc == -EOVERFLOW)
		rc = xerr(d->err, sizeof(d->err), -EIO, "%s: the server went on "
			  "sending after the %llu bytes it had declared; stopped "
			  "reading there", d->disp,
			  (unsigned long long)(d->bound + d->offset));
	else if (rc && rc != -ECANCELED)
		xerr(d->err, sizeof(d->err), rc, "%s: %s", d->disp,
		     e[0] ? e : "the download failed");
	d->rc = rc;
	xq_close(&d->q);	/* publishes rc and err to the reader */
	return NULL;
}

struct xfer_download *xfer_download_open(const char *url, const struct xfer_opts *o,
					 uint64_t offset, uint64_t length,
					 char *err, size_t errlen)
{
	struct xfer_download *d = calloc(1, sizeof(*d));
	int rc;

	if (!d) {
		xerr(err, errlen, -ENOMEM, "out of memory");
		return NULL;
	}
	rc = open_read(url, o, &d->u, &d->ops, &d->b, d->disp, sizeof(d->disp),
		       err, errlen);
	if (rc) {
		free(d);
		return NULL;
	}
	if (!*d->u.name) {
		xerr(err, errlen, -EISDIR, "%s: names a directory", d->disp);
		goto fail;
	}
	rc = xq_init(&d->q, o->buffer_size ? o->buffer_size : 64u << 20, 0);
	if (rc) {
		xerr(err, errlen, rc, "%s: cannot reserve the download buffer", d->disp);
		goto fail;
	}
	d->offset = offset;
	d->length = length;
	d->bound = UINT64_MAX;
	{
		/* The declared size, asked on the connection the download
		 * will use. Not knowing it is no failure: RETR tells. */
		uint64_t size;
		time_t mt;
		char e[XFER_ERRLEN];
		if (d->ops->stat(d->b, d->u.name, &size, &mt, e, sizeof(e)) == 0 &&
		    size != XFER_SIZE_UNKNOWN)
			d->bound = size > offset ? size - offset : 0;
	}
	rc = xthread_start(&d->thread, "reelfs-recv", receiver, d);
	if (rc) {
		xq_destroy(&d->q);
		xerr(err, errlen, -rc, "%s: cannot start the download thread", d->disp);
		goto fail;
	}
	return d;
fail:
	d->ops->close(d->b);
	xurl_free(&d->u);
	free(d);
	return NULL;
}

ssize_t xfer_download_read(struct xfer_download *d, void *buf, size_t len)
{
	const void *p;
	size_t n;
	int rc = xq_peek(&d->q, &p, &n);

	if (rc)
		return rc;
	if (n == 0) {
		/* closed and drained: the thread has set rc (mutex ordering) */
		pthread_mutex_lock(&d->q.mu);
		rc = d->rc;
		pthread_mutex_unlock(&d->q.mu);
		return rc && rc != -ECANCELED ? (rc == -ENOENT ? -ENOENT : -EIO) : 0;
	}
	if (n > len)
		n = len;
	memcpy(buf, p, n);
	xq_advance(&d->q, n);
	return (ssize_t)n;
}

const char *xfer_download_error(struct xfer_download *d)
{
	return d->err;
}

bool xfer_download_bounded(struct xfer_download *d)
{
	return d->bound != UINT64_MAX;
}

void xfer_download_close(struct xfer_download *d)
{
	if (!d)
		return;
	xq_cancel(&d->q);
	pthread_join(d->thread, NULL);
	xq_destroy(&d->q);
	d->ops->close(d->b);
	xurl_free(&d->u);
	free(d);
}
