/* plugins/sinks/common/header.h — the header line of a batch (XTCPD_BUF_HEADER, ABI 1.2):
 * a sink writing batches one after another into one stream writes it at the start of a
 * stream and skips it after. Header-only: each plugin is its own .so. */
#ifndef XTCPD_SINK_HEADER_H
#define XTCPD_SINK_HEADER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <xtcpd/plugin.h>

/* Bytes of the header line at data[off..] ('\n' included); 0 without one. */
static inline size_t sink_header_len(const struct xtcpd_buf *b)
{
	const uint8_t *nl;

	if (!(b->flags & XTCPD_BUF_HEADER))
		return 0;
	nl = memchr(b->data + b->off, '\n', b->len - b->off);
	return nl ? (size_t)(nl - (b->data + b->off)) + 1 : 0;
}

#endif /* XTCPD_SINK_HEADER_H */
