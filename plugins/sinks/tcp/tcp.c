/* sink tcp — the batches' bytes, back to back, over one TCP connection (IPv4 or IPv6),
 * as xtcp2's -dest tcp:HOST:PORT: framing is the marshaller's (lines of json/csv, or
 * protobufList's length prefixes). Connection handling, reconnection with backoff and
 * the accounting are plugins/sinks/common/sockconn.c's. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <xtcpd/plugin.h>

#include "plugins/sinks/common/sockconn.h"

enum tcp_key { K_ADDRESS, K_CONNECT_TIMEOUT, K_WRITE_TIMEOUT, K_RETRY_TIMEOUT,
	       K_RECONNECT_MIN, K_RECONNECT_MAX, K_SNDBUF, K__COUNT };

static const struct xtcpd_key tcp_keys[] = {
	[K_ADDRESS] = { "address", XTCPD_KEY_STRING, NULL, 1, 300, NULL, XTCPD_KEY_REQUIRED,
			"destination host:port or [IPv6]:port (a name is resolved once, at start)" },
	[K_CONNECT_TIMEOUT] = SC_KEY_CONNECT_TIMEOUT,
	[K_WRITE_TIMEOUT] = SC_KEY_WRITE_TIMEOUT("5s"),
	[K_RETRY_TIMEOUT] = SC_KEY_RETRY_TIMEOUT,
	[K_RECONNECT_MIN] = SC_KEY_RECONNECT_MIN,
	[K_RECONNECT_MAX] = SC_KEY_RECONNECT_MAX,
	[K_SNDBUF] = SC_KEY_SNDBUF,
	XTCPD_KEYS_END,
};

/* Every check of the keys (syntax, resolution, ranges), without side effects. */
static int tcp_check(const struct xtcpd_config *cfg, struct sc_conf *sc, char *err, size_t n)
{
	const struct xtcpd_value *v = cfg->values;

	if (cfg->n_values < K__COUNT || v[K_ADDRESS].str == NULL) {
		snprintf(err, n, "address is required");
		return -EINVAL;
	}
	if (v[K_RECONNECT_MIN].num > v[K_RECONNECT_MAX].num) {
		snprintf(err, n, "reconnect_min (%s) is above reconnect_max (%s)",
			 v[K_RECONNECT_MIN].str, v[K_RECONNECT_MAX].str);
		return -EINVAL;
	}
	memset(sc, 0, sizeof(*sc));
	sc->mode = SC_STREAM;
	sc->connect_timeout_ms = v[K_CONNECT_TIMEOUT].num;
	sc->write_timeout_ms = v[K_WRITE_TIMEOUT].num;
	sc->retry_timeout_ms = v[K_RETRY_TIMEOUT].num;
	sc->backoff_min_ms = v[K_RECONNECT_MIN].num;
	sc->backoff_max_ms = v[K_RECONNECT_MAX].num;
	sc->sndbuf = (int)v[K_SNDBUF].num;
	return sc_resolve_inet(sc, v[K_ADDRESS].str, SOCK_STREAM, err, n);
}

static int tcp_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		      const struct xtcpd_config *cfg, void **inst)
{
	struct sc_conf sc;
	char err[400];
	int rc = tcp_check(cfg, &sc, err, sizeof(err));

	*inst = NULL;
	if (rc) {
		host->log(ctx, XTCPD_LOG_ERR, "%s", err);
		return rc;
	}
	return sc_create(host, ctx, &sc, (struct sc **)inst);
}

static const struct xtcpd_sink_ops tcp_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_sink_ops),
		.create = tcp_create,
		.destroy = sc_destroy,
	},
	.max_message = sc_max_message,
	.send = sc_send,
	.flush = sc_flush,
	.cancel = sc_cancel,
};

XTCPD_PLUGIN(XTCPD_KIND_SINK, "tcp", PACKAGE_VERSION,
	     "write batches over one TCP connection, reconnecting with backoff",
	     tcp_keys, &tcp_ops);
