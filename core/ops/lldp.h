/* ops/lldp — each uplink's LLDP neighbour (chassis name and id, management address, port
 * id and description) from lldpd through liblldpctl. Read with the uplinks, at start and
 * on SIGHUP on the main thread, the whole exchange bounded by LLDP_TIMEOUT_MS. */
#ifndef XTCPD_LLDP_H
#define XTCPD_LLDP_H

#include "ops/uplink.h"

#define LLDP_TIMEOUT_MS 1000  /* connect, ask and read all the answers */

/* The neighbours of s's uplinks from the lldpd whose control socket is `socket`. An
 * uplink lldpd does not know, or without a neighbour, keeps empty fields. 0, or -errno
 * when lldpd cannot be asked (not running, no access, too slow, a broken answer): then
 * no field is filled. Every read is counted in xtcpd_lldp_reads_total{result}; a failure
 * is logged once, until a read succeeds again. -ENOTSUP when built without liblldpctl. */
int lldp_read(const char *socket, struct uplink_set *s);

#endif
