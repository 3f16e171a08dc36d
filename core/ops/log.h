/* log — one-line logging to stderr or syslog, with levels and rate limiting. */
#ifndef XTCPD_LOG_H
#define XTCPD_LOG_H

#include <stdarg.h>
#include <string.h>
#include <xtcpd/plugin.h>

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

void log_setup(enum log_target target, int level);
int log_level_get(void);
void log_vmsg(int level, const char *prefix, const char *fmt, va_list ap) XTCPD_PRINTF(3, 0);
void log_msg(int level, const char *fmt, ...) XTCPD_PRINTF(2, 3);
/* Rate-limited: at most one line per interval for `key`; the next line says how many
 * were suppressed. */
void log_vratelimited(const void *key, int interval_ms, int level, const char *prefix,
		      const char *fmt, va_list ap) XTCPD_PRINTF(5, 0);
void log_ratelimited(const void *key, int interval_ms, int level, const char *prefix,
		     const char *fmt, ...) XTCPD_PRINTF(5, 6);

/* strerror of a -errno (or errno) return value. */
static inline const char *log_errstr(int rc)
{
	return strerror(rc < 0 ? -rc : rc);
}

#define log_err(...)   log_msg(XTCPD_LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(XTCPD_LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(XTCPD_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(XTCPD_LOG_DEBUG, __VA_ARGS__)

#endif
