/*
 * source.c - where `reel` reads from: a local path, '-' (stdin), a
 * file:// URL, or a remote URL streamed through the transfer library.
 * Also the small helpers around names (siblings, basenames, display
 * forms), the manifest beside an image, and choosing a decoding format.
 *
 * It must never spool a remote file to disk and never print a password:
 * remote names are shown through xfer_url_display.
 */
#include "reel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool reel_is_remote(const char *name)
{
	const char *p = strstr(name, "://");
	if (!p)
		return false;
	return !(p - name == 4 && strncmp(name, "file", 4) == 0);
}

char *reel_local_path(const char *name)
{
	return reel_is_remote(name) ? NULL : xfer_url_local_path(name);
}

char *reel_sibling(const char *name, const char *sibling)
{
	if (reel_is_remote(name))
		return xfer_url_sibling(name, sibling);
	char *path = reel_local_path(name);
	if (!path)
		return NULL;
	char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	char *out = malloc(dirlen + strlen(sibling) + 1);
	if (out) {
		memcpy(out, path, dirlen);
		strcpy(out + dirlen, sibling);
	}
	free(path);
	return out;
}

char *reel_basename(const char *name)
{
	if (reel_is_remote(name))
		return xfer_url_basename(name);
	const char *slash = strrchr(name, '/');
	return strdup(slash ? slash + 1 : name);
}

char *reel_display(const char *name)
{
	/* file:// URLs too: "file://user:pw@host/x" must not show the
	 * password (tests/fuzz/fuzz_url.c); a plain path comes back as is. */
	char *s = xfer_url_display(name);

	/* Names come from argv, but also from manifests' prev/next links and
	 * server listings: rendered by safetext, the one function that keeps
	 * escapes (C0, DEL, C1 raw or in UTF-8) from a terminal. */
	if (!s)
		return NULL;
	size_t cap = strlen(s) * 6 + 1;
	char *safe = malloc(cap);
	if (safe)
		safetext(s, safe, cap);
	free(s);
	return safe;
}

/* ---- reading ---------------------------------------------------------- */

struct reel_src {
	int fd;			/* -1 for a remote source */
	bool close_fd;
	struct xfer_download *dl;
	char err[XFER_ERRLEN];
	char *shown;		/* the name for messages */
};

static void local_open_error(char *err, size_t errlen, const char *shown, int e)
{
	if (e == ENOENT)
		snprintf(err, errlen, "%s: no such file.", shown);
	else if (e == EISDIR)
		snprintf(err, errlen, "%s is a directory, not a tape image.", shown);
	else if (e == EACCES)
		snprintf(err, errlen, "%s: permission denied.", shown);
	else
		snprintf(err, errlen, "%s: cannot open: %s.", shown, strerror(e));
}

struct reel_src *reel_src_open(const char *name, const struct xfer_opts *o,
			       char *err, size_t errlen)
{
	struct reel_src *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory.");
		return NULL;
	}
	s->fd = -1;
	s->shown = reel_display(name);
	if (!s->shown)
		goto oom;
	if (strcmp(name, "-") == 0) {
		s->fd = 0;
		return s;
	}
	if (reel_is_remote(name)) {
		s->dl = xfer_download_open(name, o, 0, 0, err, errlen);
		if (!s->dl)
			goto fail;
		return s;
	}
	char *path = reel_local_path(name);
	if (!path) {
		snprintf(err, errlen, "%s: only file:///path URLs name local files.", s->shown);
		goto fail;
	}
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	int e = errno;
	free(path);
	if (s->fd < 0) {
		local_open_error(err, errlen, s->shown, e);
		goto fail;
	}
	s->close_fd = true;
	struct stat st;
	if (fstat(s->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		local_open_error(err, errlen, s->shown, EISDIR);
		goto fail;
	}
	return s;
oom:
	snprintf(err, errlen, "out of memory.");
fail:
	reel_src_close(s);
	return NULL;
}

ssize_t reel_src_fill(struct reel_src *s, void *buf, size_t want)
{
	size_t have = 0;
	while (have < want) {
		ssize_t n = reel_src_read(s, (char *)buf + have, want - have);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		have += (size_t)n;
	}
	return (ssize_t)have;
}

