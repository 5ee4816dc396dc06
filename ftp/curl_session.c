/*
 * curl_session.c - the libcurl backend's session: one easy handle (and so
 * one control connection, reused) per transfer object, the options every
 * operation shares (credentials, TLS, timeouts, active mode, debug), the
 * login and directory check, reconnecting, and the backend's table
 * (commands in curl_control.c, transfers in curl_data.c, errors in
 * curl_errors.c). The password goes to libcurl only; the debug log
 * masks it unless debug is sensitive.
 */
#include "curl_int.h"
#include "log.h"
#include "safetext.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Server replies arrive here line by line; we keep the last one for
 * error messages. */
static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct cs *c = ctx;
	size_t len = size * n, l = len;

	while (l && (p[l - 1] == '\n' || p[l - 1] == '\r'))
		l--;
	/* Only server replies ("550 ..."), not the header lines libcurl
	 * makes up for FTP ("Content-Length: 12", "Accept-ranges: bytes"):
	 * a message must quote what the server said. */
	if (l >= 4 && p[0] >= '1' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' &&
	    p[2] >= '0' && p[2] <= '9' && (p[3] == ' ' || p[3] == '-')) {
		if (l >= sizeof(c->reply))
			l = sizeof(c->reply) - 1;
		/* Kept only as safetext renders it: it is for messages. */
		safetext_render(c->reply, sizeof(c->reply), p, l);
	}
	return len;
}

static int on_debug(CURL *h, curl_infotype t, char *data, size_t n, void *ctx)
{
	struct cs *c = ctx;
	const char *tag;
	(void)h;

	if (t == CURLINFO_TEXT)
		tag = "*";
	else if (t == CURLINFO_HEADER_IN)
		tag = "<";
	else if (t == CURLINFO_HEADER_OUT)
		tag = ">";
	else
		return 0;
	if (c->cap_cmds && t != CURLINFO_TEXT) {
		const char *d = data;
		size_t left = n;
		while (left) {
			const char *nl = memchr(d, '\n', left);
			size_t l = nl ? (size_t)(nl - d) : left;
			size_t adv = nl ? l + 1 : l;
			cs_capture(c, t, d, l);
			d += adv;
			left -= adv;
		}
	}
	if (c->debug == XFER_DEBUG_NONE)
		return 0;
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t l = nl ? (size_t)(nl - data) : n, adv = nl ? l + 1 : l;

		while (l && (data[l - 1] == '\r'))
			l--;
		if (l) {
			if (t == CURLINFO_HEADER_OUT && c->debug != XFER_DEBUG_SENSITIVE &&
			    (l >= 4 && (!strncasecmp(data, "PASS", 4) ||
					!strncasecmp(data, "ACCT", 4))))
				rlog(RLOG_INFO, "ftp %s %.4s ****", tag, data);
			else
				rlog(RLOG_INFO, "ftp %s %.*s", tag, (int)l, data);
		}
		data += adv;
		n -= adv;
	}
	return 0;
}

/*
 * When a server runs out of space it typically resets the data connection
 * and then says 552 (or 452) on the control connection. libcurl sees only
 * the reset and hangs up without reading that reply, so we look for it in
 * the socket as libcurl closes it.
 */
static int on_close(void *ctx, curl_socket_t fd)
{
	struct cs *c = ctx;

	/* A send that ends before its end of data is a failure; libcurl is
	 * closing the connections now. */
	if (c->catch_late || (c->q && !c->eof)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char buf[200];
		ssize_t n;

		int pr = poll(&pfd, 1, 500);
		n = pr > 0 ? recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT) : -1;
		if (n > 4) {
			buf[n] = '\0';
			/* keep the last complete reply line */
			char *line = buf, *nl;
			while ((nl = strchr(line, '\n')) && nl[1])
				line = nl + 1;
			line[strcspn(line, "\r\n")] = '\0';
			if (line[0] >= '1' && line[0] <= '5' && line[1] >= '0' &&
			    line[1] <= '9' && line[2] >= '0' && line[2] <= '9' &&
			    line[3] == ' ')
				safetext(line, c->late, sizeof(c->late));
		}
	}
	return close(fd);
}

