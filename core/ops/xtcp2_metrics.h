/* xtcp2_metrics — xtcp2's metric families (xtcp_counts, xtcp_histograms, xtcp_gauge, labels
 * function/variable/type) rendered from xtcpd's own, so xtcp2's Grafana dashboards keep
 * working; xtcpd_* stay the primary names. */
#ifndef XTCPD_XTCP2_METRICS_H
#define XTCPD_XTCP2_METRICS_H

#include <stdint.h>

/* Register the collector (at start). */
void xtcp2_metrics_start(void);
/* One cycle's duration: the window xtcp_histograms' quantiles are taken over. */
void xtcp2_metrics_cycle(int64_t duration_ns);

#endif
