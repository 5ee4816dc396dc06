/*
 * cli.c - argument parsing shared by every `reel` subcommand: its own
 * options from a small table, then any transfer option handed on to
 * xfer_opts_set, so `--tls`, `--password-file`, `--cacert`... work the
 * same everywhere. It must never accept a password in argv: that refusal
 * lives in xfer_opts_set and is passed through unchanged.
 */
#include "reel.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void reel_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rlogv(RLOG_ERR, fmt, ap);
	va_end(ap);
}

void reel_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rlogv(RLOG_INFO, fmt, ap);
	va_end(ap);
}

int reel_usage_error(const struct reel_cli *c, const char *fmt, ...)
{
	char msg[1024], safe[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* It may quote a name; names go out only through safetext. */
	fprintf(stderr, "reel %s: %s; see 'reel %s --help'.\n", c->cmd,
		safetext(msg, safe, sizeof(safe)), c->cmd);
	return REEL_EXIT_USAGE;
}

int reel_cli_size(const struct reel_cli *c, const char *opt, const char *v,
		  uint64_t *out)
{
	if (v && xfer_parse_size(v, out) == 0)
		return 0;
	/* A number that only fails by its size says so, not "bad value". */
	if (v && isdigit((unsigned char)v[0])) {
		char *end;
		double d = strtod(v, &end);
		double unit = 1;
		switch (*end) {
		case 'k': case 'K': unit = 0x1p10; break;
		case 'm': case 'M': unit = 0x1p20; break;
		case 'g': case 'G': unit = 0x1p30; break;
		case 't': case 'T': unit = 0x1p40; break;
		}
		if (d * unit >= 0x1p64)
			return reel_usage_error(c, "--%s: \"%s\" is too large (a size "
						"is at most 16 EiB)", opt, v);
	}
	return reel_usage_error(c, "--%s wants a size such as 10240, 64K or 1G, not \"%s\"",
				opt, v ? v : "");
}

int reel_cli_number(const struct reel_cli *c, const char *opt, const char *v,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (!v || !isdigit((unsigned char)v[0]))
		return reel_usage_error(c, "--%s wants a whole number from %" PRIu64
					" to %" PRIu64 ", not \"%s\"", opt, min, max,
					v ? v : "");
	errno = 0;
	n = strtoull(v, &end, 10);
	if (*end)
		return reel_usage_error(c, "--%s wants a whole number from %" PRIu64
					" to %" PRIu64 ", not \"%s\"", opt, min, max, v);
	if (errno == ERANGE || n > max)
		return reel_usage_error(c, "--%s: %s is too large (at most %" PRIu64 ")",
					opt, v, max);
	if (n < min)
		return reel_usage_error(c, "--%s: %s is too small (at least %" PRIu64 ")",
					opt, v, min);
	*out = n;
	return 0;
}

int reel_cli_label(const struct reel_cli *c, bool label, const char *v,
		   char **name, char *volid, size_t volid_len, bool *on)
{
	const char *comma = label ? strchr(v, ',') : v - 1;
	const char *vol = comma ? comma + 1 : NULL;
	size_t nlen = label ? (comma ? (size_t)(comma - v) : strlen(v)) : 0;

	if (nlen > TAPE_LABEL_NAME_MAX)
		return reel_usage_error(c, "--label: the name is %zu characters; "
					"labels hold at most %d", nlen,
					TAPE_LABEL_NAME_MAX);
	if (vol && (!*vol || strlen(vol) > TAPE_LABEL_VOLID))
		return reel_usage_error(c, "--%s: a volume id is 1 to %d characters, "
					"not \"%s\"", label ? "label" : "volume",
					TAPE_LABEL_VOLID, vol);
	if (label && nlen == 0 && !vol)
		return reel_usage_error(c, "--label wants NAME or NAME,VOLID");
	if (label) {
		free(*name);
		*name = nlen ? strndup(v, nlen) : NULL;
		if (nlen && !*name) {
			reel_error("out of memory.");
			return REEL_EXIT_FAIL;
		}
	}
	if (vol)
		snprintf(volid, volid_len, "%s", vol);
	*on = true;
	return 0;
}

int reel_cli_format(const struct reel_cli *c, const char *v, bool allow_auto,
		    const struct tape_format **out)
{
	if (allow_auto && v && !strcmp(v, "auto")) {
		*out = NULL;
		return 0;
	}
	*out = v ? tape_format_by_name(v) : NULL;
	if (!*out)
		return reel_usage_error(c, "unknown format \"%s\" (known: %s%s)",
					v ? v : "", tape_format_names(),
					allow_auto ? ", auto" : "");
	return 0;
}

int reel_cli_one(const struct reel_cli *c, const char *noun, const char *missing)
{
	if (c->npos == 1)
		return -1;
	if (c->npos > 1)
		return reel_usage_error(c, "give one %s, not %d", noun, c->npos);
	return reel_usage_error(c, "%s", missing);
}

static const struct reel_opt *find_long(const struct reel_opt *t, const char *name,
					size_t n)
{
	for (; t && t->name; t++)
		if (strlen(t->name) == n && strncmp(t->name, name, n) == 0)
			return t;
	return NULL;
}

static const struct reel_opt *find_short(const struct reel_opt *t, char ch)
{
	for (; t && t->name; t++)
		if (t->short_name && t->short_name == ch)
			return t;
	return NULL;
}

static void print_help(const struct reel_cli *c)
{
	fputs(c->usage, stdout);
	if (c->transfer) {
		fputs("\nTransfer options (for ftp://, ftps://, sftp:// and file:// URLs):\n", stdout);
		fputs(xfer_opts_help(), stdout);
		fputs("\nPasswords come from --password-file, REELFS_PASSWORD, ~/.netrc or a\n"
		      "prompt; never from the command line.\n", stdout);
	}
}

int reel_cli_parse(struct reel_cli *c, int argc, char **argv)
{
	bool only_pos = false;

	c->npos = 0;
	c->pos = calloc((size_t)argc + 1, sizeof(*c->pos));
	if (!c->pos) {
		reel_error("out of memory.");
		return REEL_EXIT_FAIL;
	}
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			c->pos[c->npos++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			print_help(c);
			return reel_stdout_finish(REEL_EXIT_OK);
		}
		if (a[1] != '-') {
			/* Short options, one letter each, no values bundled. */
			for (char *p = a + 1; *p; p++) {
				const struct reel_opt *o = find_short(c->opts, *p);
				if (!o)
					return reel_usage_error(c, "unknown option -%c", *p);
				const char *val = NULL;
				if (o->takes_value) {
					if (p[1] || i + 1 >= argc)
						return reel_usage_error(c, "-%c needs a value", *p);
					val = argv[++i];
				}
				int rc = c->fn(c->ctx, o->id, val);
				if (rc)
					return rc;
			}
			continue;
		}
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t n = eq ? (size_t)(eq - name) : strlen(name);
		const char *val = eq ? eq + 1 : NULL;
		const struct reel_opt *o = find_long(c->opts, name, n);
		if (o) {
			if (o->takes_value && !val) {
				if (i + 1 >= argc)
					return reel_usage_error(c, "--%s needs a value", o->name);
				val = argv[++i];
			} else if (!o->takes_value && val) {
				return reel_usage_error(c, "--%s takes no value", o->name);
			}
			int rc = c->fn(c->ctx, o->id, val);
			if (rc)
				return rc;
			continue;
		}
		if (!c->transfer)
			return reel_usage_error(c, "unknown option --%.*s", (int)n, name);
		char key[64];
		if (n >= sizeof(key))
			return reel_usage_error(c, "unknown option --%.*s", (int)n, name);
		memcpy(key, name, n);
		key[n] = '\0';
		if (!val && xfer_opts_takes_value(key)) {
			if (i + 1 >= argc)
				return reel_usage_error(c, "--%s needs a value", key);
			val = argv[++i];
		}
		char err[XFER_ERRLEN] = "";
		int rc = xfer_opts_set(c->xo, key, val, err, sizeof(err));
		if (rc == 1)
			return reel_usage_error(c, "unknown option --%s", key);
		if (rc < 0) {
			fprintf(stderr, "reel %s: %s\n", c->cmd,
				err[0] ? err : "bad transfer option");
			return REEL_EXIT_USAGE;
		}
	}
	return -1;
}
