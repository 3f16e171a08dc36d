/* sink unixgram — each batch as one datagram on a Unix datagram socket, as xtcp2's
 * -dest unixgram:PATH. The largest batch is what the socket can carry (SO_SNDBUF - 32
 * bytes) unless max_datagram says less; the core sizes the marshaller's batches to it.
 * A receiver that is slow gets write_timeout, one that went away is reconnected with
 * backoff (plugins/sinks/common/sockconn.c, which also keeps the accounting). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <xtcpd/plugin.h>

#include "plugins/sinks/common/sockconn.h"

enum ug_key { K_PATH, K_MAX_DATAGRAM, K_WRITE_TIMEOUT, K_RETRY_TIMEOUT, K_RECONNECT_MIN,
	      K_RECONNECT_MAX, K_SNDBUF, K__COUNT };

static const struct xtcpd_key ug_keys[] = {
	[K_PATH] = { "path", XTCPD_KEY_STRING, NULL, 1, 107, NULL, XTCPD_KEY_REQUIRED,
		     "socket to send to (@NAME: the abstract namespace)" },
	[K_MAX_DATAGRAM] = { "max_datagram", XTCPD_KEY_SIZE, "0", 0, 256 << 20, NULL, 0,
			     "largest datagram (0 = what the socket takes: SO_SNDBUF - 32)" },
	[K_WRITE_TIMEOUT] = SC_KEY_WRITE_TIMEOUT("1s"),
	[K_RETRY_TIMEOUT] = SC_KEY_RETRY_TIMEOUT,
	[K_RECONNECT_MIN] = SC_KEY_RECONNECT_MIN,
	[K_RECONNECT_MAX] = SC_KEY_RECONNECT_MAX,
	[K_SNDBUF] = SC_KEY_SNDBUF,
	XTCPD_KEYS_END,
};

/* Every check of the keys, without side effects (the socket asked for its limit is
 * closed again). */
static int ug_check(const struct xtcpd_config *cfg, struct sc_conf *sc, char *err, size_t n)
{
	const struct xtcpd_value *v = cfg->values;
	size_t lim;
	int rc;

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
	sc->mode = SC_DGRAM;
	sc->connect_timeout_ms = 1000;  /* connect(2) on a datagram socket does not wait */
	sc->write_timeout_ms = v[K_WRITE_TIMEOUT].num;
	sc->retry_timeout_ms = v[K_RETRY_TIMEOUT].num;
	sc->backoff_min_ms = v[K_RECONNECT_MIN].num;
	sc->backoff_max_ms = v[K_RECONNECT_MAX].num;
	sc->sndbuf = (int)v[K_SNDBUF].num;
	rc = sc_dgram_limit(sc->sndbuf, &lim);
	if (rc) {
		snprintf(err, n, "cannot ask a datagram socket its limit: %s", strerror(-rc));
		return rc;
	}
	if ((size_t)v[K_MAX_DATAGRAM].num > lim) {
		snprintf(err, n, "max_datagram = %s is above this socket's limit of %zu bytes "
			 "(SO_SNDBUF - 32): raise sndbuf or lower it", v[K_MAX_DATAGRAM].str, lim);
		return -EMSGSIZE;
	}
	sc->max_datagram = v[K_MAX_DATAGRAM].num ? (size_t)v[K_MAX_DATAGRAM].num : lim;
	return sc_resolve_unix(sc, v[K_PATH].str, err, n);
}

static int ug_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		     const struct xtcpd_config *cfg, void **inst)
{
	struct sc_conf sc;
	char err[400];
	int rc = ug_check(cfg, &sc, err, sizeof(err));

	*inst = NULL;
	if (rc) {
		host->log(ctx, XTCPD_LOG_ERR, "%s", err);
		return rc;
	}
	return sc_create(host, ctx, &sc, (struct sc **)inst);
}

static const struct xtcpd_sink_ops ug_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_sink_ops),
		.create = ug_create,
		.destroy = sc_destroy,
	},
	.max_message = sc_max_message,
	.send = sc_send,
	.flush = sc_flush,
	.cancel = sc_cancel,
};

XTCPD_PLUGIN(XTCPD_KIND_SINK, "unixgram", PACKAGE_VERSION,
	     "send each batch as one datagram on a Unix datagram socket", ug_keys, &ug_ops);
