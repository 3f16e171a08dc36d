/* ops/lldp_none — the LLDP reader of a build without liblldpctl: none (`enrich_lldp` is
 * refused by the configuration check before this is reached). */
#include "config.h"
#include "ops/lldp.h"

#include <errno.h>

int lldp_read(const char *socket, struct uplink_set *s)
{
	(void)socket;
	(void)s;
	return -ENOTSUP;
}
