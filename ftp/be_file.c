/*
 * be_file.c - the file:// backend (also plain paths): the same upload
 * protocol as FTP, on a local file system. Data goes to NAME.part with
 * plain write() straight out of the queue, fsync, then rename. It never
 * copies the payload and never replaces NAME unless asked to.
 */
#include "xfer_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fb {
	char *dir;		/* directory of the target, no trailing slash */
};

static char *join(const struct fb *b, const char *name)
{
	char *p = malloc(strlen(b->dir) + strlen(name) + 2);

	if (p)
		sprintf(p, "%s/%s", b->dir, name);
	return p;
}

static int mkdir_p(const char *dir)
{
	char *p = strdup(dir);
	int rc = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0777) && errno != EEXIST) {
				rc = -errno;
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return rc;
}

static int fb_open(void **st, const struct xurl *u, const struct xfer_opts *o,
		   bool for_write, char *err, size_t errlen)
{
	struct fb *b = calloc(1, sizeof(*b));
	struct stat sb;
	int rc;

	if (!b)
		return -ENOMEM;
	b->dir = strdup(u->dir_display);
	if (!b->dir) {
		free(b);
		return -ENOMEM;
	}
	if (stat(b->dir, &sb)) {
		rc = -errno;
		if (rc == -ENOENT && for_write && o->mkdir) {
			rc = mkdir_p(b->dir);
			if (rc)
				rc = xerr(err, errlen, rc, "cannot create the directory "
					  "%s: %s", b->dir, strerror(-rc));
		} else if (rc == -ENOENT) {
			rc = xerr(err, errlen, rc, "no such directory \"%s\"%s",
				  b->dir, for_write ? " (--mkdir creates it)" : "");
		} else {
			rc = xerr(err, errlen, rc, "cannot reach the directory %s: %s",
				  b->dir, strerror(-rc));
		}
		if (rc)
			goto fail;
	} else if (!S_ISDIR(sb.st_mode)) {
		rc = xerr(err, errlen, -ENOTDIR, "%s is not a directory", b->dir);
		goto fail;
	}
	if (for_write && access(b->dir, W_OK)) {
		rc = xerr(err, errlen, -errno, "cannot write in the directory %s: %s",
			  b->dir, strerror(errno));
		goto fail;
	}
	*st = b;
	return 0;
fail:
	free(b->dir);
	free(b);
	return rc;
}

static int fb_reconnect(void *st, char *err, size_t errlen)
{
	(void)st; (void)err; (void)errlen;
	return 0;
}

static int fb_stat(void *st, const char *name, uint64_t *size, time_t *mtime,
		   char *err, size_t errlen)
{
	char *p = join(st, name);
	struct stat sb;
	int rc = 0;

	if (!p)
		return -ENOMEM;
	if (stat(p, &sb))
		rc = errno == ENOENT ? -ENOENT :
			xerr(err, errlen, -errno, "cannot stat %s: %s", p, strerror(errno));
	else if (S_ISDIR(sb.st_mode))
		rc = xerr(err, errlen, -EISDIR, "%s is a directory", p);
	if (!rc) {
		if (size)
			*size = (uint64_t)sb.st_size;
		if (mtime)
			*mtime = sb.st_mtime;
	} else if (rc == -ENOENT) {
		xerr(err, errlen, rc, "%s does not exist", p);
	}
	free(p);
	return rc;
}

static int fb_send(void *st, const char *name, uint64_t offset, struct xq *q,
		   const struct xsend_hooks *h, char *err, size_t errlen)
{
	char *p = join(st, name);
	int fd, rc = 0;
	double last_tick = 0;

	if (!p)
		return -ENOMEM;
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | (offset ? 0 : O_TRUNC), 0666);
	if (fd < 0) {
		rc = xerr(err, errlen, -errno, "cannot create %s: %s", p, strerror(errno));
		goto out;
	}
	if (offset && (ftruncate(fd, (off_t)offset) || lseek(fd, (off_t)offset, SEEK_SET) < 0)) {
		rc = xerr(err, errlen, -errno, "cannot resume %s at byte %llu: %s", p,
			  (unsigned long long)offset, strerror(errno));
		goto out;
	}
	if (h->ready)
		h->ready(h->ctx);
	for (;;) {
		const void *buf;
		size_t n;
		ssize_t w;

		rc = xq_peek_batch(q, &buf, &n, 1u << 20, 20);
		if (rc || n == 0)
			break;
		/* Moderate slices, so room frees up while we write. */
		if (n > 4u << 20)
			n = 4u << 20;
		w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = errno == ENOSPC || errno == EDQUOT ? -ENOSPC : -EIO;
			xerr(err, errlen, rc, "writing %s failed: %s", p, strerror(errno));
			break;
		}
		xq_advance(q, (size_t)w);
		if (h->tick && xnow() - last_tick > 0.5) {
			last_tick = xnow();
			h->tick(h->ctx);
		}
	}
	if (rc == -ECANCELED)
		xerr(err, errlen, rc, "the transfer was abandoned");
	if (!rc && fsync(fd)) {
		rc = errno == ENOSPC || errno == EDQUOT ? -ENOSPC : -EIO;
		xerr(err, errlen, rc, "fsync of %s failed: %s", p, strerror(errno));
	}
