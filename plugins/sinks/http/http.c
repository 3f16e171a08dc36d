/* sink http — POSTs each batch, as the marshaller made it, to one http:// or https:// URL
 * (ClickHouse's HTTP interface, Vector, any ingest endpoint), labelled with the
 * marshaller's content type. libcurl's multi interface keeps up to `concurrency` POSTs
 * in flight on reused connections; 5xx answers and connection failures are retried with
 * exponential backoff, 4xx answers fail at once with the body's first line logged. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plugins/sinks/http/http.h"

enum http_key {
	K_URL, K_TIMEOUT, K_CONCURRENCY, K_RETRIES, K_BACKOFF, K_BACKOFF_MAX, K_CONTENT_TYPE,
	K_CA_FILE, K_TLS_VERIFY, K_HEADER, K_N
};

static const struct xtcpd_key http_keys[] = {
	[K_URL] = { "url", XTCPD_KEY_STRING, NULL, 0, HTTP_URL_MAX, NULL, XTCPD_KEY_REQUIRED,
		    "http:// or https:// URL every batch is POSTed to, used as given" },
	[K_TIMEOUT] = { "timeout", XTCPD_KEY_DURATION, "10s", 100, 600000, NULL, 0,
			"longest one POST may take, connecting included (xtcp2's -produceTimeout)" },
	[K_CONCURRENCY] = { "concurrency", XTCPD_KEY_INT, "4", 1, 64, NULL, 0,
			    "POSTs in flight at once; send waits for a free one" },
	[K_RETRIES] = { "retries", XTCPD_KEY_INT, "3", 0, 100, NULL, 0,
			"re-attempts of a batch after a 5xx answer or a connection failure" },
	[K_BACKOFF] = { "retry_backoff", XTCPD_KEY_DURATION, "250ms", 1, 60000, NULL, 0,
			"wait before the first retry; doubled for each next one" },
	[K_BACKOFF_MAX] = { "retry_backoff_max", XTCPD_KEY_DURATION, "5s", 1, 600000, NULL, 0,
			    "longest wait between two attempts" },
	[K_CONTENT_TYPE] = { "content_type", XTCPD_KEY_STRING, "", 0, 200, NULL, 0,
			     "Content-Type header; empty = the marshaller's (octet-stream if none)" },
	[K_CA_FILE] = { "ca_file", XTCPD_KEY_STRING, "", 0, 4096, NULL, 0,
			"PEM file of the CAs to trust for https; empty = the system's" },
	[K_TLS_VERIFY] = { "tls_verify", XTCPD_KEY_BOOL, "true", 0, 0, NULL, 0,
			   "verify the server's certificate and name (https)" },
	[K_HEADER] = { "header.", XTCPD_KEY_STRING, NULL, 0, 0, NULL, XTCPD_KEY_PREFIX,
		       "header.NAME = VALUE: an extra request header (e.g. header.X-ClickHouse-User)" },
	XTCPD_KEYS_END,
};

static const char *const http_reasons[R_N] = {
	[R_HTTP_4XX] = "http_4xx", [R_HTTP_5XX] = "http_5xx", [R_HTTP_OTHER] = "http_other",
	[R_RESOLVE] = "resolve", [R_CONNECT] = "connect", [R_TIMEOUT] = "timeout",
	[R_CONNECTION] = "connection", [R_TLS] = "tls", [R_CANCELLED] = "cancelled",
	[R_SHUTDOWN] = "shutdown", [R_OTHER] = "other",
};

void http_fail(struct http_sink *hs, unsigned reason, const char *fmt, ...)
{
	char line[768];
	va_list ap;

	sink_stats_fail(&hs->st, reason);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	hs->host->log_ratelimited(hs->ctx, &hs->rl[reason < R_N ? reason : R_OTHER],
				  HTTP_LOG_INTERVAL_MS, XTCPD_LOG_WARN, "%s", line);
}

/* RFC 9110 token characters: what a header name may contain. */
static int http_is_token(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return 0;
	return 1;
}

static int http_is_field_value(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return 0;       /* no CR/LF: one header cannot become two */
	return 1;
}

