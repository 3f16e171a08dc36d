/* sink grpc — xtcp2's gRPC API on gRPC's C core: XTCPFlatRecordService (every record as
 * collected, or the records of a poll a client asks for), ConfigService (read and steer
 * the running daemon through the host's control services, ABI 1.6) and grpc.health.v1.
 * Fed like a sink: each protobufList batch is split into its rows, each row copied into
 * every subscriber's bounded ring; a full ring drops (counted), never waits. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grpc_int.h"
#include "ops_clock.h"

static const struct xtcpd_key grpc_keys[] = {
	[GK_ADDRESS] = { "address", XTCPD_KEY_STRING, "127.0.0.1", 0, 255, NULL, 0,
			 "address to listen on (IPv4 or IPv6 literal; 0.0.0.0 or :: = every interface)" },
	[GK_PORT] = { "port", XTCPD_KEY_INT, "8889", 0, 65535, NULL, 0,
		      "TCP port (xtcp2's -grpcPort; 0 = any free port, logged)" },
	[GK_CONTROL] = { "control", XTCPD_KEY_BOOL, "true", 0, 0, NULL, 0,
			 "serve ConfigService and PollFlatRecords (false: only FlatRecords and Health)" },
	[GK_TOKEN] = { "token", XTCPD_KEY_STRING, "", 0, 4096, NULL, 0,
		       "bearer token ConfigService and PollFlatRecords calls must send "
		       "(authorization: Bearer TOKEN); empty = none" },
	[GK_TLS_CERT] = { "tls_cert", XTCPD_KEY_STRING, "", 0, 4096, NULL, 0,
			  "PEM certificate chain file: serve TLS (with tls_key)" },
	[GK_TLS_KEY] = { "tls_key", XTCPD_KEY_STRING, "", 0, 4096, NULL, 0,
			 "PEM private key file of tls_cert" },
	[GK_MAX_SUBSCRIBERS] = { "max_subscribers", XTCPD_KEY_INT, "16", 1, 1024, NULL, 0,
				 "record streams served at once; more are refused (counted)" },
	[GK_SUBSCRIBER_QUEUE] = { "subscriber_queue", XTCPD_KEY_SIZE, "4MiB", 65536, 1LL << 30,
				  NULL, 0, "records waiting for one subscriber, in bytes; when full, "
				  "new records are dropped for it (counted)" },
	[GK_STALL_TIMEOUT] = { "stall_timeout", XTCPD_KEY_DURATION, "10s", 100, 3600000, NULL, 0,
			       "a subscriber whose queue stays full this long is dropped (counted)" },
	[GK_MAX_RECV] = { "max_request", XTCPD_KEY_SIZE, "64KiB", 1024, 16 << 20, NULL, 0,
			  "largest request message taken (a Set carries a configuration)" },
	XTCPD_KEYS_END,
};

static const struct { enum xtcpd_metric_type t; const char *name, *labels, *help; } gm_defs[] = {
	[GM_SENT] = { XTCPD_METRIC_COUNTER, "grpc_records_sent_total", NULL,
		      "Records handed to gRPC for a subscriber" },
	[GM_DROP_FULL] = { XTCPD_METRIC_COUNTER, "grpc_records_dropped_total", "reason=\"queue_full\"",
			   "Records a subscriber did not get, by reason" },
	[GM_DROP_TOOBIG] = { XTCPD_METRIC_COUNTER, "grpc_records_dropped_total", "reason=\"too_large\"",
			     "Records a subscriber did not get, by reason" },
	[GM_DROP_STALLED] = { XTCPD_METRIC_COUNTER, "grpc_records_dropped_total", "reason=\"stalled\"",
			      "Records a subscriber did not get, by reason" },
	[GM_SUBS] = { XTCPD_METRIC_GAUGE, "grpc_subscribers", NULL, "Record streams being served" },
	[GM_SUBS_DROPPED] = { XTCPD_METRIC_COUNTER, "grpc_subscribers_dropped_total", "reason=\"stalled\"",
			      "Record streams ended by the server, by reason" },
	[GM_REF_SUBS] = { XTCPD_METRIC_COUNTER, "grpc_refused_total", "reason=\"max_subscribers\"",
			  "Calls refused, by reason" },
	[GM_REF_CONTROL] = { XTCPD_METRIC_COUNTER, "grpc_refused_total", "reason=\"control_off\"",
			     "Calls refused, by reason" },
	[GM_REF_AUTH] = { XTCPD_METRIC_COUNTER, "grpc_refused_total", "reason=\"unauthenticated\"",
			  "Calls refused, by reason" },
	[GM_REF_BADREQ] = { XTCPD_METRIC_COUNTER, "grpc_refused_total", "reason=\"bad_request\"",
			    "Calls refused, by reason" },
	[GM_REF_UNKNOWN] = { XTCPD_METRIC_COUNTER, "grpc_refused_total", "reason=\"unknown_method\"",
			     "Calls refused, by reason" },
	[GM_BAD_BATCH] = { XTCPD_METRIC_COUNTER, "grpc_bad_batches_total", NULL,
			   "Batches that are not protobufList (the sink needs marshaller = protobufList)" },
	[GM_CALLS] = { XTCPD_METRIC_COUNTER, "grpc_calls_total", NULL, "Calls accepted" },
};

static int readable(const char *path)
{
	return access(path, R_OK) == 0;
}

static int grpc_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	const struct xtcpd_value *v = cfg->values;
	unsigned char addr[16];
	const char *a = v[GK_ADDRESS].str, *cert = v[GK_TLS_CERT].str, *key = v[GK_TLS_KEY].str;

	if (cfg->n_values != GK__COUNT)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin has %d",
					cfg->n_values, GK__COUNT);
	if (inet_pton(AF_INET, a, addr) != 1 && inet_pton(AF_INET6, a, addr) != 1)
		return XTCPD_CHECK_FAIL(res, "address", "'%s' is not an IPv4 or IPv6 address", a);
	if (!*cert != !*key)
		return XTCPD_CHECK_FAIL(res, *cert ? "tls_key" : "tls_cert",
					"tls_cert and tls_key go together");
	if (*cert && !readable(cert))
		return XTCPD_CHECK_FAIL(res, "tls_cert", "%s: cannot read: %s", cert, strerror(errno));
	if (*key && !readable(key))
		return XTCPD_CHECK_FAIL(res, "tls_key", "%s: cannot read: %s", key, strerror(errno));
	if (strpbrk(v[GK_TOKEN].str, " \t\r\n"))
		return XTCPD_CHECK_FAIL(res, "token", "no spaces or line breaks in a token");
	return 0;
}

static int grpc_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		       const struct xtcpd_config *cfg, void **inst)
{
	struct gsink *g = calloc(1, sizeof(*g));

	*inst = g;
	if (!g)
		return -ENOMEM;
	g->host = host;
	g->ctx = ctx;
	g->v = cfg->values;
	pthread_mutex_init(&g->subs_lock, NULL);
	for (int i = 0; i < GM__COUNT; i++)
		if (!(g->m[i] = host->metric(ctx, gm_defs[i].t, gm_defs[i].name, gm_defs[i].labels,
					     gm_defs[i].help)))
			return -ENOMEM;
	if (strchr(g->v[GK_ADDRESS].str, ':'))
		snprintf(g->listen, sizeof(g->listen), "[%s]:%lld", g->v[GK_ADDRESS].str,
			 (long long)g->v[GK_PORT].num);
	else
		snprintf(g->listen, sizeof(g->listen), "%s:%lld", g->v[GK_ADDRESS].str,
			 (long long)g->v[GK_PORT].num);
	if (g->v[GK_CONTROL].num && !XTCPD_HOST_HAS(host, apply_config))
		host->log(ctx, XTCPD_LOG_WARN, "this daemon lends no control services (ABI < 1.6): "
			  "ConfigService answers UNIMPLEMENTED");
	return 0;
}

static int grpc_start(void *inst)
{
	return gsrv_start(inst);
}

static void grpc_stop(void *inst)
{
	gsrv_stop(inst);
}

static void grpc_destroy(void *inst)
{
	struct gsink *g = inst;

	if (!g)
		return;
	pthread_mutex_destroy(&g->subs_lock);
	free(g);
}

static size_t grpc_max_message(void *inst)
{
	(void)inst;
	return 0;
}

struct offer {
	struct gsink *g;
	struct sub *s;
	int64_t now;
	uint64_t full, toobig;
};

/* One row for one subscriber (its lock held). */
static void offer_row(void *arg, const uint8_t *rec, size_t len)
{
	struct offer *o = arg;
	struct sub *s = o->s;
	int rc;

	if (s->poll_mode) {
		int64_t ts;

		if (!s->armed)
			return;
		ts = rows_timestamp(rec, len);
		if (!s->locked_ts) {
			if (ts < s->armed_after_ns)
				return;
			s->locked_ts = ts;
		}
		if (ts != s->locked_ts) {
			if (ts > s->locked_ts)
				s->armed = 0;  /* the next cycle: the one asked for is complete */
			return;
		}
	}
	rc = ring_push_record(&s->ring, rec, len);
	if (!rc) {
		s->full_since_ns = 0;
	} else if (rc == -E2BIG) {
		o->toobig++;
	} else {
		o->full++;
		if (!s->full_since_ns)
			s->full_since_ns = o->now;
	}
}

