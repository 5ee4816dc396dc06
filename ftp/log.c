/*
 * log.c - one log function with a replaceable sink. Must stay safe to call
 * from the upload thread and the FUSE threads at once: each message is
 * formatted into a local buffer and handed to the sink in one call.
 */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
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
	char msg[2048];

	if (level > rlog_max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
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
