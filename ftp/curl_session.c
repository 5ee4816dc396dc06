/*
 * curl_session.c - the libcurl backend's session: one easy handle (and so
 * one control connection, reused) per transfer object, the options every
 * operation shares (credentials, TLS, timeouts, active mode, debug), the
 * control commands (login check, SIZE/MDTM, RNFR/RNTO) and turning curl's
 * errors into sentences. The password goes to libcurl only; the debug log
 * masks it unless debug is sensitive.
 */
#include "curl_int.h"
#include "log.h"

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
	if (l) {
		if (l >= sizeof(c->reply))
			l = sizeof(c->reply) - 1;
		memcpy(c->reply, p, l);
		c->reply[l] = '\0';
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
				snprintf(c->late, sizeof(c->late), "%s", line);
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
	if (c->mkdir)
		curl_easy_setopt(h, CURLOPT_FTP_CREATE_MISSING_DIRS,
				 (long)CURLFTP_CREATE_DIR_RETRY);
	if (c->debug != XFER_DEBUG_NONE) {
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
		curl_easy_setopt(h, CURLOPT_DEBUGDATA, c);
	}
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

static bool retryable(CURLcode res, long code)
{
	if (code == 421 || code == 425 || code == 426 || code == 450 || code == 451)
		return true;
	switch (res) {
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_FTP_ACCEPT_FAILED:
	case CURLE_FTP_ACCEPT_TIMEOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_FTP_WEIRD_PASV_REPLY:
	case CURLE_FTP_WEIRD_227_FORMAT:
	case CURLE_FTP_CANT_GET_HOST:
	case CURLE_FTP_PORT_FAILED:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSH:
		return true;
	default:
		return false;
	}
}

int cs_error(struct cs *c, CURLcode res, const char *what, char *err,
	     size_t errlen)
{
	long code = 0;
	const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(res);
	char said[300] = "";

	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	if (c->reply[0] == '4' || c->reply[0] == '5')
		snprintf(said, sizeof(said), "; the server said \"%s\"", c->reply);
	if (c->stalled)
		return xerr(err, errlen, -EAGAIN, "%s: no progress for %ld seconds "
			    "(--stall-timeout)", what, c->stall_timeout);
	if (res == CURLE_REMOTE_DISK_FULL || code == 452 || code == 552)
		return xerr(err, errlen, -ENOSPC, "\"%s\"",
			    c->reply[0] ? c->reply : detail);
	switch (res) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return xerr(err, errlen, -EHOSTUNREACH, "unknown host \"%s\"", c->host);
	case CURLE_COULDNT_CONNECT:
		if (!c->reply[0])
			return xerr(err, errlen, -ECONNREFUSED, "cannot connect to %s "
				    "(%s)", c->base, detail);
		break;
	case CURLE_LOGIN_DENIED:
		if (code == 530)
			return xerr(err, errlen, -EACCES, "login refused (530) for "
				    "user \"%s\"", c->user ? c->user : "anonymous");
		/* "421 too many users", "500 OOPS: ...": the server's trouble,
		 * not the credentials; another try may work. */
		return xerr(err, errlen, -EAGAIN, "login failed for user \"%s\"%s",
			    c->user ? c->user : "anonymous", said);
	case CURLE_REMOTE_ACCESS_DENIED:
		if (c->mkdir)
			return xerr(err, errlen, -EACCES, "cannot create the directory "
				    "\"%s\"%s", c->dir_display, said);
		return xerr(err, errlen, -ENOENT, "no such directory \"%s\" (%ld)%s; "
			    "--mkdir creates it", c->dir_display, code, said);
	case CURLE_USE_SSL_FAILED:
		return xerr(err, errlen, -EPROTO, "the server does not offer TLS "
			    "(AUTH TLS refused) and --tls=require was asked for");
	case CURLE_PEER_FAILED_VERIFICATION:
		return xerr(err, errlen, -EPERM, "the server's certificate is not "
			    "trusted (%s); give its CA with --cacert FILE, or "
			    "--insecure to skip the check", detail);
	case CURLE_SSL_CACERT_BADFILE:
		return xerr(err, errlen, -EINVAL, "cannot use the --cacert file "
			    "(%s)", detail);
	case CURLE_REMOTE_FILE_NOT_FOUND:
		return xerr(err, errlen, -ENOENT, "%s: no such file%s", what, said);
	case CURLE_UNSUPPORTED_PROTOCOL:
		return xerr(err, errlen, -EPROTONOSUPPORT, "this libcurl cannot "
			    "speak %s (%s)", c->base, detail);
	case CURLE_ABORTED_BY_CALLBACK:
		return xerr(err, errlen, -ECANCELED, "%s: abandoned", what);
	default:
		break;
	}
	if (retryable(res, code))
		return xerr(err, errlen, -EAGAIN, "%s: %s%s", what, detail, said);
	return xerr(err, errlen, -EIO, "%s: %s%s", what, detail, said);
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
	free(c->user);
	xcred_free(c->pass);
	free(c->cacert);
	free(c->active);
	free(c->lbuf);
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
	}
	rc = xcred_password(o, &c->user, c->host, &c->pass, err, errlen);
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
			if (rc == -EAGAIN)
				rc = -EIO;
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

