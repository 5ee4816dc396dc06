/*
 * curl_data.c - the libcurl backend's data transfers: an upload drained
 * from the bounded queue by the read callback (one copy, into libcurl's
 * buffer), downloads handed to a callback, and directory listings (MLSD,
 * else LIST). It must never wait for the network in a way the stall
 * timeout cannot see, and never count the writer's pauses as a stall.
 */
#include "curl_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libcurl's upload buffer: its maximum (2 MiB in libcurl 7.88), so each
 * read callback moves as much as the queue holds and each send() is a big
 * write (issue 12.3). */
#define UPLOAD_BUFFER (2L << 20)
#define LIST_MAX (64u << 20)

int cs_xferinfo(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		curl_off_t un)
{
	struct cs *c = ctx;
	double now;
	(void)dt; (void)dn; (void)ut; (void)un;

	/* An abandoned upload stops now, even while the network is stuck. */
	if (c->q && __atomic_load_n(&c->q->cancel, __ATOMIC_RELAXED))
		return 1;
	if (c->eof)
		return 0;	/* the final reply has its own timeout */
	now = xnow();
	if (now - c->last_move > (double)c->stall_timeout) {
		c->stalled = true;
		return 1;
	}
	if (c->hooks && c->hooks->tick && now - c->last_tick >= 0.5) {
		c->last_tick = now;
		c->hooks->tick(c->hooks->ctx);
	}
	return 0;
}

/* Big slices for libcurl: wait (briefly) for this much before handing
 * bytes on, and hand on as much as fits. */
#define READ_BATCH (256u << 10)
#define READ_WAIT_MS 20

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
	struct cs *c = ctx;
	size_t room = size * n, len, done = 0;
	const void *p;
	int rc;

	if (c->hooks && c->hooks->ready) {
		/* The server accepted the data channel: tell open() once. */
		c->hooks->ready(c->hooks->ctx);
		c->hooks->ready = NULL;
	}
	/* When the writer is slower than the network, this waits for it.
	 * That is not a stall, so the stall clock restarts afterwards.
	 * libcurl (7.88) calls us only once its upload buffer is empty, that
	 * is, once what we gave it last time is on the socket: peek_batch
	 * records that for xfer_upload_sync, and hands over a partial batch
	 * at once while a sync waits. */
	rc = xq_peek_batch(c->q, &p, &len, room < READ_BATCH ? room : READ_BATCH,
			   READ_WAIT_MS);
	c->last_move = xnow();
	while (rc == 0 && len) {
		if (len > room - done)
			len = room - done;
		memcpy(buf + done, p, len);
		xq_advance(c->q, len);
		done += len;
		if (done == room)
			break;
		rc = xq_peek_nowait(c->q, &p, &len);	/* the ring's wrap */
	}
	if (done)
		return done;
	if (rc == -ECANCELED)
		return CURL_READFUNC_ABORT;
	c->eof = true;
	return 0;
}

/* The queue is already positioned at the resume offset. */
static int on_seek(void *ctx, curl_off_t off, int origin)
{
	(void)ctx; (void)off; (void)origin;
	return CURL_SEEKFUNC_OK;
}

