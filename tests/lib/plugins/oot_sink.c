/* oot_sink — a third-party sink built out of tree with nothing but the installed
 * headers (cc -shared -fPIC $(pkg-config --cflags xtcpd)). It counts the rows and bytes
 * it is given and writes "rows=N batches=M" to `path` when destroyed. Its check op (ABI
 * 1.3) refuses a path whose folder is missing; built with -DOOT_ABI_1_2 it exports the
 * shorter descriptor of a plugin built before check existed, which must still load. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xtcpd/plugin.h>

static const struct xtcpd_key oot_keys[] = {
	{ "path", XTCPD_KEY_STRING, NULL, 1, 4095, NULL, XTCPD_KEY_REQUIRED, "where to write the counts" },
	XTCPD_KEYS_END,
};

struct oot {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	const char *path;
	unsigned long rows, batches;
};

static int oot_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		      const struct xtcpd_config *cfg, void **inst)
{
	struct oot *o = calloc(1, sizeof(*o));

	*inst = o;
	if (!o)
		return -ENOMEM;
	o->host = host;
	o->ctx = ctx;
	o->path = cfg->values[0].str;
	host->log(ctx, XTCPD_LOG_INFO, "out-of-tree sink writing counts to %s", o->path);
	return 0;
}

static void oot_destroy(void *inst)
{
	struct oot *o = inst;
	FILE *f;

	if (!o)
		return;
	f = fopen(o->path, "w");
	if (f) {
		fprintf(f, "rows=%lu batches=%lu\n", o->rows, o->batches);
		fclose(f);
	}
	free(o);
}

static size_t oot_max(void *inst) { return 0; }

static int oot_send(void *inst, struct xtcpd_buf *b)
{
	struct oot *o = inst;

	o->rows += b->rows;
	o->batches++;
	o->host->buf_release(o->ctx, b, 1);
	return 0;
}

static int oot_flush(void *inst, int timeout_ms) { return 0; }

static const struct xtcpd_sink_ops oot_ops = {
	.common = { .struct_size = sizeof(struct xtcpd_sink_ops), .create = oot_create, .destroy = oot_destroy },
	.max_message = oot_max,
	.send = oot_send,
	.flush = oot_flush,
};

/* The file is written at destroy: its folder must exist. */
static int oot_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	char dir[4096], *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", cfg->values[0].str);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			return XTCPD_CHECK_FAIL(res, "path", "no folder %s", dir);
	}
	return 0;
}

#ifdef OOT_ABI_1_2
/* What XTCPD_PLUGIN made before ABI 1.3: the descriptor ends at ops. */
XTCPD_EXPORT const struct xtcpd_plugin xtcpd_plugin = {
	.abi_major = 1, .abi_minor = 2,
	.struct_size = offsetof(struct xtcpd_plugin, ops) + sizeof(void *),
	.kind = XTCPD_KIND_SINK, .name = "oot", .version = "1.0",
	.description = "out-of-tree test sink (ABI 1.2)", .keys = oot_keys, .ops = &oot_ops,
	.check = oot_check, /* beyond struct_size: the host must not call it */
};
#else
XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SINK, "oot", "1.0", "out-of-tree test sink", oot_keys, &oot_ops,
		     oot_check);
#endif
