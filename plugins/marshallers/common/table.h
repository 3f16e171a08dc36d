/* plugins/marshallers/common/table.h — the delimited-text marshaller behind csv and tsv
 * (compiled into each of the two plugins, which differ only in the delimiter). See
 * plugins/marshallers/csv/README.md for the format. */
#ifndef XTCPD_TABLE_H
#define XTCPD_TABLE_H

#include <xtcpd/plugin.h>

/* Keys, in the order of the plugins' key table. */
enum table_key { TABLE_K_COLUMNS, TABLE_K_HEADER, TABLE_K__COUNT };

extern const struct xtcpd_key table_keys[];

/* The check op (ABI 1.3): what create() would refuse, without side effects. */
int table_check(const struct xtcpd_config *cfg, struct xtcpd_check *res);
int table_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		 const struct xtcpd_config *cfg, char delim, void **inst);
void table_destroy(void *inst);
int table_begin(void *inst, struct xtcpd_buf *buf);
int table_append(void *inst, struct xtcpd_buf *buf, const struct xtcpd_record *rec);
int table_finish(void *inst, struct xtcpd_buf *buf);

#endif /* XTCPD_TABLE_H */
