/* ops/uplink — the host's uplinks (the interfaces of the default routes, or those named)
 * and their NICs: driver, model, PCI ids, bus, speed, firmware, from sysfs and the
 * ethtool ioctl. Read at start and on SIGHUP, stamped on every record by the core. */
#ifndef XTCPD_UPLINK_H
#define XTCPD_UPLINK_H

#include <xtcpd/record.h>

#define UPLINK_MAX 2

struct uplink_nic {
	struct xtcpd_uplink pub;    /* what records point at */
	char ifname[16], driver[33], model[128], bus[33], fw[33];
	/* enrich_lldp (ops/lldp.c): an LLDP TLV holds at most 255 bytes */
	char lldp_chassis_name[256], lldp_chassis_id[256], lldp_mgmt_ip[64], lldp_port_id[256],
		lldp_port_descr[256];
};

struct uplink_set {
	struct uplink_nic nic[UPLINK_MAX];
	unsigned n;
};

/* The uplinks: `ifaces` ("eth0,eth1"; "" = the default routes' interfaces, IPv4 then
 * IPv6, in route-table order), at most `count`, with their NIC's fields when `nic`.
 * root prefixes /sys/class/net and pci.ids (tests; "" = none), never the routes. 0 with
 * *out (maybe with n = 0: no uplink found), or -ENOMEM. */
int uplink_read(const char *root, const char *ifaces, unsigned count, int nic,
		struct uplink_set **out);
void uplink_free(struct uplink_set *s);
/* One info line per uplink (a warning when there is none); `nic`: with its NIC, `lldp`:
 * with its LLDP neighbour. */
void uplink_log(const struct uplink_set *s, int nic, int lldp);

/* Parsers (tests): the interfaces of default routes in /proc/net/route (IPv4) and
 * /proc/net/ipv6_route text, appended to names[*n] while *n < max. */
void uplink_routes4(const char *text, char (*names)[16], unsigned *n, unsigned max);
void uplink_routes6(const char *text, char (*names)[16], unsigned *n, unsigned max);

#endif
