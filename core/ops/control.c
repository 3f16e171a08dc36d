/* control — runtime control requests (ABI 1.6): polls on demand and bursts are flags and
 * a timer the main thread reads between cycles; a frequency or a configuration change is
 * one request slot that a caller fills and waits on until the main thread has served it.
 * Everything is under one lock; the main thread is woken by CONTROL_SIGNAL. */
#include "config.h"
#include "ops/control.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "ops/clock.h"
#include "ops/metrics.h"

enum ctl_count {
	CC_POLL_STARTED, CC_POLL_COALESCED, CC_BURST_STARTED, CC_BURST_BUSY, CC_BURST_INVALID,
	CC_FREQ_APPLIED, CC_FREQ_REFUSED, CC_APPLY_APPLIED, CC_APPLY_REFUSED, CC_TIMEOUT,
	CC_POLLS_TRIGGERED, CC_POLLS_BURST, CC__COUNT
};

static const struct { const char *name, *labels; } ctl_defs[CC__COUNT] = {
	[CC_POLL_STARTED] = { "xtcpd_control_requests_total", "request=\"poll\",result=\"started\"" },
	[CC_POLL_COALESCED] = { "xtcpd_control_requests_total", "request=\"poll\",result=\"coalesced\"" },
	[CC_BURST_STARTED] = { "xtcpd_control_requests_total", "request=\"burst\",result=\"started\"" },
	[CC_BURST_BUSY] = { "xtcpd_control_requests_total", "request=\"burst\",result=\"busy\"" },
	[CC_BURST_INVALID] = { "xtcpd_control_requests_total", "request=\"burst\",result=\"invalid\"" },
	[CC_FREQ_APPLIED] = { "xtcpd_control_requests_total", "request=\"frequency\",result=\"applied\"" },
	[CC_FREQ_REFUSED] = { "xtcpd_control_requests_total", "request=\"frequency\",result=\"refused\"" },
	[CC_APPLY_APPLIED] = { "xtcpd_control_requests_total", "request=\"config\",result=\"applied\"" },
	[CC_APPLY_REFUSED] = { "xtcpd_control_requests_total", "request=\"config\",result=\"refused\"" },
	[CC_TIMEOUT] = { "xtcpd_control_requests_total", "request=\"any\",result=\"timeout\"" },
	[CC_POLLS_TRIGGERED] = { "xtcpd_control_polls_total", "reason=\"triggered\"" },
	[CC_POLLS_BURST] = { "xtcpd_control_polls_total", "reason=\"burst\"" },
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;         /* CLOCK_MONOTONIC: the request slot changed */
	int cond_ok, open;
	void (*wake)(void);
	_Atomic uint64_t *m[CC__COUNT];
	int running, poll_pending;
	unsigned burst_left;
	int64_t burst_next_ns, burst_interval_ns;
	char *text;                  /* the published configuration */
	/* the one request slot */
	struct control_request req;
	char *req_text;
	int taken, done, abandoned, rc;
	char msg[1024];
} ctl = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void ctl_count(enum ctl_count c)
{
	metrics_add(ctl.m[c], 1);
}

static void ctl_wake_signal(void)
{
	kill(getpid(), CONTROL_SIGNAL);
}

