/*
 * be_file.c - the file:// backend (also plain paths): the same upload
 * protocol as FTP, on a local file system. Data goes to NAME.part with
 * plain write() straight out of the queue, fsync, then rename. It never
 * copies the payload and never replaces NAME unless asked to.
 *
 * The target directory may be writable by others (a sticky /tmp-like
 * folder, a group folder), and reelfs often runs as root, so nothing
 * planted there is trusted (docs/security.md, point 1): the directory is
 * opened once and every name is resolved relative to that descriptor;
 * NAME.part is created afresh with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600
 * (and published with that mode); an existing NAME.part is removed only
 * when it is a regular file of ours with one link, and anything else
 * there (a symbolic link, another user's file, a hard link) is refused,
 * naming its owner; a resume or publish goes on only with the very file
 * this upload created (same device and inode).
 */
#include "xfer_int.h"
#include "safetext.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fb {
	char *dir;		/* directory of the target, no trailing slash */
	int dfd;		/* that directory, opened once */
	bool for_write;		/* names are never followed (see above) */
	bool have_part;		/* part_dev/part_ino: the file we created */
	dev_t part_dev;
	ino_t part_ino;
};

/* "user NAME (uid N)", or "uid N" when the user has no name. */
static void owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, len, "user %s (uid %u)", res->pw_name, (unsigned)uid);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
}

/*
 * Whether an existing entry `name` (sb from lstat) is one this process may
 * remove and create afresh: a regular file it owns with a single link.
 * 0, or -EPERM with a sentence naming the file and its owner.
 */
static int may_replace(const struct fb *b, const char *name,
		       const struct stat *sb, char *err, size_t errlen)
{
	char who[160], what[400];

	owner_name(sb->st_uid, who, sizeof(who));
	if (S_ISLNK(sb->st_mode)) {
		char to[128], shown[200];
		ssize_t n = readlinkat(b->dfd, name, to, sizeof(to) - 1);
		to[n > 0 ? n : 0] = '\0';
		snprintf(what, sizeof(what), "a symbolic link (to %s) owned by %s",
			 n > 0 ? safetext(to, shown, sizeof(shown)) : "?", who);
	} else if (!S_ISREG(sb->st_mode)) {
		snprintf(what, sizeof(what), "not a regular file (owned by %s)", who);
	} else if (sb->st_uid != geteuid()) {
		snprintf(what, sizeof(what), "a file owned by %s, not by this "
			 "process (uid %u)", who, (unsigned)geteuid());
	} else if (sb->st_nlink != 1) {
		snprintf(what, sizeof(what), "a file with %lu hard links (owned "
			 "by %s)", (unsigned long)sb->st_nlink, who);
	} else {
		return 0;
	}
	return xerr(err, errlen, -EPERM, "%s/%s is %s; an upload never writes "
		    "through a link or into a file it did not create, so nothing "
		    "was written. Remove it (and check who put it there), or use "
		    "a directory only you can write to", b->dir, name, what);
}

static char *join(const struct fb *b, const char *name)
{
	char *p = malloc(strlen(b->dir) + strlen(name) + 2);

	if (p)
		sprintf(p, "%s/%s", b->dir, name);
	return p;
}

/* Symbolic links deeper than this are refused, as the kernel does. */
#define MAX_LINKS 40

/*
 * Opens the directory `path` relative to `at` one component at a time,
 * each with O_NOFOLLOW, so that for an upload no symbolic link anyone
 * else planted on the way is followed: a link is followed only when this
 * user or root owns it (as fs.protected_symlinks would in a sticky
 * folder), and then by the same walk. Reading follows every link. With mk, missing components are created (--mkdir).
 * The caller then works relative to the directory it reached, so a
 * component swapped afterwards cannot redirect anything. Returns an
 * O_PATH descriptor, or -errno with a sentence.
 */
