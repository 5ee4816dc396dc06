/*
 * creds.c - where a password comes from (--password-file, REELFS_PASSWORD,
 * ~/.netrc, a no-echo prompt) and y/N questions on the terminal. A
 * password found here goes only to libcurl; it is never logged, and the
 * memory holding it is wiped when freed.
 *
 * Credentials are resolved once per (host, user, source) and kept for the
 * life of the process: a daemon changes to "/" and loses its terminal
 * after mounting, yet its later logins (the manifest, the next reel of a
 * chain) must use what was found at the start (issue 8, point 4).
 */
#include "xfer_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

void xcred_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static int from_file(const char *path, char **out, char *err, size_t errlen)
{
	char line[1024];
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f)
		return xerr(err, errlen, -errno, "cannot read the password file "
			    "%s: %s", path, strerror(errno));
	if (!fgets(line, sizeof(line), f))
		rc = xerr(err, errlen, -EINVAL, "the password file %s is empty", path);
	fclose(f);
	if (rc)
		return rc;
	chomp(line);
	*out = strdup(line);
	explicit_bzero(line, sizeof(line));
	return *out ? 0 : -ENOMEM;
}

/* Looks up ~/.netrc for host (and user, when given): the entry's
 * password and, when user is NULL, its login. We read the file ourselves:
 * libcurl 7.88 ignores it once a user name is set. Returns 1 found, 0 not. */
static int from_netrc(const char *host, const char *user, char **login,
		      char **pass)
{
	const char *home = getenv("HOME");
	char path[4096], w[512], m_login[512] = "", m_pass[512] = "";
	bool in_entry = false, matched = false, have_pass = false;
	int found = 0;
	FILE *f;

	if (!home || !*home)
		return 0;
	snprintf(path, sizeof(path), "%s/.netrc", home);
	f = fopen(path, "re");
	if (!f)
		return 0;
	for (;;) {
		int more = fscanf(f, "%511s", w) == 1;
		bool boundary = !more || !strcmp(w, "machine") || !strcmp(w, "default");
		if (boundary && in_entry && matched && have_pass &&
		    (!user || !strcmp(user, m_login))) {
			found = 1;
			break;
		}
		if (!more)
			break;
		if (!strcmp(w, "machine")) {
			in_entry = true;
			matched = fscanf(f, "%511s", w) == 1 && !strcmp(w, host);
			m_login[0] = m_pass[0] = '\0';
			have_pass = false;
		} else if (!strcmp(w, "default")) {
			in_entry = matched = true;
			m_login[0] = m_pass[0] = '\0';
			have_pass = false;
		} else if (!strcmp(w, "login") && in_entry) {
			if (fscanf(f, "%511s", m_login) != 1)
				break;
		} else if (!strcmp(w, "password") && in_entry) {
			if (fscanf(f, "%511s", m_pass) != 1)
				break;
			have_pass = true;
		}
	}
	fclose(f);
	if (found) {
		*pass = strdup(m_pass);
		if (!user && m_login[0])
			*login = strdup(m_login);
	}
	explicit_bzero(m_pass, sizeof(m_pass));
	explicit_bzero(w, sizeof(w));
	return found && *pass ? 1 : 0;
}

static int prompt(const char *user, const char *host, char **out)
{
	struct termios old, quiet;
	char line[1024];
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	FILE *f;
	int rc = 0;

	if (fd < 0)
		return -ENOTTY;
	if (tcgetattr(fd, &old)) {
		close(fd);
		return -ENOTTY;
	}
	f = fdopen(fd, "r+");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	/* Echo off before the prompt appears: whatever is typed after it
	 * must not be flushed away, nor shown. */
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	fprintf(f, "Password for %s@%s: ", user, host);
	fflush(f);
	if (!fgets(line, sizeof(line), f))
		rc = -EIO;
	tcsetattr(fd, TCSANOW, &old);
	fclose(f);
	if (rc)
		return rc;
	chomp(line);
	*out = strdup(line);
	explicit_bzero(line, sizeof(line));
	return *out ? 0 : -ENOMEM;
}

