/* ops/uplink — which interfaces carry the host's traffic out (the default routes' of
 * /proc/net/route and /proc/net/ipv6_route, or [core] uplink_interfaces) and what NIC
 * each is: ETHTOOL_GDRVINFO gives driver, firmware and bus; sysfs the PCI vendor and
 * device and the link speed; the model is the PCI id's name in pci.ids when the host has
 * that file (Debian's pci.ids / hwdata). Read at start and on SIGHUP only. */
#include "config.h"
#include "ops/uplink.h"
#include "netns/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "ops/log.h"

static const char *const uplink_pci_ids[] = { "/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids" };

static void uplink_add(const char *name, size_t len, char (*names)[16], unsigned *n, unsigned max)
{
	if (!len || len >= 16 || *n >= max || (len == 2 && !strncmp(name, "lo", 2)))
		return;
	for (unsigned i = 0; i < *n; i++)
		if (strlen(names[i]) == len && !strncmp(names[i], name, len))
			return;
	memcpy(names[*n], name, len);
	names[(*n)++][len] = '\0';
}

void uplink_routes4(const char *text, char (*names)[16], unsigned *n, unsigned max)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		char ifn[16];
		unsigned dst, flags, mask;

		/* Iface Destination Gateway Flags RefCnt Use Metric Mask ... (header skipped:
		 * its Destination does not scan as hex) */
		if (sscanf(l, "%15s %x %*x %x %*d %*d %*d %x", ifn, &dst, &flags, &mask) == 4 &&
		    !dst && !mask && (flags & 0x1))
			uplink_add(ifn, strlen(ifn), names, n, max);
	}
}

void uplink_routes6(const char *text, char (*names)[16], unsigned *n, unsigned max)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		char dst[33], ifn[16];
		unsigned plen, flags;

		/* dst plen src splen nexthop metric refcnt use flags iface */
		if (sscanf(l, "%32s %x %*s %*x %*s %*x %*x %*x %x %15s", dst, &plen, &flags, ifn) == 4 &&
		    !plen && !strcmp(dst, "00000000000000000000000000000000") &&
		    (flags & 0x1) && !(flags & 0x200))  /* RTF_UP, not RTF_REJECT */
			uplink_add(ifn, strlen(ifn), names, n, max);
	}
}

/* The whole of a small file into buf (NUL-terminated, trailing newline cut): its length
 * or -errno. */