ssize_t reel_src_read(struct reel_src *s, void *buf, size_t len)
{
	if (s->dl) {
		ssize_t n = xfer_download_read(s->dl, buf, len);
		if (n < 0) {
			const char *e = xfer_download_error(s->dl);
			snprintf(s->err, sizeof(s->err), "%s",
				 e && *e ? e : "the download failed.");
		}
		return n;
	}
	for (;;) {
		ssize_t n = read(s->fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		int e = errno;
		snprintf(s->err, sizeof(s->err), "%s: read failed: %s.", s->shown,
			 strerror(e));
		return -e;
	}
}

const char *reel_src_error(struct reel_src *s)
{
	return s->err;
}

bool reel_src_bounded(struct reel_src *s)
{
	return !s->dl || xfer_download_bounded(s->dl);
}

void reel_src_close(struct reel_src *s)
{
	if (!s)
		return;
	if (s->dl)
		xfer_download_close(s->dl);
	if (s->close_fd && s->fd >= 0)
		close(s->fd);
	free(s->shown);
	free(s);
}

int reel_exists(const char *name, const struct xfer_opts *o, char *err,
		size_t errlen)
{
	if (reel_is_remote(name)) {
		uint64_t size;
		time_t mtime;
		return xfer_stat(name, o, &size, &mtime, err, errlen);
	}
	char *path = reel_local_path(name);
	struct stat st;
	int rc = 0;
	if (!path || stat(path, &st) < 0) {
		rc = path ? -errno : -EINVAL;
		local_open_error(err, errlen, name, -rc);
	} else if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		local_open_error(err, errlen, name, EISDIR);
	}
	free(path);
	return rc;
}

/* ---- small files ------------------------------------------------------ */

struct small_buf {
	char *p;
	size_t len, max;
};

static int small_cb(void *ctx, const void *p, size_t n)
{
	struct small_buf *b = ctx;
	if (b->len + n > b->max)
		return -EFBIG;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* The whole of an open file into b, closing fd; err names shown. */
static int read_fd_small(int fd, struct small_buf *b, const char *shown,
			 char *err, size_t errlen)
{
	int rc = 0;
	for (;;) {
		char tmp[8192];
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: read failed: %s.", shown,
				 strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if ((rc = small_cb(b, tmp, (size_t)n)) < 0)
			break;
	}
	close(fd);
	return rc;
}

/* Hands the text in b to *out, or frees it on an error. */
static int small_done(int rc, struct small_buf *b, const char *shown, size_t max,
		      char **out, size_t *len, char *err, size_t errlen)
{
	if (rc == -EFBIG)
		snprintf(err, errlen, "%s is larger than %zu bytes.", shown, max);
	if (rc < 0) {
		free(b->p);
		return rc;
	}
	b->p[b->len] = '\0';
	*out = b->p;
	*len = b->len;
	return 0;
}

int reel_read_small(const char *name, const struct xfer_opts *o, size_t max,
		    char **out, size_t *len, char *err, size_t errlen)
{
	struct small_buf b = { .max = max };
	int rc = 0;

	b.p = malloc(max + 1);
	if (!b.p) {
		snprintf(err, errlen, "out of memory.");
		return -ENOMEM;
	}
	if (reel_is_remote(name)) {
		/* One byte more than allowed tells "too big" from "just fits". */
		rc = xfer_fetch(name, o, 0, max + 1, small_cb, &b, err, errlen);
	} else {
		char *path = reel_local_path(name);
		int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
		if (fd < 0) {
			rc = path ? -errno : -EINVAL;
			snprintf(err, errlen, "%s: %s.", name,
				 rc == -ENOENT ? "no such file" : strerror(-rc));
		} else {
			rc = read_fd_small(fd, &b, path, err, errlen);
		}
		free(path);
	}
	return small_done(rc, &b, name, max, out, len, err, errlen);
}

/* name in the directory dirfd, never through a symbolic link, and only a
 * regular file (a FIFO or a device planted there must not hang or feed
 * the reader): an open fd, or -errno with err filled (-ELOOP for a
 * symbolic link). O_NONBLOCK keeps the open of a FIFO from waiting. */
static int open_at_plain(int dirfd, const char *name, const char *shown,
			 char *err, size_t errlen)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
			O_NONBLOCK | O_NOCTTY);
	struct stat st;

	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			snprintf(err, errlen, "%s is a symbolic link; a reel "
				 "reached through a manifest's link is read "
				 "only as a plain file.", shown);
		else if (e == ENOENT)
			snprintf(err, errlen, "%s: no such file.", shown);
		else
			local_open_error(err, errlen, shown, e);
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file.", shown);
		close(fd);
		return -EINVAL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

struct reel_src *reel_src_open_at(int dirfd, const char *name, const char *url,
				  char *err, size_t errlen)
{
	struct reel_src *s = calloc(1, sizeof(*s));
	if (!s || !(s->shown = reel_display(url))) {
		free(s);
		snprintf(err, errlen, "out of memory.");
		return NULL;
	}
	s->fd = open_at_plain(dirfd, name, s->shown, err, errlen);
	if (s->fd < 0) {
		reel_src_close(s);
		return NULL;
	}
	s->close_fd = true;
	return s;
}

