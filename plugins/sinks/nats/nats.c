/* sink nats — publishes each batch as one NATS message to a subject (xtcp2's -topic)
 * through the NATS C client, then confirms it with a PING/PONG round trip: a batch is
 * "delivered" only once the server has read it. While the client is disconnected (it
 * reconnects on its own, forever) batches are dropped at once and counted, so an outage
 * never blocks the sink and delivered + dropped == sent at every moment. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nats/nats.h>
#include <xtcpd/plugin.h>

#include "plugins/sinks/common/sink_stats.h"

#define NATS_LOG_INTERVAL_MS 10000
#define NATS_MAX_SERVERS 16

enum nats_key { K_URL, K_SUBJECT, K_TIMEOUT, K_RECONNECT_WAIT, K_MAX_MESSAGE, K_CA_FILE, K_N };

static const struct xtcpd_key nats_keys[] = {
	[K_URL] = { "url", XTCPD_KEY_STRING, NULL, 0, 4096, NULL, XTCPD_KEY_REQUIRED,
		    "server(s): HOST:PORT, nats://[USER:PASS@]HOST:PORT or tls://..., comma-separated" },
	[K_SUBJECT] = { "subject", XTCPD_KEY_STRING, "xtcp", 0, 255, NULL, 0,
			"subject every batch is published to (xtcp2's -topic)" },
	[K_TIMEOUT] = { "timeout", XTCPD_KEY_DURATION, "1s", 10, 30000, NULL, 0,
			"connect timeout, and the longest wait for the server to confirm a batch" },
	[K_RECONNECT_WAIT] = { "reconnect_wait", XTCPD_KEY_DURATION, "2s", 10, 600000, NULL, 0,
			       "pause between two reconnect attempts to one server (retried forever)" },
	[K_MAX_MESSAGE] = { "max_message", XTCPD_KEY_SIZE, "1MiB", 1024, 64 << 20, NULL, 0,
			    "largest batch (the server's max_payload, when smaller, wins)" },
	[K_CA_FILE] = { "ca_file", XTCPD_KEY_STRING, "", 0, 4096, NULL, 0,
			"PEM file of the CAs to trust for tls:// servers; empty = the system's" },
	XTCPD_KEYS_END,
};

enum nats_reason { R_DISCONNECTED, R_UNCONFIRMED, R_MAX_PAYLOAD, R_CLOSED, R_CANCELLED,
		   R_OTHER, R_N };
static const char *const nats_reasons[R_N] = {
	[R_DISCONNECTED] = "disconnected", [R_UNCONFIRMED] = "unconfirmed",
	[R_MAX_PAYLOAD] = "max_payload", [R_CLOSED] = "closed", [R_CANCELLED] = "cancelled",
	[R_OTHER] = "other",
};

struct nats_sink {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	struct sink_stats st;
	_Atomic uint64_t *failed[R_N];
	_Atomic uint64_t *disconnects, *reconnects;

	char *urls;                     /* copy of url, split in place */
	const char *servers[NATS_MAX_SERVERS];
	int n_servers, secure;
	const char *subject, *ca_file;
	int64_t timeout_ms, reconnect_wait_ms;
	size_t max_message;

	natsOptions *opts;
	natsConnection *nc;
	atomic_int cancelled;
	atomic_int closing;             /* we close the connection: not an outage */
	char rl[R_N], rl_conn;
};

static void nats_fail(struct nats_sink *ns, unsigned r, const char *what, natsStatus s)
{
	sink_stats_fail(&ns->st, r);
	ns->host->log_ratelimited(ns->ctx, &ns->rl[r], NATS_LOG_INTERVAL_MS, XTCPD_LOG_WARN,
				  "batch dropped: %s%s%s", what, s != NATS_OK ? ": " : "",
				  s != NATS_OK ? natsStatus_GetText(s) : "");
}

/* A subject to publish to: dot-separated non-empty tokens, no wildcard, no blank. */
static int nats_subject_ok(const char *s)
{
	const char *p;

	if (!*s || *s == '.' || s[strlen(s) - 1] == '.' || strstr(s, ".."))
		return 0;
	for (p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '*' || *p == '>' || *p == 0x7f)
			return 0;
	return 1;
}

