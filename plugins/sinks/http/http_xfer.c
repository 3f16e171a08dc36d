/* http_xfer — the http sink's transfer thread. send() puts a batch into a free slot (an
 * easy handle) and wakes this thread, which runs every slot through one libcurl multi
 * handle: POSTs in parallel on reused connections, a completed POST judged by its
 * outcome (2xx delivered; 4xx failed; 5xx and connection failures retried after a
 * backoff), and each batch released exactly once, from here. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plugins/sinks/http/http.h"

#define HTTP_IDLE_POLL_MS 1000

static int64_t http_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Keep the start of the body (for the log line) and drain the rest. */
static size_t http_body_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_xfer *x = arg;
	size_t len = size * n, room = sizeof(x->body) - 1 - x->body_len;

	if (room) {
		size_t take = len < room ? len : room;

		memcpy(x->body + x->body_len, data, take);
		x->body_len += take;
		x->body[x->body_len] = '\0';
	}
	return len;
}

/* The options every POST of a slot shares, set once. Only http and https may ever be
 * spoken (no file://, no redirects to elsewhere), signals are never used (threads). */
static int http_easy_setup(struct http_sink *hs, struct http_xfer *x)
{
	CURL *e = x->easy;
	CURLcode rc = CURLE_OK;

#if LIBCURL_VERSION_NUM >= 0x075500
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	rc |= curl_easy_setopt(e, CURLOPT_URL, hs->url);
	rc |= curl_easy_setopt(e, CURLOPT_POST, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, hs->headers);
	rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, hs->timeout_ms);
	rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, "xtcpd/" PACKAGE_VERSION);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_body_cb);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, hs->tls_verify ? 1L : 0L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, hs->tls_verify ? 2L : 0L);
	if (hs->ca_file)
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, hs->ca_file);
	return rc == CURLE_OK ? 0 : -EINVAL;
}

int http_xfers_init(struct http_sink *hs)
{
	hs->multi = curl_multi_init();
	hs->xfers = calloc(hs->concurrency, sizeof(*hs->xfers));
	if (!hs->multi || !hs->xfers)
		return -ENOMEM;
	curl_multi_setopt(hs->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)hs->concurrency);
	curl_multi_setopt(hs->multi, CURLMOPT_MAXCONNECTS, (long)hs->concurrency);
	for (unsigned i = 0; i < hs->concurrency; i++) {
		struct http_xfer *x = &hs->xfers[i];

		x->hs = hs;
		x->easy = curl_easy_init();
		if (!x->easy)
			return -ENOMEM;
		if (http_easy_setup(hs, x)) {
			hs->host->log(hs->ctx, XTCPD_LOG_ERR, "libcurl refused an option "
				      "(built without http/https or TLS?)");
			return -EINVAL;
		}
		x->next = hs->free_list;
		hs->free_list = x;
	}
	return 0;
}

void http_xfers_fini(struct http_sink *hs)
{
	for (unsigned i = 0; hs->xfers && i < hs->concurrency; i++)
		if (hs->xfers[i].easy)
			curl_easy_cleanup(hs->xfers[i].easy);
	free(hs->xfers);
	hs->xfers = NULL;
	if (hs->multi)
		curl_multi_cleanup(hs->multi);
	hs->multi = NULL;
}

int http_submit(struct http_sink *hs, struct xtcpd_buf *buf)
{
	struct http_xfer *x;

	pthread_mutex_lock(&hs->lock);
	while (!hs->free_list && !hs->cancelled && !hs->stopping)
		pthread_cond_wait(&hs->changed, &hs->lock);
	if (hs->cancelled || hs->stopping) {
		pthread_mutex_unlock(&hs->lock);
		return -ECANCELED;
	}
	x = hs->free_list;
	hs->free_list = x->next;
	x->buf = buf;
	x->attempt = 0;
	x->next = hs->submitted;
	hs->submitted = x;
	hs->in_flight++;
	atomic_store_explicit(hs->in_flight_gauge, hs->in_flight, memory_order_relaxed);
	pthread_mutex_unlock(&hs->lock);
	curl_multi_wakeup(hs->multi);
	return 0;
}

