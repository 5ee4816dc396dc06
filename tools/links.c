/*
 * links.c - where a storeset's links may lead. `reel cat` follows the
 * prev/next names in manifests, and a manifest is only as trustworthy as
 * whoever can write beside the image: a forged one must not make cat (often
 * run as root) read a file from another user's folder, nor send the
 * reader's credentials to another server or login (docs/security.md, 6).
 *
 * The rule: every reel of a set lives in the directory of the reel named on
 * the command line, its "home". Locally that directory is held open and
 * compared by identity (device and inode, after the link's own directory
 * part is resolved), and a linked reel is then opened inside it by its
 * file name alone, never through a symbolic link. Remotely the link must
 * name the same scheme, host, port, login and directory.
 */
#include "reel.h"
#include "xfer_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory part of a local path: "/" for "/x", "." for "x". */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static bool plain_name(const char *name)
{
	return *name && strcmp(name, ".") && strcmp(name, "..") && !strchr(name, '/');
}

static unsigned long port_of(const struct xurl *u)
{
	const char *p = u->hostport;
	if (*p == '[') {
		p = strchr(p, ']');
		p = p ? p + 1 : "";
	} else {
		p = strchr(p, ':');
		p = p ? p : "";
	}
	if (*p == ':' && p[1])
		return strtoul(p + 1, NULL, 10);
	if (!strcmp(u->scheme, "sftp"))
		return 22;
	return !strcmp(u->scheme, "ftps") ? 990 : 21;
}

int reel_home_open(struct reel_home *h, const char *named,
		   const struct xfer_opts *o, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	h->dirfd = -1;
	if (reel_is_remote(named)) {
		struct xurl u;
		if (xurl_parse(named, &u, err, errlen) < 0)
			return -EINVAL;
		h->remote = true;
		h->scheme = u.scheme;
		h->user = u.user;
		h->host = u.host;
		h->dir = u.dir_display;
		h->port = port_of(&u);
		u.scheme = u.user = u.host = u.dir_display = NULL;
		xurl_free(&u);
		h->user_fixed = o->user != NULL;
		return 0;
	}
	char *path = reel_local_path(named), *dir = path ? dir_of(path) : NULL;
	struct stat st;
	int rc = 0;
	if (!dir) {
		snprintf(err, errlen, "out of memory.");
		rc = -ENOMEM;
	} else if ((h->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		   fstat(h->dirfd, &st) < 0) {
		rc = -errno;
		char *shown = reel_display(dir);
		snprintf(err, errlen, "%s: cannot open the directory: %s.",
			 shown ? shown : dir, strerror(-rc));
		free(shown);
	} else {
		h->dev = st.st_dev;
		h->ino = st.st_ino;
	}
	free(dir);
	free(path);
	return rc;
}

void reel_home_close(struct reel_home *h)
{
	if (h->dirfd >= 0)
		close(h->dirfd);
	free(h->scheme);
	free(h->user);
	free(h->host);
	free(h->dir);
	memset(h, 0, sizeof(*h));
	h->dirfd = -1;
}

static int refuse(char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "%s", what);
	return -EPERM;
}

static int check_local(const struct reel_home *h, const char *link, char **name,
		       char *why, size_t whylen)
{
	char *path = reel_local_path(link), *dir = NULL;
	const char *base;
	struct stat st;
	int rc;

	if (!path)
		return refuse(why, whylen, "a name that is no file");
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!plain_name(base)) {
		rc = refuse(why, whylen, "a name that is no file of a directory");
		goto out;
	}
	/* The directory the link names must be the home itself, however it
	 * is spelled ("../d/x", "/abs/d/x", "sub/../x"...). */
	dir = dir_of(path);
	if (!dir) {
		rc = refuse(why, whylen, "a name that could not be read (out of memory)");
		goto out;
	}
	if (stat(dir, &st) < 0 || st.st_dev != h->dev || st.st_ino != h->ino) {
		rc = refuse(why, whylen, "in another directory");
		goto out;
	}
	/* The file itself is opened inside the home without following a
	 * symbolic link; say so here already, with the reason. */
	if (fstatat(h->dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode)) {
		rc = refuse(why, whylen, "a symbolic link (which may lead anywhere)");
		goto out;
	}
	*name = strdup(base);
	rc = *name ? 0 : refuse(why, whylen, "a name that could not be read (out of memory)");
out:
	free(dir);
	free(path);
	return rc;
}

static int check_remote(const struct reel_home *h, const char *link, char **name,
			char *why, size_t whylen)
{
	struct xurl u;
	char perr[XFER_ERRLEN];
	int rc;

	if (xurl_parse(link, &u, perr, sizeof(perr)) < 0)
		return refuse(why, whylen, "a URL cat does not accept");
	if (strcmp(u.scheme, h->scheme))
		rc = refuse(why, whylen, "over another scheme");
	else if (strcasecmp(u.host, h->host) || port_of(&u) != h->port)
		rc = refuse(why, whylen, "on another server");
	else if (!h->user_fixed && (!u.user != !h->user ||
				    (u.user && strcmp(u.user, h->user))))
		rc = refuse(why, whylen, "for another login on that server");
	else if (strcmp(u.dir_display, h->dir))
		rc = refuse(why, whylen, "in another directory of that server");
	else if (!plain_name(u.name))
		rc = refuse(why, whylen, "a name that is no file of that directory");
	else {
		*name = u.name;
		u.name = NULL;
		rc = 0;
	}
	xurl_free(&u);
	return rc;
}

int reel_home_check(const struct reel_home *h, const char *link, char **name,
		    char *why, size_t whylen)
{
	*name = NULL;
	if (h->remote != reel_is_remote(link))
		return refuse(why, whylen, h->remote ?
			      "a local file, not on that server" :
			      "on another server (a URL, not a local file)");
	return h->remote ? check_remote(h, link, name, why, whylen)
			 : check_local(h, link, name, why, whylen);
}
