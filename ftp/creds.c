/*
 * creds.c - where a password comes from (--password-file, REELFS_PASSWORD,
 * ~/.netrc, a no-echo prompt), to whom it may go, and y/N questions on the
 * terminal. A password found here goes only to libcurl; it is never
 * logged, and the memory holding it is wiped when freed.
 *
 * A password goes only to the user it was given for (issue 9, point 2):
 * --password-file and REELFS_PASSWORD only to a user the URL or --user
 * names (never to anonymous); ~/.netrc entries only to their own host and
 * login; anonymous logins get the conventional anonymous password.
 *
 * One copy (issue 9, point 5): xfer_secrets_init takes REELFS_PASSWORD out
 * of the environment at start, makes the process undumpable, and each
 * password found lives once in the cache below, for the life of the
 * process (a daemon changes to "/" and loses its terminal after mounting,
 * yet its later logins must use what was found at the start; issue 8,
 * point 4). Callers borrow it; it is wiped (not freed) at exit.
 */
#include "xfer_int.h"
#include "s3_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

/* What libcurl itself sends for a login without a user. */
static const char anon_pass[] = "ftp@example.com";

/* The one copy of REELFS_PASSWORD (xfer_secrets_init), or NULL. */
static char *env_pass;
static bool env_taken;

void xcred_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

static void wipe_all(void);

