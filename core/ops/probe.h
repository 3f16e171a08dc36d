/* probe — xtcpd --healthcheck (xtcp2's -healthcheck): ask the running daemon's /readyz
 * at core.prom_listen, for a container HEALTHCHECK without a shell or curl. */
#ifndef XTCPD_PROBE_H
#define XTCPD_PROBE_H

#include <stddef.h>

/* GET http://<listen>/readyz (a wildcard address asks the loopback one) within
 * timeout_ms. 0 when it answers 200, else 1 with err saying why. */
int probe_readyz(const char *listen, int timeout_ms, char *err, size_t n);

#endif
