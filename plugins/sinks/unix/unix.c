/* sink unix — each batch as one frame, uvarint(length) ‖ payload, written with one gather
 * write over a Unix stream socket, as xtcp2's -dest unix:PATH (its reader does
 * binary.ReadUvarint + io.ReadFull). Connection handling, reconnection with backoff and
 * the accounting are plugins/sinks/common/sockconn.c's. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <xtcpd/plugin.h>

#include "plugins/sinks/common/sockconn.h"

enum unix_key { K_PATH, K_CONNECT_TIMEOUT, K_WRITE_TIMEOUT, K_RETRY_TIMEOUT,
	       K_RECONNECT_MIN, K_RECONNECT_MAX, K_SNDBUF, K__COUNT };

static const struct xtcpd_key unix_keys[] = {
	[K_PATH] = { "path", XTCPD_KEY_STRING, NULL, 1, 107, NULL, XTCPD_KEY_REQUIRED,
			"socket to connect to (@NAME: the abstract namespace)" },
	[K_CONNECT_TIMEOUT] = SC_KEY_CONNECT_TIMEOUT,
	[K_WRITE_TIMEOUT] = SC_KEY_WRITE_TIMEOUT("5s"),
	[K_RETRY_TIMEOUT] = SC_KEY_RETRY_TIMEOUT,
	[K_RECONNECT_MIN] = SC_KEY_RECONNECT_MIN,
	[K_RECONNECT_MAX] = SC_KEY_RECONNECT_MAX,
	[K_SNDBUF] = SC_KEY_SNDBUF,
	XTCPD_KEYS_END,
};

/* Every check of the keys (syntax, resolution, ranges), without side effects. */
static int unix_check(const struct xtcpd_config *cfg, struct sc_conf *sc, char *err, size_t n)
{
	const struct xtcpd_value *v = cfg->values;

	if (cfg->n_values < K__COUNT || v[K_PATH].str == NULL) {
		snprintf(err, n, "path is required");
		return -EINVAL;
	}
	if (v[K_RECONNECT_MIN].num > v[K_RECONNECT_MAX].num) {
		snprintf(err, n, "reconnect_min (%s) is above reconnect_max (%s)",
			 v[K_RECONNECT_MIN].str, v[K_RECONNECT_MAX].str);
		return -EINVAL;
	}
	memset(sc, 0, sizeof(*sc));
	sc->mode = SC_FRAMED;
	sc->connect_timeout_ms = v[K_CONNECT_TIMEOUT].num;
	sc->write_timeout_ms = v[K_WRITE_TIMEOUT].num;
	sc->retry_timeout_ms = v[K_RETRY_TIMEOUT].num;
	sc->backoff_min_ms = v[K_RECONNECT_MIN].num;
	sc->backoff_max_ms = v[K_RECONNECT_MAX].num;
	sc->sndbuf = (int)v[K_SNDBUF].num;
	return sc_resolve_unix(sc, v[K_PATH].str, err, n);
}

static int unix_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		      const struct xtcpd_config *cfg, void **inst)
{
	struct sc_conf sc;
	char err[400];
	int rc = unix_check(cfg, &sc, err, sizeof(err));

	*inst = NULL;
	if (rc) {
		host->log(ctx, XTCPD_LOG_ERR, "%s", err);
		return rc;
	}
	return sc_create(host, ctx, &sc, (struct sc **)inst);
}

static const struct xtcpd_sink_ops unix_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_sink_ops),
		.create = unix_create,
		.destroy = sc_destroy,
	},
	.max_message = sc_max_message,
	.send = sc_send,
	.flush = sc_flush,
	.cancel = sc_cancel,
};

XTCPD_PLUGIN(XTCPD_KIND_SINK, "unix", PACKAGE_VERSION,
	     "write uvarint-framed batches over a Unix stream socket, reconnecting with backoff",
	     unix_keys, &unix_ops);
