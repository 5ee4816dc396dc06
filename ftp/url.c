/*
 * url.c - parsing and rewriting target URLs: ftp://, ftps://, sftp://,
 * file:// and plain paths. It never keeps or prints a password: a URL that
 * carries one is refused by xurl_parse, and the display form drops it.
 */
#include "xfer_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char xurl_password_refusal[] =
	"a password on the command line or in a URL can be read by other "
	"users (ps, /proc); use --password-file FILE, the REELFS_PASSWORD "
	"environment variable, ~/.netrc, or type it at the prompt";

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes %XX in [s, s+n); NULL on a bad escape, a NUL, CR or LF (they
 * would end an FTP command early). */
static char *decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			int h, l;
			if (i + 2 >= n)
				goto bad;
			h = hexval(s[i + 1]);
			l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				goto bad;
			c = (char)(h * 16 + l);
			i += 2;
		}
		if (c == '\0' || c == '\r' || c == '\n')
			goto bad;
		*o++ = c;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

char *xurl_encode(const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(name);
	char *out = malloc(3 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~+,=:@", *p)) {
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

void xurl_free(struct xurl *u)
{
	free(u->scheme);
	free(u->path);
	free(u->user);
	free(u->hostport);
	free(u->host);
	free(u->dir);
	free(u->name);
	free(u->dir_display);
	memset(u, 0, sizeof(*u));
}

static const char *after_scheme(const char *url, size_t *slen)
{
	const char *p = strstr(url, "://");
	size_t n;

	if (!p)
		return NULL;
	n = (size_t)(p - url);
	for (size_t i = 0; i < n; i++) {
		char c = url[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (i && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))))
			return NULL;
	}
	*slen = n;
	return p + 3;
}

static int parse_local(const char *path, struct xurl *u, char *err, size_t errlen)
{
	const char *slash;

	if (!*path)
		return xerr(err, errlen, -EINVAL, "the target path is empty");
	u->local = true;
	u->path = strdup(path);
	slash = strrchr(path, '/');
	u->name = strdup(slash ? slash + 1 : path);
	if (slash == path)
		u->dir_display = strdup("/");
	else if (slash)
		u->dir_display = strndup(path, (size_t)(slash - path));
	else
		u->dir_display = strdup(".");
	if (!u->path || !u->name || !u->dir_display)
		return -ENOMEM;
	return 0;
}