int cs_send(void *st, const char *name, uint64_t offset, struct xq *q,
	    const struct xsend_hooks *h, char *err, size_t errlen)
{
	struct cs *c = st;
	struct xsend_hooks hooks = *h;
	char rest[64];
	CURLcode res;
	int rc = cs_setup_file(c, name);

	if (rc)
		return rc;
	c->q = q;
	c->hooks = &hooks;
	c->eof = c->stalled = false;
	c->last_move = c->last_tick = xnow();
	curl_easy_setopt(c->h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c->h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c->h, CURLOPT_READDATA, c);
	curl_easy_setopt(c->h, CURLOPT_UPLOAD_BUFFERSIZE, UPLOAD_BUFFER);
	curl_easy_setopt(c->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c->h, CURLOPT_XFERINFOFUNCTION, cs_xferinfo);
	curl_easy_setopt(c->h, CURLOPT_XFERINFODATA, c);
	if (offset && c->sftp) {
		curl_easy_setopt(c->h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)offset);
		curl_easy_setopt(c->h, CURLOPT_SEEKFUNCTION, on_seek);
	} else if (offset) {
		/* REST+STOR rather than APPE: writing the same bytes at the same
		 * offsets is harmless even if the old session is still
		 * flushing what it had received. */
		snprintf(rest, sizeof(rest), "REST %llu", (unsigned long long)offset);
		c->quote = curl_slist_append(NULL, rest);
		if (!c->quote)
			return -ENOMEM;
		curl_easy_setopt(c->h, CURLOPT_PREQUOTE, c->quote);
	}
	c->late[0] = '\0';
	res = curl_easy_perform(c->h);
	c->q = NULL;
	c->hooks = NULL;
	if (res == CURLE_OK)
		return 0;
	if (q->cancel)
		return xerr(err, errlen, -ECANCELED, "abandoned");
	long code = 0;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	if (hooks.ready && offset && !c->sftp && code >= 400 && code != 421 &&
	    code != 425 && code != 426 && code != 452 && code != 552 &&
	    (res == CURLE_UPLOAD_FAILED || res == CURLE_QUOTE_ERROR)) {
		/* REST or the STOR after it refused before any data: this
		 * server will not resume an upload (ProFTPD's default
		 * "AllowStoreRestart off": 451 Append/Restart not permitted). */
		return xerr(err, errlen, -ENOTSUP, "the server refused to resume "
			    "%s at byte %llu (\"%s\")", name,
			    (unsigned long long)offset, c->reply);
	}
	if (hooks.ready && res == CURLE_UPLOAD_FAILED && code >= 500) {
		/* STOR refused before any data: the directory is not writable
		 * (or the name is not allowed). */
		return xerr(err, errlen, -EACCES, "the server refused to "
			    "create %s in \"%s\" (\"%s\")", name,
			    c->dir_display, c->reply);
	}
	rc = cs_error(c, res, "sending", err, errlen);
	if (rc == -EAGAIN || rc == -EIO) {
		/* Did the server say why before hanging up? */
		if (!c->late[0])
			cs_hangup(c, true);
		if (!strncmp(c->late, "452 ", 4) || !strncmp(c->late, "552 ", 4))
			return xerr(err, errlen, -ENOSPC, "\"%s\"", c->late);
		/* vsftpd says 451 when its write() fails, a full disk included;
		 * the caller decides after a second one at the same offset. */
		if (!strncmp(c->late, "451 ", 4))
			return xerr(err, errlen, -EREMOTEIO, "the server could not "
				    "write the data (\"%s\")", c->late);
		if (c->late[0]) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, "; the server said \"%s\"", c->late);
		}
	}
	return rc;
}

/* One download in progress: the server's declared size bounds it. */
struct fetch_run {
	struct cs *c;
	uint64_t got;		/* bytes received in this transfer */
	bool over;		/* the server sent more than it declared */
	long long declared;	/* the size the server declared (SIZE, the
				 * "(N bytes)" of its 150 reply, or MLST
				 * when SIZE is refused); -1 unknown */
	uint64_t bound;		/* bytes allowed from the offset on */
	uint64_t offset;
	bool asked_size;	/* our own SIZE went first (see fetch_once) */
};

/* Replies for a download: kept as the last reply line for messages (as
 * curl_session.c's on_header does), and our SIZE's "213 N" (or a 150
 * reply's "(N bytes)") read as the declared size. */
static size_t on_fetch_header(char *p, size_t size, size_t n, void *ctx)
{
	struct fetch_run *f = ctx;
	struct cs *c = f->c;
	size_t len = size * n, l = len;
	unsigned long long v;
	const char *paren;

	while (l && (p[l - 1] == '\n' || p[l - 1] == '\r'))
		l--;
	if (!l)
		return len;
	if (l >= sizeof(c->reply))
		l = sizeof(c->reply) - 1;
	memcpy(c->reply, p, l);
	c->reply[l] = '\0';
	if (f->declared >= 0)
		return len;
	if (f->asked_size && !strncmp(c->reply, "213 ", 4) &&
	    sscanf(c->reply + 4, "%llu", &v) == 1 && v <= INT64_MAX) {
		f->declared = (long long)v;
		f->bound = v > f->offset ? v - f->offset : 0;
	} else if (!strncmp(c->reply, "150 ", 4) &&
		   (paren = strrchr(c->reply, '(')) &&
		   sscanf(paren, "(%llu bytes)", &v) == 1 && v <= INT64_MAX) {
		/* After REST, ProFTPD gives the bytes still to come, vsftpd
		 * the whole file's size: the larger reading bounds both. */
		f->declared = (long long)v;
		f->bound = v;
	}
	return len;
}