/* NOBODY requests on FTP deliver "Content-Length:"-style lines as body;
 * without a sink libcurl would print them on stdout. */
static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p; (void)ctx;
	return size * n;
}

int cs_setup(struct cs *c, const char *path)
{
	CURL *h = c->h;
	char *url = malloc(strlen(c->base) + strlen(path) + 1);

	if (!url)
		return -ENOMEM;
	sprintf(url, "%s%s", c->base, path);
	curl_easy_reset(h);
	curl_slist_free_all(c->quote);
	c->quote = NULL;
	c->errbuf[0] = c->reply[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	free(url);	/* libcurl keeps its own copy */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "ftp,ftps,sftp");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, on_close);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, c);
	if (c->user)
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
	if (c->pass)
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->pass);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->connect_timeout);
	curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, c->stall_timeout);
	curl_easy_setopt(h, CURLOPT_ACCEPTTIMEOUT_MS, c->connect_timeout * 1000L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (!c->sftp) {
		if (c->ftps || c->tls == XFER_TLS_REQUIRE)
			curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
		else if (c->tls == XFER_TLS_TRY)
			curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
		/* vsftpd 3.0.3 sends TLS 1.3 session tickets on each data
		 * connection; libcurl never reads them, so closing after an
		 * upload becomes a reset and the server drops the tail of the
		 * file (426). TLS 1.2 has no such tickets. */
		curl_easy_setopt(h, CURLOPT_SSLVERSION,
				 (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2));
		if (c->active)
			curl_easy_setopt(h, CURLOPT_FTPPORT, c->active);
	}
	if (c->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->sftp)
		cs_ssh_setup(c);	/* host key check, key login */
	if (c->mkdir)
		curl_easy_setopt(h, CURLOPT_FTP_CREATE_MISSING_DIRS,
				 (long)CURLFTP_CREATE_DIR_RETRY);
	/* The debug callback also pairs our commands with their replies
	 * (cs_command turns VERBOSE on for that); it logs only with debug. */
	c->cap_cmds = NULL;
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, c);
	if (c->debug != XFER_DEBUG_NONE)
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	return 0;
}

int cs_setup_file(struct cs *c, const char *name)
{
	char *enc = xurl_encode(name), *path;
	int rc;

	if (!enc)
		return -ENOMEM;
	path = malloc(strlen(c->dir) + strlen(enc) + 1);
	if (!path) {
		free(enc);
		return -ENOMEM;
	}
	sprintf(path, "%s%s", c->dir, enc);
	rc = cs_setup(c, path);
	free(path);
	free(enc);
	return rc;
}

static void cs_close(void *st)
{
	struct cs *c = st;

	if (!c)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	curl_slist_free_all(c->quote);
	free(c->base);
	free(c->dir);
	free(c->dir_display);
	free(c->host);
	free(c->user);	/* c->pass is borrowed (creds.c keeps one copy) */
	free(c->cacert);
	free(c->active);
	free(c->lbuf);
	cs_ssh_free(c);
	free(c);
}

static int cs_reconnect(void *st, char *err, size_t errlen);

