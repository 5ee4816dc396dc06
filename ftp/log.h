/*
 * log.h - the one log function of reelfs, with levels and a replaceable
 * sink (stderr in the foreground, syslog as a daemon). Messages are whole
 * sentences; the sink adds the program name. Never pass a password here.
 */
#ifndef REELFS_LOG_H
#define REELFS_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum rlog_level { RLOG_ERR, RLOG_WARN, RLOG_INFO, RLOG_DEBUG };

typedef void (*rlog_sink_fn)(void *ctx, enum rlog_level level, const char *msg);

void rlog_set_program(const char *name);
const char *rlog_program(void);
void rlog_set_level(enum rlog_level max);	/* default RLOG_INFO */
/* NULL restores the default sink: "PROGRAM: message\n" on stderr. */
void rlog_set_sink(rlog_sink_fn sink, void *ctx);
/* Sends messages to syslog(3) from now on (a daemonized reelfs). */
void rlog_use_syslog(void);

void rlog(enum rlog_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rlogv(enum rlog_level level, const char *fmt, va_list ap);

extern enum rlog_level rlog_max_level;

/* Costs one comparison when debug logging is off. */
#define RLOG_DEBUG_ON() (rlog_max_level >= RLOG_DEBUG)
#define rlog_debug(...)                                                    \
	do {                                                               \
		if (RLOG_DEBUG_ON())                                       \
			rlog(RLOG_DEBUG, __VA_ARGS__);                     \
	} while (0)

#endif