/* HOST[:PORT], nats://... or tls://...; no blanks (cnats adds nats:// to a bare one).
 * The host into host (brackets of an IPv6 literal left out), for resolving. */
static int nats_url_ok(const char *u, int *secure, char *host, size_t hn)
{
	const char *sep = strstr(u, "://"), *h, *at, *end, *port = NULL;

	if (!*u)
		return 0;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	if (sep && sep - u == 3 && !strncmp(u, "tls", 3))
		*secure = 1;
	else if (sep && !(sep - u == 4 && !strncmp(u, "nats", 4)))
		return 0;
	h = sep ? sep + 3 : u;
	end = h + strcspn(h, "/");
	if (*end && end[1])
		return 0;               /* a path: not a server address */
	at = memchr(h, '@', (size_t)(end - h));
	for (const char *p = at; p && p < end; p = memchr(p + 1, '@', (size_t)(end - p - 1)))
		at = p;                 /* the last '@' ends the user:password */
	h = at ? at + 1 : h;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (!rb || (rb + 1 != end && rb[1] != ':'))
			return 0;
		port = rb + 1 != end ? rb + 2 : NULL;
		snprintf(host, hn, "%.*s", (int)(rb - h - 1), h + 1);
	} else {
		const char *colon = memchr(h, ':', (size_t)(end - h));

		port = colon ? colon + 1 : NULL;
		snprintf(host, hn, "%.*s", (int)((colon ? colon : end) - h), h);
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
			return 0;       /* a bare IPv6 address needs brackets */
	}
	if (port) {
		size_t pl = (size_t)(end - port);

		if (pl == 0 || pl > 5 || strspn(port, "0123456789") < pl || atoi(port) < 1 ||
		    atoi(port) > 65535)
			return 0;
	}
	return *host != '\0';
}

/* The servers of `url` into ns (split in place in `urls`, which ns->servers point
 * into): each parsed and its name resolved. 0, or -EINVAL with the reason in res. */
static int nats_servers(char *urls, const char **servers, int *n, int *secure,
			struct xtcpd_check *res)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char *save = NULL, *tok, host[300];
	int gai;

	*n = 0;
	for (tok = strtok_r(urls, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		for (char *end = tok + strlen(tok); end > tok && end[-1] == ' ';)
			*--end = '\0';
		if (!nats_url_ok(tok, secure, host, sizeof(host)) || *n == NATS_MAX_SERVERS)
			return XTCPD_CHECK_FAIL(res, "url", "'%s' is not a server address (HOST:PORT, "
						"nats://HOST:PORT or tls://HOST:PORT; at most %d)",
						tok, NATS_MAX_SERVERS);
		gai = getaddrinfo(host, NULL, &hints, &ai);
		if (gai)
			return XTCPD_CHECK_FAIL(res, "url", "'%s': host %s: %s", tok, host,
						gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		freeaddrinfo(ai);
		servers[(*n)++] = tok;
	}
	if (!*n)
		return XTCPD_CHECK_FAIL(res, "url", "no server given");
	return 0;
}

/* A file of CAs the client loads at create: there, a regular file, readable. */
static int nats_ca_check(const char *path, struct xtcpd_check *res)
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

/* Everything create() could refuse, without side effects; into ns when it is not NULL
 * (its servers then point into its own copy of url). */
static int nats_conf(struct nats_sink *ns, const struct xtcpd_config *cfg,
		     struct xtcpd_check *res)
{
	const struct xtcpd_value *v = cfg->values;
	const char *local[NATS_MAX_SERVERS], **servers = local;
	const char *subject, *ca_file;
	char copy[4200], *urls = copy;
	int n, secure = 0, err;

	if (cfg->n_values < K_N)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, K_N);
	if (!v[K_URL].str)
		return XTCPD_CHECK_FAIL(res, "url", "required");
	if (ns) {
		if (!(ns->urls = strdup(v[K_URL].str)))
			return -ENOMEM;
		urls = ns->urls;
		servers = ns->servers;
	} else {
		snprintf(copy, sizeof(copy), "%s", v[K_URL].str);
	}
	if ((err = nats_servers(urls, servers, &n, &secure, res)))
		return err;
	subject = v[K_SUBJECT].str;
	if (!subject || !nats_subject_ok(subject))
		return XTCPD_CHECK_FAIL(res, "subject", "'%s': not a subject to publish to "
					"(dot-separated tokens, no wildcard * or >, no blank)",
					subject ? subject : "");
	ca_file = v[K_CA_FILE].str && *v[K_CA_FILE].str ? v[K_CA_FILE].str : NULL;
	if (ca_file && (err = nats_ca_check(ca_file, res)))
		return err;
	if (!ns)
		return 0;
	ns->n_servers = n;
	ns->secure = secure;
	ns->subject = subject;
	ns->ca_file = ca_file;
	ns->timeout_ms = v[K_TIMEOUT].num;
	ns->reconnect_wait_ms = v[K_RECONNECT_WAIT].num;
	ns->max_message = (size_t)v[K_MAX_MESSAGE].num;
	return 0;
}

