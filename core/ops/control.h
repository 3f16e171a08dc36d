/* control — runtime control of the running daemon (the ABI 1.6 host services): a poll on
 * demand (coalesced with a running or pending one), a burst of polls, a new poll
 * frequency, the effective configuration as text, a new configuration applied through
 * check -> build -> swap. Requests come from any thread (a plugin's); the main thread
 * owns the schedule and serves them between cycles, woken by CONTROL_SIGNAL (blocked in
 * every thread and taken by its sigtimedwait). */
#ifndef XTCPD_CONTROL_H
#define XTCPD_CONTROL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define CONTROL_SIGNAL SIGUSR2

#define CONTROL_BURST_MAX 1000
#define CONTROL_BURST_MIN_MS 1000
#define CONTROL_BURST_MAX_MS 3600000
/* How long a request waits for the main thread (a cycle may be running). */
#define CONTROL_WAIT_MS 30000

/* ---- any thread ---- */

/* Ask for a poll now: 0 (one will run), -EALREADY (a poll is running or already asked
 * for: it serves this request too), -ESHUTDOWN. */
int control_poll(void);
/* count polls, interval_ms apart, the first now: 0, -EINVAL (count outside 1..1000 or
 * interval outside 1 s..1 h), -EBUSY (a burst is running), -ESHUTDOWN. */
int control_burst(unsigned count, int64_t interval_ms);
/* New frequency (and cycle timeout; 0 = 9/10 of the frequency), applied by the main
 * thread before this returns: 0, -EINVAL (out of the core keys' ranges or timeout not
 * below frequency), -ETIMEDOUT (the main thread did not answer in wait_ms), -ESHUTDOWN. */
int control_frequency(int64_t frequency_ms, int64_t timeout_ms, int wait_ms);
/* The effective configuration as --print-config writes it: like snprintf, the length
 * it has (writes at most n bytes, terminated), or -ENODATA before the first. */
int control_config_text(char *buf, size_t n);
/* Apply a whole configuration (text as control_config_text gives): 0 once it checked
 * and built (the swap follows), -EINVAL with the check's message in err (nothing
 * changed), another -errno with why in err. */
int control_apply(const char *text, size_t len, char *err, size_t n, int wait_ms);

/* ---- the main thread ---- */

/* wake = NULL: kill(getpid(), CONTROL_SIGNAL). Registers the metrics; opens requests. */
void control_init(void (*wake)(void));
/* Refuse new requests and fail the waiting ones (-ESHUTDOWN): at stop. */
void control_close(void);
/* The text control_config_text gives from now on (copied). */
void control_publish(const char *text);
/* Around every cycle: a poll asked for while one runs is served by it. */
void control_cycle(int running);
/* When a poll asked for is due (CLOCK_MONOTONIC ns; INT64_MAX: none). */
int64_t control_due(int64_t now_ns);
/* 1 when a poll asked for (or a burst step) is due at now_ns: it is taken. */
int control_poll_due(int64_t now_ns);

enum control_kind { CONTROL_NONE, CONTROL_FREQUENCY, CONTROL_APPLY };
struct control_request {
	enum control_kind kind;
	int64_t frequency_ms, timeout_ms;
	const char *text;          /* CONTROL_APPLY: borrowed until control_done */
	size_t len;
};
/* 1 and *r when a request waits to be served; the main thread then calls control_done. */
int control_take(struct control_request *r);
/* The outcome of the request taken: rc (0 or -errno) and a message (NULL = none). */
void control_done(int rc, const char *msg);

#endif