/* A subscriber whose ring stayed full past stall_timeout is ended (counted): the
 * records it holds are dropped with it. Its lock is held. */
static void maybe_drop(struct gsink *g, struct sub *s, int64_t now)
{
	if (s->dead || !s->full_since_ns ||
	    now - s->full_since_ns < g->v[GK_STALL_TIMEOUT].num * 1000000LL)
		return;
	s->dead = 1;
	metrics_add_(g->m[GM_DROP_STALLED], s->ring.entries);
	metrics_add_(g->m[GM_SUBS_DROPPED], 1);
	g->host->log_ratelimited(g->ctx, maybe_drop, 10000, XTCPD_LOG_WARN,
				 "a subscriber read nothing for %lld ms with its queue full: dropped",
				 (long long)g->v[GK_STALL_TIMEOUT].num);
	grpc_call_cancel_with_status(s->rpc->call, GRPC_STATUS_RESOURCE_EXHAUSTED,
				     "too slow: the subscriber queue stayed full past stall_timeout",
				     NULL);
}

static int grpc_send(void *inst, struct xtcpd_buf *buf)
{
	struct gsink *g = inst;
	struct offer o = { .g = g, .now = ops_clock_mono_ns() };
	const uint8_t *data = buf->data + buf->off;
	size_t n = buf->len - buf->off;

	if (rows_split(data, n, NULL, NULL) < 0) {
		metrics_add_(g->m[GM_BAD_BATCH], 1);
		g->host->log_ratelimited(g->ctx, grpc_send, 60000, XTCPD_LOG_ERR,
					 "a batch is not protobufList: set marshaller = protobufList");
		g->host->buf_release(g->ctx, buf, 0);
		return 0;
	}
	pthread_mutex_lock(&g->subs_lock);
	for (struct sub *s = g->subs; s; s = s->next) {
		pthread_mutex_lock(&s->lock);
		if (!s->dead) {
			o.s = s;
			rows_split(data, n, offer_row, &o);
			maybe_drop(g, s, o.now);
			if (!s->dead)
				gsrv_kick(g, s);
		}
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&g->subs_lock);
	metrics_add_(g->m[GM_DROP_FULL], o.full);
	metrics_add_(g->m[GM_DROP_TOOBIG], o.toobig);
	g->host->buf_release(g->ctx, buf, 1);
	return 0;
}

static int grpc_flush(void *inst, int timeout_ms)
{
	(void)inst;
	(void)timeout_ms;
	return 0;
}

static const struct xtcpd_sink_ops grpc_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_sink_ops),
		.create = grpc_create,
		.start = grpc_start,
		.stop = grpc_stop,
		.destroy = grpc_destroy,
	},
	.max_message = grpc_max_message,
	.send = grpc_send,
	.flush = grpc_flush,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SINK, "grpc", PACKAGE_VERSION,
		     "xtcp2's gRPC API: live record streams, runtime control, health",
		     grpc_keys, &grpc_ops, grpc_check);