/* The check op (ABI 1.3): no client, no connection, no thread. */
static int nats_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	return nats_conf(NULL, cfg, res);
}

static void nats_on_disconnected(natsConnection *nc, void *closure)
{
	struct nats_sink *ns = closure;

	(void)nc;
	if (atomic_load(&ns->closing))
		return;
	sink_count(ns->disconnects, 1);
	ns->host->log_ratelimited(ns->ctx, &ns->rl_conn, NATS_LOG_INTERVAL_MS, XTCPD_LOG_WARN,
				  "disconnected from the server; reconnecting every %lld ms",
				  (long long)ns->reconnect_wait_ms);
}

static void nats_on_reconnected(natsConnection *nc, void *closure)
{
	struct nats_sink *ns = closure;

	(void)nc;
	sink_count(ns->reconnects, 1);
	ns->host->log(ns->ctx, XTCPD_LOG_INFO, "connected to the server again");
}

static void nats_on_connected(natsConnection *nc, void *closure)
{
	struct nats_sink *ns = closure;

	(void)nc;
	ns->host->log(ns->ctx, XTCPD_LOG_INFO, "connected to the server");
}

static void nats_on_error(natsConnection *nc, natsSubscription *sub, natsStatus err,
			  void *closure)
{
	struct nats_sink *ns = closure;

	(void)nc;
	(void)sub;
	ns->host->log_ratelimited(ns->ctx, &ns->rl_conn, NATS_LOG_INTERVAL_MS, XTCPD_LOG_WARN,
				  "client error: %s", natsStatus_GetText(err));
}

/* Options for natsConnection_Connect: reconnect forever; the first connection may also
 * come later (a server down at start does not stop the daemon). */
