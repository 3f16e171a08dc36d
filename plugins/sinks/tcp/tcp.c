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

static const struct sc_key_idx tcp_idx = {
	K_CONNECT_TIMEOUT, K_WRITE_TIMEOUT, K_RETRY_TIMEOUT, K_RECONNECT_MIN, K_RECONNECT_MAX,
	K_SNDBUF,
};

/* The keys into sc: syntax, resolution, ranges; no side effect. */
static int tcp_conf(const struct xtcpd_config *cfg, struct sc_conf *sc, struct xtcpd_check *res)
{
	const struct xtcpd_value *v = cfg->values;
	int rc;

	if (cfg->n_values < K__COUNT)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, K__COUNT);
	if (v[K_ADDRESS].str == NULL)
		return XTCPD_CHECK_FAIL(res, "address", "required");
	memset(sc, 0, sizeof(*sc));
	sc->mode = SC_STREAM;
	if ((rc = sc_conf_common(sc, v, &tcp_idx, res)))
		return rc;
	return sc_resolve_inet(sc, v[K_ADDRESS].str, SOCK_STREAM, res);
}

/* The check op (ABI 1.3): everything create() could refuse; no socket made. */
static int tcp_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	struct sc_conf sc;

	return tcp_conf(cfg, &sc, res);
}

static int tcp_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		      const struct xtcpd_config *cfg, void **inst)
{
	struct sc_conf sc;
	char msg[400];
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };
	int rc = tcp_conf(cfg, &sc, &res);

	*inst = NULL;
	if (rc)
		return sc_refused(host, ctx, &res, rc);
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

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SINK, "tcp", PACKAGE_VERSION,
		     "write batches over one TCP connection, reconnecting with backoff",
		     tcp_keys, &tcp_ops, tcp_check);
