/* netlink — the sock_diag source through plain syscalls: the shared core (nlcore.c,
 * dump.c, request.c, parse.c) with the epoll transport (reader.c): `netlinkers` threads
 * draining one namespace's socket at a time with recvmsg(2). */
#include <config.h>

#include "nlsrc.h"

static const struct xtcpd_key nls_keys[] = {
	NLS_KEYS("4", "reader threads shared by all namespaces",
		 "64KiB", "receive buffer per read (the kernel sends dumps in datagrams up to 32 KiB)"),
	[NLS_K_COUNT] = XTCPD_KEYS_END,
};

static int nls_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		      const struct xtcpd_config *cfg, void **inst)
{
	return nls_create_with(host, ctx, cfg, inst, &nls_epoll_io);
}

static const struct xtcpd_source_ops nls_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_source_ops),
		.create = nls_create,
		.start = nls_start,
		.stop = nls_stop,
		.destroy = nls_destroy,
	},
	.lanes = nls_lanes,
	.ns_add = nls_ns_add,
	.ns_del = nls_ns_del,
	.poll = nls_poll,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SOURCE, "netlink", PACKAGE_VERSION,
		     "TCP sockets of every namespace via sock_diag (inet_diag)", nls_keys, &nls_ops,
		     nls_check);
