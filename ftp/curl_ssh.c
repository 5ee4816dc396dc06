/*
 * curl_ssh.c - what is SFTP's own in the libcurl backend (issue 9, point 7):
 *
 * - the server's host key is checked before any credential leaves: against
 *   ~/.ssh/known_hosts by default, or against a --ssh-host-key=SHA256:...
 *   pin. An unknown or changed key is refused with a sentence naming the
 *   fingerprint the server offered, as ssh prints it. --insecure skips the
 *   check, with a warning;
 * - --ssh-key FILE logs in with a key and no password at all;
 * - messages for refused keys and passwords (an RSA key is refused by
 *   OpenSSH 8.8 and later: Debian 12's libssh2 1.10 signs with SHA-1);
 * - the path form of quote commands: libcurl reads "/~/" in a URL as the
 *   login directory, but sends a quoted quote path as it is, so "/~/dir"
 *   goes out relative ("dir/NAME"), which the server resolves against the
 *   same login directory libcurl asked it for.
 *
 * It never writes to known_hosts, and never accepts a key it could not
 * check unless --insecure was given.
 */
#include "curl_int.h"
#include "log.h"
#include "sha256.h"

#include <errno.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cs_ssh {
	char *known_hosts;	/* checked against this file; NULL: not */
	char pin[64];		/* --ssh-host-key, unpadded base64; "" none */
	char *key, *pub;	/* --ssh-key and FILE.pub (NULL: derived) */
	char refusal[2048];	/* why the host key was refused, or "" */
};

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* "SHA256:" and the unpadded base64 of the key's digest, as ssh prints. */
static void fingerprint(const void *key, size_t len, char out[60])
{
	uint8_t d[33] = { 0 };
	char *o = out + sprintf(out, "SHA256:");

	sha256(key, len, d);
	for (int i = 0; i < 33; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = b64[v >> 6 & 63];
		if (i < 30)
			*o++ = b64[v & 63];
	}
	*o = '\0';
}

static const char *type_name(int t)
{
	switch (t) {
	case CURLKHTYPE_RSA1:
	case CURLKHTYPE_RSA: return "RSA";
	case CURLKHTYPE_DSS: return "DSA";
	case CURLKHTYPE_ECDSA: return "ECDSA";
	case CURLKHTYPE_ED25519: return "ED25519";
	default: return "an unknown type of";
	}
}

/* The name known_hosts and ssh-keygen -R use: "[host]:port" off port 22. */
static void kh_name(struct cs *c, char *out, size_t len)
{
	long port = 0;

	curl_easy_getinfo(c->h, CURLINFO_PRIMARY_PORT, &port);
	if (port && port != 22)
		snprintf(out, len, "[%s]:%ld", c->host, port);
	else
		snprintf(out, len, "%s", c->host);
}

static int on_knownhost(CURL *h, const struct curl_khkey *known,
			const struct curl_khkey *found, enum curl_khmatch m,
			void *ctx)
{
	struct cs *c = ctx;
	char fp[60], name[256];
	(void)h;
	(void)known;

	if (m == CURLKHMATCH_OK)
		return CURLKHSTAT_FINE;
	fingerprint(found->key, found->len, fp);
	kh_name(c, name, sizeof(name));
	if (m == CURLKHMATCH_MISMATCH)
		snprintf(c->ssh->refusal, sizeof(c->ssh->refusal),
			 "the host key of %s has changed: the server offered %s "
			 "key %s, not the one in known_hosts. Someone may be "
			 "intercepting the connection; nothing was sent. If the "
			 "key was replaced on purpose, run ssh-keygen -R '%s' and "
			 "add the new one, or pin it with --ssh-host-key",
			 name, type_name(found->keytype), fp, name);
	else
		snprintf(c->ssh->refusal, sizeof(c->ssh->refusal),
			 "the host key of %s is unknown (not in %s): the server "
			 "offered %s key %s; nothing was sent. If that is the "
			 "server's key, add it to known_hosts or give "
			 "--ssh-host-key=%s",
			 name, c->ssh->known_hosts, type_name(found->keytype), fp,
			 fp);
	return CURLKHSTAT_REJECT;
}

static int on_hostkey(void *ctx, int type, const char *key, size_t len)
{
	struct cs *c = ctx;
	char fp[60], name[256];

	fingerprint(key, len, fp);
	if (!strcmp(fp + 7, c->ssh->pin))
		return CURLKHMATCH_OK;
	kh_name(c, name, sizeof(name));
	snprintf(c->ssh->refusal, sizeof(c->ssh->refusal),
		 "the host key of %s does not match --ssh-host-key=SHA256:%s: "
		 "the server offered %s key %s. Someone may be intercepting "
		 "the connection; nothing was sent", name, c->ssh->pin,
		 type_name(type), fp);
	return CURLKHMATCH_MISMATCH;
}

