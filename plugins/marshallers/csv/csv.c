/* plugins/marshallers/csv — marshaller "csv": the delimited-text marshaller of
 * plugins/marshallers/common/table.c with a comma between fields. */
#include "config.h"

#include <xtcpd/plugin.h>

#include "plugins/marshallers/common/table.h"

static int csv_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		      const struct xtcpd_config *cfg, void **inst)
{
	return table_create(host, ctx, cfg, ',', inst);
}

static const struct xtcpd_marshaller_ops csv_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_marshaller_ops),
		.create = csv_create,
		.destroy = table_destroy,
	},
	.begin = table_begin,
	.append = table_append,
	.finish = table_finish,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_MARSHALLER, "csv", PACKAGE_VERSION,
		     "comma-separated values, one line per socket, humanized as xtcp2 writes them",
		     table_keys, &csv_ops, table_check);
