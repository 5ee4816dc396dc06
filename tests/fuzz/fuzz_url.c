/*
 * fuzz_url.c - libFuzzer target for the URL parser (ftp/url.c) and the
 * name helpers built on it (tools/source.c). URLs come from the command
 * line, but also from manifests (prev/next links, which anyone who can
 * write to a server can forge) and from listings (sibling names).
 *
 * Input: a URL, a NUL, and a file name (the name defaults to vol2.mtd
 * when there is no NUL). Checks:
 *  - xurl_parse: a refusal leaves nothing allocated; an accepted URL is
 *    never one with a password; a remote one has a host, a directory
 *    "/.../" and a user, name and directory free of CR and LF (they would
 *    end an FTP command early);
 *  - the display forms (xfer_url_display, reel_display) never keep a
 *    password, and reel_display lets nothing through that safetext
 *    would escape (C0, DEL, C1, bidi controls, bad UTF-8);
 *  - xfer_url_sibling(url, name) names `name` again (xfer_url_basename)
 *    for a plain name, so a link can never point elsewhere than beside
 *    the reel it came from;
 *  - the other helpers (basename, is_local, local_path, reel_sibling,
 *    reel_manifest_url) do not crash on anything.
 */
#include "reel.h"
#include "safetext.h"
#include "xfer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_fail(const char *what, const char *url, const char *more)
{
	fprintf(stderr, "fuzz_url: %s: \"%s\" \"%s\"\n", what, url, more ? more : "");
	abort();
}

static bool has_crlf(const char *s)
{
	return s && strpbrk(s, "\r\n");
}

/* Whether a shown URL still carries a password: by its shape (a ':'
 * before the last '@' of the authority), or as xurl_parse sees it (it
 * refuses such a URL, clearing has_password as it frees the rest, so the
 * refusal's sentence is what tells). */
static bool keeps_password(const char *shown)
{
	const char *a = shown ? strstr(shown, "://") : NULL;
	const char *at = NULL;
	struct xurl u;
	char err[600] = "";
	bool pw;

	/* A plain path (no valid scheme before "://") is a file name, shown
	 * as it is. */
	if (!a || (xfer_url_is_local(shown) && strncasecmp(shown, "file://", 7) != 0))
		return false;
	a += 3;
	for (const char *p = a; *p && *p != '/'; p++)
		if (*p == '@')
			at = p;
	if (at && memchr(a, ':', (size_t)(at - a)))
		return true;
	pw = xurl_parse(shown, &u, err, sizeof(err)) != 0 &&
	     strncmp(err, "the password in the URL", 23) == 0;
	xurl_free(&u);
	return pw;
}

/* Whether text shows url with its "user:password@": the whole URL, or
 * text starting with the URL up to its '@' (a path may repeat the same
 * bytes further on, which is no password). */
static bool userinfo_in(const char *text, const char *url)
{
	const char *a = strstr(url, "://") + 3, *at = NULL;

	for (const char *p = a; *p && *p != '/'; p++)
		if (*p == '@')
			at = p;
	return strstr(text, url) || strncmp(text, url, (size_t)(at - url + 1)) == 0;
}

static void check_parse(const char *url)
{
	struct xurl u;
	char err[600];
	int rc = xurl_parse(url, &u, err, sizeof(err));

	if (rc != 0) {
		if (keeps_password(url) && userinfo_in(err, url))
			fz_fail("a refusal repeats the password", url, err);
		if (u.scheme || u.path || u.user || u.host || u.hostport || u.dir ||
		    u.name || u.dir_display)
			fz_fail("a refused URL left fields allocated", url, err);
		return;
	}
	if (u.has_password)
		fz_fail("a URL with a password was accepted", url, NULL);
	if (!u.scheme || !u.name || !u.dir_display)
		fz_fail("an accepted URL lacks a scheme, name or directory", url, NULL);
	if (u.local) {
		if (!u.path || strcmp(u.scheme, "file") != 0)
			fz_fail("a local URL without a path", url, NULL);
	} else {
		size_t dl = u.dir ? strlen(u.dir) : 0;
		if (!u.host || !u.hostport || !dl || u.dir[0] != '/' || u.dir[dl - 1] != '/')
			fz_fail("a remote URL without a host or a /dir/", url, u.dir);
		if ((u.user && !u.user[0]) || has_crlf(u.user) || has_crlf(u.name) ||
		    has_crlf(u.dir) || has_crlf(u.dir_display) || has_crlf(u.hostport))
			fz_fail("an empty user, or a line break in a field", url, NULL);
	}
	xurl_free(&u);
}

/* A name that a sibling URL must give back unchanged. */
static bool plain_name(const char *n)
{
	if (!n[0] || !strcmp(n, ".") || !strcmp(n, ".."))
		return false;
	for (const unsigned char *p = (const unsigned char *)n; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/')
			return false;
	return true;
}

static void check_sibling(const char *url, const char *name)
{
	struct xurl u;
	char *s, *back;
	bool ok = xurl_parse(url, &u, NULL, 0) == 0;

	xurl_free(&u);
	s = xfer_url_sibling(url, name);
	if (!ok || !s || !plain_name(name)) {
		free(s);
		return;
	}
	back = xfer_url_basename(s);
	if (!back || strcmp(back, name) != 0)
		fz_fail("the sibling URL names another file", s, back);
	if (xfer_url_is_local(s) != xfer_url_is_local(url))
		fz_fail("the sibling URL is on another side (local/remote)", s, url);
	free(back);
	free(s);
}

static void check_display(const char *url)
{
	char *d = xfer_url_display(url);
	char *r = reel_display(url);

	if (!d || !r)
		fz_fail("a display form is NULL", url, NULL);
	if (keeps_password(d) || keeps_password(r))
		fz_fail("a display form keeps a password", url, d);
	for (const unsigned char *p = (const unsigned char *)r; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			fz_fail("reel_display let a control byte through", url, r);
	if (safetext_find(r, strlen(r)) != strlen(r))
		fz_fail("reel_display let through what safetext escapes", url, r);
	free(d);
	free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1);
	const char *name = "vol2.mtd";
	char *p;

	if (!url)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	if (strlen(url) < size) {
		name = url + strlen(url) + 1;	/* up to the next NUL or the end */
	}
	check_parse(url);
	check_display(url);
	check_sibling(url, name);

	free(xfer_url_basename(url));
	free(xfer_url_local_path(url));
	(void)xfer_url_is_local(url);
	(void)reel_is_remote(url);
	free(reel_basename(url));
	free(reel_manifest_url(url));
	p = reel_sibling(url, name);
	free(p);
	p = xurl_encode(name);
	free(p);
	free(url);
	return 0;
}