void http_worker_wake(struct http_sink *hs)
{
	if (hs->multi)
		curl_multi_wakeup(hs->multi);
}

/* The batch is done: release it (exactly once) and free its slot. */
static void http_finish(struct http_sink *hs, struct http_xfer *x, int ok)
{
	struct xtcpd_buf *buf = x->buf;

	x->buf = NULL;
	sink_stats_done(&hs->st, hs->host, hs->ctx, buf, ok);
	pthread_mutex_lock(&hs->lock);
	x->next = hs->free_list;
	hs->free_list = x;
	hs->in_flight--;
	atomic_store_explicit(hs->in_flight_gauge, hs->in_flight, memory_order_relaxed);
	pthread_cond_broadcast(&hs->changed);
	pthread_mutex_unlock(&hs->lock);
}

static void http_start_attempt(struct http_sink *hs, struct http_xfer *x)
{
	CURLMcode mc;

	x->body_len = 0;
	x->body[0] = '\0';
	x->errbuf[0] = '\0';
	x->retry_at_ns = 0;
	/* POSTFIELDS points at the pooled buffer: no copy, valid until we release it. */
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)(x->buf->len - x->buf->off));
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, (char *)x->buf->data + x->buf->off);
	mc = curl_multi_add_handle(hs->multi, x->easy);
	x->active = mc == CURLM_OK;
	if (mc != CURLM_OK) {
		http_fail(hs, R_OTHER, "batch dropped: %s", curl_multi_strerror(mc));
		http_finish(hs, x, 0);
	}
}

/* The first line of a response body, printable ASCII only (it is the server's text). */
static void http_first_line(const struct http_xfer *x, char *out, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < x->body_len && x->body[i] != '\n' && x->body[i] != '\r' &&
			   j + 1 < n && j < 200; i++)
		out[j++] = x->body[i] >= 0x20 && x->body[i] < 0x7f ? x->body[i] : '?';
	out[j] = '\0';
}

static unsigned http_reason_of(CURLcode res, long status, int *retry)
{
	*retry = 1;
	if (res == CURLE_OK) {
		if (status >= 500 && status <= 599)
			return R_HTTP_5XX;
		*retry = 0;
		return status >= 400 && status <= 499 ? R_HTTP_4XX : R_HTTP_OTHER;
	}
	switch (res) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return R_RESOLVE;
	case CURLE_COULDNT_CONNECT:
		return R_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return R_TIMEOUT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return R_CONNECTION;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		*retry = 0;
		return R_TLS;
	default:
		*retry = 0;
		return R_OTHER;
	}
}

/* Backoff before attempt n+1 (n >= 1): retry_backoff * 2^(n-1), at most the maximum. */
static int64_t http_backoff_ms(const struct http_sink *hs, unsigned n)
{
	int64_t ms = hs->backoff_ms;

	while (--n && ms < hs->backoff_max_ms)
		ms *= 2;
	return ms < hs->backoff_max_ms ? ms : hs->backoff_max_ms;
}