out:
	if (fd >= 0 && close(fd) && !rc) {
		rc = errno == ENOSPC ? -ENOSPC : -EIO;
		xerr(err, errlen, rc, "closing %s failed: %s", p, strerror(errno));
	}
	free(p);
	return rc;
}

static int fb_rename(void *st, const char *from, const char *to, bool replace,
		     char *err, size_t errlen)
{
	char *a = join(st, from), *b = join(st, to);
	int rc = 0;

	if (!a || !b) {
		rc = -ENOMEM;
		goto out;
	}
	if (replace) {
		if (rename(a, b))
			rc = xerr(err, errlen, -errno, "renaming %s to %s failed: %s",
				  a, b, strerror(errno));
	} else if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE)) {
		if (errno == EEXIST)
			rc = xerr(err, errlen, -EEXIST, "%s appeared meanwhile; "
				  "it was not replaced", b);
		else if (errno != EINVAL && errno != ENOSYS)
			rc = xerr(err, errlen, -errno, "renaming %s to %s failed: %s",
				  a, b, strerror(errno));
		/* A file system without RENAME_NOREPLACE: link is atomic too. */
		else if (link(a, b))
			rc = xerr(err, errlen, -errno, "renaming %s to %s failed: %s",
				  a, b, strerror(errno));
		else
			unlink(a);
	}
	if (!rc) {
		/* Make the rename itself durable. */
		int dfd = open(((struct fb *)st)->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	free(a);
	free(b);
	return rc;
}

static int fb_fetch(void *st, const char *name, uint64_t offset, uint64_t length,
		    int (*cb)(void *ctx, const void *p, size_t n), void *ctx,
		    char *err, size_t errlen)
{
	enum { CHUNK = 1 << 20 };
	char *p = join(st, name);
	unsigned char *buf = malloc(CHUNK);
	uint64_t left = length, at = offset;
	int fd = -1, rc = 0;

	if (!p || !buf) {
		rc = -ENOMEM;
		goto out;
	}
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = xerr(err, errlen, errno == ENOENT ? -ENOENT : -errno,
			  "cannot open %s: %s", p, strerror(errno));
		goto out;
	}
	for (;;) {
		size_t want = CHUNK;
		ssize_t r;

		if (length && left < want)
			want = (size_t)left;
		if (length && want == 0)
			break;
		r = pread(fd, buf, want, (off_t)at);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = xerr(err, errlen, -EIO, "reading %s failed: %s", p,
				  strerror(errno));
			break;
		}
		if (r == 0)
			break;
		at += (uint64_t)r;
		left -= length ? (uint64_t)r : 0;
		rc = cb(ctx, buf, (size_t)r);
		if (rc)
			break;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(p);
	return rc;
}

static int fb_list(void *st, struct xfer_entry **out, size_t *count,
		   char *err, size_t errlen)
{
	struct fb *b = st;
	DIR *d = opendir(b->dir);
	struct dirent *de;
	struct xfer_entry *v = NULL;
	size_t n = 0, cap = 0;

	if (!d)
		return xerr(err, errlen, -errno, "cannot list %s: %s", b->dir,
			    strerror(errno));
	while ((de = readdir(d))) {
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, 0))
			continue;	/* vanished meanwhile */
		if (n == cap) {
			struct xfer_entry *nv;
			cap = cap ? cap * 2 : 32;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
		}
		v[n].name = strdup(de->d_name);
		if (!v[n].name)
			goto nomem;
		v[n].size = (uint64_t)sb.st_size;
		v[n].mtime = sb.st_mtime;
		v[n].is_dir = S_ISDIR(sb.st_mode);
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), xlist_sort_cmp);
	*out = v;
	*count = n;
	return 0;
nomem:
	closedir(d);
	xfer_entries_free(v, n);
	return -ENOMEM;
}

static void fb_close(void *st)
{
	struct fb *b = st;

	if (!b)
		return;
	free(b->dir);
	free(b);
}

const struct xb_ops xb_file_ops = {
	.name = "file",
	.open = fb_open,
	.reconnect = fb_reconnect,
	.stat = fb_stat,
	.send = fb_send,
	.rename = fb_rename,
	.fetch = fb_fetch,
	.list = fb_list,
	.close = fb_close,
};