static int walk(const struct fb *b, int at, const char *path, bool mk,
		int *links, char *err, size_t errlen)
{
	char *copy = strdup(path), *save = NULL;
	int cur, rc = 0;

	if (!copy)
		return -ENOMEM;
	cur = openat(at, path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0) {
		rc = xerr(err, errlen, -errno, "cannot reach the directory %s: %s",
			  b->dir, strerror(errno));
		goto out;
	}
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		struct stat sb;
		int nx;

		if (!strcmp(c, "."))
			continue;
		nx = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nx < 0 && errno == ENOENT && mk) {
			if (mkdirat(cur, c, 0777) && errno != EEXIST) {
				rc = xerr(err, errlen, -errno, "cannot create the "
					  "directory %s: %s", b->dir, strerror(errno));
				break;
			}
			nx = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (nx < 0 && (errno == ELOOP || errno == ENOTDIR) &&
		    fstatat(cur, c, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(sb.st_mode)) {
			char to[4096], who[160];
			ssize_t n;

			if (b->for_write && sb.st_uid != geteuid() && sb.st_uid != 0) {
				owner_name(sb.st_uid, who, sizeof(who));
				rc = xerr(err, errlen, -EPERM, "\"%s\" in the path %s is "
					  "a symbolic link owned by %s, not by you or "
					  "root; it was not followed. Name the directory "
					  "itself", c, b->dir, who);
				break;
			}
			n = readlinkat(cur, c, to, sizeof(to) - 1);
			if (n <= 0 || ++*links > MAX_LINKS) {
				rc = xerr(err, errlen, -ELOOP, "cannot reach the "
					  "directory %s: %s", b->dir, strerror(ELOOP));
				break;
			}
			to[n] = '\0';
			nx = walk(b, cur, to, mk, links, err, errlen);
			if (nx < 0) {
				rc = nx;
				break;
			}
		}
		if (nx < 0) {
			int e = errno;
			if (e == ENOENT)
				rc = xerr(err, errlen, -e, "no such directory \"%s\"%s",
					  b->dir, b->for_write ? " (--mkdir creates it)" : "");
			else if (e == ENOTDIR)
				rc = xerr(err, errlen, -e, "%s is not a directory", b->dir);
			else
				rc = xerr(err, errlen, -e, "cannot reach the directory "
					  "%s: %s", b->dir, strerror(e));
			break;
		}
		close(cur);
		cur = nx;
	}
out:
	free(copy);
	if (rc && cur >= 0)
		close(cur);
	return rc ? rc : cur;
}

static int fb_open(void **st, const struct xurl *u, const struct xfer_opts *o,
		   bool for_write, char *err, size_t errlen)
{
	struct fb *b = calloc(1, sizeof(*b));
	int rc, pfd, links;

	if (!b)
		return -ENOMEM;
	b->dfd = -1;
	b->for_write = for_write;
	b->dir = strdup(u->dir_display);
	if (!b->dir) {
		free(b);
		return -ENOMEM;
	}
	links = 0;
	pfd = walk(b, AT_FDCWD, b->dir, for_write && o->mkdir, &links, err, errlen);
	if (pfd < 0) {
		rc = pfd;
		goto fail;
	}
	b->dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rc = -errno;
	close(pfd);
	if (b->dfd < 0) {
		rc = xerr(err, errlen, rc, "cannot open the directory %s: %s",
			  b->dir, strerror(-rc));
		goto fail;
	}
	if (for_write && faccessat(b->dfd, ".", W_OK, AT_EACCESS)) {
		rc = xerr(err, errlen, -errno, "cannot write in the directory %s: %s",
			  b->dir, strerror(errno));
		goto fail;
	}
	*st = b;
	return 0;
fail:
	if (b->dfd >= 0)
		close(b->dfd);
	free(b->dir);
	free(b);
	return rc;
}

static int fb_reconnect(void *st, char *err, size_t errlen)
{
	(void)st; (void)err; (void)errlen;
	return 0;
}

/* For an upload, names are not followed: a symbolic link counts as an
 * entry of its own (that a rename replaces, never writes through). */
