/*
 * log.c - one log function with a replaceable sink. Must stay safe to call
 * from the upload thread and the FUSE threads at once: each message is
 * formatted into a local buffer and handed to the sink in one call.
 * Messages quote servers, listings and file names, so every message is
 * rendered by safetext before any sink sees it: no control byte (C0, DEL,
 * C1 raw or in UTF-8) reaches a terminal, a log file or syslog.
 */
#include "log.h"
#include "safetext.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

enum rlog_level rlog_max_level = RLOG_INFO;

static const char *program = "reelfs";
static rlog_sink_fn sink_fn;
static void *sink_ctx;
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;

void rlog_set_program(const char *name) { program = name; }
const char *rlog_program(void) { return program; }
void rlog_set_level(enum rlog_level max) { rlog_max_level = max; }

void rlog_set_sink(rlog_sink_fn sink, void *ctx)
{
	sink_fn = sink;
	sink_ctx = ctx;
}

static void syslog_sink(void *ctx, enum rlog_level level, const char *msg)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	(void)ctx;
	syslog(prio[level], "%s", msg);
}

void rlog_use_syslog(void)
{
	openlog(program, LOG_PID, LOG_DAEMON);
	rlog_set_sink(syslog_sink, NULL);
}

void rlogv(enum rlog_level level, const char *fmt, va_list ap)
{
	char raw[2048], msg[4096];

	if (level > rlog_max_level)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* The sink ends the line; a newline inside is escaped like the rest. */
	size_t n = strlen(raw);
	if (n && raw[n - 1] == '\n')
		n--;
	safetext_render(msg, sizeof(msg), raw, n);
	if (sink_fn) {
		sink_fn(sink_ctx, level, msg);
		return;
	}
	pthread_mutex_lock(&stderr_lock);
	fprintf(stderr, "%s: %s\n", program, msg);
	pthread_mutex_unlock(&stderr_lock);
}

void rlog(enum rlog_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rlogv(level, fmt, ap);
	va_end(ap);
}