static int cs_open(void **st, const struct xurl *u, const struct xfer_opts *o,
		   bool for_write, char *err, size_t errlen)
{
	struct cs *c = calloc(1, sizeof(*c));
	const char *user = o->user ? o->user : u->user;
	CURLcode res;
	int rc;

	pthread_once(&global_once, global_init);
	if (!c)
		return -ENOMEM;
	c->h = curl_easy_init();
	c->base = malloc(strlen(u->scheme) + strlen(u->hostport) + 4);
	c->dir = strdup(u->dir);
	c->dir_display = strdup(u->dir_display);
	c->host = strdup(u->host);
	c->user = user ? strdup(user) : NULL;
	c->cacert = o->cacert ? strdup(o->cacert) : NULL;
	c->active = o->active ? strdup(o->active) : NULL;
	if (!c->h || !c->base || !c->dir || !c->dir_display || !c->host ||
	    (user && !c->user) || (o->cacert && !c->cacert) ||
	    (o->active && !c->active)) {
		rc = xerr(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	sprintf(c->base, "%s://%s", u->scheme, u->hostport);
	c->sftp = !strcmp(u->scheme, "sftp");
	c->ftps = !strcmp(u->scheme, "ftps");
	c->tls = o->tls;
	c->insecure = o->insecure;
	c->connect_timeout = o->connect_timeout > 0 ? o->connect_timeout : 10;
	c->stall_timeout = o->stall_timeout > 0 ? o->stall_timeout : 60;
	c->debug = o->debug;
	c->mkdir = for_write && o->mkdir;
	if (c->sftp) {
		curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
		bool has = false;
		for (const char *const *p = vi->protocols; p && *p; p++)
			has |= !strcmp(*p, "sftp");
		if (!has) {
			rc = xerr(err, errlen, -EPROTONOSUPPORT, "this libcurl has no "
				  "SFTP support");
			goto fail;
		}
		if ((rc = cs_ssh_open(c, o, err, errlen)))
			goto fail;
	}
	/* A key logs in alone: no password is looked for, nor asked. */
	rc = cs_ssh_keyauth(c) ? 0 :
	     xcred_password(o, &c->user, c->host, &c->pass, err, errlen);
	if (rc)
		goto fail;
	/* Log in and change to the directory (creating it with mkdir): every
	 * pre-data failure shows up here, within the connect timeout. */
	rc = cs_setup(c, c->dir);
	if (rc)
		goto fail;
	curl_easy_setopt(c->h, CURLOPT_NOBODY, 1L);
	for (int tries = 0;; tries++) {
		res = curl_easy_perform(c->h);
		if (res == CURLE_OK)
			break;
		rc = cs_error(c, res, "logging in", err, errlen);
		/* Only a server that answered and then failed gets another try,
		 * twice at most: pre-data failures must come back in seconds. */
		if (rc != -EAGAIN || !c->reply[0] || tries >= 2) {
			/* A connection that died before the server said a
			 * word (a listener going away) may be waited for by
			 * callers that can (xfer_put_small); others see EIO. */
			if (rc == -EAGAIN)
				rc = c->reply[0] ? -EIO : -ECONNRESET;
			goto fail;
		}
		usleep(300000u << tries);
		cs_reconnect(c, NULL, 0);
		if ((rc = cs_setup(c, c->dir)))
			goto fail;
		curl_easy_setopt(c->h, CURLOPT_NOBODY, 1L);
	}
	*st = c;
	return 0;
fail:
	cs_close(c);
	return rc;
}

/* A new handle drops every cached connection, dead or alive. */
static int cs_reconnect(void *st, char *err, size_t errlen)
{
	struct cs *c = st;
	CURL *h = curl_easy_init();

	if (!h)
		return xerr(err, errlen, -ENOMEM, "out of memory");
	curl_easy_cleanup(c->h);
	c->h = h;
	return 0;
}

void cs_hangup(struct cs *c, bool catch)
{
	c->late[0] = '\0';
	c->catch_late = catch;
	cs_reconnect(c, NULL, 0);
	c->catch_late = false;
}


const struct xb_ops xb_curl_ops = {
	.name = "curl",
	.open = cs_open,
	.reconnect = cs_reconnect,
	.stat = cs_stat,
	.send = cs_send,
	.rename = cs_rename,
	.fetch = cs_fetch,
	.list = cs_list,
	.close = cs_close,
};