static int cs_stat(void *st, const char *name, uint64_t *size, time_t *mtime,
		   char *err, size_t errlen)
{
	struct cs *c = st;
	curl_off_t len = -1, ft = -1;
	CURLcode res;
	long code = 0;
	int rc = cs_setup_file(c, name);

	if (rc)
		return rc;
	curl_easy_setopt(c->h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c->h, CURLOPT_FILETIME, 1L);
	res = curl_easy_perform(c->h);
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	if (res == CURLE_REMOTE_FILE_NOT_FOUND || (res != CURLE_OK && code == 550))
		return xerr(err, errlen, -ENOENT, "%s does not exist", name);
	if (res != CURLE_OK)
		return cs_error(c, res, "asking SIZE/MDTM", err, errlen);
	curl_easy_getinfo(c->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	curl_easy_getinfo(c->h, CURLINFO_FILETIME_T, &ft);
	if (len < 0)
		return xerr(err, errlen, -EIO, "the server did not tell the size "
			    "of %s%s%s", name, c->reply[0] ? ": " : "", c->reply);
	if (size)
		*size = (uint64_t)len;
	if (mtime)
		*mtime = ft > 0 ? (time_t)ft : 0;
	return 0;
}

static int quote_run(struct cs *c, const char *const *cmds, const char *what,
		     char *err, size_t errlen)
{
	CURLcode res;
	int rc = cs_setup(c, c->dir);

	if (rc)
		return rc;
	for (; *cmds; cmds++) {
		struct curl_slist *n = curl_slist_append(c->quote, *cmds);
		if (!n)
			return -ENOMEM;
		c->quote = n;
	}
	curl_easy_setopt(c->h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c->h, CURLOPT_POSTQUOTE, c->quote);
	res = curl_easy_perform(c->h);
	if (res == CURLE_OK)
		return 0;
	if (res == CURLE_QUOTE_ERROR) {
		long code = 0;
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
		if (code == 421)
			return xerr(err, errlen, -EAGAIN, "%s: %s", what, c->reply);
		return xerr(err, errlen, -EIO, "%s: the server said \"%s\"", what,
			    c->reply);
	}
	return cs_error(c, res, what, err, errlen);
}

static int cs_rename(void *st, const char *from, const char *to, bool replace,
		     char *err, size_t errlen)
{
	struct cs *c = st;
	char a[4200], b[4200], d[4200];
	const char *cmds[4] = { a, b, NULL, NULL };
	int rc;

	rc = cs_stat(c, to, NULL, NULL, err, errlen);
	if (rc == 0 && !replace)
		return xerr(err, errlen, -EEXIST, "%s exists", to);
	if (rc && rc != -ENOENT)
		return rc;
	bool existed = rc == 0;
	if (c->sftp) {
		/* SFTP quote commands take paths, and "rename" will not replace. */
		const char *dd = strcmp(c->dir_display, "/") ? c->dir_display : "";
		snprintf(d, sizeof(d), "rm \"%s/%s\"", dd, to);
		snprintf(a, sizeof(a), "rename \"%s/%s\" \"%s/%s\"", dd, from, dd, to);
		cmds[0] = existed ? d : a;
		cmds[1] = existed ? a : NULL;
		return quote_run(c, cmds, "renaming", err, errlen);
	}
	snprintf(a, sizeof(a), "RNFR %s", from);
	snprintf(b, sizeof(b), "RNTO %s", to);
	rc = quote_run(c, cmds, "renaming", err, errlen);
	if (rc == -EIO && existed) {
		/* Servers that will not rename over a file: delete it, then
		 * rename. NAME is missing only for that moment. */
		snprintf(d, sizeof(d), "DELE %s", to);
		const char *retry[] = { d, a, b, NULL };
		rc = quote_run(c, retry, "replacing", err, errlen);
	}
	return rc;
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
