/* broken — one deliberately broken plugin per loader refusal reason, chosen with
 * -DBROKEN_<REASON>. The loader must refuse each with its own message. -DBROKEN_EVIL: a
 * good plugin whose constructor leaves a mark (a line "uid=U" appended to the file named
 * by XTCPD_TEST_MARK): what a test that must not load it looks for. */
#include <xtcpd/plugin.h>

#ifdef BROKEN_EVIL
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void b_evil(void)
{
	const char *mark = getenv("XTCPD_TEST_MARK");
	char line[32];
	int fd, n;

	if (!mark || (fd = open(mark, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666)) < 0)
		return;
	n = snprintf(line, sizeof(line), "uid=%d\n", (int)geteuid());
	if (write(fd, line, (size_t)n) != n)
		n = 0;
	close(fd);
}
#endif

#ifndef BROKEN_NOSYM
static int b_create(const struct xtcpd_host *h, struct xtcpd_ctx *c, const struct xtcpd_config *cfg, void **inst)
{
	*inst = NULL;
	return 0;
}
static void b_destroy(void *inst) {}
static size_t b_max(void *inst) { return 0; }
static int b_send(void *inst, struct xtcpd_buf *b) { return 0; }
static int b_flush(void *inst, int t) { return 0; }

static const struct xtcpd_key b_keys[] = { XTCPD_KEYS_END };
static const struct xtcpd_sink_ops b_ops = {
	.common = {
#ifdef BROKEN_OPS_SHORT
		.struct_size = sizeof(struct xtcpd_ops_common),
#else
		.struct_size = sizeof(struct xtcpd_sink_ops),
#endif
		.create = b_create, .destroy = b_destroy },
	.max_message = b_max, .send = b_send, .flush = b_flush,
};

#endif

#ifndef B_NAME
#define B_NAME "broken"
#endif

#if defined(BROKEN_NOSYM)
XTCPD_EXPORT const int xtcpd_plugin_v0 = 1;
#else
XTCPD_EXPORT const struct xtcpd_plugin xtcpd_plugin = {
#ifdef BROKEN_ABI
	.abi_major = XTCPD_ABI_MAJOR + 1,
#else
	.abi_major = XTCPD_ABI_MAJOR,
#endif
	.abi_minor = XTCPD_ABI_MINOR,
#ifdef BROKEN_SHORT
	.struct_size = 16,
#else
	.struct_size = sizeof(struct xtcpd_plugin),
#endif
#ifdef BROKEN_KIND
	.kind = 9,
#else
	.kind = XTCPD_KIND_SINK,
#endif
	.name = B_NAME,
	.version = "0",
	.description = "deliberately broken test plugin",
	.keys = b_keys,
	.ops = &b_ops,
};
#endif
