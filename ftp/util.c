/*
 * util.c - small helpers shared by ftp/: error sentences (rendered safe
 * by safetext, since they quote servers and names), clocks and
 * human-readable sizes and times. Nothing here may block or allocate.
 */
#include "xfer_int.h"
#include "safetext.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

int xerr(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		/* Error sentences quote server replies and names: they leave
		 * here already safe for a terminal (the sinks render again). */
		safetext_inplace(err, errlen);
	}
	return rc;
}

double xnow(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double xcpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void xfmt_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *unit[] = { "bytes", "KB", "MB", "GB", "TB", "PB" };
	double v = (double)n;
	int i = 0;

	if (n < 1024) {
		snprintf(buf, len, "%llu bytes", (unsigned long long)n);
		return;
	}
	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, "%.2f %s", v, unit[i]);
}

void xfmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == 0 || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "an unknown time");
		return;
	}
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

void xfer_summary(const struct xfer_stats *s, char *buf, size_t len)
{
	char h[32];

	xfmt_bytes(s->sent, h, sizeof(h));
	snprintf(buf, len, "sent %llu bytes (%s); the server holds %llu bytes",
		 (unsigned long long)s->sent, h,
		 (unsigned long long)s->confirmed);
}

int xthread_start(pthread_t *t, const char *name, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	/* Our threads take no signals: they go to the caller's threads, and a
	 * SIGPIPE from a TLS write to a dead socket stays pending harmlessly. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* Named for top -H, perf and ps: which thread costs what. */
	if (rc == 0)
		pthread_setname_np(*t, name);
	return rc;
}