static int resolve(const struct xfer_opts *o, char **userp,
		   const char *host, char **out, char *err, size_t errlen)
{
	const char *env = getenv("REELFS_PASSWORD");
	const char *user = *userp;
	char *login = NULL;
	int rc;

	*out = NULL;
	if (o->password_file)
		return from_file(o->password_file, out, err, errlen);
	if (env && *env) {
		*out = strdup(env);
		return *out ? 0 : -ENOMEM;
	}
	if (from_netrc(host, user, &login, out)) {
		if (login)
			*userp = login;
		return 0;
	}
	if (!user)
		return 0;	/* anonymous: libcurl's default */
	rc = prompt(user, host, out);
	if (rc == -ENOTTY)
		return xerr(err, errlen, -EACCES, "no password for user \"%s\": "
			    "use --password-file FILE, REELFS_PASSWORD, ~/.netrc, "
			    "or run on a terminal to be asked", user);
	if (rc)
		return xerr(err, errlen, rc, "could not read the password from "
			    "the terminal");
	return 0;
}

/* What was found, per (host, user asked for, password file). Entries are
 * never removed: the process needs them until it exits. */
struct cred {
	struct cred *next;
	char *host, *user_in, *file;	/* the key; NULLs compare equal */
	char *user;			/* the user to log in as (netrc) */
	char *pass;			/* secret; NULL: anonymous */
};

static pthread_mutex_t cred_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cred *cred_list;

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = true;
	return d;
}

int xcred_password(const struct xfer_opts *o, char **userp,
		   const char *host, char **out, char *err, size_t errlen)
{
	const char *user_in = *userp;
	struct cred *c;
	bool oom = false;
	int rc = 0;

	*out = NULL;
	pthread_mutex_lock(&cred_mu);
	for (c = cred_list; c; c = c->next)
		if (same(c->host, host) && same(c->user_in, user_in) &&
		    same(c->file, o->password_file))
			break;
	if (!c) {
		char *user = *userp, *pass = NULL;
		/* Asked under the lock: one prompt, even from two threads. */
		rc = resolve(o, &user, host, &pass, err, errlen);
		if (rc) {
			pthread_mutex_unlock(&cred_mu);
			return rc;
		}
		c = calloc(1, sizeof(*c));
		if (c) {
			c->host = dup_or_null(host, &oom);
			c->user_in = dup_or_null(user_in, &oom);
			c->file = dup_or_null(o->password_file, &oom);
			c->user = dup_or_null(user, &oom);
			c->pass = pass;
			if (user != user_in)
				free(user);	/* netrc's login, copied */
		}
		if (!c || oom) {
			if (c) {
				free(c->host);
				free(c->user_in);
				free(c->file);
				free(c->user);
				xcred_free(c->pass);
				free(c);
			} else {
				xcred_free(pass);
				if (user != user_in)
					free(user);
			}
			pthread_mutex_unlock(&cred_mu);
			return xerr(err, errlen, -ENOMEM, "out of memory");
		}
		c->next = cred_list;
		cred_list = c;
	}
	*out = dup_or_null(c->pass, &oom);
	if (!oom && !same(c->user, user_in)) {
		char *u = dup_or_null(c->user, &oom);
		if (!oom) {
			free(*userp);
			*userp = u;
		}
	}
	pthread_mutex_unlock(&cred_mu);
	if (oom) {
		xcred_free(*out);
		*out = NULL;
		return xerr(err, errlen, -ENOMEM, "out of memory");
	}
	return 0;
}

int xcred_ask(const char *question)
{
	char line[64];
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	FILE *f;
	int yes;

	if (fd < 0 || !isatty(fd)) {
		if (fd >= 0)
			close(fd);
		return -ENOTTY;
	}
	f = fdopen(fd, "r+");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	fprintf(f, "%s [y/N] ", question);
	fflush(f);
	yes = fgets(line, sizeof(line), f) && (line[0] == 'y' || line[0] == 'Y');
	fclose(f);
	return yes;
}