/* libcurl hands a request to a proxy named in the environment, which resolves the
 * name itself: then the name need not resolve here. */
static int http_proxied(const char *scheme)
{
	const char *const vars[] = { !strcmp(scheme, "https") ? "https_proxy" : "http_proxy",
				     "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v && (i != 1 || !strcmp(scheme, "https")))
			return 1;
	}
	return 0;
}

/* The host of a URL resolves (brackets of an IPv6 literal and a zone id left out). */
static int http_resolve(const char *url, const char *host, struct xtcpd_check *res)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char name[300];
	size_t n = strlen(host);
	int gai;

	if (host[0] == '[' && n > 2 && host[n - 1] == ']')
		snprintf(name, sizeof(name), "%.*s", (int)(n - 2), host + 1);
	else
		snprintf(name, sizeof(name), "%s", host);
	name[strcspn(name, "%")] = '\0';
	gai = getaddrinfo(name, NULL, &hints, &ai);
	if (gai)
		return XTCPD_CHECK_FAIL(res, "url", "'%s': host %s: %s", url, name,
					gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
	freeaddrinfo(ai);
	return 0;
}

/* The URL parsed (http or https, a host that resolves), and into `where` the URL for
 * logs: scheme://host[:port]/path, never the user, password or query. */
static int http_url_check(const char *url, char *where, size_t wn, struct xtcpd_check *res)
{
	char *scheme = NULL, *hostname = NULL, *port = NULL, *path = NULL;
	CURLU *u = curl_url();
	int err;

	if (!u) {
		snprintf(res->msg, res->msg_size, "out of memory");
		res->key = "url";
		return -ENOMEM;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    strcmp(scheme, "http") && strcmp(scheme, "https")) {
		err = XTCPD_CHECK_FAIL(res, "url", "scheme '%s' is not allowed (allowed: http, https)",
				       scheme);
		goto out;
	}
	if (!scheme || curl_url_get(u, CURLUPART_HOST, &hostname, 0) != CURLUE_OK) {
		err = XTCPD_CHECK_FAIL(res, "url", "not a valid URL (expected http://HOST[:PORT]/PATH "
				       "or https://...)");
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	snprintf(where, wn, "%s://%s%s%s%s", scheme, hostname, port ? ":" : "", port ? port : "",
		 path ? path : "/");
	err = http_proxied(scheme) ? 0 : http_resolve(url, hostname, res);
out:
	curl_free(scheme);
	curl_free(hostname);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return err;
}

/* A file of CAs: there, a regular file, readable (libcurl would fail every POST). */
static int http_ca_check(const char *path, struct xtcpd_check *res)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return XTCPD_CHECK_FAIL(res, "ca_file", "'%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return XTCPD_CHECK_FAIL(res, "ca_file", "'%s' is not a regular file", path);
	if (access(path, R_OK) < 0)
		return XTCPD_CHECK_FAIL(res, "ca_file", "'%s': %s", path, strerror(errno));
	return 0;
}

/* Everything create() could refuse, nothing else: no connection, no file opened,
 * nothing kept but the URL for logs in `where`. */
static int http_validate(const struct xtcpd_config *cfg, struct xtcpd_check *res, char *where,
			 size_t wn)
{
	const struct xtcpd_value *v = cfg->values;
	const char *prefix = http_keys[K_HEADER].name;
	int err;

	if (cfg->n_values < K_N)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, K_N);
	if (!v[K_URL].str)
		return XTCPD_CHECK_FAIL(res, "url", "required");
	if ((err = http_url_check(v[K_URL].str, where, wn, res)))
		return err;
	if (v[K_BACKOFF_MAX].num < v[K_BACKOFF].num)
		return XTCPD_CHECK_FAIL(res, "retry_backoff_max", "%lld ms is below retry_backoff "
					"(%lld ms)", (long long)v[K_BACKOFF_MAX].num,
					(long long)v[K_BACKOFF].num);
	if (v[K_CONTENT_TYPE].str && !http_is_field_value(v[K_CONTENT_TYPE].str))
		return XTCPD_CHECK_FAIL(res, "content_type", "control characters are not allowed");
	if (v[K_CA_FILE].str && *v[K_CA_FILE].str && (err = http_ca_check(v[K_CA_FILE].str, res)))
		return err;
	for (size_t i = 0; i < cfg->n_extra; i++) {
		const char *name = cfg->extra[i].key + strlen(prefix);

		if (!http_is_token(name) || !http_is_field_value(cfg->extra[i].value) ||
		    strlen(name) + strlen(cfg->extra[i].value) > 1000)
			return XTCPD_CHECK_FAIL(res, cfg->extra[i].key, "not a valid header (a name of "
						"token characters, a value of at most 1000 bytes "
						"without control characters)");
		if (!strcasecmp(name, "Content-Type") || !strcasecmp(name, "Content-Length") ||
		    !strcasecmp(name, "Transfer-Encoding") || !strcasecmp(name, "Host"))
			return XTCPD_CHECK_FAIL(res, cfg->extra[i].key, "set by the sink itself%s",
						!strcasecmp(name, "Content-Type") ? " (use content_type)"
										  : "");
	}
	return 0;
}

