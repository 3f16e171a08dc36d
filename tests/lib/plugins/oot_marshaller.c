/* oot_marshaller — a third-party marshaller built out of tree with nothing but the
 * installed headers: it expands the installed field table <xtcpd/record_fields.h> (as the
 * shipped marshallers do) to write one line per record, "counter=N fields=F set=S": F is
 * the number of fields the table maps, S how many of them this record has present. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <xtcpd/plugin.h>
#include <xtcpd/record_fields.h>

#define COUNT_ROW(num, pname, jname, type, mode, key, present, value) +1
static const unsigned oot_fields = 0 XTCPD_RECORD_FIELDS(COUNT_ROW);

static unsigned oot_present(const struct xtcpd_record *r)
{
	unsigned n = 0;
#define COUNT_SET(num, pname, jname, type, mode, key, present, value) n += (present) ? 1 : 0;
	XTCPD_RECORD_FIELDS(COUNT_SET)
	return n;
}

static int oot_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		      const struct xtcpd_config *cfg, void **inst)
{
	*inst = NULL;
	return 0;
}

static void oot_destroy(void *inst)
{
}

static int oot_begin(void *inst, struct xtcpd_buf *buf)
{
	buf->off = buf->len = 0;
	return 0;
}

static int oot_append(void *inst, struct xtcpd_buf *buf, const struct xtcpd_record *r)
{
	int n = snprintf((char *)buf->data + buf->len, buf->cap - buf->len,
			 "counter=%llu fields=%u set=%u\n", (unsigned long long)r->record_counter,
			 oot_fields, oot_present(r));

	if (n < 0 || (size_t)n >= buf->cap - buf->len)
		return -ENOSPC;
	buf->len += (size_t)n;
	return 0;
}

static int oot_finish(void *inst, struct xtcpd_buf *buf)
{
	return 0;
}

static const struct xtcpd_marshaller_ops oot_ops = {
	.common = { .struct_size = sizeof(struct xtcpd_marshaller_ops), .create = oot_create,
		    .destroy = oot_destroy },
	.begin = oot_begin,
	.append = oot_append,
	.finish = oot_finish,
};

XTCPD_PLUGIN(XTCPD_KIND_MARSHALLER, "ootfields", "1.0", "out-of-tree marshaller over the field table",
	     NULL, &oot_ops);