/* ~/.ssh/known_hosts of the user running us ($HOME, else the password
 * database), as ssh reads it. */
static char *known_hosts_path(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;
	char *p;

	if (!home || !*home) {
		pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || !*home)
		return NULL;
	p = malloc(strlen(home) + sizeof("/.ssh/known_hosts"));
	if (p)
		sprintf(p, "%s/.ssh/known_hosts", home);
	return p;
}

int cs_ssh_parse_pin(const char *v, char *out, size_t len)
{
	size_t n;

	if (strncmp(v, "SHA256:", 7))
		return -EINVAL;
	v += 7;
	n = strspn(v, b64);
	if (n != 43 || strspn(v + n, "=") != strlen(v + n) || n >= len)
		return -EINVAL;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

int cs_ssh_open(struct cs *c, const struct xfer_opts *o, char *err,
		size_t errlen)
{
	static atomic_bool warned;
	struct cs_ssh *s = calloc(1, sizeof(*s));

	if (!s)
		return xerr(err, errlen, -ENOMEM, "out of memory");
	c->ssh = s;
	if (o->ssh_key) {
		s->key = strdup(o->ssh_key);
		s->pub = malloc(strlen(o->ssh_key) + 5);
		if (!s->key || !s->pub)
			return xerr(err, errlen, -ENOMEM, "out of memory");
		if (access(s->key, R_OK))
			return xerr(err, errlen, -errno, "cannot read the SSH key "
				    "%s (--ssh-key): %s", s->key, strerror(errno));
		sprintf(s->pub, "%s.pub", s->key);
		if (access(s->pub, R_OK)) {
			free(s->pub);
			s->pub = NULL;	/* libssh2 derives it from the key */
		}
	}
	if (o->ssh_host_key) {
		if (cs_ssh_parse_pin(o->ssh_host_key, s->pin, sizeof(s->pin)))
			return xerr(err, errlen, -EINVAL, "--ssh-host-key=%s: give "
				    "the fingerprint as ssh prints it, SHA256: and "
				    "43 base64 characters", o->ssh_host_key);
		return 0;
	}
	if (o->insecure) {
		if (!atomic_exchange(&warned, true))
			rlog(RLOG_WARN, "--insecure: the SFTP server's host key is "
			     "not checked; whoever answers at %s gets the password "
			     "and the data", c->host);
		return 0;
	}
	s->known_hosts = known_hosts_path();
	if (!s->known_hosts)
		return xerr(err, errlen, -ENOENT, "cannot find ~/.ssh/known_hosts "
			    "to check the SFTP server's host key (HOME is not set): "
			    "give --ssh-host-key=SHA256:...");
	return 0;
}

bool cs_ssh_keyauth(const struct cs *c)
{
	return c->ssh && c->ssh->key;
}

void cs_ssh_setup(struct cs *c)
{
	struct cs_ssh *s = c->ssh;
	CURL *h = c->h;

	if (!s)
		return;
	s->refusal[0] = '\0';
	if (s->key) {
		curl_easy_setopt(h, CURLOPT_SSH_AUTH_TYPES, (long)CURLSSH_AUTH_PUBLICKEY);
		curl_easy_setopt(h, CURLOPT_SSH_PRIVATE_KEYFILE, s->key);
		/* "": libssh2 derives the public key from the private one. */
		curl_easy_setopt(h, CURLOPT_SSH_PUBLIC_KEYFILE, s->pub ? s->pub : "");
	} else {
		curl_easy_setopt(h, CURLOPT_SSH_AUTH_TYPES,
				 (long)(CURLSSH_AUTH_PASSWORD | CURLSSH_AUTH_KEYBOARD));
	}
	if (s->pin[0]) {
		/* Our own comparison, not CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256:
		 * libcurl 7.88's refusal prints freed memory, and the message
		 * must name the key the server offered. */
		curl_easy_setopt(h, CURLOPT_SSH_HOSTKEYFUNCTION, on_hostkey);
		curl_easy_setopt(h, CURLOPT_SSH_HOSTKEYDATA, c);
	} else if (s->known_hosts) {
		curl_easy_setopt(h, CURLOPT_SSH_KNOWNHOSTS, s->known_hosts);
		curl_easy_setopt(h, CURLOPT_SSH_KEYFUNCTION, on_knownhost);
		curl_easy_setopt(h, CURLOPT_SSH_KEYDATA, c);
	}
}

void cs_ssh_free(struct cs *c)
{
	if (!c->ssh)
		return;
	free(c->ssh->known_hosts);
	free(c->ssh->key);
	free(c->ssh->pub);
	free(c->ssh);
	c->ssh = NULL;
}

/* "RSA", "ED25519", "ECDSA", "DSA" or NULL, from FILE.pub's first word,
 * a PEM header, or the public part of an OpenSSH key (never encrypted). */
static const char *key_type(const struct cs_ssh *s)
{
	static const struct { const char *mark, *type; } t[] = {
		{ "ssh-rsa", "RSA" }, { "RSA PRIVATE", "RSA" },
		{ "ssh-ed25519", "ED25519" }, { "ecdsa-sha2-", "ECDSA" },
		{ "EC PRIVATE", "ECDSA" }, { "ssh-dss", "DSA" },
		{ "DSA PRIVATE", "DSA" },
	};
	char buf[4096], dec[3072];
	size_t n = 0, m = 0;
	FILE *f = fopen(s->pub ? s->pub : s->key, "re");
	uint32_t acc = 0;
	int bits = 0;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* OpenSSH's own format: the key type is in the base64 body. */
	if (strstr(buf, "BEGIN OPENSSH PRIVATE KEY")) {
		for (const char *p = strchr(buf, '\n'); p && *p && *p != '-' &&
		     m < sizeof(dec) - 1; p++) {
			const char *q = strchr(b64, *p);
			if (!q || !*p)
				continue;
			acc = acc << 6 | (uint32_t)(q - b64);
			if ((bits += 6) >= 8) {
				bits -= 8;
				dec[m++] = (char)(acc >> bits);
			}
		}
		for (size_t i = 0; i < m; i++)
			if (!dec[i])
				dec[i] = ' ';
		dec[m] = '\0';
		memcpy(buf, dec, m + 1);
	}
	explicit_bzero(dec, sizeof(dec));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strstr(buf, t[i].mark)) {
			explicit_bzero(buf, sizeof(buf));
			return t[i].type;
		}
	explicit_bzero(buf, sizeof(buf));
	return NULL;
}

