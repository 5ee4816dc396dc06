/*
 * out.c - what `reel` writes to stdout: a buffered byte stream for `cat`
 * (large writes go straight through, small records are gathered), JSON
 * string literals and ISO 8601 times for the --json outputs.
 *
 * It must never die of SIGPIPE: reel ignores that signal at start, and a
 * reader that went away comes back here as -EPIPE, which callers turn into
 * a quiet exit.
 */
#include "reel.h"

#include <errno.h>
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

int reel_stdout_finish(int rc)
{
	/* stdio keeps the first write error in ferror(); errno may be stale by
	 * now, so a failure that fflush does not repeat is reported as EIO. */
	int e = 0;
	if (fflush(stdout) != 0)
		e = errno ? errno : EIO;
	else if (ferror(stdout))
		e = errno == EPIPE ? EPIPE : EIO;
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

const char *reel_clean(const char *s, char *buf, size_t len)
{
	size_t i = 0;
	if (!len)
		return "";
	for (; s && *s && i + 1 < len; s++, i++) {
		unsigned char c = (unsigned char)*s;
		buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	buf[i] = '\0';
	return buf;
}

void reel_json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}
