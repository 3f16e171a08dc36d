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

static const struct sc_key_idx unix_idx = {
	K_CONNECT_TIMEOUT, K_WRITE_TIMEOUT, K_RETRY_TIMEOUT, K_RECONNECT_MIN, K_RECONNECT_MAX,
	K_SNDBUF,
};

/* The keys into sc: the path's form, ranges; no side effect. */
static int unix_conf(const struct xtcpd_config *cfg, struct sc_conf *sc, struct xtcpd_check *res)
{
	const struct xtcpd_value *v = cfg->values;
	int rc;

	if (cfg->n_values < K__COUNT)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, K__COUNT);
	if (v[K_PATH].str == NULL)
		return XTCPD_CHECK_FAIL(res, "path", "required");
	memset(sc, 0, sizeof(*sc));
	sc->mode = SC_FRAMED;
	if ((rc = sc_conf_common(sc, v, &unix_idx, res)))
		return rc;
	return sc_resolve_unix(sc, v[K_PATH].str, res);
}

/* The check op (ABI 1.3): everything create() could refuse; no socket made. (The
 * socket need not exist yet: the sink connects, and reconnects, when it sends.) */
static int unix_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	struct sc_conf sc;

	return unix_conf(cfg, &sc, res);
}

static int unix_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		      const struct xtcpd_config *cfg, void **inst)
{
	struct sc_conf sc;
	char msg[400];
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };
	int rc = unix_conf(cfg, &sc, &res);

	*inst = NULL;
	if (rc)
		return sc_refused(host, ctx, &res, rc);
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

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SINK, "unix", PACKAGE_VERSION,
		     "write uvarint-framed batches over a Unix stream socket, reconnecting with backoff",
		     unix_keys, &unix_ops, unix_check);
