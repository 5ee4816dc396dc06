/*
 * up_publish.c - the end of an upload: the server must hold exactly the
 * bytes sent in NAME.part before it is renamed to NAME (replacing NAME only
 * when the overwrite policy allows, and never when another upload
 * published NAME meanwhile). --verify reads NAME.part back and compares
 * its CRC32 before the rename, so a NAME that fails any of this is never
 * published.
 */
#include "upload_int.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <zlib.h>

/* Runs a control operation, reconnecting with backoff while the server is
 * away (a dropped connection, or refused/timed out while it restarts),
 * within --retries. */
#define WITH_RETRY(u, rc, call)                                              \
	do {                                                                 \
		int tries_ = 0;                                              \
		for (;;) {                                                   \
			rc = (call);                                         \
			if ((rc != -EAGAIN && rc != -ECONNREFUSED &&         \
			     rc != -ETIMEDOUT) || tries_ >= (u)->retries)    \
				break;                                       \
			double d_ = up_delay(tries_++);                      \
			rlog(RLOG_WARN, "%s: publishing: %s; waiting %.2g s "  \
			     "for the server, then reconnecting (attempt %d " \
			     "of %d)", (u)->display, e, d_, tries_,          \
			     (u)->retries);                                  \
			if (!up_backoff(u, d_))                              \
				break;                                       \
			(u)->ops->reconnect((u)->b, e, sizeof(e));           \
		}                                                            \
	} while (0)

struct crc_ctx {
	uint32_t crc;
	uint64_t n;
};

static int crc_cb(void *ctx, const void *p, size_t n)
{
	struct crc_ctx *c = ctx;

	c->crc = (uint32_t)crc32_z(c->crc, p, n);
	c->n += n;
	return 0;
}

int up_publish(struct xfer_upload *u)
{
	char e[XFER_ERRLEN] = "";
	uint64_t size = 0, head;
	bool replace = u->overwrite != XFER_OVERWRITE_NEVER;
	int rc;

	xq_counts(&u->q, &head, NULL);
	WITH_RETRY(u, rc, u->ops->stat(u->b, u->part, &size, NULL, e, sizeof(e)));
	if (rc == -ENOENT && head == 0) {
		size = 0;	/* an empty file some servers do not keep */
		rc = 0;
	}
	if (rc == -ENOENT) {
		up_set_error(u, -EIO, "%s: the server holds no %s although %llu "
			  "bytes were sent (it was removed or renamed meanwhile); "
			  "nothing is published", u->display, u->part,
			  (unsigned long long)head);
		return -EIO;
	}
	if (rc) {
		up_set_error(u, -EIO, "%s: cannot ask the size of %s: %s; it stays "
			  "unpublished", u->display, u->part, e);
		return -EIO;
	}
	pthread_mutex_lock(&u->mu);
	u->confirmed = size;
	pthread_mutex_unlock(&u->mu);
	if (size != head) {
		up_set_error(u, -EIO, "%s: the server holds %llu bytes of %s but %llu "
			  "were sent; it stays unpublished as %s", u->display,
			  (unsigned long long)size, u->part,
			  (unsigned long long)head, u->part);
		return -EIO;
	}
	/* --verify reads NAME.part back before the rename, so a damaged
	 * copy never appears under its final name. */
	if (u->verify) {
		struct crc_ctx c = { (uint32_t)crc32(0L, Z_NULL, 0), 0 };
		WITH_RETRY(u, rc, (c.crc = (uint32_t)crc32(0L, Z_NULL, 0), c.n = 0,
				   u->ops->fetch(u->b, u->part, 0, 0, crc_cb, &c, e,
						 sizeof(e))));
		if (rc) {
			up_set_error(u, -EIO, "%s: --verify could not read %s back: "
				  "%s; it stays unpublished as %s", u->display,
				  u->part, e, u->part);
			return -EIO;
		}
		if (c.n != head || c.crc != u->crc) {
			up_set_error(u, -EIO, "%s: --verify read back %llu bytes with "
				  "CRC32 %08x, but %llu bytes with CRC32 %08x were "
				  "sent: the copy on the server is damaged; it stays "
				  "unpublished as %s", u->display,
				  (unsigned long long)c.n, c.crc,
				  (unsigned long long)head, u->crc, u->part);
			return -EIO;
		}
	}
	/* Only one upload publishes NAME: one that appeared, or changed,
	 * since this upload was opened came from another writer, and this
	 * copy must not replace it, whatever --overwrite says. */
	uint64_t nsize = 0;
	time_t nmtime = 0;
	WITH_RETRY(u, rc, u->ops->stat(u->b, u->u.name, &nsize, &nmtime, e, sizeof(e)));
	if (rc == 0 && (!u->name_existed || nsize != u->name_size ||
			nmtime != u->name_mtime)) {
		char when[64];
		xfmt_time(nmtime, when, sizeof(when));
		up_set_error(u, -EIO, "%s: %s was published by another upload while "
			  "this one was sending (it now holds %llu bytes, modified "
			  "%s); this copy is not published and stays in %s",
			  u->display, u->u.name, (unsigned long long)nsize, when,
			  u->part);
		return -EIO;
	}
	if (rc && rc != -ENOENT) {
		up_set_error(u, -EIO, "%s: cannot check %s before publishing: %s; "
			  "the data stays in %s", u->display, u->u.name, e, u->part);
		return -EIO;
	}
	WITH_RETRY(u, rc, u->ops->rename(u->b, u->part, u->u.name, replace, e, sizeof(e)));
	if (rc == -EEXIST) {
		up_set_error(u, -EIO, "%s: %s appeared while sending and "
			  "--overwrite=never keeps it; the data stays in %s",
			  u->display, u->u.name, u->part);
		return -EIO;
	}
	if (rc) {
		up_set_error(u, -EIO, "%s: publishing %s as %s failed: %s; the data "
			  "stays in %s", u->display, u->part, u->u.name, e, u->part);
		return -EIO;
	}
	pthread_mutex_lock(&u->mu);
	u->published = true;
	pthread_mutex_unlock(&u->mu);
	if (!u->verify)
		return 0;
	pthread_mutex_lock(&u->mu);
	u->verified = true;
	pthread_mutex_unlock(&u->mu);
	return 0;
}