static natsStatus nats_options(struct nats_sink *ns)
{
	natsStatus s = natsOptions_Create(&ns->opts);

	if (s == NATS_OK)
		s = natsOptions_SetServers(ns->opts, ns->servers, ns->n_servers);
	if (s == NATS_OK)
		s = natsOptions_SetName(ns->opts, "xtcpd");
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(ns->opts, ns->timeout_ms);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(ns->opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(ns->opts, ns->reconnect_wait_ms);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(ns->opts, true, nats_on_connected, ns);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(ns->opts, nats_on_disconnected, ns);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(ns->opts, nats_on_reconnected, ns);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(ns->opts, nats_on_error, ns);
	if (s == NATS_OK && ns->secure)
		s = natsOptions_SetSecure(ns->opts, true);
	if (s == NATS_OK && ns->ca_file)
		s = natsOptions_LoadCATrustedCertificates(ns->opts, ns->ca_file);
	return s;
}

static int nats_send(void *inst, struct xtcpd_buf *buf)
{
	struct nats_sink *ns = inst;
	natsConnStatus cs;
	natsStatus s;
	int ok = 0;

	if (atomic_load(&ns->cancelled)) {
		nats_fail(ns, R_CANCELLED, "shutdown deadline passed", NATS_OK);
		goto out;
	}
	cs = natsConnection_Status(ns->nc);
	if (cs != NATS_CONN_STATUS_CONNECTED) {
		/* Not queued into the client's reconnect buffer: it could not be confirmed. */
		nats_fail(ns, cs == NATS_CONN_STATUS_CLOSED ? R_CLOSED : R_DISCONNECTED,
			  cs == NATS_CONN_STATUS_CLOSED ? "connection closed" : "not connected",
			  NATS_OK);
		goto out;
	}
	s = natsConnection_Publish(ns->nc, ns->subject, buf->data + buf->off,
				   (int)(buf->len - buf->off));
	if (s != NATS_OK) {
		nats_fail(ns, s == NATS_MAX_PAYLOAD ? R_MAX_PAYLOAD :
			  s == NATS_CONNECTION_CLOSED ? R_CLOSED : R_OTHER, "publish", s);
		goto out;
	}
	/* PING/PONG: the server has read everything published before it. */
	s = natsConnection_FlushTimeout(ns->nc, ns->timeout_ms);
	if (s != NATS_OK) {
		nats_fail(ns, atomic_load(&ns->cancelled) ? R_CANCELLED : R_UNCONFIRMED,
			  "no confirmation from the server", s);
		goto out;
	}
	ok = 1;
out:
	sink_stats_done(&ns->st, ns->host, ns->ctx, buf, ok);
	return 0;
}

static int nats_flush(void *inst, int timeout_ms)
{
	(void)inst;
	(void)timeout_ms;       /* send() confirms each batch before it returns */
	return 0;
}

static size_t nats_max_message(void *inst)
{
	struct nats_sink *ns = inst;

	return ns->max_message;
}

/* Shutdown deadline passed: closing the connection ends a confirmation wait at once. */
static void nats_cancel(void *inst)
{
	struct nats_sink *ns = inst;

	atomic_store(&ns->cancelled, 1);
	atomic_store(&ns->closing, 1);
	if (ns->nc)
		natsConnection_Close(ns->nc);
}

static void nats_destroy(void *inst)
{
	struct nats_sink *ns = inst;

	if (!ns)
		return;
	atomic_store(&ns->closing, 1);
	if (ns->nc) {
		natsConnection_Close(ns->nc);
		natsConnection_Destroy(ns->nc);
	}
	natsOptions_Destroy(ns->opts);
	free(ns->urls);
	free(ns);
}

static int nats_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		       const struct xtcpd_config *cfg, void **inst)
{
	struct nats_sink *ns = calloc(1, sizeof(*ns));
	char msg[400];
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };
	natsStatus s;
	int err;

	*inst = ns;
	if (!ns)
		return -ENOMEM;
	ns->host = host;
	ns->ctx = ctx;
	if ((err = nats_conf(ns, cfg, &res))) {
		if (err == -EINVAL)
			host->log(ctx, XTCPD_LOG_ERR, "%s%s%s", res.key ? res.key : "",
				  res.key ? ": " : "", msg);
		return err;
	}
	err = sink_stats_init(&ns->st, host, ctx, nats_reasons, R_N, ns->failed);
	ns->disconnects = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_nats_disconnects_total",
				       NULL, "Connections to the NATS server lost");
	ns->reconnects = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_nats_reconnects_total",
				      NULL, "Connections to the NATS server made again");
	if (err || !ns->disconnects || !ns->reconnects) {
		host->log(ctx, XTCPD_LOG_ERR, "cannot register metrics");
		return -ENOMEM;
	}
	s = nats_options(ns);
	if (s != NATS_OK) {
		host->log(ctx, XTCPD_LOG_ERR, "client options: %s", natsStatus_GetText(s));
		return -EINVAL;
	}
	s = natsConnection_Connect(&ns->nc, ns->opts);
	if (s == NATS_OK) {
		int64_t mp = natsConnection_GetMaxPayload(ns->nc);

		if (mp > 0 && (uint64_t)mp < ns->max_message)
			ns->max_message = (size_t)mp;
	} else if (s == NATS_NOT_YET_CONNECTED) {
		host->log(ctx, XTCPD_LOG_WARN, "no server reachable yet; retrying every %lld ms",
			  (long long)ns->reconnect_wait_ms);
	} else {
		host->log(ctx, XTCPD_LOG_ERR, "connect: %s", natsStatus_GetText(s));
		return -EINVAL;
	}
	return 0;
}

static const struct xtcpd_sink_ops nats_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_sink_ops),
		.create = nats_create,
		.destroy = nats_destroy,
	},
	.max_message = nats_max_message,
	.send = nats_send,
	.flush = nats_flush,
	.cancel = nats_cancel,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SINK, "nats", PACKAGE_VERSION,
		     "publish each batch as one NATS message, confirmed by the server (NATS C client)",
		     nats_keys, &nats_ops, nats_check);
