/* log — one-line logging to stderr or syslog. Lines are written with one write(2) so
 * concurrent threads never interleave; rate limiting keeps data-path failures quiet. */
#include "config.h"
#include "ops/clock.h"
#include "ops/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static enum log_target log_target = LOG_TARGET_STDERR;
static atomic_int log_lvl = XTCPD_LOG_INFO;

void log_setup(enum log_target target, int level)
{
	if (target == LOG_TARGET_SYSLOG && log_target != LOG_TARGET_SYSLOG)
		openlog("xtcpd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_target = target;
	atomic_store(&log_lvl, level);
}

int log_level_get(void)
{
	return atomic_load(&log_lvl);
}

static const char *level_name(int level)
{
	switch (level) {
	case XTCPD_LOG_ERR: return "error";
	case XTCPD_LOG_WARN: return "warning";
	case XTCPD_LOG_INFO: return "info";
	default: return "debug";
	}
}

/* Names from the host (namespaces, paths) reach log lines: a control character in one
 * must not start a line of its own or drive a terminal. Escaped as \xNN, in place
 * (up to the end of the buffer). */
static int log_escape(char *line, int n, int cap)
{
	char out[1024];
	int w = 0;

	for (int i = 0; i < n && w < (int)sizeof(out) - 1; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch >= 0x20 && ch != 0x7f) {
			out[w++] = (char)ch;
		} else if (w + 4 < (int)sizeof(out)) {
			snprintf(out + w, 5, "\\x%02x", ch);
			w += 4;
		} else {
			break;
		}
	}
	if (w > cap - 1)
		w = cap - 1;
	memcpy(line, out, (size_t)w);
	return w;
}

void log_vmsg(int level, const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n = 0;

	if (level > atomic_load(&log_lvl))
		return;
	if (log_target == LOG_TARGET_STDERR)
		n = snprintf(line, sizeof(line), "xtcpd: %s: ", level_name(level));
	if (prefix)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s: ", prefix);
	if (n < (int)sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	n = log_escape(line, n, (int)sizeof(line) - 1);
	line[n] = '\0';
	if (log_target == LOG_TARGET_SYSLOG) {
		syslog(level, "%s", line);
		return;
	}
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, NULL, fmt, ap);
	va_end(ap);
}

/* A fixed table of rate-limit slots keyed by call-site pointer, open addressing. When
 * all slots are taken (more than RL_SLOTS distinct keys) a new key shares slot 0. */
#define RL_SLOTS 256
static struct {
	const void *key;
	int64_t last_ms;
	uint64_t suppressed;
} rl[RL_SLOTS];
static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;

void log_vratelimited(const void *key, int interval_ms, int level, const char *prefix,
		      const char *fmt, va_list ap)
{
	size_t h = ((uintptr_t)key >> 4) % RL_SLOTS, slot = 0;
	int64_t now = clock_mono_ms();
	uint64_t suppressed;
	char pfx[256];

	pthread_mutex_lock(&rl_lock);
	for (size_t i = 0; i < RL_SLOTS; i++) {
		size_t s = (h + i) % RL_SLOTS;
		if (rl[s].key == key || !rl[s].key) {
			slot = s;
			break;
		}
	}
	if (rl[slot].key == key && now - rl[slot].last_ms < interval_ms) {
		rl[slot].suppressed++;
		pthread_mutex_unlock(&rl_lock);
		return;
	}
	suppressed = rl[slot].key == key ? rl[slot].suppressed : 0;
	rl[slot].key = key;
	rl[slot].last_ms = now;
	rl[slot].suppressed = 0;
	pthread_mutex_unlock(&rl_lock);
	if (suppressed) {
		snprintf(pfx, sizeof(pfx), "%s%s(%llu similar lines suppressed)", prefix ? prefix : "",
			 prefix ? ": " : "", (unsigned long long)suppressed);
		prefix = pfx;
	}
	log_vmsg(level, prefix, fmt, ap);
}

void log_ratelimited(const void *key, int interval_ms, int level, const char *prefix,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vratelimited(key, interval_ms, level, prefix, fmt, ap);
	va_end(ap);
}