/*
 * "SIZE <path>" as a command of our own, before libcurl's EPSV, where
 * libcurl would send its SIZE after it. Two reasons. It is the same
 * number of commands (SIZE, EPSV, RETR). And libcurl 7.88 has a stall:
 * when EPSV's reply is already in the socket as it reads (a fast server,
 * loopback), its DO phase ends in one go and the easy loop then sleeps a
 * full second before it connects the data channel (measured: `reel ls`
 * of 200 tapes took 3-40 s instead of 0.3 s). With a command before EPSV
 * the DO phase cannot end in that first step. Quote commands run before
 * libcurl's CWD, so the path is absolute: the login directory (libcurl's
 * entry path) joined with the URL's directory. NULL when that is not
 * known yet (no transfer on this handle so far): then libcurl asks.
 */
static char *size_command(struct cs *c, const char *name)
{
	char *entry = NULL, *dir, *cmd;
	int dl = 0;

	if (c->sftp || strpbrk(name, "\r\n") ||
	    curl_easy_getinfo(c->h, CURLINFO_FTP_ENTRY_PATH, &entry) != CURLE_OK ||
	    !entry || entry[0] != '/')
		return NULL;
	dir = curl_easy_unescape(c->h, c->dir + 1, 0, &dl);
	if (!dir)
		return NULL;
	if (strpbrk(dir, "\r\n")) {
		curl_free(dir);
		return NULL;
	}
	cmd = malloc(strlen(entry) + strlen(dir) + strlen(name) + 16);
	if (cmd) {
		if (dir[0] == '/')	/* "%2F": a path from the root */
			sprintf(cmd, "*SIZE %s%s", dir, name);
		else
			sprintf(cmd, "*SIZE %s%s%s%s", entry,
				entry[strlen(entry) - 1] == '/' ? "" : "/", dir, name);
	}
	curl_free(dir);
	return cmd;
}

static size_t on_write(char *p, size_t size, size_t n, void *ctx)
{
	struct fetch_run *f = ctx;
	struct cs *c = f->c;
	size_t len = size * n;
	curl_off_t cl = -1;

	c->last_move = xnow();
	/* Bounded by what the server declared: a server that keeps sending
	 * past it (a broken or hostile one, or a file growing under us) is
	 * stopped here, not read until the disk or the patience runs out.
	 * libcurl's figure may be the whole file's or the rest's after an
	 * offset: either bounds it. */
	if (f->declared < 0 &&
	    curl_easy_getinfo(c->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) ==
	    CURLE_OK && cl >= 0) {
		f->declared = (long long)cl;
		f->bound = (uint64_t)cl;
	}
	if (len > f->bound - f->got) {
		f->over = true;
		return 0;
	}
	f->got += len;
	if (c->limited && len > c->left)
		len = (size_t)c->left;
	if (len) {
		int rc = c->fcb(c->fctx, p, len);
		if (rc) {
			c->cb_rc = rc;
			return 0;
		}
	}
	if (c->limited) {
		c->left -= len;
		if (c->left == 0) {
			c->limit_hit = true;
			return 0;	/* stop the transfer here */
		}
	}
	return size * n;
}