/* One POST finished: deliver, fail, or put the slot on the backoff list. */
static void http_done(struct http_sink *hs, struct http_xfer *x, CURLcode res,
		      struct http_xfer **backoff)
{
	char line[256];
	long status = 0;
	unsigned reason;
	int retry;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (res == CURLE_OK && status >= 200 && status <= 299) {
		http_finish(hs, x, 1);
		return;
	}
	reason = http_reason_of(res, status, &retry);
	if (res == CURLE_OK) {
		http_first_line(x, line, sizeof(line));
		http_fail(hs, reason, "POST %s: HTTP %ld (attempt %u): %s", hs->where, status,
			  x->attempt + 1, line[0] ? line : "(empty body)");
	} else {
		http_fail(hs, reason, "POST %s (attempt %u): %s", hs->where, x->attempt + 1,
			  x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
	}
	if (!retry || x->attempt >= hs->retries) {
		http_finish(hs, x, 0);
		return;
	}
	x->attempt++;
	sink_count(hs->st.retried, 1);
	x->retry_at_ns = http_now_ns() + http_backoff_ms(hs, x->attempt) * 1000000LL;
	x->next = *backoff;
	*backoff = x;
}

/* Shutdown or cancel: every batch this thread holds is released as failed. send() no
 * longer submits (the flag is set), so what is on the submitted list now is all of it. */
static void http_abort_all(struct http_sink *hs, struct http_xfer **backoff, unsigned reason)
{
	const char *why = reason == R_SHUTDOWN ? "the sink is stopping" : "shutdown deadline passed";
	struct http_xfer *x, *sub;

	pthread_mutex_lock(&hs->lock);
	sub = hs->submitted;
	hs->submitted = NULL;
	pthread_mutex_unlock(&hs->lock);
	for (unsigned i = 0; hs->xfers && i < hs->concurrency; i++) {
		x = &hs->xfers[i];
		if (x->active) {
			curl_multi_remove_handle(hs->multi, x->easy);
			x->active = 0;
			http_fail(hs, reason, "POST of %u records aborted: %s", x->buf->rows, why);
			http_finish(hs, x, 0);
		}
	}
	for (int pass = 0; pass < 2; pass++)
		while ((x = pass ? *backoff : sub)) {
			if (pass)
				*backoff = x->next;
			else
				sub = x->next;
			http_fail(hs, reason, "batch of %u records dropped: %s", x->buf->rows, why);
			http_finish(hs, x, 0);
		}
}

/* Start what send() submitted and the retries that are due; returns the poll timeout. */
static int http_feed(struct http_sink *hs, struct http_xfer **backoff)
{
	struct http_xfer *sub, *x, **pp;
	int64_t now = http_now_ns(), next = now + HTTP_IDLE_POLL_MS * 1000000LL;

	pthread_mutex_lock(&hs->lock);
	sub = hs->submitted;
	hs->submitted = NULL;
	pthread_mutex_unlock(&hs->lock);
	while ((x = sub)) {
		sub = x->next;
		http_start_attempt(hs, x);
	}
	for (pp = backoff; (x = *pp);) {
		if (x->retry_at_ns <= now) {
			*pp = x->next;
			http_start_attempt(hs, x);
			continue;
		}
		if (x->retry_at_ns < next)
			next = x->retry_at_ns;
		pp = &x->next;
	}
	return (int)((next - now) / 1000000 + 1);
}

static void *http_worker(void *arg)
{
	struct http_sink *hs = arg;
	struct http_xfer *backoff = NULL;
	int running, left, cancelled = 0, stopping;
	CURLMsg *msg;

	for (;;) {
		pthread_mutex_lock(&hs->lock);
		stopping = hs->stopping;
		if (hs->cancelled && !cancelled) {
			cancelled = 1;
			pthread_mutex_unlock(&hs->lock);
			http_abort_all(hs, &backoff, R_CANCELLED);
			continue;
		}
		pthread_mutex_unlock(&hs->lock);
		if (stopping)
			break;
		curl_multi_poll(hs->multi, NULL, 0, http_feed(hs, &backoff), NULL);
		curl_multi_perform(hs->multi, &running);
		while ((msg = curl_multi_info_read(hs->multi, &left))) {
			struct http_xfer *x;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			curl_multi_remove_handle(hs->multi, x->easy);
			x->active = 0;
			http_done(hs, x, msg->data.result, &backoff);
		}
	}
	http_abort_all(hs, &backoff, R_SHUTDOWN);
	return NULL;
}

int http_worker_start(struct http_sink *hs)
{
	int err = pthread_create(&hs->worker, NULL, http_worker, hs);

	if (err) {
		hs->host->log(hs->ctx, XTCPD_LOG_ERR, "cannot start the transfer thread: %s",
			      strerror(err));
		return -err;
	}
	hs->worker_running = 1;
	return 0;
}

void http_worker_stop(struct http_sink *hs)
{
	if (!hs->worker_running)
		return;
	pthread_mutex_lock(&hs->lock);
	hs->stopping = 1;
	pthread_cond_broadcast(&hs->changed);
	pthread_mutex_unlock(&hs->lock);
	curl_multi_wakeup(hs->multi);
	pthread_join(hs->worker, NULL);
	hs->worker_running = 0;
}