void xfer_secrets_init(void)
{
	struct rlimit none = { 0, 0 };
	char *found[8];
	size_t n = 0;

	/* No core file, no ptrace by the same user, /proc/PID/mem and
	 * environ readable by root only. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setrlimit(RLIMIT_CORE, &none);
	if (env_taken)
		return;
	env_taken = true;
	for (char **e = environ; e && *e && n < 8; e++)
		if (!strncmp(*e, "REELFS_PASSWORD=", 16))
			found[n++] = *e;
	if (n && found[0][16])
		env_pass = strdup(found[0] + 16);
	unsetenv("REELFS_PASSWORD");
	xs3_take_env();		/* AWS_SECRET_ACCESS_KEY the same way */
	/* The strings themselves (on the stack where execve put them, which
	 * /proc/PID/environ shows) are wiped, not only unlinked. */
	for (size_t i = 0; i < n; i++)
		explicit_bzero(found[i], strlen(found[i]));
	atexit(wipe_all);
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* Reads a small secret file whole into a buffer of ours (no stdio buffer
 * keeps a copy). *st is its fstat. Caller wipes and frees *out. */
static int slurp(const char *path, char **out, size_t *len, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t cap, n = 0;
	char *buf;
	int e;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		e = S_ISREG(st->st_mode) ? errno : EINVAL;
		close(fd);
		return -e;
	}
	if (st->st_size > (1 << 20)) {
		close(fd);
		return -EFBIG;
	}
	cap = (size_t)st->st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static void wipe_buf(char *buf, size_t len)
{
	if (buf) {
		explicit_bzero(buf, len);
		free(buf);
	}
}

static int from_file(const struct xfer_opts *o, char **out, char *err,
		     size_t errlen)
{
	const char *path = o->password_file;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int rc = slurp(path, &buf, &len, &st);

	if (rc == -EINVAL)
		return xerr(err, errlen, rc, "the password file %s is not a "
			    "regular file", path);
	if (rc)
		return xerr(err, errlen, rc, "cannot read the password file "
			    "%s: %s", path, strerror(-rc));
	/* Like ssh with a private key: a secret others can read is refused. */
	if ((st.st_mode & 077) && !o->allow_readable_password_file) {
		wipe_buf(buf, len);
		return xerr(err, errlen, -EACCES, "the password file %s has mode "
			    "%04o: group or others may read or change it, so it "
			    "is not used and nothing was sent. Run chmod 600 %s, "
			    "or give --allow-readable-password-file", path,
			    (unsigned)(st.st_mode & 07777), path);
	}
	buf[strcspn(buf, "\n")] = '\0';
	chomp(buf);
	if (!len)	/* an empty first line is an empty password */
		rc = xerr(err, errlen, -EINVAL, "the password file %s is empty",
			  path);
	else if (!(*out = strdup(buf)))
		rc = -ENOMEM;
	wipe_buf(buf, len);
	return rc;
}

/* The next netrc token of *p (quoted "..." with \ escapes, as curl reads
 * them), written in place; NULL at the end. */
static char *netrc_token(char **p)
{
	char *s = *p, *tok, *w;

	s += strspn(s, " \t\r\n");
	if (!*s)
		return NULL;
	if (*s != '"') {
		tok = s;
		s += strcspn(s, " \t\r\n");
		if (*s)
			*s++ = '\0';
		*p = s;
		return tok;
	}
	tok = w = ++s;
	while (*s && *s != '"') {
		if (*s == '\\' && s[1])
			s++;
		*w++ = *s++;
	}
	if (*s)
		s++;
	*w = '\0';
	*p = s;
	return tok;
}

static bool anonymous_user(const char *user)
{
	return !user || !strcasecmp(user, "anonymous") || !strcasecmp(user, "ftp");
}

/* Looks up ~/.netrc for host: with user, an entry for that host (or a
 * `default` entry) whose login is that user; without, a `machine host`
 * entry, which also gives the login. A `default` entry never serves an
 * unnamed user: its password would go to any host. We read the file
 * ourselves (libcurl 7.88 ignores it once a user name is set). Returns 1
 * found, 0 not, or -EACCES with err filled when the entry found is in a
 * file group or others can read. */
static int from_netrc(const char *host, const char *user, char **login,
		      char **pass, char *err, size_t errlen)
{
	const char *home = getenv("HOME");
	char path[4096], *buf = NULL, *p, *t;
	char *e_login = NULL, *e_pass = NULL;
	bool in_entry = false, e_host = false, e_default = false;
	struct stat st;
	size_t len = 0;
	int found = 0;

	if (!home || !*home)
		return 0;
	snprintf(path, sizeof(path), "%s/.netrc", home);
	if (slurp(path, &buf, &len, &st))
		return 0;
	p = buf;
	for (;;) {
		t = netrc_token(&p);
		bool boundary = !t || !strcmp(t, "machine") ||
				!strcmp(t, "default") || !strcmp(t, "macdef");
		if (boundary && in_entry && e_pass && e_login &&
		    (user ? (e_host || e_default) && !strcmp(user, e_login)
			  : e_host)) {
			found = 1;
			break;
		}
		if (!t)
			break;
		if (boundary) {
			in_entry = strcmp(t, "macdef") != 0;
			e_login = e_pass = NULL;
			e_default = !strcmp(t, "default");
			e_host = false;
			if (!strcmp(t, "machine")) {
				char *h = netrc_token(&p);
				e_host = h && !strcasecmp(h, host);
			} else if (!in_entry) {
				/* a macro runs to the next empty line */
				char *end = strstr(p, "\n\n");
				p = end ? end + 2 : p + strlen(p);
			}
		} else if (in_entry && !strcmp(t, "login")) {
			e_login = netrc_token(&p);
		} else if (in_entry && !strcmp(t, "password")) {
			e_pass = netrc_token(&p);
		}
	}
	if (found && (st.st_mode & 077)) {
		found = xerr(err, errlen, -EACCES, "%s has mode %04o: group or "
			     "others may read or change it, so its password for "
			     "%s@%s is not used and nothing was sent. Run chmod "
			     "600 %s", path,
			     (unsigned)(st.st_mode & 07777), e_login, host, path);
	} else if (found) {
		*pass = strdup(e_pass);
		if (!user)
			*login = strdup(e_login);
		if (!*pass || (!user && !*login)) {
			xcred_free(*pass);
			*pass = NULL;
			found = -ENOMEM;
		}
	}
	wipe_buf(buf, len);
	return found;
}

static int prompt(const char *user, const char *host, char **out)
{
	struct termios old, quiet;
	char line[1024];
	size_t n = 0;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	int rc = 0;

	if (fd < 0)
		return -ENOTTY;
	if (tcgetattr(fd, &old)) {
		close(fd);
		return -ENOTTY;
	}
	/* Echo off before the prompt appears: whatever is typed after it
	 * must not be flushed away, nor shown. */
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	dprintf(fd, "Password for %s@%s: ", user, host);
	/* read(2) into our own buffer: no stdio buffer keeps a copy. */
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = n ? 0 : -EIO;
			break;
		}
		if (ch == '\n')
			break;
		if (n + 1 < sizeof(line))
			line[n++] = ch;
	}
	line[n] = '\0';
	tcsetattr(fd, TCSANOW, &old);
	close(fd);
	if (!rc) {
		chomp(line);
		*out = strdup(line);
		rc = *out ? 0 : -ENOMEM;
	}
	explicit_bzero(line, sizeof(line));
	return rc;
}

/* Finds the password for *userp at host. *out is borrowed when *owned is
 * false (the environment's copy, the anonymous password). */