static CURLcode fetch_once(struct cs *c, const char *name, uint64_t offset,
			   uint64_t length, struct fetch_run *f, bool no_size,
			   int *rc)
{
	*rc = cs_setup_file(c, name);
	if (*rc)
		return CURLE_OK;
	c->limited = length != 0;
	c->left = length;
	c->limit_hit = false;
	c->cb_rc = 0;
	c->eof = c->stalled = false;
	c->last_move = c->last_tick = xnow();
	c->hooks = NULL;
	f->asked_size = false;
	/* With IGNORE_CONTENT_LENGTH libcurl skips its REST (it goes straight
	 * to RETR), so the trick is for whole reads only. */
	if (!no_size && !offset) {
		char *cmd = size_command(c, name);
		struct curl_slist *q = cmd ? curl_slist_append(NULL, cmd) : NULL;
		free(cmd);
		if (q) {
			c->quote = q;	/* freed by the next cs_setup */
			curl_easy_setopt(c->h, CURLOPT_QUOTE, c->quote);
			no_size = true;
			f->asked_size = true;
		}
	}
	curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, on_fetch_header);
	curl_easy_setopt(c->h, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c->h, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(c->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c->h, CURLOPT_XFERINFOFUNCTION, cs_xferinfo);
	curl_easy_setopt(c->h, CURLOPT_XFERINFODATA, c);
	if (no_size)
		curl_easy_setopt(c->h, CURLOPT_IGNORE_CONTENT_LENGTH, 1L);
	struct curl_slist *rest = NULL;
	if (offset && no_size && !c->sftp) {
		/* libcurl would not send REST here: say it ourselves, just
		 * before RETR. */
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "REST %llu", (unsigned long long)offset);
		rest = curl_slist_append(NULL, cmd);
		if (!rest) {
			*rc = -ENOMEM;
			return CURLE_OK;
		}
		curl_easy_setopt(c->h, CURLOPT_PREQUOTE, rest);
	} else if (offset) {
		curl_easy_setopt(c->h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)offset);
	}
	CURLcode res = curl_easy_perform(c->h);
	curl_slist_free_all(rest);
	return res;
}

int cs_fetch(void *st, const char *name, uint64_t offset, uint64_t length,
	     int (*cb)(void *ctx, const void *p, size_t n), void *ctx,
	     char *err, size_t errlen)
{
	struct cs *c = st;
	struct fetch_run f = { .c = c, .declared = -1, .bound = UINT64_MAX,
			       .offset = offset };
	CURLcode res;
	int rc;

	c->fcb = cb;
	c->fctx = ctx;
	res = fetch_once(c, name, offset, length, &f, false, &rc);
	if (rc)
		return rc;
	if (res == CURLE_REMOTE_FILE_NOT_FOUND && !c->sftp && !f.got &&
	    !f.asked_size) {
		/* libcurl asks SIZE before RETR and takes a 550 to it for
		 * absence, but a server may refuse SIZE (ProFTPD's <Limit
		 * SIZE>): let RETR say whether the file is there, bounded by
		 * the size learnt another way when there is one. */
		uint64_t size;
		char e[XFER_ERRLEN];
		if (c->reply[0] == '5' && cs_stat(c, name, &size, NULL, e, sizeof(e)) == 0 &&
		    size != XFER_SIZE_UNKNOWN) {
			f.declared = (long long)size;
			f.bound = size > offset ? size - offset : 0;
		}
		res = fetch_once(c, name, offset, length, &f, true, &rc);
		if (rc)
			return rc;
	}
	if (c->limit_hit && (res == CURLE_OK || res == CURLE_WRITE_ERROR)) {
		/* We hung up on purpose; the connection is in no state to reuse. */
		xb_curl_ops.reconnect(c, NULL, 0);
		return 0;
	}
	if (f.over) {
		xb_curl_ops.reconnect(c, NULL, 0);
		return xerr(err, errlen, -EIO, "the server went on sending after "
			    "the %lld bytes it had declared for %s; stopped "
			    "reading there", f.declared, name);
	}
	if (c->cb_rc)
		return c->cb_rc;
	if (res == CURLE_OK)
		return 0;
	if (!c->limited && f.declared > 0 && f.got == f.bound &&
	    (res == CURLE_PARTIAL_FILE || res == CURLE_RECV_ERROR)) {
		/* libcurl stops at the declared size and hangs up the data
		 * connection; a server with more to send then says 426. */
		xb_curl_ops.reconnect(c, NULL, 0);
		return xerr(err, errlen, -EIO, "the server went on sending after "
			    "the %lld bytes it had declared for %s; stopped "
			    "reading there (it said \"%s\")", f.declared, name,
			    c->reply);
	}
	if (res == CURLE_BAD_DOWNLOAD_RESUME)
		return xerr(err, errlen, -EINVAL, "offset %llu is beyond the end of %s",
			    (unsigned long long)offset, name);
	if (res == CURLE_REMOTE_FILE_NOT_FOUND && c->reply[0] == '5')
		/* RETR's 550 means missing or unreadable (vsftpd says "Failed
		 * to open file." for both): say both, with its words. */
		return xerr(err, errlen, -ENOENT, "reading: no such file, or one "
			    "this user may not read (the server said \"%s\")",
			    c->reply);
	return cs_error(c, res, "reading", err, errlen);
}