static ssize_t uplink_slurp(const char *root, const char *path, char *buf, size_t cap)
{
	char full[PATH_MAX];
	ssize_t r;
	int fd;

	snprintf(full, sizeof(full), "%s%s", root, path);
	if ((fd = open(full, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	r = read(fd, buf, cap - 1);
	close(fd);
	if (r < 0)
		return -errno;
	while (r > 0 && buf[r - 1] == '\n')
		r--;
	buf[r] = '\0';
	return r;
}

static unsigned uplink_hex(const char *root, const char *ifn, const char *file)
{
	char path[128], v[32];

	snprintf(path, sizeof(path), "/sys/class/net/%s/device/%s", ifn, file);
	return uplink_slurp(root, path, v, sizeof(v)) > 0 ? (unsigned)strtoul(v, NULL, 16) : 0;
}

/* "vvvv  Vendor" then "\tdddd  Device" lines of pci.ids: the device's name. */
static void uplink_model(const char *root, struct uplink_nic *u)
{
	char line[512], path[PATH_MAX];
	FILE *f = NULL;
	int in_vendor = 0;

	for (size_t i = 0; !f && i < sizeof(uplink_pci_ids) / sizeof(uplink_pci_ids[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", root, uplink_pci_ids[i]);
		f = fopen(path, "re");
	}
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned id;
		char name[256];

		if (line[0] != '\t' && line[0] != '#') {
			if (in_vendor)
				break;
			in_vendor = sscanf(line, "%4x", &id) == 1 && id == u->pub.nic_pci_vendor;
		} else if (in_vendor && line[1] != '\t' &&
			   sscanf(line + 1, "%4x %255[^\n]", &id, name) == 2 && id == u->pub.nic_pci_device) {
			snprintf(u->model, sizeof(u->model), "%.127s", name);
			break;
		}
	}
	fclose(f);
}

static void uplink_nic(const char *root, int sock, struct uplink_nic *u)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	char path[128], v[32];

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", u->ifname);
	ifr.ifr_data = (void *)&di;
	if (sock >= 0 && ioctl(sock, SIOCETHTOOL, &ifr) == 0) {
		snprintf(u->driver, sizeof(u->driver), "%.*s", (int)sizeof(di.driver), di.driver);
		snprintf(u->fw, sizeof(u->fw), "%.*s", (int)sizeof(di.fw_version), di.fw_version);
		snprintf(u->bus, sizeof(u->bus), "%.*s", (int)sizeof(di.bus_info), di.bus_info);
	}
	u->pub.nic_pci_vendor = uplink_hex(root, u->ifname, "vendor");
	u->pub.nic_pci_device = uplink_hex(root, u->ifname, "device");
	snprintf(path, sizeof(path), "/sys/class/net/%s/speed", u->ifname);
	if (uplink_slurp(root, path, v, sizeof(v)) > 0 && atoi(v) > 0)
		u->pub.nic_speed_mbps = (uint32_t)atoi(v);
	if (u->pub.nic_pci_vendor && u->pub.nic_pci_device)
		uplink_model(root, u);
#define UPLINK_STR(s) ((s)[0] ? (s) : NULL)
	u->pub.ifname = u->ifname;
	u->pub.nic_driver = UPLINK_STR(u->driver);
	u->pub.nic_model = UPLINK_STR(u->model);
	u->pub.nic_bus_info = UPLINK_STR(u->bus);
	u->pub.nic_fw_version = UPLINK_STR(u->fw);
#undef UPLINK_STR
}

int uplink_read(const char *root, const char *ifaces, unsigned count, int nic,
		struct uplink_set **out)
{
	char names[UPLINK_MAX][16], text[16384];
	unsigned n = 0, max = count < UPLINK_MAX ? count : UPLINK_MAX;
	struct uplink_set *s;
	int sock;

	if (!root)
		root = "";
	if (ifaces && *ifaces) {
		for (const char *p = ifaces; *p;) {
			const char *e = strchr(p, ',');
			size_t len = e ? (size_t)(e - p) : strlen(p);

			uplink_add(p, len, names, &n, max);
			p += len + (e ? 1 : 0);
		}
	} else {
		/* the routes are the daemon's namespace's own: never under root */
		if (uplink_slurp("", "/proc/net/route", text, sizeof(text)) >= 0)
			uplink_routes4(text, names, &n, max);
		if (uplink_slurp("", "/proc/net/ipv6_route", text, sizeof(text)) >= 0)
			uplink_routes6(text, names, &n, max);
	}
	if (!(s = calloc(1, sizeof(*s))))
		return -ENOMEM;
	sock = nic ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
	for (unsigned i = 0; i < n; i++) {
		memcpy(s->nic[i].ifname, names[i], sizeof(s->nic[i].ifname));
		s->nic[i].pub.ifname = s->nic[i].ifname;
		if (nic)
			uplink_nic(root, sock, &s->nic[i]);
	}
	s->n = n;
	if (sock >= 0)
		close(sock);
	*out = s;
	return 0;
}

void uplink_free(struct uplink_set *s)
{
	if (s)
		enrich_retire();  /* records' uplink[] pointed into it */
	free(s);
}

void uplink_log(const struct uplink_set *s, int nic, int lldp)
{
	if (!s->n)
		log_warn("%s: no uplink found (no default route): set [core] uplink_interfaces",
			 nic ? "enrich_nic" : "enrich_lldp");
	for (unsigned i = 0; i < s->n; i++) {
		const struct xtcpd_uplink *u = &s->nic[i].pub;

		if (nic)
			log_info("uplink%u: %s: driver %s, pci %04x:%04x (%s), bus %s, %u Mb/s, firmware %s",
				 i + 1, u->ifname, u->nic_driver ? u->nic_driver : "-", u->nic_pci_vendor,
				 u->nic_pci_device, u->nic_model ? u->nic_model : "-",
				 u->nic_bus_info ? u->nic_bus_info : "-", u->nic_speed_mbps,
				 u->nic_fw_version ? u->nic_fw_version : "-");
		if (lldp)
			log_info("uplink%u: %s: LLDP neighbour %s (chassis id %s, management %s), port "
				 "%s (%s)", i + 1, u->ifname, u->lldp_chassis_name ? u->lldp_chassis_name : "-",
				 u->lldp_chassis_id ? u->lldp_chassis_id : "-",
				 u->lldp_mgmt_ip ? u->lldp_mgmt_ip : "-", u->lldp_port_id ? u->lldp_port_id : "-",
				 u->lldp_port_descr ? u->lldp_port_descr : "-");
	}
}
