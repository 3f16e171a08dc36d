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

static const struct sc_key_idx ug_idx = {
	-1, K_WRITE_TIMEOUT, K_RETRY_TIMEOUT, K_RECONNECT_MIN, K_RECONNECT_MAX, K_SNDBUF,
};

/* The keys into sc: the path's form, ranges, max_datagram against what a socket with
 * that sndbuf takes (a socket is made, asked and closed: nothing outlives the call). */
static int ug_conf(const struct xtcpd_config *cfg, struct sc_conf *sc, struct xtcpd_check *res)
{
	const struct xtcpd_value *v = cfg->values;
	size_t lim;
	int rc;

	if (cfg->n_values < K__COUNT)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, K__COUNT);
	if (v[K_PATH].str == NULL)
		return XTCPD_CHECK_FAIL(res, "path", "required");
	memset(sc, 0, sizeof(*sc));
	sc->mode = SC_DGRAM;
	if ((rc = sc_conf_common(sc, v, &ug_idx, res)))
		return rc;
	rc = sc_dgram_limit(sc->sndbuf, &lim);
	if (rc) {
		snprintf(res->msg, res->msg_size, "cannot ask a datagram socket its limit: %s",
			 strerror(-rc));
		res->key = NULL;
		return rc;
	}
	if ((size_t)v[K_MAX_DATAGRAM].num > lim)
		return XTCPD_CHECK_FAIL(res, "max_datagram", "%s is above this socket's limit of "
					"%zu bytes (SO_SNDBUF - 32): raise sndbuf or lower it",
					v[K_MAX_DATAGRAM].str, lim);
	sc->max_datagram = v[K_MAX_DATAGRAM].num ? (size_t)v[K_MAX_DATAGRAM].num : lim;
	return sc_resolve_unix(sc, v[K_PATH].str, res);
}

/* The check op (ABI 1.3): everything create() could refuse; nothing connected. */
static int ug_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	struct sc_conf sc;

	return ug_conf(cfg, &sc, res);
}

static int ug_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		     const struct xtcpd_config *cfg, void **inst)
{
	struct sc_conf sc;
	char msg[400];
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };
	int rc = ug_conf(cfg, &sc, &res);

	*inst = NULL;
	if (rc)
		return sc_refused(host, ctx, &res, rc);
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

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SINK, "unixgram", PACKAGE_VERSION,
		     "send each batch as one datagram on a Unix datagram socket", ug_keys, &ug_ops,
		     ug_check);