static int resolve(const struct xfer_opts *o, char **userp, const char *host,
		   const char **out, bool *owned, char *err, size_t errlen)
{
	const char *user = *userp;
	char *login = NULL, *pass = NULL;
	int rc;

	*out = NULL;
	*owned = false;
	/* An explicit --password-file with no user is a mistake worth a
	 * sentence; REELFS_PASSWORD is ambient, so a login that names no
	 * user is simply anonymous and never sees it. */
	if (!user && o->password_file)
		return xerr(err, errlen, -EACCES, "--password-file is given but "
			    "the URL names no user, and a password goes only to "
			    "a named user: put USER@ before %s in the URL or give "
			    "--user USER", host);
	if (user && anonymous_user(user)) {
		*out = anon_pass;	/* the conventional one, nothing else */
		return 0;
	}
	if (user && o->password_file) {
		rc = from_file(o, &pass, err, errlen);
		*out = pass;
		*owned = true;
		return rc;
	}
	if (user && env_pass) {
		*out = env_pass;
		return 0;
	}
	rc = from_netrc(host, user, &login, &pass, err, errlen);
	if (rc < 0)
		return rc == -ENOMEM ? xerr(err, errlen, rc, "out of memory") : rc;
	if (rc) {
		if (login)
			*userp = login;
		*out = pass;
		*owned = true;
		return 0;
	}
	if (!user)
		return 0;	/* anonymous: libcurl's default */
	rc = prompt(user, host, &pass);
	if (rc == -ENOTTY)
		return xerr(err, errlen, -EACCES, "no password for user \"%s\": "
			    "use --password-file FILE, REELFS_PASSWORD, ~/.netrc, "
			    "or run on a terminal to be asked", user);
	if (rc)
		return xerr(err, errlen, rc, "could not read the password from "
			    "the terminal");
	*out = pass;
	*owned = true;
	return 0;
}

/* What was found, per (host, user asked for, password file). Entries are
 * removed only at exit (wipe_all): the process needs them until then. */
struct cred {
	struct cred *next;
	char *host, *user_in, *file;	/* the key; NULLs compare equal */
	char *user;			/* the user to log in as (netrc) */
	const char *pass;		/* secret; NULL: anonymous */
	bool owned;			/* pass is ours to wipe and free */
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

static void cred_free(struct cred *c)
{
	free(c->host);
	free(c->user_in);
	free(c->file);
	free(c->user);
	if (c->owned)
		xcred_free((char *)c->pass);
	free(c);
}

/* At exit: the secrets are wiped, not freed. A thread still running
 * (exit() from another one) may be reading one: it then reads zeros, never
 * freed memory. The entries stay reachable from cred_list. */
static void wipe_all(void)
{
	pthread_mutex_lock(&cred_mu);
	for (struct cred *c = cred_list; c; c = c->next)
		if (c->owned)
			explicit_bzero((char *)c->pass, strlen(c->pass));
	if (env_pass)
		explicit_bzero(env_pass, strlen(env_pass));
	pthread_mutex_unlock(&cred_mu);
}

int xcred_password(const struct xfer_opts *o, char **userp,
		   const char *host, const char **out, char *err, size_t errlen)
{
	const char *user_in = *userp;
	struct cred *c;
	bool oom = false;
	int rc = 0;

	*out = NULL;
	pthread_mutex_lock(&cred_mu);
	if (!env_taken) {
		/* A program that did not call xfer_secrets_init. */
		pthread_mutex_unlock(&cred_mu);
		xfer_secrets_init();
		pthread_mutex_lock(&cred_mu);
	}
	for (c = cred_list; c; c = c->next)
		if (same(c->host, host) && same(c->user_in, user_in) &&
		    same(c->file, o->password_file))
			break;
	if (!c) {
		char *user = *userp;
		const char *pass = NULL;
		bool owned = false;
		/* Asked under the lock: one prompt, even from two threads. */
		rc = resolve(o, &user, host, &pass, &owned, err, errlen);
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
			c->owned = owned;
		} else if (owned) {
			xcred_free((char *)pass);
		}
		if (user != user_in)
			free(user);	/* netrc's login, copied */
		if (!c || oom) {
			if (c)
				cred_free(c);
			pthread_mutex_unlock(&cred_mu);
			return xerr(err, errlen, -ENOMEM, "out of memory");
		}
		c->next = cred_list;
		cred_list = c;
	}
	if (!same(c->user, user_in)) {
		char *u = dup_or_null(c->user, &oom);
		if (!oom) {
			free(*userp);
			*userp = u;
		}
	}
	*out = c->pass;	/* borrowed: the one copy, alive until exit */
	pthread_mutex_unlock(&cred_mu);
	if (oom) {
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
