/*
 * out.c - what `reel` writes to stdout: a buffered byte stream for `cat`
 * (large writes go straight through, small records are gathered), JSON
 * string literals and ISO 8601 times for the --json outputs. Names and
 * messages from outside are shown through safetext (ftp/safetext.h); the
 * JSON writer escapes the same controls as \u sequences.
 *
 * It must never die of SIGPIPE: reel ignores that signal at start, and a
 * reader that went away comes back here as -EPIPE, which callers turn into
 * a quiet exit.
 */
#include "reel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OUT_BUF (256u * 1024)

static char out_buf[OUT_BUF];
static size_t out_len;

static int write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(1, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int reel_out_flush(void)
{
	int rc = write_all(out_buf, out_len);
	out_len = 0;
	return rc;
}

int reel_out_write(const void *p, size_t n)
{
	if (out_len + n <= OUT_BUF) {
		memcpy(out_buf + out_len, p, n);
		out_len += n;
		return 0;
	}
	int rc = reel_out_flush();
	if (rc < 0)
		return rc;
	if (n >= OUT_BUF / 2)
		return write_all(p, n);
	memcpy(out_buf, p, n);
	out_len = n;
	return 0;
}

/* errno of the first failed stdio write to stdout, caught right after it
 * by reel_stdout_failed(), before later calls can overwrite errno. */
static int stdout_errno;

bool reel_stdout_failed(void)
{
	if (!ferror(stdout))
		return false;
	if (!stdout_errno)
		stdout_errno = errno ? errno : EIO;
	return true;
}

int reel_stdout_finish(int rc)
{
	/* stdio keeps the first write error in ferror(); errno may be stale by
	 * now, so a failure nobody caught in time is reported as EIO. */
	int e = 0;
	if (fflush(stdout) != 0)
		e = errno ? errno : EIO;
	else if (ferror(stdout))
		e = stdout_errno ? stdout_errno : (errno == EPIPE ? EPIPE : EIO);
	if (!e || e == EPIPE)
		return rc;
	reel_error("writing to stdout failed: %s; the output is incomplete.",
		   strerror(e));
	return REEL_EXIT_FAIL;
}

void reel_iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;
	if (t == 0 || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Length of the well-formed UTF-8 sequence at p (1..4), or 0. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned c = p[0];
	size_t n;
	unsigned min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000;
	else
		return 0;
	unsigned cp = c & (0x3fu >> (n - 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* The code point of the well-formed sequence at p, n bytes long. */
static unsigned utf8_cp(const unsigned char *p, size_t n)
{
	static const unsigned char lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned cp = p[0] & lead_mask[n];
	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (p[i] & 0x3fu);
	return cp;
}

void reel_json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; p && *p;) {
		unsigned char c = *p;
		size_t n = utf8_seq(p);
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else if (n == 0)
			/* A name from a server or a disk need not be UTF-8, but
			 * JSON must be: an invalid byte becomes U+FFFD. */
			fputs("\\ufffd", stdout);
		else if (safetext_find((const char *)p, n) == 0)
			/* C1 in UTF-8 (C2 9B is CSI) or a bidi control:
			 * valid JSON raw, but not for a terminal. */
			printf("\\u%04x", utf8_cp(p, n));
		else
			fwrite(p, 1, n, stdout);
		p += n ? n : 1;
	}
	putchar('"');
}

void reel_json_scan_error(const struct reel_scan *s)
{
	if (s->damaged) {
		printf("{\"offset\": %" PRIu64 ", \"kind\": ", s->err_offset);
		reel_json_str(tape_error_kind_name(s->err_kind));
		printf(", \"message\": ");
		reel_json_str(s->err_msg);
		printf("}");
	} else if (s->io_failed) {
		/* The offset of a read failure is how far reading got. */
		printf("{\"offset\": %" PRIu64 ", \"kind\": \"read\", \"message\": ",
		       s->bytes_read);
		reel_json_str(s->io_msg);
		printf("}");
	} else {
		printf("null");
	}
}