static size_t on_list(char *p, size_t size, size_t n, void *ctx)
{
	struct cs *c = ctx;
	size_t len = size * n;

	c->last_move = xnow();
	if (c->llen + len + 1 > c->lcap) {
		size_t cap = c->lcap ? c->lcap : 65536;
		char *nb;
		while (cap < c->llen + len + 1)
			cap *= 2;
		if (cap > LIST_MAX)
			return 0;
		nb = realloc(c->lbuf, cap);
		if (!nb)
			return 0;
		c->lbuf = nb;
		c->lcap = cap;
	}
	memcpy(c->lbuf + c->llen, p, len);
	c->llen += len;
	return len;
}

static int list_once(struct cs *c, const char *cmd, CURLcode *res)
{
	int rc = cs_setup(c, c->dir);

	if (rc)
		return rc;
	c->llen = 0;
	c->eof = c->stalled = false;
	c->last_move = c->last_tick = xnow();
	c->hooks = NULL;
	if (cmd)
		curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, cmd);
	if (!c->sftp) {
		/* A command before EPSV keeps libcurl 7.88 from sleeping a
		 * second before the data connection (see size_command). */
		c->quote = curl_slist_append(NULL, "*NOOP");
		if (c->quote)
			curl_easy_setopt(c->h, CURLOPT_QUOTE, c->quote);
	}
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_list);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c->h, CURLOPT_XFERINFOFUNCTION, cs_xferinfo);
	curl_easy_setopt(c->h, CURLOPT_XFERINFODATA, c);
	*res = curl_easy_perform(c->h);
	return 0;
}

/* Whether a failed or odd MLSD means "ask with LIST instead": any 5xx
 * (not implemented, or refused as ProFTPD's <Limit MLSD> does with 550),
 * or a closing reply other than 226/250 after the listing (libcurl's
 * "server did not report OK"). A stall or a lost connection is not. */
static bool mlsd_unusable(struct cs *c, CURLcode res)
{
	long code = 0;

	if (res == CURLE_OK || c->stalled)
		return false;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 500 && code <= 599)
		return true;
	return res == CURLE_PARTIAL_FILE || res == CURLE_FTP_WEIRD_SERVER_REPLY ||
	       res == CURLE_WEIRD_SERVER_REPLY || res == CURLE_FTP_COULDNT_RETR_FILE;
}

int cs_list(void *st, struct xfer_entry **v, size_t *n, char *err, size_t errlen)
{
	struct cs *c = st;
	CURLcode res;
	bool mlsd = !c->sftp;
	int rc;

	rc = list_once(c, mlsd ? "MLSD" : NULL, &res);
	if (rc)
		return rc;
	if (mlsd && res == CURLE_OK && c->llen) {
		/* A body in which no line is an MLSD line (a server that
		 * answers MLSD with LIST's text) is no MLSD either. */
		rc = xlist_parse(c->lbuf, c->llen, true, v, n);
		if (rc)
			return rc;
		if (*n)
			return 0;
		xfer_entries_free(*v, *n);
		*v = NULL;
		if (!xlist_mlsd_plausible(c->lbuf, c->llen))
			res = CURLE_WEIRD_SERVER_REPLY;
	}
	if (mlsd && mlsd_unusable(c, res)) {
		mlsd = false;
		rc = list_once(c, NULL, &res);
		if (rc)
			return rc;
	}
	if (res != CURLE_OK)
		return cs_error(c, res, "listing", err, errlen);
	return xlist_parse(c->lbuf ? c->lbuf : "", c->llen, mlsd, v, n);
}