/* The check op (ABI 1.3). */
static int http_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	char where[320];

	return http_validate(cfg, res, where, sizeof(where));
}

static int http_header_add(struct http_sink *hs, const char *name, const char *value)
{
	char line[1024];
	struct curl_slist *l;

	snprintf(line, sizeof(line), "%s: %s", name, value);
	l = curl_slist_append(hs->headers, line);
	if (!l)
		return -ENOMEM;
	hs->headers = l;
	return 0;
}

/* A checked configuration into hs: its settings and request headers. */
static int http_setup(struct http_sink *hs, const struct xtcpd_config *cfg)
{
	const struct xtcpd_value *v = cfg->values;
	const char *ctype = v[K_CONTENT_TYPE].str;
	const char *prefix = http_keys[K_HEADER].name;
	char msg[400];
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };
	int err;

	if ((err = http_validate(cfg, &res, hs->where, sizeof(hs->where)))) {
		hs->host->log(hs->ctx, XTCPD_LOG_ERR, "%s%s%s", res.key ? res.key : "",
			      res.key ? ": " : "", msg);
		return err;
	}
	hs->url = strdup(v[K_URL].str);
	if (!hs->url)
		return -ENOMEM;
	hs->timeout_ms = (long)v[K_TIMEOUT].num;
	hs->concurrency = (unsigned)v[K_CONCURRENCY].num;
	hs->retries = (unsigned)v[K_RETRIES].num;
	hs->backoff_ms = v[K_BACKOFF].num;
	hs->backoff_max_ms = v[K_BACKOFF_MAX].num;
	hs->tls_verify = (int)v[K_TLS_VERIFY].num;
	hs->ca_file = v[K_CA_FILE].str && *v[K_CA_FILE].str ? v[K_CA_FILE].str : NULL;
	hs->content_type = ctype && *ctype ? ctype : NULL;
	/* "Expect:" off: curl would otherwise wait for a 100 Continue before large bodies.
	 * (First: the list's head stays put when Content-Type is added at start.) */
	if (http_header_add(hs, "Expect", ""))
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_extra; i++)
		if (http_header_add(hs, cfg->extra[i].key + strlen(prefix), cfg->extra[i].value))
			return -ENOMEM;
	return 0;
}

static int http_send(void *inst, struct xtcpd_buf *buf)
{
	struct http_sink *hs = inst;

	if (http_submit(hs, buf)) {
		http_fail(hs, R_CANCELLED, "batch of %u records dropped: shutdown deadline passed",
			  buf->rows);
		sink_stats_done(&hs->st, hs->host, hs->ctx, buf, 0);
	}
	return 0;
}

static void http_deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Wait for the batches in flight (retries included) up to timeout_ms. */
static int http_flush(void *inst, int timeout_ms)
{
	struct http_sink *hs = inst;
	struct timespec until;
	unsigned left;

	http_deadline(&until, timeout_ms);
	pthread_mutex_lock(&hs->lock);
	while (hs->in_flight &&
	       pthread_cond_timedwait(&hs->changed, &hs->lock, &until) != ETIMEDOUT)
		;
	left = hs->in_flight;
	pthread_mutex_unlock(&hs->lock);
	if (left)
		hs->host->log(hs->ctx, XTCPD_LOG_WARN, "%u batches not delivered after %d ms",
			      left, timeout_ms);
	return (int)left;
}

