/* host — a minimal struct xtcpd_host for driving the netlink source without the daemon
 * (pools, metrics, emit, ns_socket via core/netns/netns.c), and a config builder that turns
 * "key=value" strings into the plugin's validated values. Test code only. */
#ifndef TH_HOST_H
#define TH_HOST_H

#include <stdint.h>
#include <stdio.h>
#include <xtcpd/plugin.h>

extern struct xtcpd_host th_host;
/* Called for every emitted record (set by the test). */
extern int (*th_emit_cb)(unsigned lane, struct xtcpd_record *rec);
extern const char *th_capture;

/* Fill vals (one per key) from the defaults and `n` "key=value" overrides. Returns 0 or
 * -EINVAL (unknown key). */
int th_config(const struct xtcpd_key *keys, const char *const *kv, int n,
	      struct xtcpd_value *vals, struct xtcpd_config *cfg);
/* Value of a registered metric (0 if never registered). */
uint64_t th_metric(const char *name, const char *labels);
/* Print every metric as "metric NAME{LABELS} VALUE" lines. */
void th_metrics_print(FILE *f);

#endif