void control_init(void (*wake)(void))
{
	pthread_condattr_t ca;

	pthread_mutex_lock(&ctl.lock);
	if (!ctl.cond_ok) {
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		ctl.cond_ok = !pthread_cond_init(&ctl.cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	for (int i = 0; i < CC__COUNT; i++)
		ctl.m[i] = metrics_get(XTCPD_METRIC_COUNTER, ctl_defs[i].name, ctl_defs[i].labels,
				       i >= CC_POLLS_TRIGGERED ? "Poll cycles run on request, beside the schedule"
							       : "Runtime control requests, by request and outcome");
	ctl.wake = wake ? wake : ctl_wake_signal;
	ctl.running = ctl.poll_pending = 0;
	ctl.burst_left = 0;
	ctl.open = ctl.cond_ok;
	pthread_mutex_unlock(&ctl.lock);
}

/* The slot is free again (the caller holds the lock). */
static void ctl_slot_free(void)
{
	free(ctl.req_text);
	ctl.req_text = NULL;
	memset(&ctl.req, 0, sizeof(ctl.req));
	ctl.taken = ctl.done = ctl.abandoned = 0;
	pthread_cond_broadcast(&ctl.cond);
}

void control_close(void)
{
	pthread_mutex_lock(&ctl.lock);
	ctl.open = 0;
	ctl.poll_pending = 0;
	ctl.burst_left = 0;
	if (ctl.req.kind != CONTROL_NONE && !ctl.done) {
		ctl.rc = -ESHUTDOWN;
		snprintf(ctl.msg, sizeof(ctl.msg), "the daemon is stopping");
		ctl.done = 1;
		if (ctl.abandoned)
			ctl_slot_free();
	}
	free(ctl.text);
	ctl.text = NULL;
	if (ctl.cond_ok)
		pthread_cond_broadcast(&ctl.cond);
	pthread_mutex_unlock(&ctl.lock);
}

int control_poll(void)
{
	int rc = 0;

	pthread_mutex_lock(&ctl.lock);
	if (!ctl.open)
		rc = -ESHUTDOWN;
	else if (ctl.running || ctl.poll_pending)
		rc = -EALREADY;
	else
		ctl.poll_pending = 1;
	pthread_mutex_unlock(&ctl.lock);
	if (rc != -ESHUTDOWN)
		ctl_count(rc ? CC_POLL_COALESCED : CC_POLL_STARTED);
	if (!rc)
		ctl.wake();
	return rc;
}

int control_burst(unsigned count, int64_t interval_ms)
{
	int rc = 0;

	if (count < 1 || count > CONTROL_BURST_MAX || interval_ms < CONTROL_BURST_MIN_MS ||
	    interval_ms > CONTROL_BURST_MAX_MS) {
		ctl_count(CC_BURST_INVALID);
		return -EINVAL;
	}
	pthread_mutex_lock(&ctl.lock);
	if (!ctl.open) {
		rc = -ESHUTDOWN;
	} else if (ctl.burst_left) {
		rc = -EBUSY;
	} else {
		ctl.burst_left = count;
		ctl.burst_interval_ns = interval_ms * 1000000LL;
		ctl.burst_next_ns = clock_mono_ns();
	}
	pthread_mutex_unlock(&ctl.lock);
	if (rc != -ESHUTDOWN)
		ctl_count(rc ? CC_BURST_BUSY : CC_BURST_STARTED);
	if (!rc)
		ctl.wake();
	return rc;
}

/* Fill the slot (waiting for it to be free), wake the main thread, wait for its answer.
 * Takes text (may be NULL). */
static int ctl_request(const struct control_request *r, char *text, char *err, size_t n,
		       int wait_ms)
{
	struct timespec dl = clock_deadline(CLOCK_MONOTONIC, wait_ms);
	int rc = 0;

	pthread_mutex_lock(&ctl.lock);
	while (ctl.open && ctl.req.kind != CONTROL_NONE && !rc)
		rc = pthread_cond_timedwait(&ctl.cond, &ctl.lock, &dl);
	if (!ctl.open || rc) {
		pthread_mutex_unlock(&ctl.lock);
		free(text);
		snprintf(err, n, "%s", ctl.open ? "another control request is being served" :
			 "the daemon is stopping");
		if (ctl.open)
			ctl_count(CC_TIMEOUT);
		return ctl.open ? -ETIMEDOUT : -ESHUTDOWN;
	}
	ctl.req = *r;
	ctl.req.text = ctl.req_text = text;
	ctl.msg[0] = '\0';
	pthread_mutex_unlock(&ctl.lock);
	ctl.wake();
	pthread_mutex_lock(&ctl.lock);
	while (!ctl.done && !rc)
		rc = pthread_cond_timedwait(&ctl.cond, &ctl.lock, &dl);
	if (!ctl.done) {
		if (ctl.taken)
			ctl.abandoned = 1;  /* the main thread frees the slot when done */
		else
			ctl_slot_free();
		pthread_mutex_unlock(&ctl.lock);
		snprintf(err, n, "the daemon did not serve the request within %d ms", wait_ms);
		ctl_count(CC_TIMEOUT);
		return -ETIMEDOUT;
	}
	rc = ctl.rc;
	snprintf(err, n, "%s", ctl.msg);
	ctl_slot_free();
	pthread_mutex_unlock(&ctl.lock);
	return rc;
}

int control_frequency(int64_t frequency_ms, int64_t timeout_ms, int wait_ms)
{
	const struct xtcpd_key *f = &conf_core_keys[CK_FREQUENCY], *t = &conf_core_keys[CK_TIMEOUT];
	struct control_request r = { .kind = CONTROL_FREQUENCY, .frequency_ms = frequency_ms,
				     .timeout_ms = timeout_ms };
	char err[256];
	int rc;

	if (frequency_ms < f->min || frequency_ms > f->max ||
	    (timeout_ms && (timeout_ms < t->min || timeout_ms >= frequency_ms))) {
		ctl_count(CC_FREQ_REFUSED);
		return -EINVAL;
	}
	rc = ctl_request(&r, NULL, err, sizeof(err), wait_ms);
	if (rc != -ETIMEDOUT && rc != -ESHUTDOWN)
		ctl_count(rc ? CC_FREQ_REFUSED : CC_FREQ_APPLIED);
	return rc;
}

int control_apply(const char *text, size_t len, char *err, size_t n, int wait_ms)
{
	struct control_request r = { .kind = CONTROL_APPLY, .len = len };
	char *copy = malloc(len + 1);
	int rc;

	if (!copy) {
		snprintf(err, n, "out of memory");
		return -ENOMEM;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	rc = ctl_request(&r, copy, err, n, wait_ms);
	if (rc != -ETIMEDOUT && rc != -ESHUTDOWN)
		ctl_count(rc ? CC_APPLY_REFUSED : CC_APPLY_APPLIED);
	return rc;
}

int control_config_text(char *buf, size_t n)
{
	int len;

	pthread_mutex_lock(&ctl.lock);
	len = ctl.text ? snprintf(buf, n, "%s", ctl.text) : -ENODATA;
	pthread_mutex_unlock(&ctl.lock);
	return len;
}

void control_publish(const char *text)
{
	char *copy = text ? strdup(text) : NULL;

	pthread_mutex_lock(&ctl.lock);
	free(ctl.text);
	ctl.text = copy;
	pthread_mutex_unlock(&ctl.lock);
}

void control_cycle(int running)
{
	pthread_mutex_lock(&ctl.lock);
	ctl.running = running;
	if (running)
		ctl.poll_pending = 0;  /* this cycle serves it */
	pthread_mutex_unlock(&ctl.lock);
}

int64_t control_due(int64_t now_ns)
{
	int64_t due = INT64_MAX;

	pthread_mutex_lock(&ctl.lock);
	if (ctl.poll_pending)
		due = now_ns;
	else if (ctl.burst_left)
		due = ctl.burst_next_ns;
	pthread_mutex_unlock(&ctl.lock);
	return due;
}

int control_poll_due(int64_t now_ns)
{
	int run = 0, burst = 0;

	pthread_mutex_lock(&ctl.lock);
	if (ctl.burst_left && now_ns >= ctl.burst_next_ns) {
		ctl.burst_left--;
		ctl.burst_next_ns += ctl.burst_interval_ns;
		run = burst = 1;
	}
	if (ctl.poll_pending)
		run = 1;
	pthread_mutex_unlock(&ctl.lock);
	if (run)
		ctl_count(burst ? CC_POLLS_BURST : CC_POLLS_TRIGGERED);
	return run;
}

int control_take(struct control_request *r)
{
	int got = 0;

	pthread_mutex_lock(&ctl.lock);
	if (ctl.req.kind != CONTROL_NONE && !ctl.taken && !ctl.done) {
		ctl.taken = 1;
		*r = ctl.req;
		got = 1;
	}
	pthread_mutex_unlock(&ctl.lock);
	return got;
}

void control_done(int rc, const char *msg)
{
	pthread_mutex_lock(&ctl.lock);
	if (ctl.taken && !ctl.done) {
		ctl.rc = rc;
		snprintf(ctl.msg, sizeof(ctl.msg), "%s", msg ? msg : "");
		ctl.done = 1;
		if (ctl.abandoned)
			ctl_slot_free();
		else
			pthread_cond_broadcast(&ctl.cond);
	}
	pthread_mutex_unlock(&ctl.lock);
}
