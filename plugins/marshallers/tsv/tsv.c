/* plugins/marshallers/tsv — marshaller "tsv": the delimited-text marshaller of
 * plugins/marshallers/common/table.c with a tab between fields. */
#include "config.h"

#include <xtcpd/plugin.h>

#include "plugins/marshallers/common/table.h"

static int tsv_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		      const struct xtcpd_config *cfg, void **inst)
{
	return table_create(host, ctx, cfg, '\t', inst);
}

static const struct xtcpd_marshaller_ops tsv_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_marshaller_ops),
		.create = tsv_create,
		.destroy = table_destroy,
	},
	.begin = table_begin,
	.append = table_append,
	.finish = table_finish,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_MARSHALLER, "tsv", PACKAGE_VERSION,
		     "tab-separated values, one line per socket, humanized as xtcp2 writes them",
		     table_keys, &tsv_ops, table_check);
