/* http.h — the http sink's instance, shared by http.c (keys, checks, ops) and
 * http_xfer.c (the transfer thread: libcurl multi, retries, completion). */
#ifndef XTCPD_SINK_HTTP_H
#define XTCPD_SINK_HTTP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <xtcpd/plugin.h>

#include "plugins/sinks/common/sink_stats.h"

#define HTTP_LOG_INTERVAL_MS 10000
#define HTTP_BODY_KEEP 512          /* bytes of a response body kept for the log line */
#define HTTP_URL_MAX 8192

/* Failure reasons (label values of xtcpd_sink_failed_total). */
enum http_reason {
	R_HTTP_4XX, R_HTTP_5XX, R_HTTP_OTHER, R_RESOLVE, R_CONNECT, R_TIMEOUT, R_CONNECTION,
	R_TLS, R_CANCELLED, R_SHUTDOWN, R_OTHER, R_N
};

struct http_sink;

/* One POST slot: an easy handle (its connection is reused from the multi's pool) and the
 * batch it carries until the batch is done. `concurrency` of them exist. */
struct http_xfer {
	struct http_sink *hs;
	CURL *easy;
	struct xtcpd_buf *buf;      /* NULL while the slot is free */
	int active;                 /* in the multi handle (worker thread only) */
	unsigned attempt;           /* 0 = first try */
	int64_t retry_at_ns;        /* CLOCK_MONOTONIC; when a backoff ends */
	struct http_xfer *next;     /* free / submitted / backoff list */
	size_t body_len;
	char body[HTTP_BODY_KEEP];  /* the start of the response body */
	char errbuf[CURL_ERROR_SIZE];
};

struct http_sink {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	struct sink_stats st;
	_Atomic uint64_t *failed[R_N];
	_Atomic uint64_t *in_flight_gauge;

	/* configuration (http_check) */
	char *url;
	char where[320];            /* scheme://host[:port]/path, for logs (no credentials) */
	long timeout_ms;
	unsigned concurrency, retries;
	int64_t backoff_ms, backoff_max_ms;
	int tls_verify;
	const char *ca_file;
	struct curl_slist *headers; /* Expect:, header.*, Content-Type (added at start) */
	const char *content_type;   /* the content_type key; NULL = the marshaller's */
	int content_type_set;

	CURLM *multi;
	struct http_xfer *xfers;
	pthread_t worker;
	int worker_running;

	pthread_mutex_t lock;
	pthread_cond_t changed;     /* a slot came free or a batch finished (CLOCK_MONOTONIC) */
	struct http_xfer *free_list, *submitted;   /* under lock */
	unsigned in_flight;         /* batches taken by send and not released, under lock */
	int cancelled, stopping;    /* under lock */

	char rl[R_N];               /* rate-limit keys, one per reason */
	char rl_retry;
};

/* http_xfer.c */
int http_xfers_init(struct http_sink *hs);
void http_xfers_fini(struct http_sink *hs);
int http_worker_start(struct http_sink *hs);
/* Tell the worker to stop, release every batch it holds as failed, and join it. */
void http_worker_stop(struct http_sink *hs);
/* Hand a batch to the worker, waiting for a free slot; 0, or -ECANCELED after cancel. */
int http_submit(struct http_sink *hs, struct xtcpd_buf *buf);
/* Wake the worker (after cancel). */
void http_worker_wake(struct http_sink *hs);
void http_fail(struct http_sink *hs, unsigned reason, const char *fmt, ...) XTCPD_PRINTF(3, 4);

#endif
