/* advice — host tuning advice from what the daemon measures: namespaces whose dumps walk
 * the host-wide TCP hash table while the host holds many sockets. */
#ifndef XTCPD_ADVICE_H
#define XTCPD_ADVICE_H

#include <stddef.h>
#include <stdint.h>
#include <xtcpd/plugin.h>

struct advice_conf {
	int64_t sockets;       /* advise from this many TCP sockets on the host (0 = never) */
	int64_t interval_ms;   /* at most one line per interval */
};

/* After a cycle (main thread): when the host holds c->sockets TCP sockets and the
 * namespace set changed since the last look (at most one look per interval), find which
 * namespaces share the host's table (read inside each by a short-lived thread); log one
 * line of advice with the cycle's cost per namespace when the answer changed and the
 * interval allows. `cycle_ns` is the cycle's duration, `list` its namespaces. */
void advice_cycle(const struct advice_conf *c, struct xtcpd_netns *const *list, size_t n,
		  int64_t cycle_ns);

/* Parsers (unit-tested): tcp_ehash_entries's text -> *v; /proc/net/sockstat's text ->
 * the TCP sockets allocated host-wide ("TCP: ... alloc N"). 0 or -EINVAL. */
int advice_parse_ehash(const char *text, long *v);
int advice_parse_sockstat(const char *text, long *alloc);

#endif