int xurl_parse(const char *url, struct xurl *u, char *err, size_t errlen)
{
	size_t slen;
	const char *rest, *auth_end, *at, *path, *hp;
	int rc;

	memset(u, 0, sizeof(*u));
	if (!url)
		return xerr(err, errlen, -EINVAL, "no target URL was given");
	rest = after_scheme(url, &slen);
	if (!rest) {
		u->scheme = strdup("file");
		rc = parse_local(url, u, err, errlen);
		goto out;
	}
	u->scheme = strndup(url, slen);
	if (!u->scheme)
		return -ENOMEM;
	for (char *c = u->scheme; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (!strcmp(u->scheme, "file")) {
		char *p;
		if (!strncmp(rest, "localhost/", 10))
			rest += 9;
		if (*rest != '/') {
			/* "file://user:pw@host/..." must not echo the password
			 * (found by tests/fuzz/fuzz_url.c). */
			char *shown = xfer_url_display(url);
			rc = xerr(err, errlen, -EINVAL, "%s: a file:// URL needs an "
				  "absolute path (file:///path/NAME)",
				  shown ? shown : "file://");
			free(shown);
			goto out;
		}
		p = decode(rest, strlen(rest));
		if (!p) {
			rc = xerr(err, errlen, -EINVAL, "%s: bad %%-escape in the path", url);
			goto out;
		}
		rc = parse_local(p, u, err, errlen);
		free(p);
		goto out;
	}
	if (strcmp(u->scheme, "ftp") && strcmp(u->scheme, "ftps") &&
	    strcmp(u->scheme, "sftp") && strcmp(u->scheme, "s3")) {
		rc = xerr(err, errlen, -EINVAL, "%.*s://: unsupported scheme; use "
			  "ftp://, ftps://, sftp://, s3://, file:// or a plain path",
			  (int)slen, url);
		goto out;
	}
	path = strchr(rest, '/');
	auth_end = path ? path : rest + strlen(rest);
	at = NULL;
	for (const char *p = rest; p < auth_end; p++)
		if (*p == '@')
			at = p;
	hp = rest;
	if (at) {
		const char *colon = memchr(rest, ':', (size_t)(at - rest));
		if (colon) {
			u->has_password = true;
			rc = xerr(err, errlen, -EINVAL, "the password in the URL is "
				  "refused: %s", xurl_password_refusal);
			goto out;
		}
		u->user = decode(rest, (size_t)(at - rest));
		if (!u->user || !*u->user) {
			rc = xerr(err, errlen, -EINVAL, "%s: bad user name in the URL", url);
			goto out;
		}
		hp = at + 1;
	}
	if (hp == auth_end) {
		rc = xerr(err, errlen, -EINVAL, "%s: the URL names no host", url);
		goto out;
	}
	u->hostport = strndup(hp, (size_t)(auth_end - hp));
	if (*hp == '[') {
		const char *rb = memchr(hp, ']', (size_t)(auth_end - hp));
		if (!rb) {
			rc = xerr(err, errlen, -EINVAL, "%s: unclosed [ in the host", url);
			goto out;
		}
		u->host = strndup(hp + 1, (size_t)(rb - hp - 1));
	} else {
		const char *colon = memchr(hp, ':', (size_t)(auth_end - hp));
		u->host = strndup(hp, (size_t)((colon ? colon : auth_end) - hp));
	}
	for (const char *c = u->hostport; *c; c++)
		if (*c == ' ' || *c == '\r' || *c == '\n' || *c == '?' || *c == '#') {
			rc = xerr(err, errlen, -EINVAL, "%s: bad character in the host", url);
			goto out;
		}
	{
		const char *p = path ? path : "/";
		const char *last = strrchr(p, '/');
		char *d;
		u->dir = strndup(p, (size_t)(last - p + 1));
		u->name = decode(last + 1, strlen(last + 1));
		d = decode(p, (size_t)(last - p + 1));
		if (!u->name || !d) {
			free(d);
			rc = xerr(err, errlen, -EINVAL, "%s: bad %%-escape or control "
				  "character in the path", url);
			goto out;
		}
		if (strlen(d) > 1)
			d[strlen(d) - 1] = '\0';	/* "/a/b/" -> "/a/b" */
		u->dir_display = d;
	}
	rc = (u->hostport && u->host && u->dir) ? 0 : -ENOMEM;
out:
	if (rc)
		xurl_free(u);
	return rc;
}

/* Drops ":password" from the authority, if any; keeps everything else. */
char *xfer_url_display(const char *url)
{
	size_t slen;
	const char *rest = url ? after_scheme(url, &slen) : NULL;
	const char *path, *at, *colon;
	char *out;

	if (!url)
		return NULL;
	if (!rest)
		return strdup(url);
	path = strchr(rest, '/');
	if (!path)
		path = rest + strlen(rest);
	at = NULL;
	for (const char *p = rest; p < path; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return strdup(url);
	colon = memchr(rest, ':', (size_t)(at - rest));
	if (!colon)
		return strdup(url);
	out = malloc(strlen(url) + 1);
	if (!out)
		return NULL;
	memcpy(out, url, (size_t)(colon - url));
	strcpy(out + (colon - url), at);
	return out;
}

char *xfer_url_sibling(const char *url, const char *name)
{
	size_t slen;
	const char *rest, *slash;
	char *enc, *out;
	bool remote;

	if (!url || !name)
		return NULL;
	rest = after_scheme(url, &slen);
	remote = rest && !(slen == 4 && !strncasecmp(url, "file", 4));
	slash = strrchr(rest ? rest : url, '/');
	if (rest && slash && slash < rest)
		slash = NULL;
	if (rest && !strchr(rest, '/'))
		slash = NULL;
	enc = remote || rest ? xurl_encode(name) : strdup(name);
	if (!enc)
		return NULL;
	if (!slash) {
		/* "ftp://host" or "NAME" (a plain relative path). */
		if (rest) {
			out = malloc(strlen(url) + strlen(enc) + 2);
			if (out)
				sprintf(out, "%s/%s", url, enc);
		} else {
			out = enc;
			enc = NULL;
		}
	} else {
		size_t keep = (size_t)(slash - url) + 1;
		out = malloc(keep + strlen(enc) + 1);
		if (out) {
			memcpy(out, url, keep);
			strcpy(out + keep, enc);
		}
	}
	free(enc);
	return out;
}

char *xfer_url_basename(const char *url)
{
	struct xurl u;
	char *name;

	if (xurl_parse(url, &u, NULL, 0)) {
		/* Still give something useful for a URL with a password. */
		const char *s = url ? strrchr(url, '/') : NULL;
		return url ? strdup(s ? s + 1 : url) : NULL;
	}
	name = u.name;
	u.name = NULL;
	xurl_free(&u);
	return name;
}

bool xfer_url_is_local(const char *url)
{
	size_t slen;

	if (!url)
		return false;
	if (!after_scheme(url, &slen))
		return true;
	return slen == 4 && !strncasecmp(url, "file", 4);
}

char *xfer_url_local_path(const char *url)
{
	struct xurl u;
	char *path = NULL;

	if (xurl_parse(url, &u, NULL, 0) == 0 && u.local)
		path = strdup(u.path);
	xurl_free(&u);
	return path;
}
