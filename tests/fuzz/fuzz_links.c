/*
 * fuzz_links.c - libFuzzer target for the check of a storeset's links
 * (reel_home_check in tools/links.c): `reel cat`, often run as root, reads
 * the reel a manifest's prev/next link names, and anyone who can write
 * beside an image can forge that manifest.
 *
 * Input: byte 0 picks the reel named on the command line (four URLs and
 * one local name in the current directory; bit 3 adds --user), the rest
 * up to a NUL is the link, already resolved as cat resolves it. Checks for
 * a link that is let through:
 *  - its name is a plain file name (not empty, ".", ".." nor with a '/');
 *  - remote: libcurl, which makes the connection from the link's
 *    scheme://host:port, parses that to the same host and port as the
 *    named reel's (a parser difference there would send the reader's
 *    credentials elsewhere);
 *  - local: the link's directory is the current directory itself.
 * A refusal leaves no name and says why.
 */
#include "reel.h"
#include "xfer_int.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_fail(const char *what, const char *home, const char *link)
{
	fprintf(stderr, "fuzz_links: %s: home \"%s\", link \"%s\"\n", what, home, link);
	abort();
}

/* Host and port libcurl would connect to for scheme://hostport; false
 * when libcurl refuses it (then nothing is sent anywhere). */
static bool curl_place(const char *url, char **host, char **port)
{
	struct xurl u;
	CURLU *h;
	char *base;
	bool ok = false;

	*host = *port = NULL;
	if (xurl_parse(url, &u, NULL, 0) != 0)
		return false;
	base = malloc(strlen(u.scheme) + strlen(u.hostport) + 5);
	h = curl_url();
	if (base && h) {
		sprintf(base, "%s://%s/", u.scheme, u.hostport);
		ok = curl_url_set(h, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
		     curl_url_get(h, CURLUPART_HOST, host, 0) == CURLUE_OK &&
		     curl_url_get(h, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
	}
	curl_url_cleanup(h);
	free(base);
	xurl_free(&u);
	return ok;
}

static void check_remote(const char *home, const char *link)
{
	char *hh, *hp, *lh, *lp;

	if (!curl_place(home, &hh, &hp))
		fz_fail("libcurl refuses the named reel", home, link);
	if (curl_place(link, &lh, &lp) &&
	    (strcasecmp(hh, lh) != 0 || strcmp(hp, lp) != 0))
		fz_fail("a link let through leads libcurl to another server", home, link);
	curl_free(hh);
	curl_free(hp);
	curl_free(lh);
	curl_free(lp);
}

static void check_local(const char *home, const char *link)
{
	char *path = reel_local_path(link), *slash, here[PATH_MAX], there[PATH_MAX];

	if (!path)
		fz_fail("a local link let through that is no path", home, link);
	slash = strrchr(path, '/');
	if (slash == path)
		path[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(path, ".");
	if (!realpath(".", here) || !realpath(path, there) || strcmp(here, there) != 0)
		fz_fail("a local link let through into another directory", home, link);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const homes[] = {
		"ftp://tape@nas.example/backup/vol1.mtd",
		"ftps://[::1]:2121/a%20b/vol1.tap",
		"sftp://h/~/t/vol1.het",
		"ftp://NAS:21/vol1.mtd",
		"vol1.mtd",
	};
	struct xfer_opts o;
	struct reel_home h;
	char err[XFER_ERRLEN], why[128] = "", *link, *name = NULL;
	const char *home;

	if (size < 1)
		return 0;
	home = homes[(data[0] & 7) % 5];
	link = malloc(size);
	if (!link)
		return 0;
	memcpy(link, data + 1, size - 1);
	link[size - 1] = '\0';
	xfer_opts_init(&o);
	o.user = data[0] & 8 ? "tape" : NULL;
	if (reel_home_open(&h, home, &o, err, sizeof(err)) != 0)
		fz_fail("the named reel cannot be set up", home, err);

	int rc = reel_home_check(&h, link, &name, why, sizeof(why));
	if (rc != 0) {
		if (name || !why[0])
			fz_fail("a refusal with a name or without a reason", home, link);
	} else {
		if (!name || !name[0] || !strcmp(name, ".") || !strcmp(name, "..") ||
		    strchr(name, '/'))
			fz_fail("a link let through without a plain file name", home, link);
		if (h.remote)
			check_remote(home, link);
		else
			check_local(home, link);
	}
	free(name);
	reel_home_close(&h);
	free(link);
	return 0;
}
