/*
 * curl_errors.c - turns a failed libcurl operation into one sentence a
 * user can act on and an errno: -EAGAIN when a new connection may help,
 * -ENOSPC when the server is full, something specific before any data
 * (unknown host, refused login, no such directory, untrusted certificate).
 * It never puts a password in a message: libcurl's texts do not carry it.
 * The server's words are quoted only through safetext (no escapes).
 */
#include "curl_int.h"
#include "safetext.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A refusal that names encryption: the server wants TLS first. */
static bool wants_tls(const char *r)
{
	/* vsftpd: "Non-anonymous sessions must use encryption"; ProFTPD:
	 * "SSL/TLS required on the control channel"; pure-ftpd: "cleartext
	 * sessions ... are not accepted". */
	return strcasestr(r, "encrypt") || strcasestr(r, "TLS") ||
	       strcasestr(r, "SSL") || strcasestr(r, "cleartext");
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
	char detail_safe[sizeof(c->errbuf) * 4];
	const char *detail = safetext(c->errbuf[0] ? c->errbuf :
				      curl_easy_strerror(res), detail_safe,
				      sizeof(detail_safe));
	char said[300] = "";

	/* The reply line is the server's bytes: rendered safe here, where it
	 * enters the sentence (xerr renders the whole sentence again). */
	safetext_inplace(c->reply, sizeof(c->reply));
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	if (c->reply[0] == '4' || c->reply[0] == '5')
		snprintf(said, sizeof(said), "; the server said \"%s\"", c->reply);
	int ssh_rc = c->sftp ? cs_ssh_error(c, res, detail, err, errlen) : 0;
	if (ssh_rc)
		return ssh_rc;	/* host key or login refused (curl_ssh.c) */
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
		/* vsftpd's force_local_logins_ssl: "530 Non-anonymous sessions
		 * must use encryption." Not a wrong password. */
		if ((code == 530 || code == 534 || code == 550) && !c->ftps &&
		    c->tls != XFER_TLS_REQUIRE && wants_tls(c->reply))
			return xerr(err, errlen, -EACCES, "the server requires TLS "
				    "before it accepts a login (\"%s\"): use "
				    "--tls=require, or an ftps:// URL if it speaks "
				    "TLS from the first byte", c->reply);
		if (code == 530)
			return xerr(err, errlen, -EACCES, "login refused (530) for "
				    "user \"%s\"%s", c->user ? c->user : "anonymous",
				    said);
		/* "421 too many users", "500 OOPS: ...": the server's trouble,
		 * not the credentials; another try may work. */
		return xerr(err, errlen, -EAGAIN, "login failed for user \"%s\"%s",
			    c->user ? c->user : "anonymous", said);
	case CURLE_REMOTE_ACCESS_DENIED:
		if (c->mkdir)
			return xerr(err, errlen, -EACCES, "cannot create the directory "
				    "\"%s\"%s", c->dir_display, said);
		if (strcasestr(c->reply, "denied") || strcasestr(c->reply, "ermission"))
			return xerr(err, errlen, -EACCES, "the server refused to "
				    "enter the directory \"%s\"%s", c->dir_display,
				    said);
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