int cs_ssh_error(struct cs *c, CURLcode res, const char *detail, char *err,
		 size_t errlen)
{
	struct cs_ssh *s = c->ssh;
	const char *user = c->user ? c->user : "anonymous";

	if (!s)
		return 0;
	if (res == CURLE_PEER_FAILED_VERIFICATION) {
		if (s->refusal[0])
			return xerr(err, errlen, -EPERM, "%s", s->refusal);
		return xerr(err, errlen, -EPERM, "the host key of %s could not be "
			    "checked (%s); nothing was sent to it", c->host, detail);
	}
	/* With a known_hosts entry for the server, libcurl offers only that
	 * entry's key type: a server that no longer has such a key fails the
	 * key exchange. Not a passing fault: nothing to wait for. */
	if (s->known_hosts && strstr(detail, "exchange encryption keys")) {
		char name[256];
		kh_name(c, name, sizeof(name));
		return xerr(err, errlen, -EPERM, "the key exchange with %s failed "
			    "(%s): the server may no longer have a host key of the "
			    "type known_hosts holds for it; nothing was sent. If "
			    "its key was replaced on purpose, run ssh-keygen -R "
			    "'%s' and add the new one, or use --ssh-host-key",
			    name, detail, name);
	}
	if (res != CURLE_LOGIN_DENIED)
		return 0;
	if (!s->key)
		return xerr(err, errlen, -EACCES, "the SFTP server refused the "
			    "password for user \"%s\" (%s)", user, detail);
	const char *type = key_type(s);
	if (type && !strcmp(type, "RSA"))
		return xerr(err, errlen, -EACCES, "the SFTP server refused the RSA "
			    "key %s for user \"%s\": this libssh2 signs RSA keys "
			    "with SHA-1 (ssh-rsa), which OpenSSH 8.8 and later "
			    "refuse; use an ed25519 or ECDSA key (ssh-keygen -t "
			    "ed25519)", s->key, user);
	return xerr(err, errlen, -EACCES, "the SFTP server refused the key %s "
		    "for user \"%s\" (%s): its public key must be in that user's "
		    "authorized_keys on the server, and the file must be a "
		    "private key without a passphrase", s->key, user, detail);
}

int cs_ssh_path(const struct cs *c, const char *name, char *out, size_t len)
{
	const char *d = c->dir_display;
	size_t o = 0;
	char path[4200];

	/* "/~" and "/~/a": relative to the login directory, as libcurl reads
	 * them for transfers; its quotes would send "/~/" as it is. */
	if (!strcmp(d, "/~"))
		snprintf(path, sizeof(path), "%s", name);
	else if (!strncmp(d, "/~/", 3))
		snprintf(path, sizeof(path), "%s/%s", d + 3, name);
	else
		snprintf(path, sizeof(path), "%s/%s", strcmp(d, "/") ? d : "", name);
	if (len < 3)
		return -ENAMETOOLONG;
	out[o++] = '"';
	for (const char *p = path; *p; p++) {
		if (o + 4 > len)
			return -ENAMETOOLONG;
		if (*p == '"' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	out[o++] = '"';
	out[o] = '\0';
	return 0;
}