/* Shutdown deadline passed: a send waiting for a slot gives up, transfers are aborted. */
static void http_cancel(void *inst)
{
	struct http_sink *hs = inst;

	pthread_mutex_lock(&hs->lock);
	hs->cancelled = 1;
	pthread_cond_broadcast(&hs->changed);
	pthread_mutex_unlock(&hs->lock);
	http_worker_wake(hs);
}

static size_t http_max_message(void *inst)
{
	(void)inst;
	return 0;               /* HTTP bodies have no inherent limit: flush_bytes decides */
}

/* The Content-Type header: content_type, else the marshaller's (ABI 1.4), else
 * octet-stream. Asked at start, not at create: the core wires a sink to its marshaller
 * after creating it (the marshaller's batches are sized from the sink's max_message). */
static int http_content_type(struct http_sink *hs)
{
	const char *ctype = hs->content_type;

	if (hs->content_type_set)
		return 0;
	if (!ctype && XTCPD_HOST_HAS(hs->host, content_type))
		ctype = hs->host->content_type(hs->ctx);
	if (!ctype || !*ctype)
		ctype = "application/octet-stream";
	if (!http_is_field_value(ctype)) {
		hs->host->log(hs->ctx, XTCPD_LOG_ERR, "the marshaller's content type has control "
			      "characters");
		return -EINVAL;
	}
	if (http_header_add(hs, "Content-Type", ctype))
		return -ENOMEM;
	hs->content_type_set = 1;
	return 0;
}

static int http_start(void *inst)
{
	struct http_sink *hs = inst;
	int err = http_content_type(hs);

	return err ? err : http_worker_start(hs);
}

static void http_stop(void *inst)
{
	if (inst)
		http_worker_stop(inst);
}

static void http_destroy(void *inst)
{
	struct http_sink *hs = inst;

	if (!hs)
		return;
	http_worker_stop(hs);
	http_xfers_fini(hs);
	curl_slist_free_all(hs->headers);
	free(hs->url);
	pthread_cond_destroy(&hs->changed);
	pthread_mutex_destroy(&hs->lock);
	free(hs);
	curl_global_cleanup();
}

static int http_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		       const struct xtcpd_config *cfg, void **inst)
{
	pthread_condattr_t cattr;
	struct http_sink *hs;
	int err;

	*inst = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		host->log(ctx, XTCPD_LOG_ERR, "libcurl could not be initialized");
		return -ENOMEM;
	}
	hs = calloc(1, sizeof(*hs));
	if (!hs) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	hs->host = host;
	hs->ctx = ctx;
	pthread_mutex_init(&hs->lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&hs->changed, &cattr);
	pthread_condattr_destroy(&cattr);
	*inst = hs;
	if ((err = http_setup(hs, cfg)))
		return err;
	err = sink_stats_init(&hs->st, host, ctx, http_reasons, R_N, hs->failed);
	hs->in_flight_gauge = host->metric(ctx, XTCPD_METRIC_GAUGE, "sink_http_in_flight", NULL,
					   "Batches the http sink holds (POSTing or waiting to retry)");
	if (err || !hs->in_flight_gauge) {
		host->log(ctx, XTCPD_LOG_ERR, "cannot register metrics");
		return -ENOMEM;
	}
	return http_xfers_init(hs);
}

static const struct xtcpd_sink_ops http_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_sink_ops),
		.create = http_create,
		.start = http_start,
		.stop = http_stop,
		.destroy = http_destroy,
	},
	.max_message = http_max_message,
	.send = http_send,
	.flush = http_flush,
	.cancel = http_cancel,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SINK, "http", PACKAGE_VERSION,
		     "POST each batch to an http:// or https:// URL (libcurl; ClickHouse, ingest endpoints)",
		     http_keys, &http_ops, http_check);
