/*
 * curl_control.c - control-connection commands of the libcurl backend:
 * SIZE and MDTM of a file, and RNFR/RNTO (SFTP: rename/rm) to publish.
 * It never replaces a file unless the caller asked for it.
 */
#include "curl_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cs_stat(void *st, const char *name, uint64_t *size, time_t *mtime,
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

int cs_rename(void *st, const char *from, const char *to, bool replace,
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