static int fb_stat(void *st, const char *name, uint64_t *size, time_t *mtime,
		   char *err, size_t errlen)
{
	struct fb *b = st;
	char *p = join(st, name);
	struct stat sb;
	int rc = 0;

	if (!p)
		return -ENOMEM;
	if (fstatat(b->dfd, name, &sb, b->for_write ? AT_SYMLINK_NOFOLLOW : 0))
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

static int fb_check_part(void *st, const char *name, char *err, size_t errlen)
{
	struct fb *b = st;
	struct stat sb;

	if (fstatat(b->dfd, name, &sb, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : xerr(err, errlen, -errno,
			"cannot stat %s/%s: %s", b->dir, name, strerror(errno));
	return may_replace(b, name, &sb, err, errlen);
}

/* Whether sb is the file this upload created. */
static bool is_ours(const struct fb *b, const struct stat *sb)
{
	return b->have_part && S_ISREG(sb->st_mode) && sb->st_dev == b->part_dev &&
		sb->st_ino == b->part_ino && sb->st_uid == geteuid() &&
		sb->st_nlink == 1;
}

/*
 * The descriptor to write NAME.part through. From byte 0: an existing
 * entry is removed only when may_replace allows, then the file is created
 * with O_EXCL|O_NOFOLLOW (a name planted in between makes it fail, never
 * followed), mode 0600. To resume: only the file created before.
 */
static int open_part(struct fb *b, const char *name, uint64_t offset,
		     const char *p, char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	if (offset) {
		fd = openat(b->dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return xerr(err, errlen, -errno, "cannot reopen %s to resume: "
				    "%s", p, strerror(errno));
		if (fstat(fd, &sb) || !is_ours(b, &sb)) {
			close(fd);
			return xerr(err, errlen, -EPERM, "%s is no longer the file "
				    "this upload created (it was replaced meanwhile); "
				    "nothing more was written to it", p);
		}
		return fd;
	}
	if (fstatat(b->dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		int rc = may_replace(b, name, &sb, err, errlen);
		if (rc)
			return rc;
		if (unlinkat(b->dfd, name, 0) && errno != ENOENT)
			return xerr(err, errlen, -errno, "cannot remove the old %s: "
				    "%s", p, strerror(errno));
	} else if (errno != ENOENT) {
		return xerr(err, errlen, -errno, "cannot stat %s: %s", p,
			    strerror(errno));
	}
	fd = openat(b->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return xerr(err, errlen, -EEXIST, "%s was created by someone else "
			    "just now, between the check and the creation; it was "
			    "not used, nothing was written", p);
	if (fd < 0)
		return xerr(err, errlen, -errno, "cannot create %s: %s", p,
			    strerror(errno));
	if (fstat(fd, &sb)) {
		int rc = -errno;
		close(fd);
		return xerr(err, errlen, rc, "cannot stat %s: %s", p, strerror(-rc));
	}
	b->have_part = true;
	b->part_dev = sb.st_dev;
	b->part_ino = sb.st_ino;
	return fd;
}

static int fb_send(void *st, const char *name, uint64_t offset, struct xq *q,
		   const struct xsend_hooks *h, char *err, size_t errlen)
{
	char *p = join(st, name);
	int fd, rc = 0;
	double last_tick = 0;

	if (!p)
		return -ENOMEM;
	fd = open_part(st, name, offset, p, err, errlen);
	if (fd < 0) {
		rc = fd;
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

/* Renames within the one directory (never through a symbolic link: a
 * rename replaces the entry `to`, whatever it is, and does not follow
 * it). Only the file this upload created is published. */
static int fb_rename(void *st, const char *from, const char *to, bool replace,
		     char *err, size_t errlen)
{
	struct fb *b = st;
	char *a = join(st, from), *c = join(st, to);
	struct stat sb;
	int rc = 0;

	if (!a || !c) {
		rc = -ENOMEM;
		goto out;
	}
	if (!b->have_part || fstatat(b->dfd, from, &sb, AT_SYMLINK_NOFOLLOW) ||
	    !is_ours(b, &sb)) {
		rc = xerr(err, errlen, -EPERM, "%s is no longer the file this "
			  "upload created (it was removed or replaced meanwhile); "
			  "it was not published", a);
		goto out;
	}
	if (replace) {
		if (renameat(b->dfd, from, b->dfd, to))
			rc = xerr(err, errlen, -errno, "renaming %s to %s failed: %s",
				  a, c, strerror(errno));
	} else if (renameat2(b->dfd, from, b->dfd, to, RENAME_NOREPLACE)) {
		if (errno == EEXIST)
			rc = xerr(err, errlen, -EEXIST, "%s appeared meanwhile; "
				  "it was not replaced", c);
		else if (errno != EINVAL && errno != ENOSYS)
			rc = xerr(err, errlen, -errno, "renaming %s to %s failed: %s",
				  a, c, strerror(errno));
		/* A file system without RENAME_NOREPLACE: link is atomic too. */
		else if (linkat(b->dfd, from, b->dfd, to, 0))
			rc = xerr(err, errlen, -errno, "renaming %s to %s failed: %s",
				  a, c, strerror(errno));
		else
			unlinkat(b->dfd, from, 0);
	}
	if (!rc)
		fsync(b->dfd);	/* makes the rename itself durable */
out:
	free(a);
	free(c);
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
	fd = openat(((struct fb *)st)->dfd, name, O_RDONLY | O_CLOEXEC |
		    (((struct fb *)st)->for_write ? O_NOFOLLOW : 0));
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
	int dfd = openat(b->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	struct xfer_entry *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (!d) {
		rc = -errno;
		if (dfd >= 0)
			close(dfd);
		return xerr(err, errlen, rc, "cannot list %s: %s", b->dir,
			    strerror(-rc));
	}
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
	if (b->dfd >= 0)
		close(b->dfd);
	free(b->dir);
	free(b);
}

const struct xb_ops xb_file_ops = {
	.name = "file",
	.open = fb_open,
	.reconnect = fb_reconnect,
	.stat = fb_stat,
	.check_part = fb_check_part,
	.send = fb_send,
	.rename = fb_rename,
	.fetch = fb_fetch,
	.list = fb_list,
	.close = fb_close,
};
