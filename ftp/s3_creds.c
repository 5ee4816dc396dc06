/*
 * s3_creds.c - where S3 keys come from, the gateway's address and the part
 * size. The secret key follows the rules of FTP passwords (creds.c): never
 * an option or URL text (argv is readable by others), taken out of the
 * environment at start (AWS_SECRET_ACCESS_KEY, like REELFS_PASSWORD) or
 * read from ~/.aws/credentials, which must not be readable by group or
 * others. One copy for the life of the process, wiped at exit; it goes
 * only to libcurl, which signs with it.
 */
#include "s3_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char *env_id, *env_secret;	/* taken from the environment */
static char *file_id, *file_secret;	/* from the credentials file */
static char *file_key;			/* "PATH\nPROFILE" they came from */

static void wipe(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

static void wipe_all(void)
{
	wipe(&env_id);
	wipe(&env_secret);
	wipe(&file_id);
	wipe(&file_secret);
	free(file_key);
	file_key = NULL;
}

/* Takes NAME=value out of environ: the first value kept, every copy's
 * bytes wiped (/proc/PID/environ shows the original strings). */
static char *take(const char *name)
{
	size_t l = strlen(name);
	char *found[8], *val = NULL;
	size_t n = 0;

	for (char **e = environ; e && *e && n < 8; e++)
		if (!strncmp(*e, name, l) && (*e)[l] == '=')
			found[n++] = *e;
	if (n && found[0][l + 1])
		val = strdup(found[0] + l + 1);
	unsetenv(name);
	for (size_t i = 0; i < n; i++)
		explicit_bzero(found[i], strlen(found[i]));
	return val;
}

void xs3_take_env(void)
{
	static bool taken;

	if (taken)
		return;
	taken = true;
	env_id = take("AWS_ACCESS_KEY_ID");
	env_secret = take("AWS_SECRET_ACCESS_KEY");
	/* A session token would have to be sent too; we do not. */
	atexit(wipe_all);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Reads the profile's two keys from an INI file we own and nobody else
 * can read. */
static int read_profile(const char *path, const char *profile,
			const struct xfer_opts *o, char **id, char **secret,
			char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *buf, *line, *save = NULL;
	bool in = false, seen = false;
	ssize_t r;
	size_t n = 0;

	if (fd < 0)
		return xerr(err, errlen, -EACCES, "no S3 keys: AWS_ACCESS_KEY_ID and "
			    "AWS_SECRET_ACCESS_KEY are not set and %s cannot be "
			    "read (%s)", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) {
		close(fd);
		return xerr(err, errlen, -EINVAL, "%s is not a small regular file",
			    path);
	}
	if ((st.st_mode & 077) && !o->allow_readable_password_file) {
		close(fd);
		return xerr(err, errlen, -EACCES, "%s can be read by group or "
			    "others (mode %03o), so its secret keys are refused: "
			    "chmod 600 %s, or give --allow-readable-password-file",
			    path, (unsigned)(st.st_mode & 0777), path);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (n < (size_t)st.st_size &&
	       ((r = read(fd, buf + n, (size_t)st.st_size - n)) > 0 ||
		(r < 0 && errno == EINTR)))
		if (r > 0)
			n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = trim(line), *eq;
		if (*t == '#' || *t == ';' || !*t)
			continue;
		if (*t == '[') {
			char *end = strchr(t, ']');
			if (end)
				*end = '\0';
			in = !strcmp(trim(t + 1), profile);
			seen |= in;
			continue;
		}
		if (!in || !(eq = strchr(t, '=')))
			continue;
		*eq = '\0';
		char *k = trim(t), *v = trim(eq + 1);
		if (!strcmp(k, "aws_access_key_id") && !*id)
			*id = strdup(v);
		else if (!strcmp(k, "aws_secret_access_key") && !*secret)
			*secret = strdup(v);
	}
	explicit_bzero(buf, n);
	free(buf);
	if (*id && *secret && **id && **secret)
		return 0;
	wipe(id);
	wipe(secret);
	if (!seen)
		return xerr(err, errlen, -EACCES, "no S3 keys: AWS_ACCESS_KEY_ID and "
			    "AWS_SECRET_ACCESS_KEY are not set and %s has no "
			    "profile [%s] (--s3-profile)", path, profile);
	return xerr(err, errlen, -EACCES, "no S3 keys: profile [%s] of %s lacks "
		    "aws_access_key_id or aws_secret_access_key", profile, path);
}

int xs3_credentials(const struct xfer_opts *o, const char **id,
		    const char **secret, char *err, size_t errlen)
{
	char path[4096], *key;
	const char *profile, *home;
	int rc = 0;

	xs3_take_env();	/* a library user that did not call xfer_secrets_init */
	pthread_mutex_lock(&mu);
	if (env_id && env_secret && !o->s3_profile) {
		*id = env_id;
		*secret = env_secret;
		pthread_mutex_unlock(&mu);
		return 0;
	}
	profile = o->s3_profile ? o->s3_profile : getenv("AWS_PROFILE");
	if (!profile || !*profile)
		profile = "default";
	if (getenv("AWS_SHARED_CREDENTIALS_FILE"))
		snprintf(path, sizeof(path), "%s", getenv("AWS_SHARED_CREDENTIALS_FILE"));
	else if ((home = getenv("HOME")) && *home)
		snprintf(path, sizeof(path), "%s/.aws/credentials", home);
	else
		snprintf(path, sizeof(path), "/root/.aws/credentials");
	if (asprintf(&key, "%s\n%s", path, profile) < 0) {
		pthread_mutex_unlock(&mu);
		return -ENOMEM;
	}
	if (file_key && !strcmp(file_key, key)) {
		free(key);
	} else {
		char *i = NULL, *s = NULL;
		rc = read_profile(path, profile, o, &i, &s, err, errlen);
		if (rc) {
			free(key);
			pthread_mutex_unlock(&mu);
			return rc;
		}
		/* The first file found stays (a daemon may lose $HOME's
		 * access later); another profile replaces it. */
		wipe(&file_id);
		wipe(&file_secret);
		free(file_key);
		file_id = i;
		file_secret = s;
		file_key = key;
	}
	*id = file_id;
	*secret = file_secret;
	pthread_mutex_unlock(&mu);
	return rc;
}

int xs3_endpoint(const struct xfer_opts *o, char **out, char *err, size_t errlen)
{
	const char *e = o->s3_endpoint ? o->s3_endpoint : getenv("REELFS_S3_ENDPOINT");
	size_t n;

	if (!e || !*e)
		return xerr(err, errlen, -EINVAL, "an s3:// target needs the "
			    "gateway's address: --s3-endpoint http://HOST:PORT (or "
			    "REELFS_S3_ENDPOINT)");
	if (strncmp(e, "http://", 7) && strncmp(e, "https://", 8))
		return xerr(err, errlen, -EINVAL, "--s3-endpoint %s: give "
			    "http://HOST[:PORT] or https://HOST[:PORT]", e);
	if (strchr(e + 8, '@') || strchr(e, '?') || strchr(e, '#'))
		return xerr(err, errlen, -EINVAL, "--s3-endpoint: give only "
			    "http[s]://HOST[:PORT] (no user, query or fragment)");
	*out = strdup(e);
	if (!*out)
		return -ENOMEM;
	n = strlen(*out);
	while (n > 8 && (*out)[n - 1] == '/')
		(*out)[--n] = '\0';
	return 0;
}

/* Kept beyond the part being sent: when the gateway refuses a part (its
 * quota), a chain carries onto the next reel the records from the last
 * one the gateway holds whole, which may start a little before the part. */
#define SALVAGE_MARGIN (1ULL << 20)

int xs3_plan(const struct xfer_opts *o, uint64_t *part, uint64_t *replay,
	     char *err, size_t errlen)
{
	const uint64_t MiB = 1ULL << 20;
	uint64_t p = o->s3_part_size ? o->s3_part_size : XS3_DEFAULT_PART;

	/* All of it fits in the buffer (a manifest): one part, all held. */
	if (o->size_hint && o->size_hint < o->buffer_size &&
	    o->size_hint < XS3_MIN_PART) {
		*part = XS3_MIN_PART;
		*replay = o->size_hint;
		return 0;
	}
	/* A capacity that 10,000 parts of p would not reach: larger parts,
	 * in whole MiB. */
	if (o->size_hint && (o->size_hint + p - 1) / p > XS3_MAX_PARTS) {
		p = (o->size_hint + XS3_MAX_PARTS - 1) / XS3_MAX_PARTS;
		p = (p + MiB - 1) / MiB * MiB;
	}
	/* A part in flight (kept for a resend, and a little before it) plus
	 * one being filled. */
	if (2 * p + SALVAGE_MARGIN > o->buffer_size) {
		if (o->s3_part_size || o->size_hint)
			return xerr(err, errlen, -EINVAL, "parts of %llu MiB need "
				    "--buffer of at least %llu MiB (a part in flight, "
				    "1 MiB before it, and the next part filling)",
				    (unsigned long long)(p / MiB),
				    (unsigned long long)((2 * p + SALVAGE_MARGIN) / MiB));
		p = (o->buffer_size - SALVAGE_MARGIN) / 2 / MiB * MiB;
		if (o->buffer_size < SALVAGE_MARGIN || p < XS3_MIN_PART)
			return xerr(err, errlen, -EINVAL, "--buffer must be at least "
				    "11M for s3:// (two parts of 5 MiB, the least S3 "
				    "takes, and 1 MiB)");
	}
	*part = p;
	*replay = p + SALVAGE_MARGIN;
	return 0;
}
