/*
 * opts.c - the transfer options: defaults, parsing one key=value at a time
 * (shared by reel's argv and reelfs's -o), sizes, and the help text. It
 * never accepts a password as an option: argv is readable by other users.
 */
#include "xfer_int.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MiB (1024ULL * 1024)

void xfer_opts_init(struct xfer_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->tls = XFER_TLS_NO;
	o->connect_timeout = 10;
	o->stall_timeout = 60;
	o->buffer_size = 64 * MiB;
	o->replay_size = 32 * MiB;
	o->retries = 5;
	o->overwrite = XFER_OVERWRITE_NEVER;
	o->debug = XFER_DEBUG_NONE;
	o->progress = -1;
}

void xfer_opts_free(struct xfer_opts *o)
{
	free(o->user);
	free(o->password_file);
	free(o->cacert);
	free(o->active);
	free(o->ssh_key);
	free(o->ssh_host_key);
	free(o->s3_endpoint);
	free(o->s3_region);
	free(o->s3_profile);
	o->s3_endpoint = o->s3_region = o->s3_profile = NULL;
	o->user = o->password_file = o->cacert = o->active = NULL;
	o->ssh_key = o->ssh_host_key = NULL;
}

int xfer_parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v;
	uint64_t mult = 1;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != '.' &&
		    !strchr("kKmMgGtTbB", *p) && *p != 'i')
			return -EINVAL;
	if (strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		unsigned long long n = strtoull(s, &end, 10);
		if (errno || *end)
			return -EINVAL;
		*out = n;
		return 0;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': mult = 1024ULL; end++; break;
	case 'm': case 'M': mult = MiB; end++; break;
	case 'g': case 'G': mult = 1024 * MiB; end++; break;
	case 't': case 'T': mult = 1024 * 1024 * MiB; end++; break;
	case 'b': case 'B': mult = 1; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	/* Accept "64MiB" and "64MB" spelled out, both meaning powers of 1024. */
	if (mult > 1 && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	if (*end)
		return -EINVAL;
	v *= (double)mult;
	if (v >= 18446744073709551616.0)
		return -EINVAL;
	*out = (uint64_t)v;
	if ((double)*out != v && mult == 1)
		return -EINVAL;	/* "1.5" bytes */
	return 0;
}

static int set_str(char **dst, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

/* An absolute form of a file name given relative to the current
 * directory (the file need not exist yet). */
static int set_path(char **dst, const char *v)
{
	char cwd[4096], *s;

	if (v[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return set_str(dst, v);
	s = malloc(strlen(cwd) + strlen(v) + 2);
	if (!s)
		return -ENOMEM;
	sprintf(s, "%s/%s", strcmp(cwd, "/") ? cwd : "", v);
	free(*dst);
	*dst = s;
	return 0;
}

static int parse_long(const char *v, long min, long max, long *out)
{
	char *end;
	long n;

	if (!v || !*v)
		return -EINVAL;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!v || !strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "true")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "false")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

/* Keys that need a value; the flags (insecure, mkdir, verify, progress,
 * quiet, active) take none or an optional "=value". */
static const char *const valued[] = {
	"user", "password-file", "tls", "cacert", "connect-timeout",
	"stall-timeout", "buffer", "replay", "retries", "overwrite", "debug",
	"ssh-key", "ssh-host-key", "s3-endpoint", "s3-region", "s3-profile",
	"s3-part-size",
};

bool xfer_opts_takes_value(const char *key)
{
	for (size_t i = 0; i < sizeof(valued) / sizeof(valued[0]); i++)
		if (!strcmp(key, valued[i]))
			return true;
	return false;
}

#define BAD(...) xerr(err, errlen, -EINVAL, __VA_ARGS__)

int xfer_opts_set(struct xfer_opts *o, const char *key, const char *value,
		  char *err, size_t errlen)
{
	long n;
	uint64_t sz;

	if (!strcmp(key, "password") || !strcmp(key, "pass") ||
	    !strcmp(key, "passwd"))
		return BAD("--%s is refused: %s", key, xurl_password_refusal);
	if (xfer_opts_takes_value(key) && (!value || !*value))
		return BAD("--%s needs a value", key);
	if (!strcmp(key, "user"))
		return set_str(&o->user, value);
	/* Files are named relative to where the command was given: a daemon
	 * changes to "/" later (issue 8, point 4). */
	if (!strcmp(key, "password-file"))
		return set_path(&o->password_file, value);
	if (!strcmp(key, "cacert"))
		return set_path(&o->cacert, value);
	if (!strcmp(key, "ssh-key"))
		return set_path(&o->ssh_key, value);
	if (!strcmp(key, "ssh-host-key")) {
		if (strncmp(value, "SHA256:", 7) || strlen(value) < 50)
			return BAD("--ssh-host-key=%s: give the fingerprint as ssh "
				   "prints it (SHA256: and 43 characters)", value);
		return set_str(&o->ssh_host_key, value);
	}
	if (!strcmp(key, "tls")) {
		if (!strcmp(value, "no"))
			o->tls = XFER_TLS_NO;
		else if (!strcmp(value, "try"))
			o->tls = XFER_TLS_TRY;
		else if (!strcmp(value, "require") || !strcmp(value, "yes"))
			o->tls = XFER_TLS_REQUIRE;
		else
			return BAD("--tls=%s: use no, try or require", value);
		return 0;
	}
	if (!strcmp(key, "allow-readable-password-file"))
		return parse_bool(value, &o->allow_readable_password_file) ?
		       BAD("--allow-readable-password-file takes no value") : 0;
	if (!strcmp(key, "insecure"))
		return parse_bool(value, &o->insecure) ? BAD("--insecure takes no value") : 0;
	if (!strcmp(key, "mkdir"))
		return parse_bool(value, &o->mkdir) ? BAD("--mkdir takes no value") : 0;
	if (!strcmp(key, "verify"))
		return parse_bool(value, &o->verify) ? BAD("--verify takes no value") : 0;
	if (!strcmp(key, "no-verify")) {
		o->verify = false;
		return 0;
	}
	if (!strcmp(key, "progress") || !strcmp(key, "quiet")) {
		bool b;
		if (parse_bool(value, &b))
			return BAD("--%s takes no value", key);
		o->progress = (!strcmp(key, "progress")) == b ? 1 : 0;
		return 0;
	}
	if (!strcmp(key, "active")) {
		/* "-": the address the control connection uses (curl's rule). */
		return set_str(&o->active, value && *value ? value : "-");
	}
	if (!strcmp(key, "passive")) {
		free(o->active);
		o->active = NULL;
		return 0;
	}
	if (!strcmp(key, "connect-timeout") || !strcmp(key, "stall-timeout")) {
		if (parse_long(value, 1, 86400, &n))
			return BAD("--%s=%s: give whole seconds from 1 to 86400", key, value);
		*(!strcmp(key, "connect-timeout") ? &o->connect_timeout : &o->stall_timeout) = n;
		return 0;
	}
	if (!strcmp(key, "retries")) {
		if (parse_long(value, 0, 1000, &n))
			return BAD("--retries=%s: give a number from 0 to 1000", value);
		o->retries = (int)n;
		return 0;
	}
	if (!strcmp(key, "buffer") || !strcmp(key, "replay")) {
		if (xfer_parse_size(value, &sz))
			return BAD("--%s=%s: give a size such as 64M, 1.5G or 4096", key, value);
		if (!strcmp(key, "buffer")) {
			if (sz < 1 * MiB)
				return BAD("--buffer=%s is too small: give at least 1M", value);
			o->buffer_size = sz;
		} else {
			o->replay_size = sz;
		}
		return 0;
	}
	if (!strcmp(key, "s3-endpoint"))
		return set_str(&o->s3_endpoint, value);
	if (!strcmp(key, "s3-profile"))
		return set_str(&o->s3_profile, value);
	if (!strcmp(key, "s3-region")) {
		for (const char *c = value; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '-')
				return BAD("--s3-region=%s: give a region name such "
					   "as us-east-1", value);
		return set_str(&o->s3_region, value);
	}
	if (!strcmp(key, "s3-part-size")) {
		if (xfer_parse_size(value, &sz) || sz < 5 * MiB || sz > 5120 * MiB)
			return BAD("--s3-part-size=%s: give a size from 5M (the "
				   "least S3 takes) to 5G", value);
		o->s3_part_size = sz;
		return 0;
	}
	if (!strcmp(key, "overwrite")) {
		if (!strcmp(value, "never"))
			o->overwrite = XFER_OVERWRITE_NEVER;
		else if (!strcmp(value, "always"))
			o->overwrite = XFER_OVERWRITE_ALWAYS;
		else if (!strcmp(value, "ask"))
			o->overwrite = XFER_OVERWRITE_ASK;
		else
			return BAD("--overwrite=%s: use never, always or ask", value);
		return 0;
	}
	if (!strcmp(key, "debug")) {
		if (!strcmp(value, "none"))
			o->debug = XFER_DEBUG_NONE;
		else if (!strcmp(value, "brief"))
			o->debug = XFER_DEBUG_BRIEF;
		else if (!strcmp(value, "sensitive"))
			o->debug = XFER_DEBUG_SENSITIVE;
		else
			return BAD("--debug=%s: use none, brief or sensitive", value);
		return 0;
	}
	return 1;
}

static char help_text[6144];
static pthread_once_t help_once = PTHREAD_ONCE_INIT;

static void help_build(void)
{
	curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
	bool sftp = false;

	for (const char *const *p = vi->protocols; p && *p; p++)
		sftp |= !strcmp(*p, "sftp");
	snprintf(help_text, sizeof(help_text),
	"Targets: file:///path/NAME or a plain path, ftp://[user@]host[:port]/path/NAME,\n"
	"  ftps://... (implicit TLS)%s\n"
	"  A password in the URL is refused.\n"
	"  --user NAME            user to log in as (else the URL's user)\n"
	"  --password-file FILE   read the password from FILE's first line;\n"
	"                         else REELFS_PASSWORD, ~/.netrc, or a prompt;\n"
	"                         a password goes only to a user that is named\n"
	"  --allow-readable-password-file  accept one group or others can read\n"
	"  --tls=no|try|require   explicit AUTH TLS on ftp:// (default no)\n"
	"  --cacert FILE          trust the CA certificate(s) in FILE\n"
	"  --insecure             do not verify the server's certificate, nor\n"
	"                         an SFTP server's host key (warns)\n"
	"  --ssh-host-key=SHA256:...  accept only this SFTP host key (else\n"
	"                         ~/.ssh/known_hosts must hold the server's key)\n"
	"  --ssh-key FILE         SFTP login with this private key, no password\n"
	"                         (ed25519 or ECDSA: libssh2 1.10's RSA is refused)\n"
	"  --active[=ADDR]        active mode (PORT/EPRT); passive is the default\n"
	"  --connect-timeout S    give up connecting after S seconds (default 10)\n"
	"  --stall-timeout S      reconnect after S seconds without progress (60)\n"
	"  --buffer SIZE          memory for data in flight (default 64M)\n"
	"  --replay SIZE          part of it kept for a resume (default 32M)\n"
	"  --retries N            reconnects in a row before giving up, with\n"
	"                         backoff, also while the server is down (5)\n"
	"  --overwrite=never|always|ask   an existing NAME, or a NAME.part left\n"
	"                         by an interrupted upload (default never)\n"
	"  --mkdir                create the target directory\n"
	"  --verify               read NAME.part back and compare its CRC32\n"
	"                         before publishing it as NAME\n"
	"  --progress, --quiet    progress line on stderr (default: on a tty)\n"
	"  --debug=none|brief|sensitive   log the FTP dialogue (brief masks PASS)\n"
	"S3: s3://BUCKET/KEY on an S3-compatible gateway (path-style; keys from\n"
	"  AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials)\n"
	"  --s3-endpoint URL      the gateway, http[s]://HOST[:PORT] (else\n"
	"                         REELFS_S3_ENDPOINT)\n"
	"  --s3-region NAME       the region signed for (default us-east-1)\n"
	"  --s3-profile NAME      the profile of ~/.aws/credentials to use\n"
	"  --s3-part-size SIZE    multipart part size (default 16M, at least 5M)\n",
	sftp ? ", sftp://... (this libcurl has SFTP)."
	     : "; no sftp:// (this libcurl lacks SFTP).");
}

const char *xfer_opts_help(void)
{
	pthread_once(&help_once, help_build);
	return help_text;
}