char *reel_manifest_url(const char *image)
{
	char *base = reel_basename(image);
	char *mname = base ? malloc(strlen(base) + sizeof(TAPE_MANIFEST_SUFFIX)) : NULL;
	char *murl = NULL;

	if (mname) {
		sprintf(mname, "%s%s", base, TAPE_MANIFEST_SUFFIX);
		murl = reel_sibling(image, mname);
	}
	free(mname);
	free(base);
	return murl;
}

/* Parses the manifest text read from murl (rc from reading it). */
static int manifest_parse(int rc, const char *murl, char *text, size_t len,
			  struct tape_manifest *m, char *err, size_t errlen)
{
	if (rc < 0)
		return rc;
	char why[256];
	rc = tape_manifest_parse(text, len, m, why, sizeof(why));
	if (rc < 0) {
		char *shown = reel_display(murl);
		snprintf(err, errlen, "%s: %s.", shown ? shown : "the manifest", why);
		free(shown);
	}
	return rc;
}

int reel_manifest_load(const char *image, const struct xfer_opts *o,
		       struct tape_manifest *m, char *err, size_t errlen)
{
	char *murl = NULL, *text = NULL;
	size_t len = 0;
	int rc = -ENOMEM;

	memset(m, 0, sizeof(*m));
	murl = reel_manifest_url(image);
	if (!murl)
		goto out;
	rc = reel_read_small(murl, o, REEL_MANIFEST_MAX, &text, &len, err, errlen);
	rc = manifest_parse(rc, murl, text, len, m, err, errlen);
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory.");
	free(text);
	free(murl);
	return rc;
}

int reel_manifest_load_at(int dirfd, const char *name, const char *image,
			  struct tape_manifest *m, char *err, size_t errlen)
{
	struct small_buf b = { .max = REEL_MANIFEST_MAX };
	char *murl = reel_manifest_url(image), *shown = NULL;
	char *mname = malloc(strlen(name) + sizeof(TAPE_MANIFEST_SUFFIX));
	int rc = -ENOMEM;

	memset(m, 0, sizeof(*m));
	b.p = malloc(b.max + 1);
	if (!murl || !mname || !b.p || !(shown = reel_display(murl))) {
		free(b.p);
		goto out;
	}
	sprintf(mname, "%s%s", name, TAPE_MANIFEST_SUFFIX);
	char *text = NULL;
	size_t len = 0;
	rc = open_at_plain(dirfd, mname, shown, err, errlen);
	if (rc >= 0)
		rc = read_fd_small(rc, &b, shown, err, errlen);
	rc = small_done(rc, &b, shown, b.max, &text, &len, err, errlen);
	rc = manifest_parse(rc, murl, text, len, m, err, errlen);
	free(text);
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory.");
	free(shown);
	free(mname);
	free(murl);
	return rc;
}

/* ---- formats ------------------------------------------------------------ */

static int family(const struct tape_format *f)
{
	const char *n = tape_format_name(f);
	if (!strcmp(n, "aws") || !strcmp(n, "het"))
		return 2;
	return 1;	/* mtd, simh, e11: the SIMH framing */
}

static int ignore_event(void *ctx, const struct tape_event *ev)
{
	(void)ctx;
	(void)ev;
	return 0;
}

/* Whether the first bytes decode as f without an error (their end may cut
 * a record short: that is the sample's end, not damage). */
static bool plausible(const struct tape_format *f, const void *head, size_t len)
{
	struct tape_dec *d = tape_dec_new(f, ignore_event, NULL);
	if (!d)
		return false;
	int rc = tape_dec_push(d, head, len);
	tape_dec_free(d);
	return rc == 0;
}

const struct tape_format *reel_pick_format(const char *name, const void *head,
					   size_t len)
{
	const struct tape_format *sn = tape_sniff(head, len);
	const struct tape_format *ext = NULL;

	if (name && strcmp(name, "-") != 0)
		ext = tape_format_from_path(name);
	/* Fewer bytes than one SIMH tape mark prove nothing: a 3-byte text
	 * file named x.tap is not a tape. */
	if (!sn)
		return ext && len >= 4 && plausible(ext, head, len) ? ext : NULL;
	if (!ext)
		return sn;
	if (family(ext) != family(sn))
		/* A short sample can fit both framings (an AWS header read as a
		 * SIMH length); the name breaks the tie when its format decodes
		 * the sample cleanly. */
		return plausible(ext, head, len) ? ext : sn;
	/* Within a family the bytes cannot always tell (an uncompressed HET
	 * looks like AWS; MTD, SIMH and E11 differ only in odd-length
	 * padding), so the name decides, except that compressed blocks seen
	 * in the bytes are HET whatever the name says. */
	if (!strcmp(tape_format_name(sn), "het"))
		return sn;
	return ext;
}
